"""Impact in a real browser (SPEC §2.11, §4): a program manager creates a valuation set,
values an outcome, activates it (htmx asks first), pins it to a program after previewing the
figures, and sees the campaign's SROI and its "why this number" breakdown — at 1280 and
390 px, with no serious accessibility violations."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

SET_NAME = "Mentoring outcomes (e2e)"


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """Acme's active mentorship campaign (EUR 100.00 budget) with 12 mentees, each with a
    session recorded today."""
    from portal.campaigns.operations import create_campaign, transition_campaign
    from portal.db import db, transaction, utcnow
    from portal.deliveries.operations import record_delivery
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import acme, mentorship_program

    with live_server.app.app_context():
        with transaction():
            program = mentorship_program("impact", "Bergen")
            campaign = create_campaign(None, program=program, company=acme(), name="Acme mentoring (impact)",
                                       start_date=date(date.today().year, 1, 1), max_enrollment=20, currency="EUR",
                                       budget_allocated=10_000)
            transition_campaign(None, campaign, "active")
            db.session.flush()
            for i in range(12):
                person = create_participant(None, display_name=f"Impact Mentee {i}", year_of_birth=1990,
                                            languages=["uk"])
                db.session.flush()
                enrollment = enroll_participant(None, campaign.id, person)
                enrollment.enrolled_at = utcnow() - timedelta(days=2)
                db.session.flush()
                record_delivery(None, enrollment, kind="session_completed", occurred_on=date.today(),
                                attendance="present")
            ids = {"program": program.id, "campaign": campaign.id}
        db.session.remove()
    return ids


def test_a_program_manager_values_outcomes_pins_them_and_sees_sroi(page: Page, sign_in, accounts, world, screenshot,
                                                                   new_context):
    sign_in(page, accounts.pm.email)
    page.goto("/valuation-sets/new")
    page.get_by_label("Name", exact=True).fill(SET_NAME)
    page.get_by_label("Currency", exact=True).fill("EUR")
    page.get_by_label("Discount rate (% a year)").fill("3.5")
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator(".flash--success")).to_contain_text("Draft")
    expect(page.get_by_role("heading", level=1)).to_contain_text(SET_NAME)

    page.get_by_role("link", name="Value an outcome").first.click()
    page.get_by_label("Outcome", exact=True).select_option(value="delivery:session_completed")
    page.get_by_label("Financial proxy per unit").fill("60")
    page.get_by_label("Source", exact=True).fill("Demo: an hour of career coaching")
    page.get_by_label("Deadweight (%)").fill("10")
    page.get_by_role("button", name="Add outcome").click()
    expect(page.locator(".flash--success")).to_contain_text("Outcome added")
    expect(page.get_by_role("region", name="Valued outcomes table")).to_contain_text("EUR 60.00")

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Activate v1").click()
    expect(page.locator(".flash--success")).to_contain_text("is active")
    assert questions and "cannot be undone" in questions[0]
    assert_no_serious_a11y_violations(page)

    page.goto(f"/programs/{world['program']}")
    page.get_by_role("link", name="Pin a valuation set").click()
    page.get_by_label("Valuation set to preview").select_option(label=f"{SET_NAME} v1 (EUR)")
    page.get_by_role("button", name="Preview the figures").click()
    preview = page.get_by_role("region", name="Figures before and after")
    expect(preview).to_contain_text("Acme mentoring (impact)")
    expect(preview).to_contain_text("EUR 6.26 per 1")  # PV 12 × 6 000 × 0.9 / 1.035 = 62 608.70 cents ÷ 10 000 invested
    page.get_by_role("button", name=f"Pin {SET_NAME} v1").click()
    expect(page.locator(".flash--success")).to_contain_text(f"values its outcomes with {SET_NAME} v1")

    page.goto(f"/campaigns/{world['campaign']}")
    card = page.locator("#impact")
    expect(card).to_contain_text("EUR 6.26 of social value per EUR 1 invested")
    card.get_by_role("link", name="Why these numbers").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Impact of Acme mentoring (impact)")
    # 12 sessions × 10 + 12 "first session" milestones × 25 = 420 points
    expect(page.get_by_text("420.0 points")).to_be_visible()
    by_outcome = page.get_by_role("region", name="SROI by outcome")
    expect(by_outcome).to_contain_text("Demo: an hour of career coaching")
    expect(by_outcome).to_contain_text("EUR 626.09")
    expect(page.get_by_role("region", name="Impact points by kind")).to_contain_text("template")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "campaign-impact-1280")

    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, accounts.pm.email)
    phone.goto(f"/campaigns/{world['campaign']}/impact")
    expect(phone.get_by_text("EUR 6.26 of social value per EUR 1 invested")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # tables scroll inside their box
    screenshot(phone, "campaign-impact-390")

    by_outcome.get_by_role("link", name="12").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Session completed")
    expect(page.get_by_role("region", name="Session completed")).to_contain_text("Impact Mentee")
