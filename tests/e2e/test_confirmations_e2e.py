"""Destructive actions ask first, in a real browser (issue #13, item 5): with JavaScript htmx
asks (hx-confirm) and a dismissed question changes nothing; without JavaScript the button
answers a confirmation page saying what will happen (names, counts, the version that will be
deprecated) with Confirm and Cancel. Bulk drop has a select-all box and a live count.
Screenshots at 1280 and 390 px."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

PEOPLE = {"js": ["Anna Berg", "Bohdan Koval", "Chrystyna Lys", "Dmytro Savchuk"],
          "no_js": ["Iryna Kovalenko", "Kateryna Moroz", "Larysa Panchenko", "Mykola Rudenko"]}
TEMPLATE_KEY = "confirm-e2e-mentorship"


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """Per browser run: a campaign (cap 3, four beneficiaries: one waits) and a program to
    archive; and a template whose v1 is active and v2 a draft (publishing v2 deprecates v1)."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.operations import create_campaign, transition_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.program_templates.models import ProgramTemplate
    from portal.program_templates.operations import create_template, new_version, publish_template
    from portal.programs.operations import launch_program, transition_program

    ids: dict[str, int] = {}
    with live_server.app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
        with transaction():
            master = load_master("mentorship")
            template = db.session.scalars(sa.select(ProgramTemplate).where(ProgramTemplate.key == TEMPLATE_KEY,
                                                                           ProgramTemplate.version == 1)).first()
            if template is None:
                template = create_template(None, key=TEMPLATE_KEY, name="Mentorship (confirmations e2e)",
                                           category="mentorship", config_schema=master["config_schema"],
                                           default_config=master["default_config"])
                publish_template(None, template)
                new_version(None, template)
            group = create_group(None, name=f"Job seekers in Oslo (confirmations e2e {len(ids)})",
                                 group_type="job_seekers", country="NO", languages=["uk", "en"],
                                 eligible_categories=["mentorship"])
            for run in ("js", "no_js"):
                program = launch_program(None, template=template, group=group, visibility="public",
                                         name=f"Mentoring Oslo ({run.replace('_', '-')})")
                transition_program(None, program, "active")
                campaign = create_campaign(None, program=program, company=acme, name=f"Acme mentoring ({run})",
                                           start_date=date(date.today().year, 1, 1), max_enrollment=3,
                                           waitlist_enabled=True)
                transition_campaign(None, campaign, "active")
                db.session.flush()
                for name in PEOPLE[run]:
                    person = create_participant(None, display_name=name, year_of_birth=1990, languages=["uk"])
                    db.session.flush()
                    enroll_participant(None, campaign.id, person)
                ids[f"campaign_{run}"], ids[f"program_{run}"] = campaign.id, program.id
        db.session.remove()
    return ids


def shoot(page: Page, screenshot, name: str, *, javascript: bool = True) -> None:
    """Screenshots at 1280 and 390 px; with JavaScript, also no sideways scrolling at 390."""
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    if javascript:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{page.url} scrolls sideways at 390 px: {width}"
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 800})


def row_of(page: Page, name: str):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def test_bulk_drop_with_javascript_select_all_live_count_and_question(page: Page, sign_in, accounts, screenshot,
                                                                      world):
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['campaign_js']}")
    # The confirmation page itself (what a browser without JavaScript gets), checked here where
    # axe and the width measurement can run: a plain form.submit() bypasses htmx.
    page.get_by_role("checkbox", name="Select Anna Berg").check()
    page.get_by_label("With the selected").select_option("drop")
    page.evaluate("document.getElementById('bulk-form').submit()")
    expect(page.get_by_role("heading", level=1)).to_have_text("Drop 1 enrollment?")
    assert_no_serious_a11y_violations(page)
    shoot(page, screenshot, "confirm-bulk-drop-page")
    page.get_by_role("link", name="Keep them").click()

    count = page.locator("[data-bulk-count]")
    expect(count).to_have_text("0 selected")
    expect(page.get_by_role("button", name="Apply…")).to_be_disabled()
    page.get_by_role("checkbox", name=re.compile(r"^Select all 4 enrollments on this page")).check()
    expect(count).to_have_text("4 selected")
    page.get_by_role("checkbox", name="Select Dmytro Savchuk").uncheck()
    expect(count).to_have_text("3 selected")
    expect(page.get_by_role("checkbox", name=re.compile("^Select all"))).not_to_be_checked()
    page.get_by_role("checkbox", name="Select Chrystyna Lys").uncheck()
    expect(count).to_have_text("2 selected")
    page.get_by_label("With the selected").select_option("drop")
    page.get_by_label("Reason (for drops)").fill("Found work")
    shoot(page, screenshot, "confirm-bulk-selected-js")
    page.set_viewport_size({"width": 390, "height": 844})  # the list alone, legible at phone width
    page.locator("#enrollment-results").screenshot(path=str(screenshot(page, "confirm-bulk-selected-js-390")
                                                          .with_name("confirm-bulk-list-js-390.png")))
    page.set_viewport_size({"width": 1280, "height": 800})

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Apply…").click()
    expect(count).to_have_text("2 selected")  # dismissed: still here, nothing posted
    assert questions == ["Drop 2 enrollments? Freed seats go to the waitlist. This cannot be undone."]
    expect(row_of(page, "Anna Berg")).to_contain_text("active")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Apply…").click()
    expect(page.locator(".flash--success")).to_contain_text("2 enrollments dropped. 1 waitlisted participant promoted.")
    expect(row_of(page, "Anna Berg")).to_contain_text("dropped")
    expect(row_of(page, "Dmytro Savchuk")).to_contain_text("active")  # promoted from the waitlist
    assert_no_serious_a11y_violations(page)


def test_campaign_complete_asks_and_a_dismissed_question_changes_nothing(page: Page, sign_in, accounts, world):
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{world['campaign_js']}")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.locator(".page-head .actions").get_by_role("button", name="Complete").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("active")
    assert questions == ["Complete “Acme mentoring (js)”? This cannot be undone."]


def test_without_javascript_every_destructive_button_shows_a_confirmation_page(new_context, sign_in, accounts,
                                                                               screenshot, world):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, accounts.pm.email)
    campaign_url = f"/campaigns/{world['campaign_no_js']}"

    # bulk: the select-all box stands for every row that can change; the page names each
    page.goto(campaign_url)
    page.get_by_role("checkbox", name=re.compile("^Select all")).check()
    page.get_by_label("With the selected").select_option("drop")
    page.get_by_role("button", name="Apply…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drop 4 enrollments?")
    items = page.locator(".confirm__items li")
    expect(items).to_have_text(PEOPLE["no_js"])
    expect(page.locator("main")).to_contain_text("All of them change together, or none does.")
    shoot(page, screenshot, "confirm-bulk-drop-no-js", javascript=False)
    page.get_by_role("link", name="Keep them").click()  # Cancel: back, nothing changed
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme mentoring (no_js)")
    expect(row_of(page, "Iryna Kovalenko")).to_contain_text("active")

    # tick two rows by hand this time, then confirm
    page.get_by_role("checkbox", name="Select Iryna Kovalenko").check()
    page.get_by_role("checkbox", name="Select Kateryna Moroz").check()
    page.get_by_label("With the selected").select_option("drop")
    page.get_by_role("button", name="Apply…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drop 2 enrollments?")
    page.get_by_role("button", name="Drop 2 enrollments").click()
    expect(page.locator(".flash--success")).to_contain_text("2 enrollments dropped. 1 waitlisted participant promoted.")
    expect(row_of(page, "Iryna Kovalenko")).to_contain_text("dropped")

    # one enrollment: drop with a reason, from its page
    page.get_by_role("link", name="Larysa Panchenko", exact=True).click()
    page.get_by_label("Reason").fill("Moved to Bergen")
    page.get_by_role("button", name="Drop").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drop the enrollment of Larysa Panchenko?")
    expect(page.locator("main")).to_contain_text("Moved to Bergen")
    shoot(page, screenshot, "confirm-drop-no-js", javascript=False)
    page.get_by_role("button", name="Drop the enrollment").click()
    expect(page.locator(".flash--success")).to_contain_text("Enrollment dropped.")

    # the campaign: archive asks, Cancel keeps it, Confirm archives
    page.goto(campaign_url)
    page.locator(".page-head .actions").get_by_role("button", name="Archive").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Archive “Acme mentoring (no_js)”?")
    shoot(page, screenshot, "confirm-campaign-archive-no-js", javascript=False)
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("active")
    page.locator(".page-head .actions").get_by_role("button", name="Archive").click()
    page.get_by_role("button", name="Archive the campaign").click()
    expect(page.locator(".flash--success")).to_contain_text("Campaign is now archived.")

    # the program: the page names the campaigns it stops (none left running here)
    page.goto(f"/programs/{world['program_no_js']}")
    page.locator(".page-head .actions").get_by_role("button", name="Archive").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Archive “Mentoring Oslo (no-js)”?")
    page.get_by_role("button", name="Archive the program").click()
    expect(page.locator(".flash--success")).to_contain_text("Program is now archived.")


def test_publishing_without_javascript_names_the_version_it_deprecates(new_context, sign_in, accounts, screenshot,
                                                                       world):
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, accounts.pm.email)
    page.goto(f"/templates/{TEMPLATE_KEY}/v2")
    page.get_by_role("button", name="Publish v2").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish Mentorship (confirmations e2e) v2?")
    main = page.locator("main")
    expect(main).to_contain_text("v1, the active version now, becomes deprecated")
    expect(main).to_contain_text("Programs on v1: 2")
    expect(page.locator(".confirm__items li")).to_have_text(["Mentoring Oslo (js)", "Mentoring Oslo (no-js)"])
    shoot(page, screenshot, "confirm-publish-no-js", javascript=False)
    page.get_by_role("button", name="Publish v2").click()
    expect(page.locator(".flash--success")).to_contain_text("is published and active")
    versions = page.get_by_role("region", name="Versions table")
    expect(versions.get_by_role("row", name=re.compile(r"v1\s+deprecated", re.IGNORECASE))).to_be_visible()
