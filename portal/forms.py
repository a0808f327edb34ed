"""Form helpers shared by every domain's forms."""
from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from wtforms import DateField, DecimalField, SelectChoice

from portal.i18n import _l, current_language, ngettext, parse_local_date


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


# --- decimals -------------------------------------------------------------------
# Every decimal a person types goes through parse_decimal: plain digits with one optional
# point. Decimal() alone would take NaN, sNaN, Infinity and exponents (1e-999999 quietly
# becomes 0, 1e999999 overflows later), and comparing a NaN raises instead of refusing.
DECIMAL_MESSAGE = _l("Enter a plain number such as 12.50: digits 0-9 and one decimal point, no exponent, NaN or "
                     "infinity.")
DECIMAL_TOO_LONG = _l("That number is too long.")
MAX_DECIMAL_CHARS = 32
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def parse_decimal(value: object, message: str = DECIMAL_MESSAGE) -> Decimal:
    """A finite Decimal from untrusted text (or a Decimal/int from code); ValueError(message)
    for anything else. At most MAX_DECIMAL_CHARS characters, so arithmetic on it stays exact."""
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(message)
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > MAX_DECIMAL_CHARS \
                or abs(value.adjusted()) > MAX_DECIMAL_CHARS:
            raise ValueError(DECIMAL_TOO_LONG)
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValueError(message)
    text = value.strip()
    if len(text) > MAX_DECIMAL_CHARS:
        raise ValueError(DECIMAL_TOO_LONG)
    if not _DECIMAL_TEXT.fullmatch(text):
        raise ValueError(message)
    return Decimal(text)


def decimal_places(value: Decimal) -> int:
    """Decimals that carry information: 12.50 → 1, 12.345 → 3, 100 → 0."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(0, -exponent) if any(digits) else 0


class PlainDecimalField(DecimalField):
    """The portal's decimal field: the rule of :func:`parse_decimal`, and no more decimals
    than ``places`` (None: any number, left to the operation). Money fields use places=2.
    Where the reader's language writes a decimal comma (Norwegian, Ukrainian), "12,50" is
    taken as 12.50 too."""

    def process_formdata(self, valuelist: list) -> None:
        if not valuelist:
            return
        self.data = None
        text = valuelist[0]
        if isinstance(text, str) and text.count(",") == 1 and "." not in text and current_language() != "en":
            text = text.replace(",", ".")
        try:
            value = parse_decimal(text)
        except ValueError as exc:
            raise ValueError(str(self.invalid_value_message or exc)) from None
        if self.places is not None and decimal_places(value) > self.places:
            raise ValueError(ngettext("Use at most %(num)s decimal place.", "Use at most %(num)s decimal places.",
                                      self.places))
        self.data = value


# WTForms' own message, translated by WTForms' catalogue (a variable, so it stays out of ours).
_WTFORMS_NOT_A_DATE = "Not a valid date value."


class LocalDateField(DateField):
    """A date field that takes what a browser's date picker sends (ISO, 2026-11-30) and, typed
    by hand, the reader's own order (30.11.2026 in Norwegian and Ukrainian)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        self.data = parse_local_date(valuelist[0])
        if self.data is None:
            raise ValueError(self.gettext(_WTFORMS_NOT_A_DATE))
