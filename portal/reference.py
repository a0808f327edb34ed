"""Reference data from maintained packages: ISO 3166-1 countries, ISO 639-1 languages,
ISO 4217 currencies (pycountry)."""
from __future__ import annotations

from functools import lru_cache

import pycountry


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    return {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


@lru_cache(maxsize=1)
def languages() -> dict[str, str]:
    return {lang.alpha_2: lang.name for lang in pycountry.languages if hasattr(lang, "alpha_2")}


@lru_cache(maxsize=1)
def currencies() -> dict[str, str]:
    return {c.alpha_3: c.name for c in pycountry.currencies}


def country_problem(code: str) -> str | None:
    return None if code in countries() else f"{code!r} is not an ISO 3166-1 alpha-2 country code."


def language_problem(code: str) -> str | None:
    return None if code in languages() else f"{code!r} is not an ISO 639-1 language code."


def currency_problem(code: str) -> str | None:
    return None if code in currencies() else f"{code!r} is not an ISO 4217 currency code."


def country_name(code: str | None) -> str:
    return countries().get(code or "", code or "")


def language_name(code: str | None) -> str:
    return languages().get(code or "", code or "")


# The UN's 17 Sustainable Development Goals: official short names and colours (UN SDG
# communications guidelines). The colour is the badge's background; its number is written
# in white or near-black, whichever reads at WCAG AA contrast on it.
SDG_GOALS: dict[int, tuple[str, str]] = {
    1: ("No Poverty", "#E5243B"),
    2: ("Zero Hunger", "#DDA63A"),
    3: ("Good Health and Well-being", "#4C9F38"),
    4: ("Quality Education", "#C5192D"),
    5: ("Gender Equality", "#FF3A21"),
    6: ("Clean Water and Sanitation", "#26BDE2"),
    7: ("Affordable and Clean Energy", "#FCC30B"),
    8: ("Decent Work and Economic Growth", "#A21942"),
    9: ("Industry, Innovation and Infrastructure", "#FD6925"),
    10: ("Reduced Inequalities", "#DD1367"),
    11: ("Sustainable Cities and Communities", "#FD9D24"),
    12: ("Responsible Consumption and Production", "#BF8B2E"),
    13: ("Climate Action", "#3F7E44"),
    14: ("Life Below Water", "#0A97D9"),
    15: ("Life on Land", "#56C02B"),
    16: ("Peace, Justice and Strong Institutions", "#00689D"),
    17: ("Partnerships for the Goals", "#19486A"),
}


def sdg_names() -> dict[int, str]:
    return {goal: name for goal, (name, _) in SDG_GOALS.items()}


def sdg_title(goal: int | str | None) -> str:
    """The goal's official short name ("Quality Education"); "" for an unknown goal."""
    try:
        return SDG_GOALS[int(goal)][0]  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return ""


def sdg_name(goal: int | str | None) -> str:
    """"SDG 4: Quality Education" for 4; an unknown goal reads as its number."""
    try:
        number = int(goal)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(goal or "")
    return f"SDG {number}: {SDG_GOALS[number][0]}" if number in SDG_GOALS else f"SDG {number}"
