"""The catalogues (portal/translations): every string the code and templates mark is
translated in Norwegian Bokmål and Ukrainian, completely (all plural forms), nothing fuzzy,
nothing stale, and every translation takes the same placeholders as its English."""
from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ["nb", "uk"]
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "_n": (1, 2), "lazy_ngettext": (1, 2),
            "_lp": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


@cache
def marked() -> dict[str | tuple[str, str], list[str]]:
    """(context, msgid or (singular, plural)) → where it is marked, as the Makefile extracts them."""
    found: dict = defaultdict(list)
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    for filename, lineno, message, _comments, context in extract_from_dir(str(ROOT), method_map, keywords=KEYWORDS):
        key = message if isinstance(message, str) else tuple(m for m in message if m)
        if isinstance(key, tuple) and len(key) == 1:
            key = key[0]
        found[(context, key)].append(f"{filename}:{lineno}")
    return found


@cache
def catalog(language: str):
    with (ROOT / "portal" / "translations" / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def _entries(language: str):
    return {(m.context, m.id): m for m in catalog(language) if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_is_in_the_catalogue(language: str) -> None:
    entries = _entries(language)
    missing = {key: where[:2] for key, where in marked().items() if key not in entries}
    assert not missing, f"{len(missing)} strings are not in {language}: run `make translations`, then translate: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_holds_no_string_the_code_no_longer_marks(language: str) -> None:
    stale = [key for key in _entries(language) if key not in marked()]
    assert not stale, f"{language} still translates strings nothing marks (run `make translations`): {stale[:20]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_in_every_plural_form_and_none_is_fuzzy(language: str) -> None:
    plurals = catalog(language).num_plurals
    assert plurals == {"nb": 2, "uk": 3}[language]
    problems = []
    for (_context, key), message in _entries(language).items():
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(("fuzzy", key))
        elif isinstance(key, tuple) and len(forms) != plurals:
            problems.append((f"{len(forms)} plural forms", key))
        elif not all(form and form.strip() for form in forms):
            problems.append(("empty", key))
    assert not problems, problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_take_the_placeholders_of_their_english(language: str) -> None:
    """A translation that names a placeholder its English does not have would fail when
    shown; one that drops a placeholder would hide a figure. (Ukrainian's "one" form may
    leave out the count only when it is exactly one, which is not the case: keep it.)"""
    problems = []
    for (_context, key), message in _entries(language).items():
        english = key if isinstance(key, tuple) else (key,)
        wanted = set().union(*(PLACEHOLDER.findall(e) for e in english))
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            if form and set(PLACEHOLDER.findall(form)) != wanted:
                problems.append((key, form))
            elif form and english[0].count("%%") and form.replace("%%", "").count("%") != english[0].replace("%%", "").count("%"):
                problems.append((key, form))
    assert not problems, problems
