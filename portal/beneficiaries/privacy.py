"""Privacy rules for beneficiary groups (SPEC §2.2): a group is a population, never a
person, so its name, description and tags must not carry personal data. Pure
functions; the group operations call them on save and the form calls them live."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PrivacyRule:
    kind: str
    pattern: re.Pattern[str]
    message: str


_DIGIT_SEP = r"[\s.\-/()]"
RULES = [
    PrivacyRule("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE),
                "Remove the e-mail address: groups describe populations, not people."),
    PrivacyRule("national_id", re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{6}[\s-]?\d{5}\b|(?<![\d.,])\d{9,}(?![\d.,])"),
                "Remove the identity-number-like digits: no national id or personal number may appear here."),
    PrivacyRule("date_of_birth", re.compile(
        r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2})\b"
        r"|\b\d{1,2}\.?\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s(?:19|20)\d{2}\b",
        re.IGNORECASE),
        "Remove the full date: it could be someone's date of birth. Use a year or a month instead."),
    PrivacyRule("phone", re.compile(rf"(?:\+|\b00)\d(?:{_DIGIT_SEP}?\d){{6,}}|\b\d{{2,4}}(?:{_DIGIT_SEP}{{1,2}}\d{{2,4}}){{2,4}}\b"),
                "Remove the phone number: groups describe populations, not people."),
]


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def privacy_problems(text: str | None) -> list[str]:
    """Messages for every kind of personal data found in ``text`` (empty when clean).
    Ordinary numbers ("2026 cohort", "ages 18-30", "B1 level") pass."""
    if not text:
        return []
    found: list[str] = []
    for rule in RULES:
        for match in rule.pattern.finditer(text):
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
