"""Issue 11 in a real browser: a beneficiary enrolled by the program team in two companies'
campaigns appears to each company only as that company's own pseudonym — on the campaign
page, the enrollment page and the activity log — and the two pseudonyms differ. A company
admin's enroll screen offers only its own employees, as volunteers."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

SECOND_ADMIN = "admin@fjordkraft.example"


@pytest.fixture(scope="module")
def shared_beneficiary(live_server):
    """Acme's and Nordlys's campaigns of one program, the same beneficiary in both."""
    import sqlalchemy as sa

    from portal.auth.models import COMPANY_ADMIN, Company
    from portal.auth.operations import create_company, create_user
    from portal.db import db, transaction
    from portal.enrollments.models import Participant
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.enrollments.privacy import company_reference
    from tests.e2e.conftest import COMPANY_NAME, PASSWORD
    from tests.factories import Factory

    make = Factory(live_server.app)
    with live_server.app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == COMPANY_NAME)).one()
        with transaction():
            nordlys = create_company(None, name="Fjordkraft Privacy E2E", country="NO", industry="Energy")
            create_user(None, email=SECOND_ADMIN, name="Frida Fjord", role=COMPANY_ADMIN, password=PASSWORD,
                        company_id=nordlys.id)
        acme_id, nordlys_id = acme.id, nordlys.id
        db.session.remove()
    program = make.program(name="Buddies in Tromsø")
    camp_a = make.campaign(db_company(live_server, acme_id), program, name="Acme Buddies Tromsø")
    camp_b = make.campaign(db_company(live_server, nordlys_id), program, name="Nordlys Buddies Tromsø")
    with live_server.app.app_context():
        with transaction():
            person = create_participant(None, display_name="Halyna Petrenko", email="halyna.p@example.org",
                                        year_of_birth=1984, languages=["uk"], external_ref="kintell:5150")
            enroll_participant(None, camp_a.id, person)
            enroll_participant(None, camp_b.id, person)
        person = db.session.scalars(sa.select(Participant).where(Participant.email == "halyna.p@example.org")).one()
        refs = {company.id: company_reference(company, person.id)
                for company in db.session.scalars(sa.select(Company).where(Company.id.in_([acme_id, nordlys_id])))}
        result = {"camp_a": camp_a.id, "camp_b": camp_b.id, "ref_a": refs[acme_id], "ref_b": refs[nordlys_id],
                  "global_ref": person.ref}
        db.session.remove()
    return result


def db_company(live_server, company_id):
    from portal.auth.models import Company
    from portal.db import db

    with live_server.app.app_context():
        company = db.session.get(Company, company_id)
        db.session.expunge(company)
        return company


SECRETS = ("Halyna", "Petrenko", "halyna.p@example.org", "1984", "kintell:5150")


def test_each_company_sees_its_own_pseudonym_and_never_the_person(page: Page, browser, base_url, sign_in,
                                                                  accounts, screenshot, shared_beneficiary):
    s = shared_beneficiary
    assert s["ref_a"] != s["ref_b"]
    sign_in(page, accounts.admin.email)
    page.goto(f"/campaigns/{s['camp_a']}")
    link = page.get_by_role("link", name=s["ref_a"])
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(s["ref_a"])
    expect(page.get_by_text("a pseudonym")).to_be_visible()
    for path in (f"/campaigns/{s['camp_a']}", page.url, "/activity/"):
        page.goto(path)
        text = page.locator("body").inner_text()
        for secret in (*SECRETS, s["ref_b"], s["global_ref"]):
            assert secret not in text, (path, secret)
    expect(page.get_by_text(s["ref_a"]).first).to_be_visible()  # the activity log names the same pseudonym

    # The enroll screen: the company's own employees, as volunteers; a search for the person finds nothing.
    page.goto(f"/campaigns/{s['camp_a']}/enroll")
    expect(page.get_by_role("heading", level=1, name="Enroll a volunteer")).to_be_visible()
    page.get_by_role("searchbox").fill("Halyna")
    expect(page.get_by_text("No match")).to_be_visible()
    page.get_by_label("E-mail", exact=True).fill("halyna.p@example.org")
    page.get_by_label("E-mail", exact=True).blur()
    expect(page.locator("#outlook")).to_contain_text("Will be enrolled")  # as a new employee, like anyone unknown
    assert "Petrenko" not in page.locator("body").inner_text()
    assert_no_serious_a11y_violations(page)
    screenshot(page, "enroll-volunteer-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "enroll-volunteer-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    other = browser.new_context(base_url=base_url).new_page()
    sign_in(other, SECOND_ADMIN)
    other.goto(f"/campaigns/{s['camp_b']}")
    expect(other.get_by_role("link", name=s["ref_b"])).to_be_visible()
    text = other.locator("body").inner_text()
    for secret in (*SECRETS, s["ref_a"], s["global_ref"]):
        assert secret not in text, secret
    screenshot(other, "campaign-second-company-pseudonym")
    other.context.close()
