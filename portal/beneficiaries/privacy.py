"""Privacy rules for beneficiary groups (SPEC §2.2): a group is a population, never a
person, so its name, description and tags must not carry personal data. Pure
functions; the group operations call them on save and the form calls them live.

The rules run in time linear in the text: the length is checked before any pattern,
and the patterns run on RE2 (no backtracking). RE2's ``\\d``, ``\\s`` and ``\\b`` are
ASCII-only, so the text is first folded: every Unicode decimal digit becomes its ASCII
digit and every Unicode space a plain space (one character for one, so nothing moves)."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import re2

# SPEC §2.1/§2.2 limits of the texts these rules read; longer text is refused unread.
MAX_NAME_LENGTH, MAX_DESCRIPTION_LENGTH, MAX_TAG_LENGTH = 255, 5000, 50
MAX_CHECKED_LENGTH = MAX_DESCRIPTION_LENGTH

def _compile(pattern: str, *, ignore_case: bool = False) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    return re2.compile(pattern, options)


@dataclass(frozen=True)
class PrivacyRule:
    kind: str
    pattern: Any  # a compiled RE2 pattern
    message: str


_WORD = r"[\pL\pN_]"  # what Python's Unicode \w matches (letters, numbers, underscore)
_DIGIT_SEP = r"[\s.\-/()]"
RULES = [
    PrivacyRule("email", _compile(rf"[\pL\pN_.+-]+@(?:{_WORD}|-)+(?:\.(?:{_WORD}|-)+)+"),
                "Remove the e-mail address: groups describe populations, not people."),
    # A run of 9+ digits not touching another digit, "." or "," (RE2 has no lookarounds, so the
    # neighbours are matched: only whether a match exists matters here).
    PrivacyRule("national_id", _compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{6}[\s-]?\d{5}\b|(?:^|[^\d.,])\d{9,}(?:$|[^\d.,])"),
                "Remove the identity-number-like digits: no national id or personal number may appear here."),
    PrivacyRule("date_of_birth", _compile(
        r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})\b"
        r"|\b\d{1,2}\.?\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s(?:19|20)\d{2}\b",
        ignore_case=True),
        "Remove the full date: it could be someone's date of birth. Use a year or a month instead."),
    PrivacyRule("phone", _compile(rf"(?:\+|\b00)\d(?:{_DIGIT_SEP}?\d){{6,}}|\b\d{{2,4}}(?:{_DIGIT_SEP}{{1,2}}\d{{2,4}}){{2,4}}\b"),
                "Remove the phone number: groups describe populations, not people."),
]


def _fold(text: str) -> str:
    """Unicode digits → ASCII digits, Unicode spaces → " " (same length)."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else " " if ch.isspace() else ch for ch in text)


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def too_long_message(max_length: int) -> str:
    return f"Too long to check for personal data: use at most {max_length:,} characters."


def privacy_problems(text: str | None, *, max_length: int = MAX_CHECKED_LENGTH) -> list[str]:
    """Messages for every kind of personal data found in ``text`` (empty when clean).
    Ordinary numbers ("2026 cohort", "ages 18-30", "B1 level") pass. Text longer than
    ``max_length`` is refused before any pattern reads it."""
    if not text:
        return []
    if len(text) > max_length:
        return [too_long_message(max_length)]
    folded = _fold(text)
    found: list[str] = []
    for rule in RULES:
        for match in rule.pattern.finditer(folded):
            # A phone needs at least 8 digits: "18 - 30" or "2025/26" are not phone numbers.
            if rule.kind == "phone" and _digit_count(match.group()) < 8:
                continue
            found.append(rule.message)
            break
    return found


def cohort_figure(count: int | None, min_cohort: int) -> str:
    """An aggregate about a group, shown only for cohorts of at least ``min_cohort``
    (PORTAL_MIN_COHORT); smaller counts read "fewer than N" (zero included, so a
    zero cannot be told apart from a small group)."""
    if count is None or count < min_cohort:
        return f"fewer than {min_cohort}"
    return f"{count:,}"
