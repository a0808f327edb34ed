"""Issue 13, item 2: a failed save shows an error summary (GOV.UK pattern) at the top of the form,
"There is a problem" with each error a link to its field (configuration fields by their dotted
path too), with focus on it and the viewport there, with JavaScript (htmx swap) and without.
Screenshots at 1280 and 390 px.

Item 15 on the group form: a text that looks like a person's name gets a warning at the field
(live with JavaScript, in the page without), and the group still saves."""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def draft(live_server) -> str:
    """A draft template from the Mentorship master: its edit page, whose defaults form is long."""
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.program_templates.operations import create_template

    master = load_master("mentorship")
    with live_server.app.app_context():
        with transaction():
            template = create_template(None, key="error-summary-draft", name="Error summary draft",
                                       category="mentorship", config_schema=master["config_schema"],
                                       default_config=master["default_config"], ui_schema=master.get("ui_schema"))
            url = f"/templates/{template.key}/v{template.version}/edit"
        db.session.remove()
    return url


@pytest.fixture
def no_js(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, java_script_enabled=False, viewport=DESKTOP)
    yield context.new_page()
    context.close()


def summary_in_view(page: Page) -> None:
    """The summary has focus and its top is inside the viewport."""
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    top = summary.evaluate("e => e.getBoundingClientRect().top")
    height = page.evaluate("window.innerHeight")
    assert 0 <= top < height * 0.5, f"the summary is not at the top of the viewport: top {top} of {height}"


def assert_fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways at {width} px: {scroll_width}"


def break_two_defaults(page: Page) -> None:
    page.get_by_label("Default session duration (minutes)").fill("500")
    milestone = page.get_by_role("group", name="Milestone 2")
    milestone.get_by_label("Key").fill("")


def check_defaults_summary(page: Page) -> None:
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    duration = summary.get_by_role("link", name=re.compile(r"Default session duration.*maximum of 180"))
    expect(duration).to_have_attribute("href", "#cfg-session-defaultDurationMinutes")
    key = summary.get_by_role("link", name=re.compile(r"Milestone 2 › Key"))
    expect(key).to_have_attribute("href", "#cfg-progression-milestones-1-key")


def test_long_defaults_form_without_javascript(no_js: Page, sign_in, accounts, draft, screenshot):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(draft)
    break_two_defaults(page)
    page.get_by_role("button", name="Save defaults").click()
    check_defaults_summary(page)
    summary_in_view(page)  # autofocus alone scrolled it into view
    screenshot(page, "error-summary-defaults-nojs-1280")
    # A link jumps to its field (the browser follows the anchor).
    page.locator("[data-error-summary]").get_by_role("link", name=re.compile("Milestone 2 › Key")).click()
    assert page.url.endswith("#cfg-progression-milestones-1-key")
    page.set_viewport_size(PHONE)
    page.goto(draft)
    break_two_defaults(page)
    page.get_by_role("button", name="Save defaults").click()
    summary_in_view(page)
    assert_fits(page, 390)
    page.locator("[data-error-summary]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot(page, "error-summary-defaults-nojs-390")), full_page=False)


def test_long_defaults_form_with_javascript(page: Page, sign_in, accounts, draft, screenshot):
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email)
    page.goto(draft)
    break_two_defaults(page)
    page.get_by_role("button", name="Save defaults").click()  # htmx swaps the form in place
    check_defaults_summary(page)
    summary_in_view(page)
    assert page.url.endswith("/edit")
    # Following a link puts focus in the field itself.
    page.locator("[data-error-summary]").get_by_role("link", name=re.compile("Default session duration")).click()
    expect(page.get_by_label("Default session duration (minutes)")).to_be_focused()
    assert_no_serious_a11y_violations(page)
    page.locator("[data-error-summary]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot(page, "error-summary-defaults-js-1280")), full_page=False)
    page.set_viewport_size(PHONE)
    page.goto(draft)
    break_two_defaults(page)
    page.get_by_role("button", name="Save defaults").click()
    summary_in_view(page)
    assert_fits(page, 390)
    page.screenshot(path=str(screenshot(page, "error-summary-defaults-js-390")), full_page=False)


def test_details_and_schema_forms_summarise_their_own_errors(page: Page, sign_in, accounts, draft):
    sign_in(page, accounts.pm.email)
    page.goto(draft)
    details = page.locator("#details")
    details.get_by_label("Name", exact=True).fill("")
    details.get_by_role("button", name="Save details").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name="Name: Enter a name.")).to_have_attribute("href", "#name")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="Name: Enter a name.").click()
    expect(details.get_by_label("Name", exact=True)).to_be_focused()
    expect(page.locator("[data-error-summary]")).to_have_count(1)  # only the failed form's

    page.goto(draft)
    page.get_by_role("textbox", name=re.compile("^Configuration schema")).fill("{ not json")
    page.get_by_role("button", name="Save schema").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name=re.compile("^Configuration schema"))).to_have_attribute(
        "href", "#config_schema")
    summary_in_view(page)


def test_campaign_configuration_links_its_dotted_paths(page: Page, sign_in, accounts, live_server, screenshot):
    from tests.e2e.screens import ensure_screens_world

    world = ensure_screens_world(live_server)
    sign_in(page, accounts.pm.email)
    page.goto(f"{world.campaign}/config")
    page.locator("[name='cfg.matching.maxAgeDifference']").fill("99")
    page.get_by_role("button", name="Save configuration").click()
    summary = page.locator("[data-error-summary]")
    link = summary.get_by_role("link", name=re.compile("maximum of 50"))
    expect(link).to_have_attribute("href", "#cfg-matching-maxAgeDifference")
    summary_in_view(page)
    link.click()
    expect(page.locator("#cfg-matching-maxAgeDifference")).to_be_focused()


def test_group_form_summary_and_personal_name_warning_without_javascript(no_js: Page, sign_in, accounts, screenshot):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto("/groups/new")
    page.get_by_label("Name", exact=True).fill("Newcomers with Olena K.")
    page.get_by_label("Description").fill("Families supported by Maria Hansen in Oslo Municipality.")
    page.get_by_label("Country").select_option("NO")
    page.get_by_label("Minimum age").fill("200")
    page.get_by_role("button", name="Create group").click()
    summary = page.locator("[data-error-summary]")
    expect(summary.get_by_role("link", name="Minimum age: Ages are between 0 and 120.")).to_have_attribute(
        "href", "#age_min")
    summary_in_view(page)
    # The warnings sit at their fields, with the reason; they are not errors.
    expect(page.locator("#name-slot .field__warning")).to_contain_text("“Olena K.” looks like a person's name")
    expect(page.locator("#description-slot .field__warning")).to_contain_text("“Maria Hansen”")
    expect(summary).not_to_contain_text("Olena")
    screenshot(page, "group-form-summary-and-warning-nojs-1280")
    page.set_viewport_size(PHONE)
    assert_fits(page, 390)
    screenshot(page, "group-form-summary-and-warning-nojs-390")
    # A warning is not a refusal: with the age fixed, the group saves, and the warning follows it.
    page.get_by_label("Minimum age").fill("18")
    page.locator("input[name=eligible_categories][value=buddy]").check()
    page.get_by_role("button", name="Create group").click()
    expect(page.get_by_role("heading", level=1, name=re.compile("Newcomers with Olena K."))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Name: “Olena K.” looks like")
    expect(page.get_by_role("status")).to_contain_text("Description: “Maria Hansen” looks like")


def test_personal_name_warning_appears_as_you_type(page: Page, sign_in, accounts, screenshot):
    sign_in(page, accounts.pm.email)
    page.goto("/groups/new")
    description = page.get_by_label("Description")
    description.fill("Newcomers mentored by Olena K. in Bergen")
    description.blur()
    warning = page.locator("#description-slot .field__warning")
    expect(warning).to_contain_text("“Olena K.” looks like a person's name")
    expect(description).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "group-form-live-name-warning-1280")
    description.fill("Ukrainian refugees supported by the Red Cross in Oslo Municipality")
    description.blur()
    expect(warning).to_have_count(0)
