"""Form helpers shared by every domain's forms."""
from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices. Values keep their type, so a
    field with ``coerce=int`` validates its submitted numbers against them."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]


MAX_DB_ID = 2**31 - 1


def parse_id(value: object) -> int | None:
    """A database id from untrusted text: digits within the integer column's range, else None."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_DB_ID else None


def coerce_id(value: object) -> int | None:
    """WTForms ``coerce`` for id selects: an out-of-range or non-numeric value is "not a valid choice"."""
    if value in (None, "", "None"):
        return None
    number = parse_id(value)
    if number is None:
        raise ValueError("not an id")
    return number
