"""Issue 5 in a real browser, with issue 11's roles: a company admin starts a campaign from
the catalog with one configuration override, starts it and enrolls its own employee as a
volunteer; the program manager enrolls a beneficiary after seeing the eligibility outlook
and imports two more (dry run, then confirm); the company admin sees the gauge and chart
change and the beneficiaries only as pseudonyms, drops one and sees the waitlisted one
promoted."""
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
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.models import Program
    from portal.programs.operations import launch_program, transition_program

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
                                                  tmp_path, base_url):
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

    campaign_url = page.url

    # The company enrolls its own employee as a volunteer (beneficiaries are the program team's).
    page.get_by_role("link", name="Enroll a volunteer").click()
    expect(page.locator("#outlook")).to_contain_text("Fill in the participant")
    page.get_by_label("Name", exact=True).fill("Kari Nordmann")
    page.get_by_label("E-mail", exact=True).fill("kari.nordmann@acme.example")
    page.get_by_label("E-mail", exact=True).blur()
    expect(page.locator("#outlook")).to_contain_text("Will be enrolled")
    expect(page.locator("#outlook")).to_contain_text("Volunteers are not capped")
    screenshot(page, "campaign-enroll-volunteer")
    page.get_by_role("button", name="Enroll", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("Kari Nordmann is enrolled")

    # The program manager enrolls beneficiaries: one by hand after the outlook, two from a file.
    pm = page.context.browser.new_context(base_url=base_url).new_page()
    sign_in(pm, accounts.pm.email)
    pm.goto(campaign_url)
    pm.get_by_role("link", name="Enroll a participant").click()
    pm.get_by_label("Name", exact=True).fill("Oksana Melnyk")
    pm.get_by_label("Year of birth").fill("2015")
    pm.get_by_label("Languages").fill("uk")
    pm.get_by_label("Languages").blur()
    expect(pm.locator("#outlook")).to_contain_text("Cannot enroll")
    expect(pm.locator("#outlook")).to_contain_text("below the group's minimum")
    pm.get_by_label("Year of birth").fill("1991")
    pm.get_by_label("Year of birth").blur()
    expect(pm.locator("#outlook")).to_contain_text("Will be enrolled")
    screenshot(pm, "campaign-enroll-outlook")
    pm.get_by_role("button", name="Enroll", exact=True).click()
    expect(pm.get_by_role("status").first).to_contain_text("Oksana Melnyk is enrolled")
    expect(pm.get_by_text("1 of 2 seats used")).to_be_visible()
    csv = tmp_path / "enrollments.csv"
    csv.write_text("email,display_name,role,year_of_birth,languages\n"
                   "taras.b@example.org,Taras Bondarenko,beneficiary,1988,uk;en\n"
                   "iryna.k@example.org,Iryna Kovalenko,beneficiary,1995,uk\n")
    pm.get_by_role("link", name="Import CSV").click()
    pm.get_by_label(re.compile("CSV file")).set_input_files(str(csv))
    pm.get_by_role("button", name=re.compile("dry run", re.IGNORECASE)).click()
    expect(pm.get_by_text(re.compile("will enroll", re.IGNORECASE)).first).to_be_visible()
    expect(pm.get_by_text(re.compile("will waitlist", re.IGNORECASE)).first).to_be_visible()
    screenshot(pm, "campaign-import-dry-run")
    pm.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(pm.get_by_role("heading", level=1)).to_contain_text("Acme – Stavanger language pilot")
    pm.context.close()

    # The company sees the beneficiaries only as its own pseudonyms, its volunteer by name.
    page.goto(campaign_url)
    expect(page.get_by_text("2 of 2 seats used")).to_be_visible()
    # The chart counts what the gauge counts: seats (not the volunteer, not the waitlisted one).
    expect(page.get_by_role("img", name=re.compile(r"Cumulative enrollments \(active \+ completed beneficiaries"
                                                   r".*\): 2 in total"))).to_be_visible()
    expect(page.get_by_role("link", name="Kari Nordmann")).to_be_visible()
    body = page.locator("main").inner_text()
    for name in ("Oksana", "Melnyk", "Taras", "Iryna", "taras.b@example.org", "1991"):
        assert name not in body
    references = page.get_by_role("link", name=re.compile(r"^P-[A-Z0-9]{7}$"))
    expect(references).to_have_count(3)
    assert_no_serious_a11y_violations(page)
    screenshot(page, "campaign-dashboard")

    # Drop an active beneficiary: the waitlisted one is promoted.
    active = page.get_by_role("row").filter(has=references).filter(has_text=re.compile(r"\bactive\b")).first
    active.get_by_role("link", name=re.compile(r"^P-")).click()
    expect(page.get_by_text("a pseudonym")).to_be_visible()
    page.get_by_label("Reason").fill("Moved to Bergen")
    questions = []  # htmx asks first (hx-confirm); the no-JS confirmation page: test_confirmations_e2e.py
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Drop").click()
    expect(page.get_by_role("status").first).to_contain_text("1 waitlisted participant promoted")
    assert questions and questions[0].startswith("Drop the enrollment of P-")
    expect(page.get_by_text("2 of 2 seats used")).to_be_visible()
    expect(page.get_by_text("0 on the waitlist")).to_be_visible()
