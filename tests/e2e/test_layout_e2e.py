"""Layout gate, for both roles: no screen is wider than a 390 px phone (wide tables scroll
inside their own box), the main navigation is one row at 1280 px and a menu button on a
phone that opens and closes without JavaScript, and chart labels are legible (≥ 12 px on
screen) and inside their chart. Screens come from tests/e2e/screens.py, shared with the
accessibility gate; screenshots of the main ones land in screenshots/layout-*."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.screens import PHONE, STICKING_OUT, admin_screens, ensure_screens_world, pm_screens

DESKTOP = {"width": 1280, "height": 800}
MIN_LABEL_PX = 12

# The screens worth a picture at both widths (the rest are checked, not photographed).
MAIN_SCREENS = re.compile(r"^/(home|catalog/|admin/|templates/a11y-buddy|(programs|campaigns|l2i)/\d+)$")

CHART_GEOMETRY = """svg => {
  const box = svg.getBoundingClientRect();
  const label = t => { const r = t.getBoundingClientRect();
    return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
            left: r.left, right: r.right}; };
  return {left: box.left, right: box.right,
          x: [...svg.querySelectorAll('.chart__label--x')].map(label),
          y: [...svg.querySelectorAll('.chart__label--y')].map(label)};
}"""


@pytest.fixture(scope="module")
def screens_world(live_server):
    return ensure_screens_world(live_server)


def _screens(page: Page, role: str, world) -> list[str]:
    return pm_screens(page, world) if role == "pm" else admin_screens(page, world)


def _shot_name(role: str, path: str, width: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"(?<=/)\d+(?=/|$)", "detail", path.strip("/"))) or "root"
    return f"layout-{role}-{slug}-{width}"


@pytest.mark.parametrize("language", ["en", "nb", "uk"])  # Norwegian and Ukrainian words run longer
@pytest.mark.parametrize("role", ["pm", "admin"])
def test_no_screen_is_wider_than_a_phone(page: Page, sign_in, accounts, screens_world, screenshot, role, language):
    page.set_viewport_size(PHONE)
    sign_in(page, accounts.pm.email if role == "pm" else accounts.admin.email)
    page.set_extra_http_headers({"Accept-Language": language})  # the account follows its browser
    too_wide = []
    for path in _screens(page, role, screens_world):
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide.append(f"{path} is {width} px wide: {', '.join(page.evaluate(STICKING_OUT)) or '?'}")
        assert page.get_attribute("html", "lang") == language, path
        if MAIN_SCREENS.match(path):
            screenshot(page, _shot_name(role, path, PHONE["width"]) + ("" if language == "en" else f"-{language}"))
    assert not too_wide, "wider than a 390 px phone:\n" + "\n".join(too_wide)


@pytest.mark.parametrize("language", ["en", "nb", "uk"])
@pytest.mark.parametrize("role", ["pm", "admin"])
def test_navigation_is_one_row_on_a_desktop(page: Page, sign_in, accounts, screens_world, screenshot, role, language):
    page.set_viewport_size(DESKTOP)
    sign_in(page, accounts.pm.email if role == "pm" else accounts.admin.email)
    page.set_extra_http_headers({"Accept-Language": language})
    for path in [p for p in _screens(page, role, screens_world) if MAIN_SCREENS.match(p)]:
        page.goto(path)
        assert page.get_attribute("html", "lang") == language, path
        expect(page.locator("summary.site-menu__button")).to_be_hidden()
        links = page.locator("nav.main-nav").get_by_role("link")  # its name is in the page's language
        expect(links.first).to_be_visible()
        boxes = [link.bounding_box() for link in links.all()]
        assert all(b is not None for b in boxes), f"{path}: a navigation link is hidden"
        assert len({round(b["y"]) for b in boxes}) == 1, f"{path}: the navigation wraps onto several rows"
        assert max(b["x"] + b["width"] for b in boxes) <= DESKTOP["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
        screenshot(page, _shot_name(role, path, DESKTOP["width"]) + ("" if language == "en" else f"-{language}"))


@pytest.mark.parametrize("role", ["pm", "admin"])
def test_phone_menu_opens_and_closes_without_javascript(new_context, sign_in, accounts, screens_world, role):
    page = new_context(viewport=PHONE, java_script_enabled=False).new_page()
    sign_in(page, accounts.pm.email if role == "pm" else accounts.admin.email)
    menu = page.locator("summary", has_text="Menu")
    nav_links = page.locator("nav[aria-label='Main'] a")
    sign_out = page.locator("header").get_by_role("button", name="Sign out")
    expect(menu).to_be_visible()
    expect(nav_links.first).to_be_hidden()
    expect(sign_out).to_be_hidden()
    header = page.locator("header").bounding_box()
    assert header is not None and header["height"] <= 64, "the closed menu still takes a screenful"

    menu.click()
    main_nav = page.get_by_role("navigation", name="Main")
    for link in nav_links.all():
        expect(link).to_be_visible()
    expect(main_nav.get_by_role("link", name="Campaigns")).to_be_visible()
    expect(sign_out).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    main_nav.get_by_role("link", name="Campaigns").click()  # a link in the menu works
    expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    expect(nav_links.first).to_be_hidden()  # the new page starts with the menu closed
    menu.click()
    expect(main_nav.get_by_role("link", name="Campaigns")).to_have_attribute("aria-current", "page")
    menu.click()
    expect(nav_links.first).to_be_hidden()

    menu.focus()  # and from the keyboard
    page.keyboard.press("Enter")
    expect(nav_links.first).to_be_visible()
    page.keyboard.press("Enter")
    expect(nav_links.first).to_be_hidden()


def _chart(page: Page, name: re.Pattern[str]) -> dict[str, Any]:
    chart = page.get_by_role("img", name=name)
    expect(chart).to_be_visible()
    return chart.evaluate(CHART_GEOMETRY)


@pytest.mark.parametrize("width", [PHONE["width"], DESKTOP["width"]])
def test_chart_labels_are_legible_distinct_and_inside_the_chart(page: Page, sign_in, accounts, screens_world,
                                                                  width):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, accounts.pm.email)
    for path in ("/home", screens_world.campaign):
        page.goto(path)
        geometry = _chart(page, re.compile("^Cumulative enrollments"))
        labels = geometry["x"] + geometry["y"]
        assert labels, f"{path}: the chart has no labels"
        small = [(lab["text"], round(lab["px"], 1)) for lab in labels if lab["px"] < MIN_LABEL_PX]
        assert not small, f"{path} at {width} px: labels under {MIN_LABEL_PX} px on screen: {small}"
        last = geometry["x"][-1]
        assert geometry["left"] <= last["left"] and last["right"] <= geometry["right"], \
            f"{path} at {width} px: the last date ({last['text']}) sticks out of the chart"
        outside = [lab["text"] for lab in labels
                   if lab["left"] < geometry["left"] - 0.5 or lab["right"] > geometry["right"] + 0.5]
        assert not outside, f"{path} at {width} px: labels outside the chart: {outside}"
        ticks = [lab["text"] for lab in geometry["y"]]
        assert len(set(ticks)) == len(ticks) and all(re.fullmatch(r"[\d,.]+[kM]?", t) for t in ticks), ticks


def test_campaign_chart_counts_what_the_capacity_gauge_counts(page: Page, sign_in, accounts, screens_world):
    """Two beneficiaries hold the two seats and a third waits: the chart ends at 2, like the gauge."""
    sign_in(page, accounts.pm.email)
    page.goto(screens_world.campaign)
    expect(page.get_by_text("2 of 2 seats used")).to_be_visible()
    expect(page.get_by_text("1 on the waitlist")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(
        r"^Cumulative enrollments \(active \+ completed beneficiaries.*\): 2 in total$"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Cumulative enrollments \(active \+ completed beneficiaries"))).to_be_visible()
