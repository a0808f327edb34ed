"""The API tokens screen in a real browser: create a token (shown once, never in the list),
use it on the API, revoke it — with JavaScript (htmx asks first) and without (the
confirmation page). axe finds nothing serious; screenshots at 1280 and 390 px."""
from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations
from tests.e2e.conftest import PASSWORD

TOKEN = re.compile(r"^ipp_[A-Za-z0-9_-]{43}$")


def create_token(page: Page, name: str) -> str:
    page.get_by_label("Name").fill(name)
    page.get_by_label(re.compile(r"^read —")).check()
    page.get_by_label("Expires after").select_option(label="30 days")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name=f"Your new token “{name}”")).to_be_visible()
    text = page.get_by_label("Token", exact=True).input_value()
    assert TOKEN.match(text)
    return text


def test_a_token_is_created_seen_once_used_and_revoked(page: Page, sign_in, accounts, screenshot, live_server):
    sign_in(page, accounts.admin.email)
    page.get_by_role("link", name="API tokens").first.click()
    expect(page.get_by_role("heading", level=1, name="API tokens")).to_be_visible()
    assert_no_serious_a11y_violations(page)
    text = create_token(page, "HR report (e2e)")
    assert_no_serious_a11y_violations(page)
    screenshot(page, "tokens-created-1280")
    me = page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"})
    assert me.status == 200 and me.json()["token_name"] == "HR report (e2e)"

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row").filter(has_text="HR report (e2e)")
    expect(row).to_contain_text(text[:12] + "…")
    expect(row).to_contain_text("active")
    assert text not in page.content(), "the token must not be shown again"
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "tokens-list-390")
    page.set_viewport_size({"width": 1280, "height": 800})

    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(row).to_contain_text("active")
    assert questions and "HR report (e2e)" in questions[0]
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.locator(".flash--success")).to_contain_text("is revoked")
    expect(page.get_by_role("row").filter(has_text="HR report (e2e)")).to_contain_text("revoked")
    assert page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status == 401


def test_without_javascript_revoking_asks_on_a_confirmation_page(browser: Browser, base_url, accounts, screenshot):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("E-mail", exact=True).fill(accounts.pm.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/account/tokens/")
    text = create_token(page, "Connector (no-JS e2e)")
    page.goto("/account/tokens/")
    row = page.get_by_role("row").filter(has_text="Connector (no-JS e2e)")
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(page.get_by_role("heading", name="Revoke the token “Connector (no-JS e2e)”?")).to_be_visible()
    screenshot(page, "tokens-revoke-confirm-1280")
    assert page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status == 200
    page.get_by_role("button", name="Revoke the token").click()
    expect(page.get_by_role("row").filter(has_text="Connector (no-JS e2e)")).to_contain_text("revoked")
    assert page.request.get("/api/v1/me", headers={"Authorization": f"Bearer {text}"}).status == 401
    context.close()
