"""Reference data from maintained packages: ISO 3166-1 countries, ISO 639-1 languages,
ISO 4217 currencies (pycountry), named in the reader's language (English from pycountry;
Norwegian and Ukrainian names from the CLDR data Babel ships, pycountry's English where CLDR
has none). The codes are the same in every language."""
from __future__ import annotations

from functools import lru_cache

import pycountry
from babel import Locale

from portal.i18n import _, _l, current_language


@lru_cache(maxsize=1)
def _english_countries() -> dict[str, str]:
    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


@lru_cache(maxsize=1)
def _english_languages() -> dict[str, str]:
    return {lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")}


@lru_cache(maxsize=16)
def _names_in(language: str, kind: str) -> dict[str, str]:
    """Code → name in ``language``: CLDR's ``kind`` ("territories" or "languages") through
    Babel, pycountry's English where CLDR has none."""
    english = _english_countries() if kind == "territories" else _english_languages()
    if language == "en":
        return english
    names = getattr(Locale.parse(language), kind)
    return {code: names.get(code) or name for code, name in english.items()}


def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → the country's name in the reader's language."""
    return _names_in(current_language(), "territories")


def languages() -> dict[str, str]:
    """ISO 639-1 code → the language's name in the reader's language."""
    return _names_in(current_language(), "languages")


@lru_cache(maxsize=1)
def currencies() -> dict[str, str]:
    return {c.alpha_3: c.name for c in pycountry.currencies}


def country_problem(code: str) -> str | None:
    return None if code in countries() else _("%(code)s is not an ISO 3166-1 alpha-2 country code.", code=repr(code))


def language_problem(code: str) -> str | None:
    return None if code in languages() else _("%(code)s is not an ISO 639-1 language code.", code=repr(code))


def currency_problem(code: str) -> str | None:
    return None if code in currencies() else _("%(code)s is not an ISO 4217 currency code.", code=repr(code))


def country_name(code: str | None) -> str:
    return countries().get(code or "", code or "")


def language_name(code: str | None) -> str:
    return languages().get(code or "", code or "")


# The UN's 17 Sustainable Development Goals: official short names and colours (UN SDG
# communications guidelines). The colour is the badge's background; its number is written
# in white or near-black, whichever reads at WCAG AA contrast on it.
SDG_GOALS: dict[int, tuple[str, str]] = {
    1: (_l("No Poverty"), "#E5243B"),
    2: (_l("Zero Hunger"), "#DDA63A"),
    3: (_l("Good Health and Well-being"), "#4C9F38"),
    4: (_l("Quality Education"), "#C5192D"),
    5: (_l("Gender Equality"), "#FF3A21"),
    6: (_l("Clean Water and Sanitation"), "#26BDE2"),
    7: (_l("Affordable and Clean Energy"), "#FCC30B"),
    8: (_l("Decent Work and Economic Growth"), "#A21942"),
    9: (_l("Industry, Innovation and Infrastructure"), "#FD6925"),
    10: (_l("Reduced Inequalities"), "#DD1367"),
    11: (_l("Sustainable Cities and Communities"), "#FD9D24"),
    12: (_l("Responsible Consumption and Production"), "#BF8B2E"),
    13: (_l("Climate Action"), "#3F7E44"),
    14: (_l("Life Below Water"), "#0A97D9"),
    15: (_l("Life on Land"), "#56C02B"),
    16: (_l("Peace, Justice and Strong Institutions"), "#00689D"),
    17: (_l("Partnerships for the Goals"), "#19486A"),
}


def sdg_names() -> dict[int, str]:
    return {goal: str(name) for goal, (name, _colour) in SDG_GOALS.items()}


def sdg_title(goal: int | str | None) -> str:
    """The goal's official short name ("Quality Education"); "" for an unknown goal."""
    try:
        return str(SDG_GOALS[int(goal)][0])  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return ""


def sdg_name(goal: int | str | None) -> str:
    """"SDG 4: Quality Education" for 4; an unknown goal reads as its number."""
    try:
        number = int(goal)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(goal or "")
    if number in SDG_GOALS:
        return _("SDG %(number)s: %(name)s", number=number, name=SDG_GOALS[number][0])
    return _("SDG %(number)s", number=number)
