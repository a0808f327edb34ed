"""Sign-in, sign-out, sessions, role-based navigation and the sign-in rate limit, in a
real browser. Locators are roles and labels, as a user (or a screen reader) finds them."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

ADMIN_LINK = "Users & companies"


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def expect_sign_in_page(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/sign-in(\?.*)?$"))
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


def submit_sign_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_page_is_accessible(page: Page, new_context, screenshot) -> None:
    page.goto("/")
    expect_sign_in_page(page)
    expect(page.get_by_label("E-mail", exact=True)).to_be_focused()  # autofocus on the first field
    screenshot(page, "sign-in")
    assert_no_serious_a11y_violations(page)

    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.goto("/sign-in")
    expect_sign_in_page(phone)
    screenshot(phone, "sign-in-phone")
    assert_no_serious_a11y_violations(phone)


def test_program_manager_signs_in_and_sees_admin_navigation(page: Page, sign_in, accounts, new_context,
                                                             screenshot) -> None:
    sign_in(page, accounts.pm.email)
    expect(page).to_have_url(re.compile(r"/home$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Pat")
    expect(main_nav(page).get_by_role("link", name=ADMIN_LINK)).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    screenshot(page, "home-program-manager")
    phone = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    sign_in(phone, accounts.pm.email)
    screenshot(phone, "home-program-manager-phone")
    assert_no_serious_a11y_violations(page)


def test_sign_out_returns_to_the_sign_in_page(page: Page, sign_in, accounts) -> None:
    sign_in(page, accounts.pm.email)
    page.get_by_role("button", name="Sign out").click()
    expect_sign_in_page(page)
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto("/home")
    expect_sign_in_page(page)


def test_wrong_password_shows_an_error_and_stays_on_sign_in(page: Page, accounts) -> None:
    page.goto("/sign-in")
    with page.expect_response(lambda r: r.request.method == "POST" and "/sign-in" in r.url) as answer:
        submit_sign_in(page, accounts.pm.email, "not-the-password")
    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    expect_sign_in_page(page)
    expect(main_nav(page)).to_have_count(0)


def test_old_session_cookie_is_dead_after_sign_out(page: Page, sign_in, accounts, new_context) -> None:
    sign_in(page, accounts.pm.email)
    saved = page.context.cookies()

    # Control: the copied cookie works while the session is alive...
    before = new_context()
    before.add_cookies(saved)
    copy = before.new_page()
    copy.goto("/home")
    expect(copy.get_by_role("heading", level=1)).to_have_text("Welcome, Pat")

    page.get_by_role("button", name="Sign out").click()
    expect_sign_in_page(page)

    # ...and stops working once its owner signed out (the session token rotated).
    after = new_context()
    after.add_cookies(saved)
    replay = after.new_page()
    replay.goto("/home")
    expect_sign_in_page(replay)
    expect(main_nav(replay)).to_have_count(0)


def test_company_admin_sees_no_admin_screens(page: Page, sign_in, accounts, screenshot) -> None:
    sign_in(page, accounts.admin.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ann")
    expect(page.get_by_text(accounts.company_name).first).to_be_visible()
    expect(main_nav(page).get_by_role("link", name="Home")).to_be_visible()
    expect(main_nav(page).get_by_role("link", name=ADMIN_LINK)).to_have_count(0)
    screenshot(page, "home-company-admin")
    assert_no_serious_a11y_violations(page)

    response = page.goto("/admin/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1, name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Your role does not give access to this page.")).to_be_visible()


def test_eleventh_failed_sign_in_within_a_minute_is_refused(page: Page, accounts, live_server) -> None:
    """Only this test makes many failures; it clears the limiter before and after so the
    others (which share the server and the 127.0.0.1 key) are not throttled.

    Flask-Limiter keeps its switch and store on the one process-wide ``limiter``, which the
    last ``create_app`` of this test process configured: an integration test's app built with
    ``RATELIMIT_ENABLED=False`` (or a Redis store) leaves it that way. Configuring it again for
    the live server's app (which adds no second set of hooks) makes this test mean what it says
    whatever ran before it in the same worker."""
    from portal.extensions import limiter

    limiter.init_app(live_server.app)
    limiter.reset()
    try:
        page.goto("/sign-in")
        for attempt in range(1, 11):
            with page.expect_response(lambda r: r.request.method == "POST" and "/sign-in" in r.url) as answer:
                submit_sign_in(page, accounts.pm.email, f"wrong-password-{attempt}")
            assert answer.value.status == 422, f"attempt {attempt} answered {answer.value.status}"
            expect(page.get_by_role("alert")).to_contain_text("do not match")

        with page.expect_response(lambda r: r.request.method == "POST" and "/sign-in" in r.url) as answer:
            submit_sign_in(page, accounts.pm.email, "wrong-password-11")
        assert answer.value.status == 429
        expect(page.get_by_role("heading", level=1, name="Too many attempts")).to_be_visible()
        expect(page.get_by_text("Wait a minute")).to_be_visible()
        assert answer.value.headers.get("retry-after"), "a 429 should say when to retry"
    finally:
        limiter.reset()
