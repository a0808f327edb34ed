"""Quality gate: axe finds no serious or critical violations on any screen, for both roles,
in each of the portal's languages.

A small world (template, group, program, campaign with enrollments, subscription) is
made through the operations on the live server's database; then every screen either
role may open is visited, list pages and their first detail page alike (tests/e2e/screens.py
holds the world and the list of screens, shared with the layout gate)."""
from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.a11y import assert_no_serious_a11y_violations
from tests.e2e.screens import admin_screens, ensure_screens_world, pm_screens


@pytest.fixture(scope="module")
def a11y_world(live_server):
    return ensure_screens_world(live_server)


LANGUAGES = ["en", "nb", "uk"]


def _visit_all(page: Page, paths: list[str], language: str) -> list[str]:
    checked = []
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        assert page.get_attribute("html", "lang") == language, path
        assert_no_serious_a11y_violations(page)
        checked.append(path)
    return checked


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_program_manager_screen_is_accessible(page: Page, sign_in, accounts, a11y_world, language):
    sign_in(page, accounts.pm.email)
    page.set_extra_http_headers({"Accept-Language": language})  # the account follows its browser
    _visit_all(page, pm_screens(page, a11y_world), language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_company_admin_screen_is_accessible(page: Page, sign_in, accounts, a11y_world, language):
    sign_in(page, accounts.admin.email)
    page.set_extra_http_headers({"Accept-Language": language})
    _visit_all(page, admin_screens(page, a11y_world), language)
