"""Form helpers shared by every domain's forms."""
from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices. Values keep their type, so a
    field with ``coerce=int`` validates its submitted numbers against them."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[arg-type]
