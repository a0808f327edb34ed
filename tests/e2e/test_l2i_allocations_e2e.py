"""L2I allocations in a real browser: shares typed in percent, edited, refused over 100 % at
the field, and removed after a confirmation, with JavaScript (htmx, hx-confirm) and without
(plain forms and a confirmation page). Screenshots at 1280 and 390 px, no sideways scrolling."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

CAMPAIGN = "Acme reading club (allocations e2e)"


@pytest.fixture(scope="module")
def allocation_world(live_server) -> dict[str, int]:
    """Two fresh subscriptions of Acme's (one per browser run) and one campaign to allocate to."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.models import Campaign
    from portal.campaigns.operations import create_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.l2i.operations import create_subscription
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    year = date.today().year
    with live_server.app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
        with transaction():
            if db.session.scalar(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN)) is None:
                master = load_master("mentorship")
                template = create_template(None, key="l2i-alloc-e2e-mentorship", name="Mentorship (allocations e2e)",
                                           category="mentorship", config_schema=master["config_schema"],
                                           default_config=master["default_config"])
                publish_template(None, template)
                group = create_group(None, name="Readers in Bergen (allocations e2e)", group_type="job_seekers",
                                     country="NO", eligible_categories=["mentorship"])
                program = launch_program(None, template=template, group=group, name="Reading (allocations e2e)",
                                         visibility="private")
                transition_program(None, program, "active")
                create_campaign(None, program=program, company=acme, name=CAMPAIGN, start_date=date(year, 1, 1))
            subscriptions = {run: create_subscription(None, company=acme, sku="L2I-LAUNCH", annual_price=1_000_000,
                                                      currency="EUR", period_start=date(year, 1, 1),
                                                      period_end=date(year, 12, 31))
                             for run in ("js", "no_js")}
        ids = {run: s.id for run, s in subscriptions.items()}
        db.session.remove()
    return ids


def assert_fits(page: Page, width: int = 390) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways at {width} px: {scroll_width}"


def shoot_both_widths(page: Page, screenshot, name: str, *, javascript: bool = True) -> None:
    """Screenshots at 1280 and 390 px; with JavaScript, also no sideways scrolling at 390 px
    (page.evaluate needs JavaScript: the no-JS pages are measured in the JS run)."""
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    if javascript:
        assert_fits(page)
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 800})


def allocate(page: Page, percent: str) -> None:
    page.get_by_label("Allocate to").select_option(label=f"Campaign · {CAMPAIGN}")
    page.get_by_label("Share of the subscription (%)").fill(percent)
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".flash--success")).to_contain_text(f"Allocated {float(percent):.2f} %")


def test_allocations_are_added_edited_refused_and_removed_with_javascript(page: Page, sign_in, accounts, screenshot,
                                                                          allocation_world):
    sign_in(page, accounts.admin.email)
    page.goto(f"/l2i/{allocation_world['js']}")
    # add, in percent, with the live indicator
    page.get_by_label("Allocate to").select_option(label=f"Campaign · {CAMPAIGN}")
    page.get_by_label("Share of the subscription (%)").fill("45.5")
    expect(page.locator("#remaining")).to_contain_text("after this allocation: 54.50 %")
    expect(page.locator("#remaining")).to_contain_text("EUR 4,550.00")
    page.get_by_role("button", name="Allocate").click()
    expect(page.locator(".flash--success")).to_contain_text("Allocated 45.50 %")
    allocate(page, "30")
    rows = page.locator("#alloc-title + .table-wrap tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("45.50 %")
    shoot_both_widths(page, screenshot, "l2i-allocations-list")

    # edit: the indicator counts the allocation's own share
    page.get_by_role("link", name=re.compile(r"^Edit the allocation of 45\.50 %")).click()
    expect(page.get_by_role("heading", name="Edit the allocation of 45.50 %")).to_be_visible()
    share = page.get_by_label("Share of the subscription (%)")
    expect(share).to_have_value("45.50")
    expect(page.locator("#remaining")).to_contain_text("after this change: 24.50 %")  # htmx is listening
    share.fill("60")
    expect(page.locator("#remaining")).to_contain_text("after this change: 10.00 %")
    page.get_by_role("button", name="Save allocation").click()
    expect(page.locator(".flash--success")).to_contain_text("Allocation saved: 60.00 %")
    expect(rows.first).to_contain_text("60.00 %")

    # try to exceed 100 %: refused at the field (htmx swaps the 422 form), the typed value kept
    page.get_by_role("link", name=re.compile(r"^Edit the allocation of 60\.00 %")).click()
    share = page.get_by_label("Share of the subscription (%)")
    expect(page.locator("#remaining")).to_contain_text("after this change: 10.00 %")  # htmx is listening
    share.fill("70.01")
    expect(page.locator("#remaining")).to_contain_text("more than is left")
    page.get_by_role("button", name="Save allocation").click()
    error = page.locator("#share-error")
    expect(error).to_have_text("Only 70.00 % of this subscription is left for this allocation.")
    expect(page.get_by_label("Share of the subscription (%)")).to_have_value("70.01")
    expect(page.get_by_label("Share of the subscription (%)")).to_have_attribute("aria-invalid", "true")
    assert_no_serious_a11y_violations(page)
    shoot_both_widths(page, screenshot, "l2i-allocation-edit-error")
    page.get_by_role("link", name="Cancel").click()

    # the no-JavaScript confirmation page, measured here (axe and scrollWidth need JavaScript)
    page.get_by_role("link", name=re.compile(r"^Edit the allocation of 60\.00 %")).click()
    page.get_by_role("link", name="Remove…").click()
    expect(page.get_by_role("heading", name="Remove this allocation of 60.00 %?")).to_be_visible()
    assert_no_serious_a11y_violations(page)
    shoot_both_widths(page, screenshot, "l2i-allocation-remove-confirm")
    page.get_by_role("link", name="Keep it").click()
    page.wait_for_load_state()  # htmx binds hx-confirm once the page has loaded

    # remove: hx-confirm asks first; dismissing keeps it, accepting removes it
    remove = page.get_by_role("link", name=re.compile(r"^Remove the allocation of 60\.00 %"))
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    remove.click()
    expect(rows).to_have_count(2)
    assert questions == [f"Remove this allocation of 60.00 % (Campaign: {CAMPAIGN})?"]
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    expect(page.locator(".flash--success")).to_contain_text("Removed the allocation of 60.00 %")
    expect(rows).to_have_count(1)
    expect(page.locator(".stat", has_text="Left to allocate")).to_contain_text("70.00 %")
    expect(page.locator(".timeline")).to_contain_text("L2I allocation removed")
    assert_no_serious_a11y_violations(page)


def test_allocations_are_edited_and_removed_without_javascript(sign_in, accounts, screenshot, allocation_world,
                                                               new_context):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, accounts.admin.email)
    page.goto(f"/l2i/{allocation_world['no_js']}")
    allocate(page, "25")
    allocate(page, "50")

    # edit: a full page; over 100 % comes back as the page with the error at the field
    page.get_by_role("link", name=re.compile(r"^Edit the allocation of 25\.00 %")).click()
    page.get_by_label("Share of the subscription (%)").fill("50.01")
    page.get_by_role("button", name="Save allocation").click()
    expect(page.locator("#share-error")).to_have_text("Only 50.00 % of this subscription is left for this allocation.")
    expect(page.get_by_label("Share of the subscription (%)")).to_have_value("50.01")
    page.get_by_label("Share of the subscription (%)").fill("50")
    page.get_by_role("button", name="Save allocation").click()
    expect(page.locator(".flash--success")).to_contain_text("Allocation saved: 50.00 %")
    expect(page.locator(".stat", has_text="Left to allocate")).to_contain_text("0.00 %")

    # remove: the link opens a confirmation page; its button removes
    page.get_by_role("link", name=re.compile(r"^Remove the allocation of 50\.00 %")).first.click()
    expect(page.get_by_role("heading", name="Remove this allocation of 50.00 %?")).to_be_visible()
    shoot_both_widths(page, screenshot, "l2i-allocation-remove-confirm-no-js", javascript=False)
    page.get_by_role("link", name="Keep it").click()
    rows = page.locator("#alloc-title + .table-wrap tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_role("link", name=re.compile(r"^Remove the allocation of 50\.00 %")).first.click()
    page.get_by_role("button", name="Remove allocation").click()
    expect(page.locator(".flash--success")).to_contain_text("Removed the allocation of 50.00 %")
    expect(rows).to_have_count(1)
    expect(page.locator(".stat", has_text="Left to allocate")).to_contain_text("50.00 %")
    shoot_both_widths(page, screenshot, "l2i-allocations-no-js", javascript=False)
