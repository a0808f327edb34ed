"""The participants screens in a real browser: a program manager searches a participant
by e-mail (active search), opens the detail with its enrollments, edits the name (a bad
e-mail first, shown next to its field) and sees it saved."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

NAME = "Oksana Shevchenko"
NEW_NAME = "Oksana Shevchenko-Bondar"
EMAIL = "oksana.shevchenko@e2e.example"


@pytest.fixture(scope="module")
def oksana(live_server) -> int:
    """A participant enrolled in one of Acme's campaigns, created through the operations."""
    from portal.auth.models import Company
    from portal.db import db, transaction
    from portal.enrollments.models import Participant
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.factories import Factory

    app = live_server.app
    make = Factory(app)
    with app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
        db.session.expunge(acme)
    # A private program: the live server is shared, and this one must not show in other tests' catalog.
    program = make.program(make.template("language"), name="Language for Ukrainians", visibility="private")
    campaign = make.campaign(acme, program, name="Acme – Language for Ukrainians Q1", max_enrollment=25)
    with app.app_context():
        with transaction():
            person = create_participant(None, display_name=NAME, email=EMAIL, external_ref="kintell:4711",
                                        year_of_birth=1988, languages=["uk", "en"], country="UA")
            db.session.flush()
            enroll_participant(None, campaign.id, person)
        with transaction():
            for name in ("Oleh Shevchuk", "Olga Berg"):
                db.session.add(Participant(display_name=name, languages=["uk"]))
        participant_id = person.id
        db.session.remove()
    return participant_id


def test_program_manager_finds_opens_and_renames_a_participant(page: Page, sign_in, accounts, oksana,
                                                               screenshot) -> None:
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    expect(page.get_by_role("heading", level=1, name="Participants")).to_be_visible()
    page.wait_for_load_state()  # htmx binds the search box once the page has loaded
    assert_no_serious_a11y_violations(page)

    # --- active search: typing updates the results and the address, no submit needed
    results = page.get_by_role("region", name="Participants found")
    page.get_by_label("Search", exact=True).fill(EMAIL.upper())
    expect(page).to_have_url(re.compile(r"q=OKSANA"))
    expect(results.get_by_role("row")).to_have_count(2)  # header + the one match
    expect(results.get_by_role("link", name=NAME)).to_be_visible()
    screenshot(page, "participants-search")
    page.get_by_label("Search", exact=True).fill("ol")
    expect(results.get_by_role("link", name="Oleh Shevchuk")).to_be_visible()
    expect(results.get_by_role("link", name="Olga Berg")).to_be_visible()
    expect(results.get_by_role("link", name=NAME)).to_have_count(0)
    page.get_by_label("Search", exact=True).fill(EMAIL)
    expect(results.get_by_role("link", name="Olga Berg")).to_have_count(0)

    # --- the detail: every enrollment and the timeline
    results.get_by_role("link", name=NAME).click()
    expect(page.get_by_role("heading", level=1, name=NAME)).to_be_visible()
    enrollments = page.get_by_role("region", name=re.compile("^Enrollments"))
    row = enrollments.get_by_role("row").filter(has_text="Acme – Language for Ukrainians Q1")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Acme Corp")
    expect(row).to_contain_text("Beneficiary")
    expect(row).to_contain_text("active")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Enrollment created")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "participant-detail")

    # --- edit: a bad e-mail first (422, shown at the field), then the new name
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1, name=f"Edit {NAME}")).to_be_visible()
    assert_no_serious_a11y_violations(page)
    email = page.get_by_label("E-mail", exact=True)
    email.fill("not an address")
    page.get_by_role("button", name="Save participant").click()
    expect(page.get_by_label("E-mail", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_contain_text("Enter a valid e-mail address")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "participant-edit-error")

    page.get_by_label("E-mail", exact=True).fill(EMAIL)
    page.get_by_label("Name", exact=True).fill(NEW_NAME)
    page.get_by_role("button", name="Save participant").click()
    expect(page).to_have_url(re.compile(rf"/participants/{oksana}$"))
    expect(page.get_by_role("heading", level=1, name=NEW_NAME)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Participant saved.")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Participant updated")
    screenshot(page, "participant-saved")


def test_company_admins_are_not_allowed_on_participants_screens(page: Page, sign_in, accounts, oksana) -> None:
    sign_in(page, accounts.admin.email)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants")).to_have_count(0)
    response = page.goto(f"/participants/{oksana}")
    assert response is not None and response.status == 403
