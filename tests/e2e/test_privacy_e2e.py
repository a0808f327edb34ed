"""Personal data rights in a real browser (SPEC §2.12): a program manager opens a
participant's privacy page, downloads everything held about them as JSON, erases them with a
typed confirmation (a wrong word first: shown at the field, nothing erased), then finds them
gone from the participant search while the campaign's figures are exactly what they were.
Screenshots at 1280 and 390 px; nothing scrolls sideways on the phone; axe finds no serious
violation. A second program manager's journey records an access request received, sees it
listed open with the day its answer is due, answers it by exporting the data and sees it closed."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
NAME = "Nataliia Forgetme"
EMAIL = "nataliia.forgetme@e2e.example"
FIGURES = ("Capacity", "Status breakdown", "Milestone funnel")


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int | str]:
    """Acme's active mentorship campaign with Nataliia (one session, so a milestone) and two
    other beneficiaries."""
    from portal.db import db, transaction, utcnow
    from portal.deliveries.operations import record_delivery
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import active_campaign, mentorship_program

    with live_server.app.app_context():
        with transaction():
            program = mentorship_program("privacy", "Tromsø")
            campaign = active_campaign(program, "Acme – Mentoring Tromsø (privacy)")
            person = create_participant(None, display_name=NAME, email=EMAIL, external_ref="kintell:99001",
                                        year_of_birth=1991, languages=["uk"], country="UA")
            enrollment = enroll_participant(None, campaign.id, person, legal_basis="consent",
                                            consent_given_on=utcnow().date())
            others = [create_participant(None, display_name=other) for other in ("Roksolana Stays", "Bohdan Stays")]
            for other in others:
                enroll_participant(None, campaign.id, other)
        with transaction():
            record_delivery(None, db.session.get(type(enrollment), enrollment.id), kind="session_completed",
                            occurred_on=utcnow().date(), attendance="present", note="Talked about her CV")
        ids = {"participant": person.id, "campaign": campaign.id, "ref": person.ref, "requester": others[0].id}
        db.session.remove()
    return ids


def _figures(page: Page, campaign_id: int) -> dict[str, str]:
    page.goto(f"/campaigns/{campaign_id}")
    return {title: page.get_by_role("region", name=title).inner_text() for title in FIGURES}


def test_program_manager_exports_erases_and_the_figures_stay(page: Page, new_context, sign_in, accounts, world,
                                                            screenshot, tmp_path) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)
    before = _figures(page, world["campaign"])
    assert "1" in before["Milestone funnel"]

    # --- the privacy screen and the participant's rights page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    expect(page.get_by_role("heading", level=1, name="Privacy")).to_be_visible()
    assert_no_serious_a11y_violations(page)
    page.goto(f"/participants/{world['participant']}")
    page.get_by_role("link", name="Privacy: access, consent, erase").click()
    expect(page.get_by_role("heading", level=1, name=NAME)).to_be_visible()
    expect(page.get_by_role("region", name="Enrollments and legal basis")).to_contain_text("Consent")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "privacy-participant-1280")

    # --- access: the JSON download holds everything
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    report = json.loads(saved.read_text())
    assert report["participant"]["email"] == EMAIL and report["deliveries"][0]["note"] == "Talked about her CV"

    # --- erase: a wrong word first (shown at its field, nothing erased), then the reference
    page.get_by_role("link", name="Erase this person's data…").click()
    expect(page.get_by_role("heading", level=1, name=f"Erase {NAME}'s data?")).to_be_visible()
    assert_no_serious_a11y_violations(page)
    box = page.get_by_label("Type the participant's reference or ERASE")
    box.fill("delete")
    page.get_by_role("button", name="Erase for good").click()
    expect(page.get_by_label("Type the participant's reference or ERASE")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#confirmation-error")).to_contain_text(str(world["ref"]))
    screenshot(page, "privacy-erase-error-1280")
    page.get_by_label("Type the participant's reference or ERASE").fill(str(world["ref"]))
    page.get_by_role("button", name="Erase for good").click()
    expect(page.get_by_role("heading", level=1, name="Erased participant")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("every figure stays the same")
    screenshot(page, "privacy-erased-1280")

    # --- gone from the search, and the campaign's figures are what they were
    page.goto("/participants/")
    page.wait_for_load_state()
    page.get_by_label("Search", exact=True).fill(EMAIL)
    expect(page).to_have_url(re.compile(r"q=nataliia"))
    results = page.get_by_role("region", name="Participants found")
    expect(results.get_by_role("link", name=NAME)).to_have_count(0)
    page.get_by_label("Search", exact=True).fill("Natal")
    expect(page).to_have_url(re.compile(r"q=Natal"))
    expect(results.get_by_role("link", name=NAME)).to_have_count(0)
    assert _figures(page, world["campaign"]) == before

    # --- the privacy screen's erasure log, on a phone
    phone = new_context(**PHONE).new_page()
    sign_in(phone, accounts.pm.email)
    phone.goto("/privacy/")
    expect(phone.get_by_role("region", name="Erasure log")).to_contain_text(str(world["ref"]))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    assert_no_serious_a11y_violations(phone)
    screenshot(phone, "privacy-index-390")
    phone.goto(f"/privacy/participants/{world['participant']}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "privacy-participant-390")


def test_a_request_is_recorded_listed_open_and_answered_by_the_export(page: Page, sign_in, accounts, world,
                                                                      screenshot) -> None:
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)
    page.goto(f"/privacy/participants/{world['requester']}")
    expect(page.get_by_role("heading", level=1, name="Roksolana Stays")).to_be_visible()
    page.get_by_label("Request", exact=True).select_option(label="Access (a copy of their data)")
    page.get_by_label("Received on").fill("2026-11-20")
    page.get_by_label("Your reference (optional)").fill("DPO-2026-31")
    page.get_by_role("button", name="Record the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request recorded: answer it by")
    requests = page.get_by_role("region", name="Requests")
    expect(requests).to_contain_text("DPO-2026-31")
    expect(requests).to_contain_text("awaiting an answer")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "privacy-request-recorded-1280")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    open_requests = page.get_by_role("region", name="Open requests")
    row = open_requests.get_by_role("row").filter(has_text="DPO-2026-31")
    expect(row).to_contain_text("Roksolana Stays")
    expect(row).to_contain_text("20")  # the answer is due a month after 20 November
    assert_no_serious_a11y_violations(page)
    screenshot(page, "privacy-open-requests-1280")

    row.get_by_role("link", name="Roksolana Stays", exact=True).click()
    with page.expect_download():
        page.get_by_role("button", name="Download JSON").click()
    page.reload()
    expect(page.get_by_role("region", name="Requests")).to_contain_text("Answered by the data export")
    page.goto("/privacy/")
    expect(page.get_by_role("region", name="Open requests")).not_to_contain_text("DPO-2026-31")


@pytest.fixture
def overdue_request(live_server, accounts, world) -> Iterator[int]:
    """A participant whose access request, received 40 days ago, is open and overdue. The
    program manager's language goes back to "follow the browser" afterwards: other browser
    tests sign in with the same account and read English."""
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.db import db, transaction, utcnow
    from portal.enrollments.operations import create_participant
    from portal.privacy.requests import record_request

    with live_server.app.app_context():
        with transaction():
            person = create_participant(None, display_name="Halyna Waits")
            record_request(None, person, kind="access", received_on=utcnow().date() - timedelta(days=40))
        person_id = person.id
        db.session.remove()
    yield person_id
    with live_server.app.app_context():
        db.session.execute(sa.update(User).where(User.email == accounts.pm.email).values(locale=None))
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize(("language", "shown"), [
    ("en", ["Awaiting an answer", "Overdue"]),
    ("nb", ["Venter på svar", "Forfalt"]),
    ("uk", ["Очікує на відповідь", "Прострочено"]),
])
def test_a_requests_status_badges_read_in_sentence_case(page: Page, sign_in, accounts, live_server, overdue_request,
                                                         language, shown) -> None:
    """What the reader sees (innerText, after CSS), not the markup: a badge's label starts
    with a capital and no other word does, in every language."""
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.db import db

    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)  # in English; then the account chooses the language
    with live_server.app.app_context():
        db.session.execute(sa.update(User).where(User.email == accounts.pm.email)
                           .values(locale=None if language == "en" else language))
        db.session.commit()
        db.session.remove()
    page.goto(f"/privacy/participants/{overdue_request}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert page.locator("#requests-title + .table-wrap .badge").all_inner_texts() == shown
