"""A participant's own fields (SPEC §2.5), as plain rules that need no database.

One place for what a display name, e-mail, year of birth, languages, country and external
reference may be, and for how the text people type is read ("uk; en", "uk, English",
" 1990 "). The participant operations (:func:`~portal.enrollments.operations.clean_participant_fields`,
which adds the per-owner uniqueness checks), the CSV import's row parser and the forms all
call these, so a value one of them accepts is never refused by another.

Each ``clean_*`` function returns the normalised value (None for a blank optional field)
or raises :class:`FieldProblem` with the message(s) to show.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache

from portal.auth.operations import normalize_email
from portal.errors import DomainError
from portal.i18n import _l
from portal.reference import countries, country_problem, language_problem, languages

DISPLAY_NAME_MAX = 255
EXTERNAL_REF_MAX = 100
YEAR_OF_BIRTH_MIN = 1900

# Lazy: each reads in the language of whoever it is shown to.
DISPLAY_NAME_MESSAGE = _l("Enter a name of 1 to %(max)s characters.", max=DISPLAY_NAME_MAX)
YEAR_OF_BIRTH_MESSAGE = _l("Enter a year between %(first)s and this year.", first=YEAR_OF_BIRTH_MIN)
EXTERNAL_REF_MESSAGE = _l("Use at most %(max)s characters.", max=EXTERNAL_REF_MAX)

_LANGUAGE_SEPARATORS = re.compile(r"[;,]")
_SHOWN = 20  # characters of a refused code quoted back in a message


class FieldProblem(ValueError):
    """A field's value breaks its rule; ``messages`` say why (one per refused language).
    They may be lazy strings: ``str(problem)`` reads them in the current language."""

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)

    def __str__(self) -> str:
        return " ".join(str(message) for message in self.messages)


def this_year() -> int:
    return datetime.now(UTC).year


def year_of_birth_bounds() -> tuple[int, int]:
    """The years of birth accepted today: 1900 to this year (read now, never frozen at import)."""
    return YEAR_OF_BIRTH_MIN, this_year()


def clean_display_name(value: str | None) -> str:
    """1 to 255 characters once surrounding space is stripped."""
    name = (value or "").strip()
    if not 1 <= len(name) <= DISPLAY_NAME_MAX:
        raise FieldProblem(DISPLAY_NAME_MESSAGE)
    return name


def clean_email(value: str | None, *, normalize: Callable[[str], str] = normalize_email) -> str | None:
    """Blank is None; otherwise the one stored form of the address (:func:`normalize_email`,
    or the CSV import's faster equivalent passed as ``normalize``)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return normalize(text)
    except DomainError as exc:
        raise FieldProblem(exc.message) from None


def clean_year_of_birth(value: int | str | None, *, today_year: int | None = None) -> int | None:
    """Blank is None; otherwise a whole number from 1900 to this year. Text is read the way
    a form's IntegerField reads it (``int()``), so every path accepts the same input."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = int(value)
        except ValueError:
            raise FieldProblem(YEAR_OF_BIRTH_MESSAGE) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldProblem(YEAR_OF_BIRTH_MESSAGE)
    if not YEAR_OF_BIRTH_MIN <= value <= (today_year or this_year()):
        raise FieldProblem(YEAR_OF_BIRTH_MESSAGE)
    return value


@lru_cache(maxsize=1)
def _codes_by_name() -> dict[str, str]:
    return {name.lower(): code for code, name in languages().items()}


def parse_languages(value: str | Iterable[str] | None) -> list[str]:
    """Language entries as lower-case codes, in order, each once: text is split at ``;`` or
    ``,`` ("uk;en", "uk, en"), an English language name is taken as its code ("Ukrainian" →
    "uk"). Unknown entries are kept for :func:`clean_languages` to name."""
    if not value:
        return []
    if isinstance(value, str):
        parts = _LANGUAGE_SEPARATORS.split(value.lower())
    else:
        parts = [str(part).lower() for part in value]
    by_name = _codes_by_name()
    codes: list[str] = []
    for part in parts:
        token = part.strip()
        if token:
            code = by_name.get(token, token)
            if code not in codes:
                codes.append(code)
    return codes


def clean_languages(value: str | Iterable[str] | None) -> list[str]:
    """:func:`parse_languages`, every entry an ISO 639-1 code."""
    codes = parse_languages(value)
    known = languages()
    if bad := [code for code in codes if code not in known]:
        raise FieldProblem(*(language_problem(code[:_SHOWN]) or "" for code in bad))
    return codes


def clean_country(value: str | None) -> str | None:
    """Blank is None; otherwise an ISO 3166-1 alpha-2 code (any case)."""
    code = (value or "").strip().upper()
    if not code:
        return None
    if code not in countries():
        raise FieldProblem(country_problem(code[:_SHOWN]) or "")
    return code


def clean_external_ref(value: str | None) -> str | None:
    """Blank is None; otherwise at most 100 characters (e.g. ``kintell:8812``)."""
    ref = (value or "").strip()
    if not ref:
        return None
    if len(ref) > EXTERNAL_REF_MAX:
        raise FieldProblem(EXTERNAL_REF_MESSAGE)
    return ref
