"""Issue 3 in a real browser: build a template from the Mentorship master, edit nested
and repeatable defaults with live validation, publish, version, compare."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations


def test_program_manager_builds_publishes_and_versions_a_template(page: Page, sign_in, accounts, screenshot):
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates").click()
    expect(page.get_by_role("heading", name="Program templates")).to_be_visible()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Start from").select_option(label="Mentorship master")
    page.get_by_label("Name").fill("Mentorship Nordics")
    page.get_by_label("Category").select_option(label="Mentorship")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name=re.compile(r"Edit Mentorship Nordics\s+v1"))).to_be_visible()

    # A nested field: an out-of-range value shows a live error next to it, without a page load.
    duration = page.get_by_label("Default session duration (minutes)")
    expect(duration).to_have_value("60")
    duration.fill("500")
    duration.blur()
    error_slot = page.locator("#err-cfg-session-defaultDurationMinutes")
    expect(error_slot).to_contain_text("maximum of 180")
    assert page.url.endswith("/edit")  # nothing reloaded
    screenshot(page, "template-edit-live-error")
    duration.fill("90")
    duration.blur()
    expect(error_slot).to_have_text("")

    # A repeatable row: add a fifth milestone.
    milestones = page.get_by_role("group", name="Milestones")
    milestones.get_by_role("button", name=re.compile(r"^Add")).click()
    new_row = milestones.get_by_role("group").last
    expect(new_row.get_by_label("Key")).to_have_value("")
    new_row.get_by_label("Key").fill("mastery")
    new_row.get_by_label("Name").fill("Mastery")
    new_row.get_by_label("Reached after sessions").fill("20")
    expect(page.get_by_label("Default session duration (minutes)")).to_have_value("90")  # kept across the add
    page.get_by_role("button", name="Save defaults").click()
    expect(page.get_by_role("status")).to_contain_text("Defaults saved.")
    expect(page.get_by_label("Default session duration (minutes)")).to_have_value("90")
    expect(page.get_by_role("group", name="Milestones").get_by_role("group")).to_have_count(5)
    assert_no_serious_a11y_violations(page)
    screenshot(page, "template-edit")

    # Publishing asks first: from the edit page, the confirmation page (test_confirmations_e2e.py)
    page.get_by_role("button", name="Publish v1").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Publish Mentorship Nordics v1?")
    page.get_by_role("button", name="Publish v1").click()
    expect(page.get_by_role("status")).to_contain_text("is published and active")
    expect(page.get_by_role("heading", level=1)).to_contain_text("active")
    screenshot(page, "template-detail")

    # Version 2: change the duration again, publish, and compare.
    page.get_by_role("button", name="New version").click()
    expect(page.get_by_role("heading", name=re.compile(r"Edit Mentorship Nordics\s+v2"))).to_be_visible()
    page.get_by_label("Default session duration (minutes)").fill("75")
    page.get_by_role("button", name="Save defaults").click()
    expect(page.get_by_role("status")).to_contain_text("Defaults saved.")
    page.get_by_role("button", name="Publish v2").first.click()
    expect(page.locator("main")).to_contain_text("v1, the active version now, becomes deprecated")
    page.get_by_role("button", name="Publish v2").click()
    expect(page.get_by_role("status")).to_contain_text("is published and active")
    versions = page.get_by_role("region", name="Versions")
    expect(versions.get_by_role("row", name=re.compile(r"v1\s+deprecated", re.IGNORECASE))).to_be_visible()
    page.get_by_role("link", name="Compare versions").click()
    diff = page.get_by_role("table")
    expect(diff.get_by_role("row", name=re.compile(
        r"Sessions › Default session duration \(minutes\)\s+Default changed\s+90\s+75"))).to_be_visible()
    assert_no_serious_a11y_violations(page)
    screenshot(page, "template-compare")


def test_company_admin_has_no_templates(page: Page, sign_in, accounts):
    sign_in(page, accounts.admin.email)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Templates")).to_have_count(0)
    response = page.goto("/templates/")
    assert response is not None and response.status == 403
