"""Issue 4 in a real browser: launch a program from the Language template with two
overrides through the wizard, review, create, and start it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

MASTERS = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"


@pytest.fixture(scope="module")
def language_world(live_server):
    """An active Language template and an eligible, active group, made through the operations."""
    import sqlalchemy as sa

    from portal.beneficiaries.models import BeneficiaryGroup
    from portal.beneficiaries.operations import create_group
    from portal.db import db, transaction
    from portal.program_templates.models import ProgramTemplate
    from portal.program_templates.operations import create_template, publish_template

    master = json.loads((MASTERS / "language.json").read_text())
    with live_server.app.app_context():
        if db.session.scalar(sa.select(ProgramTemplate.id).where(ProgramTemplate.key == "e2e-language")) is None:
            with transaction():
                template = create_template(None, key="e2e-language", name="Language Practice (e2e)",
                                           category="language", config_schema=master["config_schema"],
                                           default_config=master["default_config"], ui_schema=master["ui_schema"],
                                           sdg_goals=master["sdg_goals"])
                publish_template(None, template)
                create_group(None, name="Ukrainian newcomers in Trondheim", group_type="refugees", country="NO",
                             city="Trondheim", languages=["uk", "nb"], language_requirement="any",
                             eligible_categories=["language", "mentorship"])
        group_name = db.session.scalar(sa.select(BeneficiaryGroup.name).where(
            BeneficiaryGroup.key == "ukrainian-newcomers-in-trondheim"))
        db.session.remove()
    return {"template": "Language Practice (e2e)", "group": group_name}


def test_program_manager_launches_and_starts_a_program(page: Page, sign_in, accounts, screenshot, language_world):
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Programs").click()
    page.get_by_role("link", name="Launch a program").click()
    page.get_by_role("link", name=f"Choose {language_world['template']}").click()
    expect(page.get_by_role("heading", name="Pick the beneficiary group")).to_be_visible()
    page.get_by_role("link", name=f"Choose {language_world['group']}").click()

    page.get_by_label("Program name").fill("Language in Trondheim 2027")
    page.get_by_label("5 · Gender equality").check()
    duration = page.get_by_label("Default session duration (minutes)")
    expect(duration).to_have_value("45")
    duration.fill("60")
    duration.blur()
    per_week = page.get_by_label("Maximum sessions per week")
    per_week.fill("4")
    per_week.blur()
    screenshot(page, "program-wizard-config")
    page.get_by_role("button", name="Review").click()

    expect(page.get_by_role("heading", name="Review “Language in Trondheim 2027”")).to_be_visible()
    review = page.get_by_role("region", name=re.compile("Review"))
    expect(review.get_by_text("set in program")).to_have_count(2)
    assert_no_serious_a11y_violations(page)
    screenshot(page, "program-wizard-review")
    page.get_by_role("button", name="Create draft program").click()

    expect(page.get_by_role("status")).to_contain_text("created as a draft")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Language in Trondheim 2027")
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("status")).to_contain_text("Program is now active")
    expect(page.get_by_role("heading", level=1)).to_contain_text("active")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "program-detail")
