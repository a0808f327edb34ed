"""The attendance sheet in a real browser (SPEC §2.9, §4): a program manager takes attendance
for a session — a matched pair as one row, the unmatched beneficiaries as their own — with the
keyboard (arrow keys inside each row's radio group) and the mouse; htmx swaps the saved sheet
in place, and the pair's session reaches the first milestone on the enrollment page. Without
JavaScript the same sheet is a plain form: a refused save comes back with the problem at its
field and nothing saved, a corrected one is saved. Screenshots at 1280 and 390 px; nothing
scrolls sideways on the phone; axe finds no serious violation."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PEOPLE = {  # per campaign: the volunteer, the matched beneficiary and two unmatched ones
    "js": ("Sigrid Mentor", "Halyna Koval", "Oksana Melnyk", "Taras Hnatiuk"),
    "no_js": ("Ingrid Mentor", "Mykola Rudenko", "Iryna Bilyk", "Yurii Moroz"),
}


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, dict[str, int]]:
    """Two active Acme mentorship campaigns (one per test), each with a confirmed match and two
    unmatched beneficiaries."""
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.matches.operations import confirm_match, propose_match
    from tests.e2e.scenes import acme, active_campaign, mentorship_program

    ids: dict[str, dict[str, int]] = {}
    with live_server.app.app_context():
        with transaction():
            company = acme()
            program = mentorship_program("attendance", "Tromsø")
            for key, (mentor, matched, *others) in PEOPLE.items():
                campaign = active_campaign(program, f"Acme attendance ({key})")
                volunteer = enroll_participant(None, campaign.id, create_participant(
                    None, display_name=mentor, company_id=company.id, languages=["uk"]), role="volunteer")
                enrolled = {name: enroll_participant(None, campaign.id, create_participant(
                    None, display_name=name, year_of_birth=1990, languages=["uk"])) for name in (matched, *others)}
                match = propose_match(None, campaign, volunteer, enrolled[matched])
                db.session.flush()
                confirm_match(None, match)
                ids[key] = {"campaign": campaign.id, "match": match.id, "matched": enrolled[matched].id}
        db.session.remove()
    return ids


def group_of(page: Page, *names: str):
    return page.get_by_role("group", name=f"Attendance of {' and '.join(names)}")


def test_a_program_manager_takes_attendance_with_keyboard_and_mouse(page: Page, sign_in, accounts, world, screenshot,
                                                                    new_context):
    mentor, matched, oksana, taras = PEOPLE["js"]
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['js']['campaign']}/attendance")
    expect(page.get_by_role("heading", level=1, name="Attendance sheet")).to_be_visible()
    expect(page.get_by_label("Duration (minutes)")).to_have_value("60")  # session.defaultDurationMinutes
    pair = group_of(page, mentor, matched)
    expect(pair.get_by_label("Not held")).to_be_checked()  # nothing recorded by default

    # Keyboard: into the pair's group, then the arrow key moves the choice (wrapping to "Present").
    pair.get_by_label("Not held").focus()
    page.keyboard.press("ArrowRight")
    expect(pair.get_by_label("Present")).to_be_checked()
    group_of(page, taras).get_by_label("Not held").focus()
    page.keyboard.press("ArrowLeft")
    expect(group_of(page, taras).get_by_label("Unexcused")).to_be_checked()
    # Mouse: a click on the label's words.
    group_of(page, oksana).get_by_text("Excused", exact=True).click()
    expect(group_of(page, oksana).get_by_label("Excused", exact=True)).to_be_checked()
    assert_no_serious_a11y_violations(page)
    screenshot(page, "attendance-sheet-1280")

    phone = new_context(**PHONE).new_page()
    sign_in(phone, accounts.pm.email)
    phone.goto(f"/campaigns/{world['js']['campaign']}/attendance")
    expect(group_of(phone, mentor, matched).get_by_label("Present")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    screenshot(phone, "attendance-sheet-390")

    page.get_by_role("button", name="Save attendance").focus()
    page.keyboard.press("Enter")
    sheet = page.locator("#attendance-sheet")
    expect(sheet).to_contain_text("Attendance saved")
    expect(sheet).to_contain_text("1 present, 1 excused, 1 unexcused")
    expect(page.get_by_test_id("attendance-table")).to_contain_text("Recorded on this sheet.")
    expect(page.get_by_role("button", name="Save attendance")).to_have_count(0)  # every row is recorded now
    assert "/attendance" in page.url

    # The pair's session counts on the beneficiary's page and reaches the first milestone.
    page.goto(f"/campaigns/{world['js']['campaign']}/enrollments/{world['js']['matched']}")
    expect(page.get_by_test_id("delivery-milestones")).to_contain_text(
        f"First Session — reached on {date.today().isoformat()}")


def test_without_javascript_the_sheet_is_a_plain_form(browser, base_url, sign_in, accounts, world):
    mentor, matched, iryna, _ = PEOPLE["no_js"]
    context = browser.new_context(base_url=base_url, java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, accounts.pm.email)
        page.goto(f"/campaigns/{world['no_js']['campaign']}/attendance")
        tomorrow = (date.today() + timedelta(days=1)).isoformat()
        page.get_by_label("Date", exact=True).fill(tomorrow)
        page.get_by_role("button", name="Show the sheet").click()
        expect(page.get_by_role("heading", level=2, name=f"Session completed on {tomorrow}")).to_be_visible()
        group_of(page, mentor, matched).get_by_label("Present").check()
        page.get_by_role("button", name="Save attendance").click()
        summary = page.locator("[data-error-summary]")
        expect(summary).to_contain_text("nothing was saved")
        expect(summary).to_contain_text("in the future")
        expect(group_of(page, mentor, matched).get_by_label("Present")).to_be_checked()  # the choice is kept

        page.get_by_label("Date", exact=True).fill(date.today().isoformat())
        page.get_by_role("button", name="Show the sheet").click()
        group_of(page, mentor, matched).get_by_label("Present").check()
        group_of(page, iryna).get_by_label("Excused", exact=True).check()
        page.get_by_role("button", name="Save attendance").click()
        expect(page.locator(".flash--success")).to_contain_text("Attendance saved")
        expect(page.get_by_test_id("attendance-table")).to_contain_text("Recorded on this sheet.")
    finally:
        context.close()
