"""Matches in a real browser (SPEC §2.8, §4 "Matches"): a program manager picks a
beneficiary, reads the suggestions with their reasons, proposes one, confirms it and ends
it (htmx asks first); the volunteer's load follows ("1 of 3", then "0 of 3"). Without
JavaScript the same steps work through plain forms and the confirmation page, and a stale
second Propose is refused on the page it came from with nothing saved. The company admin
reads the pair with the beneficiary as a pseudonym."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

MENTEES = {"js": "Halyna Hrytsenko", "no_js": "Yaroslav Tkachenko", "stale": "Oksana Melnyk"}


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """An active Acme mentorship campaign (limit 3 from the master) with an Acme mentor who
    speaks Ukrainian, a Norwegian-only volunteer, and the two beneficiaries above."""
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from tests.e2e.scenes import acme, active_campaign, mentorship_program

    ids: dict[str, int] = {}
    with live_server.app.app_context():
        with transaction():
            campaign = active_campaign(mentorship_program("matches", "Bergen"), "Acme mentoring (matches)")
            company = acme()
            mentor = create_participant(None, display_name="Mona Mentor", languages=["uk", "en"], company_id=company.id)
            other = create_participant(None, display_name="Ola Nordmann", languages=["no"], company_id=company.id)
            db.session.flush()
            enroll_participant(None, campaign.id, mentor, role="volunteer")
            enroll_participant(None, campaign.id, other, role="volunteer")
            for name in MENTEES.values():
                person = create_participant(None, display_name=name, year_of_birth=1990, languages=["uk"])
                db.session.flush()
                ids[name] = enroll_participant(None, campaign.id, person).id
            ids["campaign"] = campaign.id
        db.session.remove()
    return ids


def pair_row(page: Page, mentee: str):
    return page.locator("#matches-title + .table-wrap tbody tr").filter(has_text=mentee)


def load_row(page: Page, volunteer: str):
    return page.locator("#loads-title + .table-wrap tbody tr").filter(has_text=volunteer)


def test_a_program_manager_proposes_from_a_suggestion_confirms_and_ends(page: Page, sign_in, accounts, world,
                                                                       screenshot):
    mentee = MENTEES["js"]
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['campaign']}/matches")
    expect(page.get_by_role("heading", level=1)).to_have_text("Matches")
    page.get_by_label("Beneficiary", exact=True).select_option(label=mentee)  # htmx loads the suggestions
    suggestions = page.locator("#suggestions")
    expect(suggestions.get_by_role("heading")).to_have_text(f"Suggestions for {mentee}")
    first = suggestions.locator(".suggestion").first
    expect(first).to_contain_text("Mona Mentor")
    expect(first).to_contain_text("Both speak Ukrainian.")
    expect(first).to_contain_text("3 free slots")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "matches-suggestions-1280")

    first.get_by_role("button", name="Propose").click()
    expect(page.locator(".flash--success")).to_contain_text(f"Proposed Mona Mentor as the partner of {mentee}.")
    expect(pair_row(page, mentee)).to_contain_text("proposed")
    expect(load_row(page, "Mona Mentor")).to_contain_text("0 of 3")

    pair_row(page, mentee).get_by_role("button", name="Confirm").click()
    expect(page.locator(".flash--success")).to_contain_text("Match confirmed")
    expect(pair_row(page, mentee)).to_contain_text("active")
    expect(load_row(page, "Mona Mentor")).to_contain_text("1 of 3")
    screenshot(page, "matches-active-1280")

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    pair_row(page, mentee).get_by_label("Reason").fill("Found a job")
    pair_row(page, mentee).get_by_role("button", name="End").click()
    expect(pair_row(page, mentee)).to_contain_text("active")  # dismissed: nothing posted
    assert questions == [f"End the match of Mona Mentor and {mentee}? This cannot be undone."]

    page.once("dialog", lambda dialog: dialog.accept())
    pair_row(page, mentee).get_by_role("button", name="End").click()
    expect(page.locator(".flash--success")).to_contain_text("Match ended.")
    expect(pair_row(page, mentee)).to_contain_text("ended")
    expect(pair_row(page, mentee)).to_contain_text("Found a job")
    expect(load_row(page, "Mona Mentor")).to_contain_text("0 of 3")
    assert_no_serious_a11y_violations(page)


def test_without_javascript_and_as_the_company_admin(browser, base_url, sign_in, accounts, world):
    mentee = MENTEES["no_js"]
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, accounts.pm.email)
        page.goto(f"/campaigns/{world['campaign']}/matches")
        page.get_by_label("Beneficiary", exact=True).select_option(label=mentee)
        page.get_by_role("button", name="Show suggestions").click()
        page.locator("#suggestions .suggestion").filter(has_text="Mona Mentor") \
            .get_by_role("button", name="Propose").click()
        pair_row(page, mentee).get_by_role("button", name="Confirm").click()
        expect(pair_row(page, mentee)).to_contain_text("active")

        page.goto(f"/campaigns/{world['campaign']}/matches")  # the company admin's view, while it is active
        context.clear_cookies()
        sign_in(page, accounts.admin.email)
        page.goto(f"/campaigns/{world['campaign']}/matches")
        pairs = page.locator("#matches-title + .table-wrap")
        expect(pairs).to_contain_text("Mona Mentor")
        expect(pairs).not_to_contain_text(mentee)
        expect(pairs).not_to_contain_text(MENTEES["js"])
        expect(page.get_by_role("button", name="End")).to_have_count(0)
        expect(page.locator("#suggestions")).to_have_count(0)

        context.clear_cookies()
        sign_in(page, accounts.pm.email)
        page.goto(f"/campaigns/{world['campaign']}/matches")
        pair_row(page, mentee).get_by_role("button", name="End").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"End the match of Mona Mentor and {mentee}?")
        expect(page.locator(".confirm")).to_contain_text("Mona Mentor gets a free slot for another match.")
        page.get_by_role("button", name="End the match").click()
        expect(page.locator(".flash--success")).to_contain_text("Match ended.")
        expect(pair_row(page, mentee)).to_contain_text("ended")
    finally:
        context.close()


def test_the_matches_page_fits_a_phone(new_context, sign_in, accounts, world, screenshot):
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, accounts.pm.email)
    phone.goto(f"/campaigns/{world['campaign']}/matches")
    phone.get_by_label("Beneficiary", exact=True).select_option(label=MENTEES["js"])
    expect(phone.locator("#suggestions .suggestion").first).to_contain_text("Mona Mentor")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing scrolls sideways
    screenshot(phone, "matches-390")


def _pairs_of(live_server, beneficiary_enrollment_id: int) -> list[str]:
    """The statuses of the beneficiary's matches, as stored."""
    import sqlalchemy as sa

    from portal.db import db
    from portal.matches.models import Match

    with live_server.app.app_context():
        try:
            return list(db.session.scalars(sa.select(Match.status).where(
                Match.beneficiary_enrollment_id == beneficiary_enrollment_id)))
        finally:
            db.session.remove()


def test_without_javascript_a_proposal_lands_on_the_pairs_and_a_stale_second_one_is_refused(
        browser, base_url, live_server, sign_in, accounts, world):
    """Issue #13: the suggestions' Propose form without JavaScript. Two tabs show the same
    suggestions; proposing from the first lands on the matches page with the pair proposed;
    the second tab's Propose (a stale page, a double submit) is a 409 that re-renders the
    page with the refusal in the messages above it and the beneficiary's suggestions still
    open — and no second match."""
    mentee = MENTEES["stale"]
    matches_url = f"/campaigns/{world['campaign']}/matches"
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    try:
        first = context.new_page()
        sign_in(first, accounts.pm.email)
        first.goto(matches_url)
        first.get_by_label("Beneficiary", exact=True).select_option(label=mentee)
        first.get_by_role("button", name="Show suggestions").click()  # a plain GET without JavaScript
        expect(first.locator("#suggestions").get_by_role("heading")).to_have_text(f"Suggestions for {mentee}")
        second = context.new_page()
        second.goto(first.url)  # the same suggestions, e.g. a second tab left open
        propose = f"Propose Mona Mentor for {mentee}"
        assert _pairs_of(live_server, world[mentee]) == []

        with first.expect_response(lambda r: r.request.method == "POST") as posted:
            first.get_by_role("button", name=propose).click()
        assert posted.value.status == 303
        first.wait_for_load_state()
        assert first.url.endswith(matches_url)
        expect(first.locator(".flash--success")).to_have_text(
            f"Proposed Mona Mentor as the partner of {mentee}. Confirm the match to start it.")
        expect(pair_row(first, mentee)).to_contain_text("Mona Mentor")
        expect(pair_row(first, mentee)).to_contain_text("proposed")
        expect(pair_row(first, mentee).get_by_role("button", name="Confirm")).to_be_visible()
        assert _pairs_of(live_server, world[mentee]) == ["proposed"]

        with second.expect_response(lambda r: r.request.method == "POST") as refused:
            second.get_by_role("button", name=propose).click()
        assert refused.value.status == 409
        second.wait_for_load_state()
        flashes = second.locator("main > .flashes")
        expect(flashes.locator(".flash--error")).to_have_text("These two already have a proposed or active match.")
        expect(flashes.locator(".flash--success")).to_have_count(0)
        expect(second.get_by_role("heading", level=1)).to_have_text("Matches")
        # The refusal sits above the page it was made on: the same beneficiary's suggestions.
        expect(second.locator("#suggestions").get_by_role("heading")).to_have_text(f"Suggestions for {mentee}")
        expect(pair_row(second, mentee)).to_have_count(1)
        assert _pairs_of(live_server, world[mentee]) == ["proposed"]  # nothing saved
    finally:
        context.close()
