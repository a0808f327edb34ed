"""Issue 6 in a real browser: the L2I allocation editor (live remaining share, refusal
over 100 %), both home pages, and the activity log's filters."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations


@pytest.fixture(scope="module")
def l2i_world(live_server):
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.operations import create_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.l2i.models import L2ISubscription
    from portal.l2i.operations import create_subscription
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    with live_server.app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
        if db.session.scalar(sa.select(L2ISubscription.id).where(L2ISubscription.sku == "L2I-EXPAND")) is None:
            master = load_master("mentorship")
            with transaction():
                template = create_template(None, key="l2i-e2e-mentorship", name="Mentorship (L2I e2e)",
                                           category="mentorship", config_schema=master["config_schema"],
                                           default_config=master["default_config"])
                publish_template(None, template)
                group = create_group(None, name="Job seekers in Oslo (L2I e2e)", group_type="job_seekers",
                                     country="NO", eligible_categories=["mentorship"])
                program = launch_program(None, template=template, group=group, name="Mentoring Oslo (L2I e2e)",
                                         visibility="private")
                transition_program(None, program, "active")
                create_campaign(None, program=program, company=acme, name="Acme mentoring (L2I e2e)",
                                start_date=date(2026, 1, 1))
                create_subscription(None, company=acme, sku="L2I-EXPAND", annual_price=2_000_000, currency="EUR",
                                    period_start=date(date.today().year, 1, 1), period_end=date(date.today().year, 12, 31))
        db.session.remove()
    return "Acme mentoring (L2I e2e)"


def test_company_admin_allocates_an_l2i_bundle(page: Page, sign_in, accounts, screenshot, l2i_world):
    sign_in(page, accounts.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="L2I").click()
    page.get_by_role("link", name="L2I-EXPAND").click()
    page.get_by_label("Allocate to").select_option(label=f"Campaign · {l2i_world}")
    share = page.get_by_label("Share of the subscription")
    share.fill("60")
    remaining = page.locator("#remaining")
    expect(remaining).to_contain_text("after this allocation: 40.00 %")
    expect(remaining).to_contain_text("EUR 12,000.00")
    page.get_by_role("button", name="Allocate").click()
    expect(page.get_by_role("status").first).to_contain_text("Allocated 60.00 %")
    expect(page.get_by_text("40.00 %").first).to_be_visible()

    page.get_by_label("Allocate to").select_option(label=f"Campaign · {l2i_world}")
    page.get_by_label("Share of the subscription").fill("50")
    expect(page.locator("#remaining")).to_contain_text("more than is left")
    page.get_by_role("button", name="Allocate").click()
    refusal = re.compile(r"Only 40\.00 % of this subscription is left")
    expect(page.locator("#share-error")).to_contain_text(refusal)  # at the field...
    expect(page.locator("[data-error-summary]")).to_contain_text(refusal)  # ...and in the error summary
    assert_no_serious_a11y_violations(page)
    screenshot(page, "l2i-allocation-editor")


def test_home_pages_of_both_roles(page: Page, sign_in, accounts, screenshot, l2i_world, new_context):
    sign_in(page, accounts.admin.email)
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    expect(page.get_by_text("Active campaigns")).to_be_visible()
    expect(page.get_by_role("heading", name="License-to-Impact")).to_be_visible()
    assert_no_serious_a11y_violations(page)
    screenshot(page, "home-company-admin-full")
    pm_page = new_context().new_page()
    sign_in(pm_page, accounts.pm.email)
    expect(pm_page.get_by_text("Every program, campaign and enrollment across all companies.")).to_be_visible()
    expect(pm_page.get_by_role("heading", name="Recent activity")).to_be_visible()
    assert_no_serious_a11y_violations(pm_page)


def test_activity_log_filters_through_the_url(page: Page, sign_in, accounts, screenshot, l2i_world):
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    page.wait_for_load_state()  # htmx binds the filters once the page has loaded
    page.get_by_label("Kind of change").select_option(label="L2I subscription")
    expect(page).to_have_url(re.compile(r"type=l2i\.subscription"))
    results = page.locator("#activity-results")
    expect(results).to_contain_text("L2I subscription created")
    expect(results).not_to_contain_text("Template published")
    page.get_by_label("Company").select_option(label="Acme Corp")
    expect(page).to_have_url(re.compile(r"company=\d+"))
    page.reload()  # the filtered view survives a reload: it is in the address
    expect(page.get_by_label("Kind of change")).to_have_value("l2i.subscription")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "activity-log")
