"""The program managers' users & companies screens, in a real browser: create a company
and a company admin (with a validation error on the way), deactivate, reactivate, reset
the password, and check the new admin can sign in only while active."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

NEW_COMPANY = "Nordlys Energi"
NEW_USER_NAME = "Nora Nordmann"
NEW_USER_EMAIL = "nora@nordlys.example"
FIRST_PASSWORD = "nordlys-first-123"
RESET_PASSWORD = "nordlys-second-456"


def flash(page: Page):
    return page.get_by_role("status")


def user_heading(page: Page):
    return page.get_by_role("heading", level=1)


def try_sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_admin_pages_are_accessible(page: Page, sign_in, accounts) -> None:
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users & companies").click()
    expect(page.get_by_role("heading", level=1, name="Users & companies")).to_be_visible()
    assert_no_serious_a11y_violations(page)

    page.get_by_role("link", name=accounts.admin.name).click()
    expect(user_heading(page)).to_contain_text(accounts.admin.name)
    assert_no_serious_a11y_violations(page)

    page.goto("/admin/companies/new")
    expect(page.get_by_role("heading", level=1, name="New company")).to_be_visible()
    assert_no_serious_a11y_violations(page)


def test_program_manager_creates_a_company_and_manages_its_admin(page: Page, sign_in, accounts, new_context,
                                                                  screenshot) -> None:
    sign_in(page, accounts.pm.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Users & companies").click()
    expect(page.get_by_role("heading", level=1, name="Users & companies")).to_be_visible()

    # --- a new company
    page.get_by_role("link", name="New company").click()
    expect(page.get_by_role("heading", level=1, name="New company")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(NEW_COMPANY)
    page.get_by_label("Country", exact=True).select_option(label="Norway")
    page.get_by_role("button", name="Create company").click()

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(flash(page)).to_contain_text(f"Company “{NEW_COMPANY}” created.")
    companies = page.get_by_role("region", name="Companies", exact=True)
    row = companies.get_by_role("row").filter(has_text=NEW_COMPANY)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell", name="Norway", exact=True)).to_be_visible()
    screenshot(page, "admin-index")

    # --- a new company admin; a too-short password first
    page.get_by_role("link", name="New user").click()
    expect(page.get_by_role("heading", level=1, name="New user")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(NEW_USER_NAME)
    page.get_by_label("E-mail", exact=True).fill(NEW_USER_EMAIL)
    page.get_by_label("Role", exact=True).select_option(label="Company admin")
    page.get_by_label("Company", exact=True).select_option(label=NEW_COMPANY)
    password = page.get_by_label("Initial password", exact=True)
    password.fill("short")
    with page.expect_response(lambda r: r.request.method == "POST" and "/admin/users/new" in r.url) as answer:
        page.get_by_role("button", name="Create user").click()
    assert answer.value.status == 422
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile(r"Use at least 10 characters"))
    expect(page.get_by_text("Use at least 10 characters.", exact=True)).to_be_visible()
    # What was typed is kept (apart from the password).
    expect(page.get_by_label("Name", exact=True)).to_have_value(NEW_USER_NAME)
    expect(page.get_by_label("Company", exact=True)).to_have_value(re.compile(r"^\d+$"))
    screenshot(page, "admin-new-user-error")

    password.fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page).to_have_url(re.compile(r"/admin/users/\d+$"))
    expect(flash(page)).to_contain_text(f"User {NEW_USER_EMAIL} created.")
    expect(user_heading(page)).to_have_text(re.compile(rf"^{NEW_USER_NAME}\s+active$"))
    expect(page.get_by_text(f"{NEW_USER_EMAIL} · Company admin · {NEW_COMPANY}")).to_be_visible()
    user_page = page.url

    # --- deactivate: the badge says so, and the account cannot sign in
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Deactivate").click()
    expect(flash(page)).to_contain_text("deactivated")
    assert dialogs == [f"Deactivate {NEW_USER_NAME}? Their open sessions end at once."]
    expect(user_heading(page)).to_have_text(re.compile(rf"^{NEW_USER_NAME}\s+inactive$"))
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()

    outsider = new_context().new_page()
    try_sign_in(outsider, NEW_USER_EMAIL, FIRST_PASSWORD)
    expect(outsider.get_by_role("alert")).to_contain_text("do not match")
    expect(outsider.get_by_role("heading", level=1, name="Sign in")).to_be_visible()

    # --- reactivate
    page.get_by_role("button", name="Reactivate").click()
    expect(flash(page)).to_contain_text("active again")
    expect(user_heading(page)).to_have_text(re.compile(rf"^{NEW_USER_NAME}\s+active$"))

    # --- reset the password: too short first, then a good one
    new_password = page.get_by_label("New password", exact=True)
    new_password.fill("short")
    page.get_by_role("button", name="Reset password").click()
    expect(new_password).to_have_attribute("aria-invalid", "true")
    expect(new_password).to_have_accessible_description(re.compile(r"Use at least 10 characters"))
    new_password.fill(RESET_PASSWORD)
    page.get_by_role("button", name="Reset password").click()
    expect(page).to_have_url(user_page)
    expect(flash(page)).to_contain_text(f"Password reset for {NEW_USER_NAME}.")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Password reset")
    screenshot(page, "admin-user-detail")
    assert_no_serious_a11y_violations(page)

    # --- the new admin signs in with the reset password and lands on their company's home
    newcomer = new_context().new_page()
    sign_in(newcomer, NEW_USER_EMAIL, RESET_PASSWORD)
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Welcome, Nora")
    expect(newcomer.get_by_role("main")).to_contain_text(NEW_COMPANY)
    nav = newcomer.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Users & companies")).to_have_count(0)
