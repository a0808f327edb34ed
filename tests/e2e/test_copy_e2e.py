"""Words for people, in a real browser (issue #13, item 14): plural forms, the WEEI category
explained, the languages in use first in the groups' language filter, and no engineering
talk on the participants search. Screenshots at 1280 and 390 px."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

CAMPAIGN = "Acme – Women into work (copy e2e)"


@pytest.fixture(scope="module")
def copy_world(live_server) -> dict[str, object]:
    """A WEEI template and program, a group working in Ukrainian and Norwegian Bokmål, and a
    campaign with one seat taken and one person on its waitlist."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.models import Campaign
    from portal.campaigns.operations import create_campaign, transition_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    with live_server.app.app_context():
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN))
        if campaign_id is None:
            with transaction():
                acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
                master = load_master("mentorship")
                template = create_template(None, key="copy-e2e-weei", name="Women into work (copy e2e)",
                                           category="weei", config_schema=master["config_schema"],
                                           default_config=master["default_config"])
                publish_template(None, template)
                group = create_group(None, name="Women in Drammen (copy e2e)", group_type="women_in_tech",
                                     country="NO", languages=["uk", "nb"], eligible_categories=["weei"])
                program = launch_program(None, template=template, group=group, visibility="public",
                                         name="Women into work Drammen (copy e2e)")
                transition_program(None, program, "active")
                campaign = create_campaign(None, program=program, company=acme, name=CAMPAIGN,
                                           start_date=date(date.today().year, 1, 1), max_enrollment=1,
                                           waitlist_enabled=True)
                transition_campaign(None, campaign, "active")
                db.session.flush()
                for name in ("Olha Marchenko", "Sofiia Hrytsenko"):
                    person = create_participant(None, display_name=name, year_of_birth=1990, languages=["uk"])
                    db.session.flush()
                    enroll_participant(None, campaign.id, person)
                campaign_id = campaign.id
        db.session.remove()
    return {"campaign": campaign_id}


def shoot(page: Page, screenshot, name: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} scrolls sideways at 390 px: {width}"
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 800})


def test_the_language_filter_lists_the_languages_in_use_first(page: Page, sign_in, accounts, screenshot,
                                                              copy_world):
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Beneficiary groups").click()
    language = page.locator("select[name=language]")  # the header's language switch is labelled "Language…" too
    in_use = language.locator("optgroup[label='In use'] option")
    expect(in_use.first).to_be_attached()
    names = in_use.all_inner_texts()
    assert "Ukrainian" in names and "Norwegian Bokmål" in names and len(names) < 20
    assert names == sorted(names)
    others = language.locator("optgroup[label='Other languages'] option").all_inner_texts()
    # Other tests on the shared live server add groups (German, say): what is in use varies, the split doesn't.
    assert "Zulu" in others and "Ukrainian" not in others and not set(others) & set(names) and len(others) > 100
    language.select_option(label="Norwegian Bokmål")
    expect(page.get_by_role("link", name="Women in Drammen (copy e2e)")).to_be_visible()
    expect(page).to_have_url(re.compile(r"language=nb"))
    shoot(page, screenshot, "copy-groups-language-filter")


def test_the_weei_category_says_what_it_is(page: Page, sign_in, accounts, screenshot, copy_world):
    sign_in(page, accounts.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    badge = page.locator(".program-card__category--weei").first
    expect(badge).to_have_text("Women’s economic empowerment (WEEI)")
    expect(badge).to_have_attribute("title", re.compile(r"^WEEI: women’s economic empowerment and inclusion"))
    shoot(page, screenshot, "copy-catalog-weei")


def test_plural_forms_and_no_engineering_talk(page: Page, sign_in, accounts, screenshot, copy_world):
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{copy_world['campaign']}/edit")
    main = page.locator("main")
    expect(main).to_contain_text("Seats taken: 1; on the waitlist: 1 person.")
    expect(main).not_to_contain_text("1 people")
    shoot(page, screenshot, "copy-campaign-edit")

    page.goto(f"/campaigns/{copy_world['campaign']}")
    expect(page.get_by_text("1 of 1 seat used")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    page.wait_for_url("**/participants/")
    page.wait_for_load_state()  # htmx binds the search box once the page has loaded
    page.get_by_label("Search", exact=True).fill("Olha")
    expect(page.get_by_text("1 match for “Olha”")).to_be_visible()
    text = page.locator("main").inner_text()
    assert "million" not in text and "instant" not in text
    shoot(page, screenshot, "copy-participants-search")
