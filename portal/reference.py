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
