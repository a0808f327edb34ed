"""Issue #13 item 8 in a real browser: a company admin opens a program from its catalog
card (read-only: what the card promises, with dates and the SDGs by name and icon), starts
a campaign from it, and finds "Start a campaign" on its campaign list; a program outside
the catalog is a 404. Screenshots at 1280 and 390 px; nothing scrolls sideways."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

PROGRAM = "Stavanger Language Lunches"
PRIVATE = "Stavanger Private Pilot"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def program_world(live_server):
    import sqlalchemy as sa

    from portal.beneficiaries.operations import create_group
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.models import Program
    from portal.programs.operations import launch_program, transition_program

    with live_server.app.app_context():
        if db.session.scalar(sa.select(Program.id).where(Program.name == PROGRAM)) is None:
            master = load_master("language")
            with transaction():
                template = create_template(None, key="e2e-program-page-language", name="Language (program page)",
                                           category="language", config_schema=master["config_schema"],
                                           default_config=master["default_config"], sdg_goals=[4, 10])
                publish_template(None, template)
                group = create_group(None, name="Newcomers in Stavanger", group_type="newcomers", country="NO",
                                     languages=["uk", "nb"], eligible_categories=["language"],
                                     description="Internal: for the program team only.")
                for name, visibility in ((PROGRAM, "public"), (PRIVATE, "private")):
                    program = launch_program(None, template=template, group=group, name=name, visibility=visibility,
                                             description="Norwegian over lunch with colleagues, every week.",
                                             start_date=date(2026, 3, 1), end_date=date(2026, 12, 31),
                                             extra_sdg_goals=[8])
                    db.session.flush()
                    transition_program(None, program, "active")
        ids = dict(db.session.execute(sa.select(Program.name, Program.id)
                                      .where(Program.name.in_((PROGRAM, PRIVATE)))).all())
        db.session.remove()
    return ids


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width} px wide"


def test_company_admin_reads_a_program_from_its_card_and_starts_a_campaign(page: Page, sign_in, accounts, screenshot,
                                                                           program_world):
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Start a campaign").click()  # the campaign list's start: pick a program
    expect(page.get_by_role("heading", level=1, name="Program catalog")).to_be_visible()
    card = page.get_by_role("article", name=PROGRAM)
    expect(card.get_by_role("list", name="Sustainable Development Goals")).to_contain_text("Quality Education")
    card.get_by_role("link", name=re.compile(rf"About this program\W+{PROGRAM}")).click()

    expect(page.get_by_role("heading", level=1, name=PROGRAM)).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("Norwegian over lunch with colleagues, every week.")
    expect(main).to_contain_text("2026-03-01 to 2026-12-31")
    expect(main).to_contain_text("Newcomers in Stavanger")
    expect(main).to_contain_text("Ukrainian, Norwegian Bokmål")
    goals = page.get_by_role("list", name="Sustainable Development Goals")
    for name in ("Quality Education", "Decent Work and Economic Growth", "Reduced Inequalities"):
        expect(goals).to_contain_text(name)
    expect(goals.locator(".sdg-icon")).to_have_text(["4", "8", "10"])
    expect(main).not_to_contain_text("Internal: for the program team only.")
    assert_no_serious_a11y_violations(page)
    no_sideways_scroll(page)
    screenshot(page, "catalog-program-page-1280")

    page.get_by_role("link", name=f"Start a campaign of {PROGRAM}").first.click()
    expect(page).to_have_url(re.compile(rf"/campaigns/new\?program={program_world[PROGRAM]}$"))
    expect(page.locator("main")).to_contain_text(PROGRAM)


def test_the_program_page_on_a_phone(new_context, sign_in, accounts, screenshot, program_world):
    phone = new_context(**PHONE).new_page()
    sign_in(phone, accounts.admin.email)
    phone.goto("/catalog/")
    phone.get_by_role("link", name=re.compile(rf"About this program\W+{PROGRAM}")).click()
    expect(phone.get_by_role("heading", level=1, name=PROGRAM)).to_be_visible()
    no_sideways_scroll(phone)
    screenshot(phone, "catalog-program-page-390")
    phone.goto("/campaigns/")
    expect(phone.get_by_role("link", name="Start a campaign")).to_be_visible()
    no_sideways_scroll(phone)
    screenshot(phone, "campaigns-list-start-390")
    phone.goto("/catalog/")
    no_sideways_scroll(phone)
    screenshot(phone, "catalog-cards-sdg-names-390")


def test_a_program_outside_the_catalog_is_not_found(page: Page, sign_in, accounts, program_world):
    sign_in(page, accounts.admin.email)
    response = page.goto(f"/catalog/{program_world[PRIVATE]}")
    assert response is not None and response.status == 404
    expect(page.locator("main")).not_to_contain_text(PRIVATE)
