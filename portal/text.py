"""Words around numbers in English: "1 person", "3 people", "1,204 rows", never "1 people"
or "enrollment(s)" (the ``plural``/``plural_word`` template filters).

English only. Text shown in the reader's language says its plurals with ``ngettext``
(portal.i18n), which knows each language's forms (Ukrainian has three); this module stays
for what has not moved to it yet."""
from __future__ import annotations


def plural_word(count: int, singular: str, plural: str | None = None) -> str:
    """The noun that goes with ``count``: ``singular`` for exactly one, else ``plural``
    (``singular`` + "s" when not given). English only: one form for 1, another for the rest."""
    return singular if count == 1 else (plural if plural is not None else singular + "s")


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """The count with its noun: "1 person", "3 people", "12,400 rows"."""
    return f"{count:,} {plural_word(count, singular, plural)}"
