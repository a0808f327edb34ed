"""Progress on the campaign page in a real browser (SPEC §2.10, §4): a program manager sees
an enrollment ready to complete, completes the ready ones through the confirmation (htmx
asks first), sees the milestone
funnel as a chart, and the home page's progress card; at 1280 and 390 px, axe-clean."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

READY = {"js": "Olena Progress", "no_js": "Taras Progress"}
STALLED = "Iryna Waiting"


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """An active Acme mentorship campaign: two mentees with ten sessions (ready), one whose
    last session was three weeks ago (needs attention)."""
    from portal.db import db, transaction
    from portal.deliveries.operations import record_delivery
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import active_campaign, mentorship_program

    ids: dict[str, int] = {}
    today = date.today()
    with live_server.app.app_context():
        with transaction():
            campaign = active_campaign(mentorship_program("progress", "Bergen"), "Acme mentoring (progress)",
                                       start_date=date(today.year, 1, 1) - timedelta(days=60))
            for key, name in [*READY.items(), ("stalled", STALLED)]:
                person = create_participant(None, display_name=name, year_of_birth=1990, languages=["uk"])
                db.session.flush()
                enrollment = enroll_participant(None, campaign.id, person)
                enrollment.enrolled_at = enrollment.enrolled_at - timedelta(days=40)
                db.session.flush()
                ids[key] = enrollment.id
                record_delivery(None, enrollment, kind="session_completed", attendance="present",
                                quantity=10 if key != "stalled" else 1,
                                occurred_on=today - timedelta(days=21 if key == "stalled" else 1))
            ids["campaign"] = campaign.id
        db.session.remove()
    return ids


def test_a_program_manager_completes_the_ready_ones_and_sees_the_funnel(page: Page, sign_in, accounts, world,
                                                                       screenshot, new_context):
    sign_in(page, accounts.pm.email)
    expect(page.locator("#home-progress")).to_contain_text("Acme mentoring (progress)")  # loaded into the home card
    page.goto(f"/campaigns/{world['campaign']}")
    ready = page.locator("section", has=page.get_by_role("heading", name="Ready to complete"))
    expect(ready).to_contain_text(READY["js"])
    expect(ready).to_contain_text("10 of 10 sessions")
    attention = page.locator("section", has=page.get_by_role("heading", name="Needs attention"))
    expect(attention).to_contain_text(STALLED)
    funnel = page.get_by_role("img", name="Beneficiaries who reached each milestone")
    expect(funnel).to_be_visible()
    assert_no_serious_a11y_violations(page)
    page.get_by_role("heading", name="Milestone funnel").scroll_into_view_if_needed()
    screenshot(page, "campaign-progress-1280")
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, accounts.pm.email)
    phone.goto(f"/campaigns/{world['campaign']}")
    expect(phone.get_by_role("img", name="Beneficiaries who reached each milestone")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    screenshot(phone, "campaign-progress-390")

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    ready.get_by_role("button", name="Complete the 2 ready ones…").click()
    expect(page.locator(".flash--success")).to_contain_text("2 enrollments completed")
    assert questions and "Complete 2 ready enrollments?" in questions[0]
    expect(page.locator("section", has=page.get_by_role("heading", name="Ready to complete"))).to_contain_text(
        "No active enrollment has met its completion rule yet.")


def test_without_javascript_the_home_links_to_the_progress_page_and_the_funnel_shows(browser, base_url, sign_in, accounts, world):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, accounts.pm.email)
        page.goto("/home")
        page.get_by_role("link", name="See who is ready to complete and who needs attention, per campaign").click()
        expect(page.get_by_role("heading", level=1, name="Progress across campaigns")).to_be_visible()
        page.goto(f"/campaigns/{world['campaign']}")
        expect(page.get_by_role("img", name="Beneficiaries who reached each milestone")).to_be_visible()
    finally:
        context.close()


@pytest.fixture(scope="module")
def crowded(live_server) -> int:
    """An active Acme mentorship campaign where twelve mentees have had nothing recorded for three weeks."""
    from portal.db import db, transaction
    from portal.deliveries.operations import record_delivery
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import active_campaign, mentorship_program

    today = date.today()
    with live_server.app.app_context():
        with transaction():
            campaign = active_campaign(mentorship_program("crowded", "Tromsø"), "Acme mentoring (crowded)",
                                       start_date=date(today.year, 1, 1) - timedelta(days=60), max_enrollment=20)
            for n in range(12):
                person = create_participant(None, display_name=f"Quiet Mentee {n:02d}", year_of_birth=1990, languages=["uk"])
                db.session.flush()
                enrollment = enroll_participant(None, campaign.id, person)
                enrollment.enrolled_at = enrollment.enrolled_at - timedelta(days=40 + n)
                db.session.flush()
                record_delivery(None, enrollment, kind="session_completed", attendance="present", quantity=1,
                                occurred_on=today - timedelta(days=21))
            campaign_id = campaign.id
        db.session.remove()
    return campaign_id


@pytest.mark.parametrize(("javascript", "width"), [(True, 1280), (True, 390), (False, 390)])
def test_the_campaign_page_lists_the_first_ten_and_links_to_the_whole_lists(browser, base_url, sign_in, accounts, crowded,
                                                                           screenshot, javascript, width):
    context = browser.new_context(base_url=base_url, java_script_enabled=javascript,
                                  viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, accounts.pm.email)
        page.goto(f"/campaigns/{crowded}")
        attention = page.locator("section", has=page.get_by_role("heading", name="Needs attention"))
        expect(attention).to_contain_text("12 active enrollments have had nothing recorded")
        expect(attention.locator("tbody tr")).to_have_count(10)
        attention.get_by_role("link", name="See the whole list").click()
        expect(page.get_by_role("heading", level=1, name="Progress")).to_be_visible()
        whole = page.locator("section", has=page.get_by_role("heading", name="Needs attention"))
        expect(whole.locator("tbody tr")).to_have_count(12)
        expect(whole).to_contain_text("Quiet Mentee 00")
        if javascript:  # (evaluating a script needs it)
            assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing scrolls sideways
            assert_no_serious_a11y_violations(page)
        screenshot(page, f"campaign-progress-whole-{width}{'' if javascript else '-nojs'}")
        page.get_by_role("link", name="Acme mentoring (crowded)").click()
        expect(page.get_by_role("heading", level=1, name="Acme mentoring (crowded)")).to_be_visible()
    finally:
        context.close()
