"""Impact reports in a real browser (SPEC §2.11 "Impact report"): a program manager opens a
campaign's report from the campaign page, picks a quarter, freezes it and makes a share link;
the company's admin downloads the PDF (rendered and looked at as an image); someone without an
account opens the link signed out and sees the report alone; once revoked, the link is gone.
Without JavaScript the period picker and the revoke confirmation are plain pages."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations
from tests.e2e.conftest import SCREENSHOTS

DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
PEOPLE = [f"Natalia Zvit{i}" for i in range(11)]


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """Acme's active campaign with eleven beneficiaries who each had two sessions this week."""
    from portal.db import db, transaction
    from portal.deliveries.operations import record_delivery
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import active_campaign, mentorship_program

    today = date.today()
    with live_server.app.app_context():
        with transaction():
            campaign = active_campaign(mentorship_program("reports", "Trondheim"), "Acme mentoring (reports)",
                                       start_date=today - timedelta(days=30), max_enrollment=20)
            enrollments = []
            for name in PEOPLE:
                person = create_participant(None, display_name=name, year_of_birth=1988, languages=["uk"])
                db.session.flush()
                enrollments.append(enroll_participant(None, campaign.id, person))
            db.session.flush()
            for enrollment in enrollments:
                for days in (1, 2):
                    record_delivery(None, enrollment, kind="session_completed", attendance="present",
                                    occurred_on=max(today - timedelta(days=days), enrollment.enrolled_at.date()),
                                    duration_minutes=45)
            campaign_id = campaign.id
        db.session.remove()
    return {"campaign": campaign_id}


def test_a_program_manager_freezes_and_shares_a_report_the_sponsor_reads_it(page: Page, browser, base_url, sign_in,
                                                                            accounts, world, screenshot):
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['campaign']}")
    page.get_by_role("link", name="Impact report").click()
    expect(page.get_by_role("heading", level=1, name="Impact report")).to_be_visible()
    figures = page.locator(".figures")
    expect(figures.locator(".figure").filter(has_text="Sessions held")).to_contain_text("22")
    expect(figures.locator(".figure").filter(has_text="Beneficiaries taking part")).to_contain_text("11")
    expect(figures.locator(".figure").filter(has_text="Volunteers taking part")).to_contain_text("fewer than 10")
    expect(page.get_by_role("img", name="Beneficiaries who reached each milestone")).to_be_visible()
    for name in PEOPLE:
        expect(page.get_by_text(name)).to_have_count(0)
    assert_no_serious_a11y_violations(page)
    screenshot(page, "report-live-1280")

    last_year = page.get_by_label("Period", exact=True).locator("option").filter(has_text=str(date.today().year - 1)).first
    page.get_by_label("Period", exact=True).select_option(last_year.get_attribute("value"))
    page.get_by_role("button", name="Show").click()
    expect(figures.locator(".figure").filter(has_text="Sessions held")).to_contain_text("0")
    page.get_by_label("Period", exact=True).select_option(index=0)  # this quarter again
    page.get_by_role("button", name="Show").click()
    expect(figures.locator(".figure").filter(has_text="Sessions held")).to_contain_text("22")

    page.get_by_role("button", name="Freeze this report").click()
    expect(page.locator(".flash--success")).to_contain_text("Report frozen")
    fingerprint = page.locator("code.hash").first.inner_text()
    assert len(fingerprint) == 64
    page.get_by_label("Who it is for").fill("Acme CSR team")
    page.get_by_label("Link works for (days)").fill("14")
    page.get_by_role("button", name="Make a share link").click()
    expect(page.locator(".flash--success")).to_contain_text("Share link made")
    link = page.get_by_label("Share link for Acme CSR team").input_value()
    snapshot_url = page.url.split("#")[0]
    page.set_viewport_size(PHONE)
    screenshot(page, "report-snapshot-390")

    admin = browser.new_context(base_url=base_url, viewport=DESKTOP, accept_downloads=True)
    try:
        admin_page = admin.new_page()
        sign_in(admin_page, accounts.admin.email)
        admin_page.goto(snapshot_url)
        with admin_page.expect_download() as download:
            admin_page.get_by_role("link", name="Download PDF").click()
        pdf_path = Path(download.value.path())
        pdf = pdfium.PdfDocument(pdf_path.read_bytes())
        text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
        assert fingerprint in text.replace("\r", "").replace("\n", "") and "Sessions held" in text
        image = pdf[0].render(scale=1.5).to_pil()  # kept beside the screenshots for people to look at
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        image.save(SCREENSHOTS / "report-pdf-page1.png")
        assert image.height > image.width  # A4, portrait
    finally:
        admin.close()

    outsider = browser.new_context(base_url=base_url, viewport=PHONE)
    try:
        shared = outsider.new_page()
        shared.goto(link)
        expect(shared.get_by_role("heading", level=1)).to_contain_text("Impact report")
        expect(shared.get_by_text(fingerprint)).to_be_visible()
        expect(shared.get_by_role("navigation", name="Main")).to_have_count(0)
        assert_no_serious_a11y_violations(shared)
        screenshot(shared, "report-shared-390")

        page.set_viewport_size(DESKTOP)
        page.goto(snapshot_url)
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Revoke").click()
        expect(page.locator(".flash--success")).to_contain_text("Share link revoked")
        assert shared.goto(link).status == 404
    finally:
        outsider.close()


def test_without_javascript_the_period_and_the_revoke_are_plain_pages(browser, base_url, sign_in, accounts, world):
    context = browser.new_context(base_url=base_url, java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    try:
        sign_in(page, accounts.pm.email)
        page.goto(f"/reports/campaigns/{world['campaign']}")
        page.get_by_label("Period", exact=True).select_option("custom")
        page.get_by_label("From (custom)").fill("2026-05-01")
        page.get_by_label("To (custom)").fill("2026-04-01")
        page.get_by_role("button", name="Show").click()
        expect(page.get_by_role("alert")).to_contain_text("The end date is before the start date.")
        page.get_by_label("To (custom)").fill(date.today().isoformat())
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".figures .figure").filter(has_text="Sessions held")).to_contain_text("22")
        page.get_by_role("button", name="Freeze this report").click()
        page.get_by_role("button", name="Make a share link").click()
        page.get_by_role("button", name="Revoke").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Revoke the share link")
        page.get_by_role("button", name="Revoke the link").click()
        expect(page.locator(".flash--success")).to_contain_text("Share link revoked")
        expect(page.locator("#share-links")).to_contain_text("Revoked")
    finally:
        context.close()
