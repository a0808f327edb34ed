"""Issue 13, items 3 and 6 in a real browser: a program manager upgrades a program whose
overrides the new version refuses by dropping them on the review itself (with and without
JavaScript); compare, upgrade and the launch review speak in labels; advanced settings are
collapsed; a company admin's campaign configuration has no impact section."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

MASTERS = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"
KEY = "e2e-words-language"
OVERRIDES = {"session": {"defaultDurationMinutes": 60, "maxSessionsPerWeek": 5, "recommendedFrequency": "weekly"}}
PROGRAMS = ("Words upgrade with JavaScript", "Words upgrade without JavaScript")
CAMPAIGN = "Acme – Words language campaign"


@pytest.fixture(scope="module")
def words_world(live_server) -> dict[str, int]:
    """Language v1 with two programs carrying three overrides; v2 locks the session length
    and caps sessions per week at 4 (so two of the overrides no longer fit); a v2 program
    with an Acme campaign. Made through the operations, once."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.models import Campaign
    from portal.campaigns.operations import create_campaign
    from portal.db import db, transaction
    from portal.program_templates.models import ProgramTemplate
    from portal.program_templates.operations import create_template, new_version, publish_template, update_draft
    from portal.programs.models import Program
    from portal.programs.operations import launch_program, transition_program

    master = json.loads((MASTERS / "language.json").read_text())
    with live_server.app.app_context():
        if db.session.scalar(sa.select(ProgramTemplate.id).where(ProgramTemplate.key == KEY)) is None:
            with transaction():
                v1 = create_template(None, key=KEY, name="Language Practice (words)", category="language",
                                     config_schema=master["config_schema"], default_config=master["default_config"],
                                     ui_schema=master["ui_schema"], sdg_goals=master["sdg_goals"])
                publish_template(None, v1)
                group = create_group(None, name="Newcomers in Tromsø (words)", group_type="newcomers", country="NO",
                                     languages=["uk", "nb"], eligible_categories=["language"])
                for name in PROGRAMS:
                    transition_program(None, launch_program(None, template=v1, group=group, name=name,
                                                            config_overrides=OVERRIDES), "active")
                v2, _ = new_version(None, v1)
                schema, defaults = json.loads(json.dumps(v2.config_schema)), json.loads(json.dumps(v2.default_config))
                session = schema["properties"]["session"]["properties"]
                session["defaultDurationMinutes"]["x-locked"] = True
                session["maxSessionsPerWeek"]["maximum"] = 4
                defaults["session"]["maxSessionsPerWeek"] = 4
                update_draft(None, v2, expected_version=None, config_schema=schema, default_config=defaults)
                publish_template(None, v2)
                program = launch_program(None, template=v2, group=group, name="Words campaign program")
                transition_program(None, program, "active")
                acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
                create_campaign(None, program=program, company=acme, name=CAMPAIGN, start_date=date(2026, 1, 1))
        ids = {name: db.session.scalar(sa.select(Program.id).where(Program.name == name)) for name in PROGRAMS}
        ids["campaign"] = db.session.scalar(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN))
        db.session.remove()
    return ids


@pytest.fixture
def no_js(new_context) -> Iterator[Page]:
    yield new_context(java_script_enabled=False).new_page()


def shoot_both(page: Page, screenshot, name: str) -> None:
    """Screenshots at 1280 px and at phone width; the page never scrolls sideways."""
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"{name}-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 900})


def upgrade_by_dropping(page: Page, screenshot, program_name: str, shots: str | None) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Programs").click()
    page.get_by_role("link", name=program_name).first.click()
    page.get_by_role("link", name="Review the upgrade").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Upgrade to")
    changes = page.get_by_role("table", name=re.compile("Changes from v1 to v2"))
    expect(changes.get_by_role("rowheader", name="Sessions › Default session duration (minutes)")).to_be_visible()
    expect(changes).to_contain_text("Not locked")
    expect(changes).not_to_contain_text("session.defaultDurationMinutes")
    drops = page.get_by_role("group", name=re.compile("2 overrides do not fit v2"))
    expect(drops.get_by_role("listitem")).to_have_count(2)
    expect(drops.get_by_role("listitem").nth(0)).to_contain_text("Sessions › Default session duration (minutes): 60 → 45")
    expect(drops.get_by_role("listitem").nth(1)).to_contain_text("Sessions › Maximum sessions per week: 5 → 4")
    expect(drops).not_to_contain_text("Recommended frequency")
    if shots:
        assert_no_serious_a11y_violations(page)
        shoot_both(page, screenshot, shots)
    page.get_by_role("button", name="Drop these overrides and upgrade").click()
    expect(page.get_by_role("status")).to_contain_text("upgraded to")
    expect(page.get_by_role("status")).to_contain_text("2 overrides dropped")
    expect(page.get_by_role("link", name="Review the upgrade")).to_have_count(0)
    config = page.get_by_role("region", name="Effective configuration")
    expect(config.get_by_text("set in program")).to_have_count(1)  # only the frequency is still overridden


def test_upgrade_drops_the_refused_overrides_on_the_review(page: Page, sign_in, accounts, screenshot, words_world):
    sign_in(page, accounts.pm.email)
    upgrade_by_dropping(page, screenshot, PROGRAMS[0], "upgrade-drop-overrides")


def test_upgrade_drops_the_refused_overrides_without_javascript(no_js: Page, sign_in, accounts, screenshot,
                                                                words_world):
    sign_in(no_js, accounts.pm.email)
    upgrade_by_dropping(no_js, screenshot, PROGRAMS[1], None)


def test_compare_speaks_in_labels(page: Page, sign_in, accounts, screenshot, words_world):
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    page.get_by_role("link", name=re.compile("Language Practice \\(words\\)")).first.click()
    page.get_by_role("link", name="Compare versions").click()
    table = page.get_by_role("table", name=re.compile("Changes from v1 to v2"))
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Sessions › Maximum sessions per week"))
    expect(row.filter(has_text="Allowed values changed")).to_contain_text("1–14")
    expect(row.filter(has_text="Default changed")).to_contain_text("5")
    expect(table).not_to_contain_text("maxSessionsPerWeek")
    assert_no_serious_a11y_violations(page)
    shoot_both(page, screenshot, "template-compare-labels")


def test_launch_review_and_advanced_settings(page: Page, sign_in, accounts, screenshot, words_world):
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Launch a program").click()
    page.get_by_role("link", name="Choose Language Practice (words)").click()
    page.get_by_role("link", name="Choose Newcomers in Tromsø (words)").click()
    page.get_by_label("Program name").fill("Words launch review")
    advanced = page.locator("details.cfg-advanced").filter(has=page.locator("summary", has_text="(Impact)"))
    expect(advanced).not_to_have_attribute("open", "")
    decay = page.get_by_label("Monthly decay factor")
    expect(decay).to_be_hidden()  # collapsed until asked for
    advanced.locator("summary").click()
    expect(decay).to_be_visible()
    decay.fill("0.9")
    page.get_by_label("Recommended frequency").select_option(label="Daily")
    shoot_both(page, screenshot, "program-wizard-advanced")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_role("heading", name="Review “Words launch review”")).to_be_visible()
    overridden = page.locator("dd").filter(has=page.locator(".review-overrides"))
    expect(overridden).to_contain_text("Sessions › Recommended frequency: Daily")
    expect(overridden).to_contain_text("Impact › Monthly decay factor: 0.9")
    expect(overridden).not_to_contain_text("{")
    assert_no_serious_a11y_violations(page)
    shoot_both(page, screenshot, "program-wizard-review-labels")


def test_company_admin_campaign_configuration_has_no_impact_section(page: Page, sign_in, accounts, screenshot,
                                                                    words_world):
    sign_in(page, accounts.admin.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name=CAMPAIGN).first.click()
    expect(page.get_by_role("heading", name="Effective configuration")).to_be_visible()
    for word in ("SROI", "VIS multipliers", "Monthly decay factor", "cefr_level_advanced"):
        expect(page.get_by_text(word)).to_have_count(0)
    shoot_both(page, screenshot, "campaign-detail-no-impact")
    page.get_by_role("link", name="Configuration").click()
    expect(page.get_by_label("Default session duration (minutes)")).to_be_visible()
    for word in ("SROI", "VIS multipliers", "Monthly decay factor", "Impact"):
        expect(page.get_by_text(word, exact=True)).to_have_count(0)
    page.get_by_label("Minimum sessions per week").fill("3")
    assert_no_serious_a11y_violations(page)
    shoot_both(page, screenshot, "campaign-config-no-impact")
    page.get_by_role("button", name="Save configuration").click()
    expect(page.get_by_role("status")).to_contain_text("Configuration saved")
