"""Beneficiary groups in a real browser: a program manager creates a group, sees the live
privacy error for a phone number typed into the description before submitting, fixes
it, saves, lands on the detail page, and filters the list by country."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

GROUP_NAME = "Ukrainian newcomers in Reykjavík"
OTHER_GROUP = "Asylum seekers in Helsinki"
PHONE_TEXT = "Adults newly arrived. Contact Olena on +354 555 1234 for details."
CLEAN_TEXT = "Adults newly arrived in the capital area, 2026 cohort."


@pytest.fixture(scope="module")
def other_group(live_server):
    """A group in another country, so the country filter has something to leave out."""
    import sqlalchemy as sa

    from portal.beneficiaries.models import BeneficiaryGroup
    from portal.beneficiaries.operations import create_group
    from portal.db import db, transaction

    with live_server.app.app_context():
        if db.session.scalar(sa.select(BeneficiaryGroup.id).where(BeneficiaryGroup.name == OTHER_GROUP)) is None:
            with transaction():
                create_group(None, name=OTHER_GROUP, group_type="asylum_seekers", country="FI", city="Helsinki",
                             languages=["ar", "fi"], eligible_categories=["buddy"], tags=["integration"])
        db.session.remove()
    return OTHER_GROUP


def groups_nav(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Beneficiary groups").click()
    expect(page.get_by_role("heading", level=1, name="Beneficiary groups")).to_be_visible()
    page.wait_for_load_state()  # htmx binds the filters once the page has loaded


def test_program_manager_creates_a_group_with_live_privacy_validation(page: Page, sign_in, accounts, screenshot,
                                                                     other_group) -> None:
    sign_in(page, accounts.pm.email)
    groups_nav(page)
    expect(page.get_by_role("link", name=other_group)).to_be_visible()

    page.get_by_role("link", name="New group").click()
    expect(page.get_by_role("heading", level=1, name="New beneficiary group")).to_be_visible()
    submits: list[str] = []
    page.on("request", lambda r: submits.append(r.url) if r.method == "POST" and r.url.endswith("/groups/new")
            else None)

    page.get_by_label("Name", exact=True).fill(GROUP_NAME)
    page.get_by_label("Group type").select_option(label="Refugees")
    page.get_by_label("Country").select_option(label="Iceland")
    page.get_by_label("City").fill("Reykjavík")
    page.get_by_label("Working languages").fill("uk, en")
    page.get_by_role("checkbox", name="Language", exact=True).check()  # not the header's language switch
    page.get_by_label("Mentorship").check()
    page.get_by_label("Tags").fill("ukraine, 2026 cohort")

    # Typing a phone number into the description shows the privacy error live.
    description = page.get_by_label("Description")
    with page.expect_response(lambda r: r.url.endswith("/groups/validate")
                              and r.request.headers.get("hx-trigger-name") == "description"
                              and "1234" in (r.request.post_data or "")) as live:
        description.press_sequentially(PHONE_TEXT, delay=5)
    assert live.value.status == 200
    slot = page.locator("#description-slot")
    expect(slot).to_have_text("Remove the phone number: groups describe populations, not people.")
    expect(page.locator("#name-slot")).to_have_text("")
    expect(description).to_have_accessible_description(re.compile(r"Remove the phone number"))
    expect(page).to_have_url(re.compile(r"/groups/new$"))
    assert submits == [], "the form was submitted before the error showed"
    screenshot(page, "groups-form-live-error")
    assert_no_serious_a11y_violations(page)

    # Fixing the text clears the message, still without saving.
    description.fill(CLEAN_TEXT)
    description.press("End")
    description.press("Space")
    expect(slot).to_have_text("")
    assert submits == []

    page.get_by_role("button", name="Create group").click()
    expect(page).to_have_url(re.compile(r"/groups/\d+$"))
    expect(page.get_by_role("status")).to_contain_text(f"Group “{GROUP_NAME}” created.")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(rf"^{GROUP_NAME}\s+active$"))
    about = page.get_by_role("region", name="About")
    expect(about).to_contain_text("Iceland")
    expect(about).to_contain_text("Ukrainian, English")
    expect(about).to_contain_text("Mentorship, Language")
    expect(about).to_contain_text(CLEAN_TEXT.strip())
    expect(page.get_by_role("region", name="Group figures")).to_contain_text("fewer than 10")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Beneficiary group created")
    expect(page.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(page.get_by_role("button", name="Activate", exact=True)).to_have_count(0)
    screenshot(page, "groups-detail")
    assert_no_serious_a11y_violations(page)

    # The list filtered by country, in place and in the URL.
    groups_nav(page)
    results = page.locator("#group-results")
    expect(results.get_by_role("link", name=other_group)).to_be_visible()
    with page.expect_response(lambda r: "country=IS" in r.url):
        page.get_by_label("Country").select_option(label="Iceland")
    expect(page).to_have_url(re.compile(r"/groups/\?(.*&)?country=IS"))
    expect(results.get_by_role("link", name=GROUP_NAME)).to_be_visible()
    expect(results.get_by_role("link", name=other_group)).to_have_count(0)
    row = results.get_by_role("row").filter(has_text=GROUP_NAME)
    expect(row).to_contain_text("Reykjavík")
    expect(row).to_contain_text("fewer than 10")
    screenshot(page, "groups-list")
    assert_no_serious_a11y_violations(page)

    # The filtered address works as a shared link (a full page, no JavaScript needed for it).
    page.goto(page.url)
    expect(page.get_by_label("Country")).to_have_value("IS")
    expect(results.get_by_role("link", name=GROUP_NAME)).to_be_visible()
    expect(results.get_by_role("link", name=other_group)).to_have_count(0)


def test_group_pages_are_accessible_for_an_existing_group(page: Page, sign_in, accounts, other_group) -> None:
    sign_in(page, accounts.pm.email)
    groups_nav(page)
    assert_no_serious_a11y_violations(page)
    page.get_by_role("link", name=other_group).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(other_group)
    assert_no_serious_a11y_violations(page)
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Edit group")).to_be_visible()
    expect(page.get_by_label("Key")).to_have_js_property("readOnly", True)
    expect(page.get_by_label("Working languages")).to_have_value("ar, fi")
    assert_no_serious_a11y_violations(page)
