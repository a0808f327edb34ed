"""Usability review items 11 and 12 in a real browser, with and without JavaScript.

11 — the enroll form: the outlook appears once a person is entered; the Enroll buttons follow
it (disabled, with the reason, while it says "Cannot enroll"); without JavaScript a "Check"
button shows the outlook and a refused enroll says why in that one box; "Enroll and add
another" comes straight back to an empty form, and the campaign page's flash offers
"Enroll another".
12 — the import page: a sample file for the viewer's role, an "errors only" view of the dry
run (a link without JavaScript, htmx with it), and an errors file with every column that is
corrected and uploaded again as it is.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations


@pytest.fixture(scope="module")
def scene(live_server) -> dict[str, int]:
    """An active language program for adults (18–70) speaking Ukrainian or English, and two
    of Acme's campaigns of it: one to enroll into by hand, one to import into."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.db import db
    from tests.e2e.conftest import COMPANY_NAME
    from tests.factories import Factory

    make = Factory(live_server.app)
    with live_server.app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == COMPANY_NAME)).one()
        db.session.expunge(acme)
        db.session.remove()
    # Private: the catalog tests count the public language programs in Bergen.
    program = make.program(template=make.template("language"), name="Språkkafé Bergen", visibility="private",
                           group=make.group(name="Newcomers in Bergen", age_min=18, age_max=70,
                                            language_requirement="beginner", languages=["uk", "en"]))
    enroll_into = make.campaign(acme, program, name="Acme – Bergen language café", max_enrollment=20)
    import_into = make.campaign(acme, program, name="Acme – Bergen import run", max_enrollment=20)
    return {"enroll": enroll_into.id, "import": import_into.id}


@pytest.fixture
def no_js(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    yield context.new_page()
    context.close()


def at_390(page: Page, screenshot, name: str) -> None:
    """A screenshot at phone width, and no sideways scrolling of the page itself."""
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, name)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    page.set_viewport_size({"width": 1280, "height": 800})


def enroll_button(page: Page):
    return page.get_by_role("button", name="Enroll", exact=True)


# --- 11. the enroll form ------------------------------------------------------------------
def test_the_enroll_buttons_follow_the_outlook_and_add_another_comes_back_empty(page: Page, sign_in, accounts,
                                                                               screenshot, scene):
    sign_in(page, accounts.pm.email)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/campaigns/{scene['enroll']}/enroll")
    outlook = page.locator("#outlook")
    expect(outlook).to_contain_text("Fill in the participant")
    expect(enroll_button(page)).to_be_enabled()

    page.get_by_label("Name", exact=True).fill("Oksana Melnyk")
    page.get_by_label("Year of birth").fill("2015")
    page.get_by_label("Languages").fill("uk")
    page.get_by_label("Languages").blur()
    expect(outlook).to_contain_text("Cannot enroll")
    expect(outlook).to_contain_text("below the group's minimum")
    expect(enroll_button(page)).to_be_disabled()
    expect(page.get_by_role("button", name="Enroll and add another")).to_be_disabled()
    expect(page.get_by_text("Enrolling is off while the outlook says they cannot join")).to_be_visible()
    expect(page.get_by_role("button", name="Check")).to_have_count(0)  # htmx checks on every change
    assert_no_serious_a11y_violations(page)
    screenshot(page, "enroll-refused-js-1280")
    at_390(page, screenshot, "enroll-refused-js-390")

    page.get_by_label("Year of birth").fill("1991")
    page.get_by_label("Year of birth").blur()
    expect(outlook).to_contain_text("Will be enrolled")
    expect(enroll_button(page)).to_be_enabled()
    expect(page.get_by_text("Enrolling is off")).to_have_count(0)
    page.get_by_role("button", name="Enroll and add another").click()

    # Straight back to an empty form, with what happened and the way back to the campaign.
    expect(page).to_have_url(re.compile(rf"/campaigns/{scene['enroll']}/enroll\?role=beneficiary$"))
    flash = page.locator(".flash--success")
    expect(flash).to_contain_text("Oksana Melnyk is enrolled.")
    expect(flash.get_by_role("link", name="Back to the campaign")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("")
    expect(outlook).to_contain_text("Fill in the participant")
    screenshot(page, "enroll-added-another-js-1280")
    at_390(page, screenshot, "enroll-added-another-js-390")

    page.get_by_label("Role").select_option("volunteer")
    page.get_by_label("Name", exact=True).fill("Ingrid Berg")
    page.get_by_label("E-mail", exact=True).fill("ingrid.berg@e2e.example")
    page.get_by_label("E-mail", exact=True).blur()
    expect(outlook).to_contain_text("Volunteers are not capped")
    enroll_button(page).click()

    # The campaign page, whose flash offers the next one (as a volunteer again).
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme – Bergen language café")
    flash = page.locator(".flash--success")
    expect(flash).to_contain_text("Ingrid Berg is enrolled.")
    screenshot(page, "enroll-another-flash-js-1280")
    at_390(page, screenshot, "enroll-another-flash-js-390")
    flash.get_by_role("link", name="Enroll another").click()
    expect(page.get_by_role("heading", level=1, name="Enroll a participant")).to_be_visible()
    expect(page.get_by_label("Role")).to_have_value("volunteer")


def test_without_javascript_one_outlook_box_a_check_button_and_a_refusal_in_it(no_js: Page, sign_in, accounts,
                                                                              screenshot, scene):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/campaigns/{scene['enroll']}/enroll")
    # (Playwright's text matching skips <noscript>; the browser's innerText shows what a person reads.)
    expect(page.locator("#outlook")).to_contain_text("Fill in the participant and press Check", use_inner_text=True)
    page.get_by_label("Name", exact=True).fill("Taras Bondarenko")
    page.get_by_label("Year of birth").fill("1988")
    page.get_by_label("Languages").fill("ar")
    page.get_by_role("button", name="Check").click()

    outlook = page.locator("#outlook")
    expect(outlook).to_contain_text("Cannot enroll")
    expect(outlook).to_contain_text("No shared working language")
    expect(page.locator(".outlook")).to_have_count(1)
    expect(page.locator(".alert--error")).to_have_count(0)
    expect(enroll_button(page)).to_be_disabled()
    expect(page.locator("#enroll-blocked")).to_contain_text("change the details above and press Check",
                                                            use_inner_text=True)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Taras Bondarenko")
    screenshot(page, "enroll-refused-nojs-1280")
    at_390(page, screenshot, "enroll-refused-nojs-390")

    page.get_by_label("Languages").fill("uk, en")
    page.keyboard.press("Enter")  # Enter checks (the first button), it never saves by surprise
    expect(outlook).to_contain_text("Will be enrolled")
    expect(enroll_button(page)).to_be_enabled()
    enroll_button(page).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme – Bergen language café")
    expect(page.locator(".flash--success")).to_contain_text("Taras Bondarenko is enrolled. Enroll another")

    # Enroll pressed without checking first: refused, and the reason is in the one box.
    page.locator(".flash--success").get_by_role("link", name="Enroll another").click()
    page.get_by_label("Name", exact=True).fill("Amal Haddad")
    page.get_by_label("Languages").fill("ar")
    enroll_button(page).click()
    expect(page.locator("#outlook")).to_contain_text("Cannot enroll")
    expect(page.locator("#outlook")).to_contain_text("No shared working language")
    expect(page.locator(".outlook")).to_have_count(1)
    expect(page.locator(".alert--error")).to_have_count(0)
    expect(page.get_by_text("No shared working language")).to_have_count(1)
    screenshot(page, "enroll-refused-after-submit-nojs-1280")


def test_a_company_admin_enters_several_volunteers_in_a_row(page: Page, sign_in, accounts, scene):
    sign_in(page, accounts.admin.email)
    page.goto(f"/campaigns/{scene['enroll']}/enroll")
    for name, email in (("Kari Nordmann", "kari.n@acme.example"), ("Lars Hansen", "lars.h@acme.example")):
        page.get_by_label("Name", exact=True).fill(name)
        page.get_by_label("E-mail", exact=True).fill(email)
        page.get_by_label("E-mail", exact=True).blur()
        expect(page.locator("#outlook")).to_contain_text("Will be enrolled")
        page.get_by_role("button", name="Enroll and add another").click()
        expect(page.locator(".flash--success")).to_contain_text(f"{name} is enrolled.")
        expect(page.get_by_label("Role")).to_have_value("volunteer")
    page.locator(".flash--success").get_by_role("link", name="Back to the campaign").click()
    for name in ("Kari Nordmann", "Lars Hansen"):
        expect(page.get_by_role("link", name=name)).to_be_visible()


# --- 12. the import page --------------------------------------------------------------------
def download(page: Page, link_name: str, tmp_path: Path) -> list[list[str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def upload(page: Page, path: Path) -> None:
    page.get_by_label(re.compile("CSV file")).set_input_files(str(path))
    page.get_by_role("button", name=re.compile("dry run", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name=re.compile(f"Dry run of {re.escape(path.name)}"))).to_be_visible()


ROWS_WITH_TWO_ERRORS = ("languages,display_name,email,year_of_birth,metadata.cohort\n"
                        "uk,Halyna Shevchenko,halyna.s@e2e.example,1980,spring\n"
                        "en,Dmytro Lysenko,not-an-address,1985,spring\n"
                        "uk;en,Petro Kovalenko,petro.k@e2e.example,1979,autumn\n"
                        "uk,Sofiia Melnyk,sofiia.m@e2e.example,2016,autumn\n"
                        "en,Mariia Bondar,mariia.b@e2e.example,1990,autumn\n")


def body_rows(page: Page):
    return page.locator("#import table tbody tr")


def test_sample_file_errors_only_and_the_errors_file_uploaded_again(page: Page, sign_in, accounts, screenshot,
                                                                     scene, tmp_path, browser, base_url):
    sign_in(page, accounts.pm.email)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/campaigns/{scene['import']}/import")
    sample = download(page, "Download a sample file", tmp_path)
    assert sample[0][:4] == ["email", "external_ref", "display_name", "role"]
    assert sorted({row[3] for row in sample[1:]}) == ["beneficiary", "volunteer"]
    screenshot(page, "import-upload-js-1280")
    at_390(page, screenshot, "import-upload-js-390")

    people = tmp_path / "bergen-intake.csv"
    people.write_text(ROWS_WITH_TWO_ERRORS)
    upload(page, people)
    expect(body_rows(page)).to_have_count(5)
    page.get_by_role("link", name="Errors only (2)").click()
    expect(body_rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/import/[A-Za-z0-9_-]{43}/\?show=errors$"))  # a link to this view
    expect(page.get_by_role("link", name="Errors only (2)")).to_have_attribute("aria-current", "page")
    expect(page.locator(".stat").filter(has_text="will enroll")).to_contain_text("3")  # counts unchanged
    assert_no_serious_a11y_violations(page)
    screenshot(page, "import-errors-only-js-1280")
    at_390(page, screenshot, "import-errors-only-js-390")
    page.get_by_role("link", name="All rows (5)").click()
    expect(body_rows(page)).to_have_count(5)

    # The errors file: row, reason, then every column as uploaded. Correct it and upload it as it is.
    errors = download(page, "Download errors as CSV", tmp_path)
    assert errors[0] == ["row", "reason", "languages", "display_name", "email", "year_of_birth", "metadata.cohort"]
    assert [(r[0], r[3]) for r in errors[1:]] == [("3", "Dmytro Lysenko"), ("5", "Sofiia Melnyk")]
    errors[1][4], errors[2][5] = "dmytro.l@e2e.example", "1996"
    fixed = tmp_path / "bergen-intake-fixed.csv"
    with fixed.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(errors)
    upload(page, fixed)
    expect(body_rows(page)).to_have_count(2)
    expect(page.get_by_role("link", name=re.compile("Errors only"))).to_have_count(0)
    page.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme – Bergen import run")
    expect(page.get_by_role("link", name="Dmytro Lysenko")).to_be_visible()

    # A company admin's sample lists its employees as volunteers, nothing else.
    admin = browser.new_context(base_url=base_url).new_page()
    sign_in(admin, accounts.admin.email)
    admin.goto(f"/campaigns/{scene['import']}/import")
    sample = download(admin, "Download a sample file", tmp_path)
    assert {row[3] for row in sample[1:]} == {"volunteer"}
    admin.context.close()


def test_errors_only_without_javascript_is_a_plain_link(no_js: Page, sign_in, accounts, screenshot, scene, tmp_path):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/campaigns/{scene['import']}/import")
    people = tmp_path / "second-intake.csv"
    people.write_text(ROWS_WITH_TWO_ERRORS.replace("@e2e.example", "@e2e-second.example"))
    upload(page, people)
    expect(body_rows(page)).to_have_count(5)
    page.get_by_role("link", name="Errors only (2)").click()
    expect(page).to_have_url(re.compile(r"\?show=errors$"))
    expect(body_rows(page)).to_have_count(2)
    expect(page.get_by_text("Showing the 2 rows with errors only")).to_be_visible()
    screenshot(page, "import-errors-only-nojs-1280")
    at_390(page, screenshot, "import-errors-only-nojs-390")
    page.get_by_role("link", name="All rows (5)").click()
    expect(body_rows(page)).to_have_count(5)
