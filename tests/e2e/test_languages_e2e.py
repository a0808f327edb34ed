"""A company admin reads the portal in Ukrainian, then in Norwegian: switches language from
the page header (with and without JavaScript), enrolls a volunteer and reads the flash, a
plural, a date and an amount in that language's own formats; the choice stays on the account.

Expected words come from the catalogues themselves (a text must differ from its English),
formats from what Babel says for the language."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

NBSP = "[\u00a0\u202f ]"
# A date as each language writes it (medium): "15. jan. 2026" / "15 січ. 2026 р.".
DATES = {"nb": re.compile(r"15\. jan\. 2026"), "uk": re.compile(rf"15 січ\. 2026{NBSP}р\.")}
# 12 500,00 of the campaign's budget, in NOK: "12 500,00 kr" / "12 500,00 NOK".
AMOUNTS = {"nb": re.compile(rf"12{NBSP}500,00{NBSP}kr"), "uk": re.compile(rf"12{NBSP}500,00{NBSP}NOK")}
LANGUAGE_NAMES = {"en": "English", "nb": "Norsk bokmål", "uk": "Українська"}


@pytest.fixture(scope="module")
def scene(live_server) -> dict[str, int]:
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
    program = make.program(template=make.template("buddy"), name="Vennskap i Bergen", visibility="private")
    campaign = make.campaign(acme, program, name="Acme – vennskap 2026", max_enrollment=20, currency="NOK",
                             start_date=date(2026, 1, 15), budget_allocated=1_250_000, seat_price=62_500)
    return {"campaign": campaign.id}


@pytest.fixture
def speaker(live_server, accounts) -> Iterator[None]:
    """The admin account's language goes back to "follow the browser" afterwards: other
    browser tests sign in with the same account and read English."""
    yield
    import sqlalchemy as sa

    from portal.auth.models import User
    from portal.db import db

    with live_server.app.app_context():
        db.session.execute(sa.update(User).where(User.email == accounts.admin.email).values(locale=None))
        db.session.commit()
        db.session.remove()


def _say(live_server, language: str, text: str, **variables) -> str:
    """``text`` as the catalogue has it in ``language`` (and never the English itself)."""
    from flask_babel import gettext

    with live_server.app.test_request_context(headers={"Accept-Language": language}):
        said = gettext(text, **variables)
    assert said != text % variables if variables else said != text, f"{text!r} is not translated into {language}"
    return said


def _say_plural(live_server, language: str, singular: str, plural: str, n: int, **variables) -> str:
    from flask_babel import ngettext

    with live_server.app.test_request_context(headers={"Accept-Language": language}):
        said = ngettext(singular, plural, n, **variables)
    assert said != plural % {"num": n, **variables}, f"{plural!r} is not translated into {language}"
    return said


def _choose_language(page: Page, language: str) -> None:
    page.locator("#language-switch").select_option(language)  # submits at once (static/app.js)
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["uk", "nb"])
def test_an_admin_enrolls_a_volunteer_in_their_language(page: Page, sign_in, accounts, scene, live_server, speaker,
                                                         screenshot, language):
    sign_in(page, accounts.admin.email)
    campaign = f"/campaigns/{scene['campaign']}"
    page.goto(campaign)
    _choose_language(page, language)
    expect(page).to_have_url(re.compile(re.escape(campaign) + "$"))  # back on the page it was chosen on
    expect(page.locator("#language-switch")).to_have_value(language)

    page.goto(f"{campaign}/enroll")
    name = f"Olena Kovalenko {language}"
    page.get_by_label(_person_name_label(live_server, language), exact=True).fill(name)
    page.get_by_label(_say(live_server, language, "E-mail"), exact=True).fill(f"olena.{language}@acme.example")
    page.get_by_role("button", name=_say(live_server, language, "Enroll"), exact=True).click()

    flash = page.locator(".flash--success")
    expect(flash).to_contain_text(_say(live_server, language, "%(name)s is enrolled.", name=name))
    expect(flash.get_by_role("link")).to_have_text(_say(live_server, language, "Enroll another"))
    body = page.locator("main").inner_text()
    assert DATES[language].search(body), f"no {language} date on the campaign page"
    assert AMOUNTS[language].search(body), f"no {language} amount on the campaign page"
    seats = _say_plural(live_server, language, "<strong>%(used)s</strong> of %(num)s seat used",
                        "<strong>%(used)s</strong> of %(num)s seats used", 20, used="0")  # a volunteer takes no seat
    assert "seats" not in seats
    expect(page.locator("main")).to_contain_text(re.sub("<[^>]+>", "", seats))
    screenshot(page, f"languages-campaign-{language}")


def _person_name_label(live_server, language: str) -> str:
    from flask_babel import pgettext

    with live_server.app.test_request_context(headers={"Accept-Language": language}):
        said = pgettext("person", "Name")
    assert said != "Name"
    return said


def test_the_switch_works_without_javascript_and_stays_on_the_account(browser: Browser, base_url, sign_in, accounts,
                                                                      live_server, speaker):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, accounts.admin.email)
    page.goto("/campaigns/")
    page.locator("#language-switch").select_option("uk")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    expect(page).to_have_url(re.compile(r"/campaigns/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(_say(live_server, "uk", "Campaigns"))
    context.close()

    other = browser.new_context(base_url=base_url, locale="nb-NO")  # its browser asks for Norwegian
    page = other.new_page()
    page.goto("/sign-in")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    page.get_by_label(_say(live_server, "nb", "E-mail"), exact=True).fill(accounts.admin.email)
    page.get_by_label(_say(live_server, "nb", "Password"), exact=True).fill(accounts.admin.password)
    page.get_by_role("button", name=_say(live_server, "nb", "Sign in")).click()
    expect(page.locator("html")).to_have_attribute("lang", "uk")  # the account's choice wins
    other.close()
