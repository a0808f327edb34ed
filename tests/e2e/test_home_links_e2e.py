"""Issue #13 items 7 and 8 in a real browser: every home figure and row leads somewhere,
and the activity log and timelines say in sentences what happened ("Ann Admin raised the
cap of … from 4 to 5"), with the object linked and the changed fields old → new. A company
admin reads its beneficiaries only as pseudonyms. Screenshots at 1280 and 390 px."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations
from tests.e2e.conftest import ADMIN_EMAIL, COMPANY_NAME

CAMPAIGN = "Acme Sentences Café"
PEOPLE = [("Oksana Sentence", "oksana.sentence@example.org"), ("Taras Sentence", "taras.sentence@example.org"),
          ("Iryna Sentence", "iryna.sentence@example.org"), ("Petro Sentence", "petro.sentence@example.org")]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def home_world(live_server):
    """Acme's active campaign, four beneficiaries in its four seats (enrolled by the program
    team), then the company admin raises the cap to five: 80 % full, on the home page."""
    import sqlalchemy as sa

    from portal.auth.models import Company, User
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.models import Campaign
    from portal.campaigns.operations import create_campaign, transition_campaign, update_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    with live_server.app.app_context():
        if db.session.scalar(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN)) is None:
            master = load_master("buddy")
            acme = db.session.scalars(sa.select(Company).where(Company.name == COMPANY_NAME)).one()
            admin = db.session.scalars(sa.select(User).where(User.email == ADMIN_EMAIL)).one()
            with transaction():
                template = create_template(None, key="e2e-sentences-buddy", name="Buddy (sentences)",
                                           category="buddy", config_schema=master["config_schema"],
                                           default_config=master["default_config"])
                publish_template(None, template)
                group = create_group(None, name="Newcomers in Haugesund", group_type="newcomers", country="NO",
                                     languages=["uk", "en"], eligible_categories=["buddy"])
                program = launch_program(None, template=template, group=group, name="Buddy Haugesund")
                transition_program(None, program, "active")
                campaign = create_campaign(admin, program=program, company=acme, name=CAMPAIGN,
                                           start_date=date(2026, 1, 1), max_enrollment=4)
                transition_campaign(admin, campaign, "active")
                for name, email in PEOPLE:
                    person = create_participant(None, display_name=name, email=email, languages=["uk"])
                    db.session.flush()
                    enroll_participant(None, campaign.id, person)
            with transaction():
                update_campaign(admin, db.session.get(Campaign, campaign.id), expected_version=None, max_enrollment=5)
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN))
        db.session.remove()
    return {"campaign_id": campaign_id}


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def figure(page: Page, label: str):
    return page.get_by_role("region", name="Key figures").get_by_role("link", name=re.compile(label))


def test_company_admin_follows_every_home_figure_and_reads_the_log(page: Page, sign_in, accounts, screenshot,
                                                                   home_world):
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.admin.email)
    screenshot(page, "home-links-company-admin-1280")
    assert_no_serious_a11y_violations(page)

    figure(page, "Active campaigns").click()
    expect(page).to_have_url(re.compile(r"/campaigns/\?status=active$"))
    expect(page.get_by_role("link", name=CAMPAIGN)).to_be_visible()
    page.go_back()

    figure(page, "Enrollments this month").click()
    expect(page).to_have_url(re.compile(r"/activity/\?type=program\.enrollment&since=\d{4}-\d{2}-01$"))
    results = page.locator("#activity-results")
    expect(results).to_contain_text(re.compile(rf"The system enrolled participant \S+ in {CAMPAIGN}"))
    for name, email in PEOPLE:  # a sponsor never reads who its beneficiaries are
        expect(results).not_to_contain_text(name)
        expect(results).not_to_contain_text(email)
    expect(page.locator("main a[href*='/participants/']")).to_have_count(0)
    page.go_back()

    figure(page, "80 % capacity").click()
    expect(page.get_by_role("heading", name="Campaigns near capacity")).to_be_in_viewport()
    near = page.get_by_role("region", name="Campaigns near capacity")
    near.get_by_role("link", name=CAMPAIGN).click()
    expect(page.get_by_role("heading", level=1, name=re.compile(CAMPAIGN))).to_be_visible()
    page.go_back()

    page.get_by_role("link", name="All activity").click()
    sentence = page.locator("#activity-results tr", has_text="raised the cap")
    expect(sentence).to_contain_text(f"Ann Admin raised the cap of {CAMPAIGN} from 4 to 5")
    expect(sentence.get_by_role("list", name="What changed")).to_contain_text("Cap: 4 → 5")
    expect(page.locator("#activity-results")).not_to_contain_text("program.campaign.updated")
    expect(page.locator("#activity-results")).to_contain_text(f"{CAMPAIGN} reached its cap of 4")
    no_sideways_scroll(page)
    assert_no_serious_a11y_violations(page)
    screenshot(page, "activity-sentences-company-admin-1280")
    sentence.get_by_role("link", name=CAMPAIGN).click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{home_world['campaign_id']}$"))
    # the campaign's own timeline tells the same story
    expect(page.locator("main")).to_contain_text(f"Ann Admin raised the cap of {CAMPAIGN} from 4 to 5")


def test_program_manager_reads_names_and_opens_the_person(page: Page, sign_in, accounts, screenshot, home_world):
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)
    figure(page, "Active programs").click()
    expect(page).to_have_url(re.compile(r"/programs/\?status=active$"))
    page.go_back()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()
    page.wait_for_load_state()  # htmx binds the filters once the page has loaded
    page.get_by_label("Kind of change").select_option(label="Enrollment")
    expect(page).to_have_url(re.compile(r"type=program\.enrollment"))
    row = page.locator("#activity-results tr", has_text="enrolled Oksana Sentence")
    expect(row).to_contain_text(f"The system enrolled Oksana Sentence in {CAMPAIGN}")
    screenshot(page, "activity-sentences-pm-1280")
    row.get_by_role("link", name="Oksana Sentence").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Oksana Sentence"))).to_be_visible()


def test_home_and_log_on_a_phone(new_context, sign_in, accounts, screenshot, home_world):
    phone = new_context(**PHONE).new_page()
    sign_in(phone, accounts.admin.email)
    no_sideways_scroll(phone)
    screenshot(phone, "home-links-company-admin-390")
    phone.goto("/activity/")
    expect(phone.locator("#activity-results")).to_contain_text("raised the cap")
    no_sideways_scroll(phone)
    screenshot(phone, "activity-sentences-company-admin-390")
    pm = new_context(**PHONE).new_page()
    sign_in(pm, accounts.pm.email)
    no_sideways_scroll(pm)
    screenshot(pm, "home-links-pm-390")
