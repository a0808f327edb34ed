"""The catalog in a real browser: a company admin narrows the active public programs by
category, country and a search word (in place, with HTMX), the address bar keeps the
filters, "Start a campaign" opens the start page for that program; the same filters work
without JavaScript; axe finds nothing serious; desktop and phone screenshots."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations
from tests.e2e.conftest import COMPANY_NAME

MASTERS = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}

TARGET = "Bergen Language Café"
SAME_COUNTRY_OTHER_CATEGORY = "Bergen Career Mentors"
SAME_CATEGORY_OTHER_COUNTRY = "Berlin Language Tandem"
SAME_FILTERS_OTHER_WORD = "Tromsø Conversation Circle"
PRIVATE = "Bergen Private Pilot"


@pytest.fixture(scope="module")
def catalog_world(live_server):
    """Two active templates, two groups, five programs (one private), through the operations."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.operations import create_campaign
    from portal.db import db, transaction
    from portal.program_templates.models import ProgramTemplate
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.models import Program
    from portal.programs.operations import launch_program, transition_program

    def template(master_name: str, key: str) -> ProgramTemplate:
        master = json.loads((MASTERS / f"{master_name}.json").read_text())
        made = create_template(None, key=key, name=f"{master['name']} (catalog e2e)", category=master["category"],
                               config_schema=master["config_schema"], default_config=master["default_config"],
                               ui_schema=master.get("ui_schema"), sdg_goals=master["sdg_goals"])
        return publish_template(None, made)

    with live_server.app.app_context():
        if db.session.scalar(sa.select(Program.id).where(Program.name == TARGET)) is None:
            with transaction():
                language = template("language", "e2e-catalog-language")
                mentorship = template("mentorship", "e2e-catalog-mentorship")
                norway = create_group(None, name="Ukrainian newcomers in Western Norway", group_type="refugees",
                                      country="NO", languages=["uk", "nb"], eligible_categories=["language", "mentorship"],
                                      description="Internal note for program managers only.")
                germany = create_group(None, name="Arabic-speaking families in Berlin", group_type="migrants",
                                       country="DE", languages=["ar", "de"], eligible_categories=["language"])
                db.session.flush()
                for name, tmpl, group, visibility, description in [
                    (TARGET, language, norway, "public", "Weekly Norwegian conversation in Bergen's libraries."),
                    (SAME_COUNTRY_OTHER_CATEGORY, mentorship, norway, "public", "Engineers mentor newcomers in Bergen."),
                    (SAME_CATEGORY_OTHER_COUNTRY, language, germany, "public", "German practice in pairs."),
                    (SAME_FILTERS_OTHER_WORD, language, norway, "public", "Evening conversation circles up north."),
                    (PRIVATE, language, norway, "private", "Not for the catalog."),
                ]:
                    program = launch_program(None, template=tmpl, group=group, name=name, description=description,
                                             visibility=visibility)
                    db.session.flush()
                    transition_program(None, program, "active")
                    if name == SAME_COUNTRY_OTHER_CATEGORY:  # Acme already runs one: "Your company: 1 campaign"
                        acme = db.session.scalars(sa.select(Company).where(Company.name == COMPANY_NAME)).one()
                        create_campaign(None, program=program, company=acme, name="Acme mentors 2026",
                                        start_date=date(2026, 1, 1))
        program_id = db.session.scalar(sa.select(Program.id).where(Program.name == TARGET))
        db.session.remove()
    return {"target_id": program_id}


def card_headings(page: Page):
    return page.locator("#catalog-results").get_by_role("heading", level=2)


def open_catalog(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    expect(page.get_by_role("heading", level=1, name="Program catalog")).to_be_visible()
    page.wait_for_load_state()  # htmx binds the filters once the page has loaded


def test_company_admin_filters_searches_and_starts_a_campaign(page: Page, sign_in, accounts, screenshot,
                                                             catalog_world) -> None:
    sign_in(page, accounts.admin.email)
    open_catalog(page)
    expect(card_headings(page).filter(has_text=TARGET)).to_have_count(1)
    expect(page.get_by_text(PRIVATE)).to_have_count(0)
    expect(page.get_by_role("article", name=SAME_COUNTRY_OTHER_CATEGORY)).to_contain_text("Your company: 1 campaign")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "catalog-desktop")

    page.get_by_label("Category", exact=True).select_option(label="Language")
    expect(page).to_have_url(re.compile(r"category=language"))
    expect(card_headings(page).filter(has_text=SAME_COUNTRY_OTHER_CATEGORY)).to_have_count(0)

    page.get_by_label("Country", exact=True).select_option(label="Norway")
    expect(page).to_have_url(re.compile(r"country=NO"))
    expect(card_headings(page).filter(has_text=SAME_CATEGORY_OTHER_COUNTRY)).to_have_count(0)
    expect(card_headings(page).filter(has_text=SAME_FILTERS_OTHER_WORD)).to_have_count(1)

    page.get_by_role("searchbox", name="Search").press_sequentially("bergen", delay=30)
    expect(page).to_have_url(re.compile(r"q=bergen"))
    expect(card_headings(page)).to_have_count(1)
    expect(card_headings(page)).to_have_text(TARGET)
    url = page.url
    assert "category=language" in url and "country=NO" in url and "q=bergen" in url
    assert "group_type=" not in url  # only the filters in use
    card = page.get_by_role("article", name=TARGET)
    expect(card).to_contain_text("Ukrainian newcomers in Western Norway")
    expect(card).to_contain_text("Ukrainian, Norwegian Bokmål")
    expect(card).to_contain_text("fewer than 10 beneficiaries")
    expect(card).not_to_contain_text("Internal note")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "catalog-filtered-desktop")

    # The URL is shareable: loaded afresh it shows the same selection and the same result.
    page.goto(url)
    expect(page.get_by_label("Category", exact=True)).to_have_value("language")
    expect(page.get_by_label("Country", exact=True)).to_have_value("NO")
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("bergen")
    expect(card_headings(page)).to_have_text([TARGET])

    page.get_by_role("link", name=f"Start a campaign of {TARGET}").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/new\?program={catalog_world['target_id']}$"))
    expect(page.locator("main")).to_contain_text(TARGET)


def test_catalog_on_a_phone(new_context, sign_in, accounts, screenshot, catalog_world) -> None:
    phone = new_context(**PHONE).new_page()
    sign_in(phone, accounts.admin.email)
    phone.goto("/catalog/")
    expect(card_headings(phone).filter(has_text=TARGET)).to_have_count(1)
    assert_no_serious_a11y_violations(phone)
    no_overflow = phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow, "the catalog scrolls sideways on a phone"
    screenshot(phone, "catalog-phone")


def test_filters_work_without_javascript(new_context, sign_in, accounts, screenshot, catalog_world) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, accounts.pm.email)
    page.goto("/catalog/")
    page.get_by_label("Category", exact=True).select_option(label="Language")
    page.get_by_label("Country", exact=True).select_option(label="Germany")
    screenshot(page, "catalog-no-javascript")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"category=language.*country=DE|country=DE.*category=language"))
    expect(card_headings(page).filter(has_text=SAME_CATEGORY_OTHER_COUNTRY)).to_have_count(1)
    expect(card_headings(page).filter(has_text=TARGET)).to_have_count(0)
