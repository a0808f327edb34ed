"""Deliveries in a real browser (SPEC §2.9, §4): on an enrollment's page a program manager
records a session (htmx swaps the deliveries section in place), sees it in the timeline, in
the counter and as the first milestone reached, then voids it — htmx asks first — and the
counter empties and the milestone is un-reached while the delivery stays, marked void.
Without JavaScript the same steps work through the plain form and the confirmation page. With
a match, the form's picker (labelled with the partner) records the session on both."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

MENTEES = {"js": "Kateryna Lysenko", "no_js": "Bohdan Savchenko", "matched": "Oksana Melnyk"}
MENTOR = "Ingrid Mentor"


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """An active Acme mentorship campaign with the two beneficiaries above."""
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import active_campaign, mentorship_program

    ids: dict[str, int] = {}
    with live_server.app.app_context():
        with transaction():
            campaign = active_campaign(mentorship_program("deliveries", "Trondheim"), "Acme mentoring (deliveries)")
            for key, name in MENTEES.items():
                person = create_participant(None, display_name=name, year_of_birth=1991, languages=["uk"])
                db.session.flush()
                ids[key] = enroll_participant(None, campaign.id, person).id
            ids["campaign"] = campaign.id
            from portal.matches.operations import confirm_match, propose_match
            from tests.e2e.scenes import acme

            mentor = create_participant(None, display_name=MENTOR, year_of_birth=1980, languages=["uk"],
                                        company_id=acme().id)
            db.session.flush()
            volunteer = enroll_participant(None, campaign.id, mentor, role="volunteer")
            match = propose_match(None, campaign, volunteer, db.session.get(type(volunteer), ids["matched"]))
            confirm_match(None, match)
            ids["mentor"], ids["match"] = volunteer.id, match.id
        db.session.remove()
    return ids


def record_session(page: Page) -> None:
    section = page.locator("#deliveries")
    section.get_by_label("Kind", exact=True).select_option(label="Session completed")
    section.get_by_label("Date", exact=True).fill(date.today().isoformat())
    section.get_by_label("Duration (minutes)").fill("45")
    section.get_by_label("Attendance", exact=True).select_option(label="Present")
    section.get_by_role("button", name="Record").click()


def test_a_program_manager_records_a_session_and_voids_it(page: Page, sign_in, accounts, world, screenshot,
                                                         new_context):
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['campaign']}/enrollments/{world['js']}")
    expect(page.get_by_role("heading", name="Record a delivery")).to_be_visible()
    record_session(page)
    timeline = page.get_by_test_id("delivery-timeline")
    expect(timeline).to_contain_text("Session completed · 45 min · present")
    expect(page.get_by_test_id("delivery-counters")).to_contain_text("1 delivery")
    expect(page.get_by_test_id("delivery-milestones")).to_contain_text(
        f"First Session — reached on {date.today().isoformat()}")
    expect(page.locator("#deliveries").get_by_label("Kind", exact=True)).to_have_value("")  # a fresh form
    assert_no_serious_a11y_violations(page)
    screenshot(page, "enrollment-deliveries-1280")
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, accounts.pm.email)
    phone.goto(f"/campaigns/{world['campaign']}/enrollments/{world['js']}")
    expect(phone.get_by_test_id("delivery-timeline")).to_contain_text("Session completed")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    screenshot(phone, "enrollment-deliveries-390")

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    timeline.get_by_role("button", name="Void").click()
    expect(page.locator(".flash--success")).to_contain_text("Delivery voided")
    assert questions and "no longer counts" in questions[0]
    expect(page.get_by_test_id("delivery-timeline")).to_contain_text("void")
    expect(page.locator("#deliveries")).to_contain_text("Nothing counted yet.")
    expect(page.get_by_test_id("delivery-milestones")).to_contain_text("First Session — not yet")
    expect(page.get_by_test_id("delivery-timeline").get_by_role("button", name="Void")).to_have_count(0)


def test_without_javascript_recording_and_voiding_go_through_plain_pages(browser, base_url, sign_in, accounts, world):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, accounts.pm.email)
        page.goto(f"/campaigns/{world['campaign']}/enrollments/{world['no_js']}")
        record_session(page)
        expect(page.locator(".flash--success")).to_contain_text("Session completed recorded.")
        expect(page.get_by_test_id("delivery-counters")).to_contain_text("1 delivery")
        page.get_by_test_id("delivery-timeline").get_by_role("button", name="Void").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Void this delivery")
        page.get_by_role("button", name="Void the delivery").click()
        expect(page.locator(".flash--success")).to_contain_text("Delivery voided")
        expect(page.locator("#deliveries")).to_contain_text("Nothing counted yet.")
    finally:
        context.close()


def test_a_session_of_a_match_is_recorded_on_both_enrollments(page: Page, sign_in, accounts, world):
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['campaign']}/enrollments/{world['matched']}")
    section = page.locator("#deliveries")
    section.get_by_label("Session of a match").select_option(label=f"With {MENTOR}")
    record_session(page)
    expect(page.get_by_test_id("delivery-timeline")).to_contain_text("Session completed · 45 min · present · match session")
    assert_no_serious_a11y_violations(page)
    page.goto(f"/campaigns/{world['campaign']}/enrollments/{world['mentor']}")
    expect(page.get_by_test_id("delivery-timeline")).to_contain_text("present · match session")
    expect(page.locator("#deliveries").get_by_label("Session of a match")).to_contain_text(f"With {MENTEES['matched']}")
