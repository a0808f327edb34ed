"""Issue 5 in a real browser: a company admin starts a campaign from the catalog with one
configuration override, starts it, enrolls a participant after seeing the eligibility
outlook, imports a CSV (dry run, then confirm), sees the gauge and chart change, drops
one participant and sees the waitlisted one promoted."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

MASTERS = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"


@pytest.fixture(scope="module")
def stavanger_program(live_server):
    import sqlalchemy as sa

    from portal.beneficiaries.operations import create_group
    from portal.db import db, transaction
    from portal.programs.models import Program
    from portal.programs.operations import launch_program, transition_program
    from portal.templates_catalog.operations import create_template, publish_template

    master = json.loads((MASTERS / "language.json").read_text())
    with live_server.app.app_context():
        if db.session.scalar(sa.select(Program.id).where(Program.key == "language-for-newcomers-in-stavanger")) is None:
            with transaction():
                template = create_template(None, key="e2e-campaign-language", name="Language (campaign e2e)",
                                           category="language", config_schema=master["config_schema"],
                                           default_config=master["default_config"], ui_schema=master["ui_schema"])
                publish_template(None, template)
                group = create_group(None, name="Newcomers in Stavanger", group_type="newcomers", country="NO",
                                     city="Stavanger", languages=["uk", "en"], language_requirement="beginner",
                                     age_min=18, age_max=70, eligible_categories=["language"])
                program = launch_program(None, template=template, group=group,
                                         name="Language for Newcomers in Stavanger")
                transition_program(None, program, "active")
        db.session.remove()
    return "Language for Newcomers in Stavanger"


def test_company_admin_runs_a_campaign_end_to_end(page: Page, sign_in, accounts, screenshot, stavanger_program,
                                                  tmp_path):
    sign_in(page, accounts.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    page.get_by_role("searchbox").fill("Stavanger")
    card = page.get_by_role("article").filter(has_text=stavanger_program)
    expect(card).to_be_visible()
    card.get_by_role("link", name=re.compile("Start a campaign")).click()

    expect(page.get_by_role("heading", name="Start a campaign")).to_be_visible()
    page.get_by_label("Campaign name").fill("Acme – Stavanger language pilot")
    page.get_by_label("Start date").fill("2026-01-15")
    page.get_by_label("Maximum enrollment").fill("2")
    page.get_by_label("Target enrollment").fill("2")
    page.get_by_label("Waitlist when full").check()
    page.get_by_label("Default session duration (minutes)").fill("50")
    page.get_by_role("button", name="Create draft campaign").click()
    expect(page.get_by_role("status")).to_contain_text("created as a draft")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status")).to_contain_text("Campaign is now active")
    expect(page.get_by_text("set in campaign")).to_have_count(1)

    # Enroll one participant by hand, seeing the outlook first.
    page.get_by_role("link", name="Enroll a participant").click()
    page.get_by_label("Name", exact=True).fill("Oksana Melnyk")
    page.get_by_label("Year of birth").fill("2015")
    page.get_by_label("Languages").fill("uk")
    page.get_by_label("Languages").blur()
    expect(page.locator("#outlook")).to_contain_text("Cannot enroll")
    expect(page.locator("#outlook")).to_contain_text("below the group's minimum")
    page.get_by_label("Year of birth").fill("1991")
    page.get_by_label("Year of birth").blur()
    expect(page.locator("#outlook")).to_contain_text("Will be enrolled")
    screenshot(page, "campaign-enroll-outlook")
    page.get_by_role("button", name="Enroll", exact=True).click()
    flash = page.get_by_role("status").first
    expect(flash).to_contain_text("is enrolled")
    reference = re.search(r"listed as (P-[A-Z0-9]+)", flash.inner_text()).group(1)  # beneficiaries are pseudonymous
    expect(page.get_by_text("1 of 2 seats used")).to_be_visible()

    # Import two more: one takes the last seat, one goes to the waitlist.
    csv = tmp_path / "enrollments.csv"
    csv.write_text("email,display_name,role,year_of_birth,languages\n"
                   "taras.b@example.org,Taras Bondarenko,beneficiary,1988,uk;en\n"
                   "iryna.k@example.org,Iryna Kovalenko,beneficiary,1995,uk\n")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label(re.compile("CSV file")).set_input_files(str(csv))
    page.get_by_role("button", name=re.compile("dry run", re.IGNORECASE)).click()
    expect(page.get_by_text(re.compile("will enroll", re.IGNORECASE)).first).to_be_visible()
    expect(page.get_by_text(re.compile("will waitlist", re.IGNORECASE)).first).to_be_visible()
    screenshot(page, "campaign-import-dry-run")
    page.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme – Stavanger language pilot")
    expect(page.get_by_text("2 of 2 seats used")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Cumulative enrollments: 3"))).to_be_visible()
    assert_no_serious_a11y_violations(page)
    screenshot(page, "campaign-dashboard")

    # Drop the first participant: the waitlisted one is promoted.
    page.get_by_role("link", name=reference).click()
    page.get_by_label("Reason").fill("Moved to Bergen")
    page.get_by_role("button", name="Drop").click()
    expect(page.get_by_role("status").first).to_contain_text("1 waitlisted participant(s) promoted")
    expect(page.get_by_text("2 of 2 seats used")).to_be_visible()
    expect(page.get_by_text("0 on the waitlist")).to_be_visible()
