"""Numbers, money, percentages and dates in each language's own formats (portal/i18n.py);
English keeps the formats the portal always showed (ISO dates, "NOK 1,234.50")."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask

from portal.i18n import force_locale, init_app, money, number, parse_local_date, percent, show_date, show_datetime

NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    init_app(app)
    return app


def _in(app: Flask, language: str, fn, *args):
    with app.app_context(), force_locale(language):
        return fn(*args)


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "NOK 3.40"), ("nb", f"3,40{NBSP}kr"), ("uk", f"3,40{NBSP}NOK"),
])
def test_money_follows_the_language(app, language, expected):
    assert _in(app, language, money, 340, "NOK") == expected


def test_money_rounds_half_up_to_the_minor_unit_and_keeps_the_sign(app):
    assert _in(app, "en", money, Decimal("123456.5"), "EUR") == "EUR 1,234.57"
    assert _in(app, "en", money, -150, "NOK") == "−NOK 1.50"
    assert _in(app, "uk", money, 123456, "UAH") == f"1{NBSP}234,56{NBSP}₴"
    assert _in(app, "nb", money, -150, "NOK")[0] in "-−"
    assert _in(app, "nb", money, None, "NOK") == "—"


@pytest.mark.parametrize(("language", "expected"), [("en", "1,204,000"), ("nb", f"1{NBSP}204{NBSP}000"), ("uk", f"1{NBSP}204{NBSP}000")])
def test_numbers_group_thousands_as_the_language_does(app, language, expected):
    assert _in(app, language, number, 1_204_000) == expected


def test_numbers_with_fixed_places(app):
    assert _in(app, "en", number, Decimal("3.395"), 2) == "3.40"
    assert _in(app, "nb", number, Decimal("3.395"), 2) == "3,40"


@pytest.mark.parametrize(("language", "value", "expected"), [
    ("en", 25, f"25{NBSP}%"), ("en", Decimal("12.5"), f"12.5{NBSP}%"), ("nb", Decimal("12.5"), f"12,5{NBSP}%"),
    ("uk", Decimal("12.5"), "12,5%"), ("en", Decimal("33.333"), f"33.33{NBSP}%"),
])
def test_percentages(app, language, value, expected):
    assert _in(app, language, percent, value) == expected


@pytest.mark.parametrize(("language", "expected"), [("en", "2026-11-30"), ("nb", "30. nov. 2026"), ("uk", f"30 лист. 2026{NNBSP}р.")])
def test_dates_read_as_the_language_writes_them(app, language, expected):
    assert _in(app, language, show_date, date(2026, 11, 30)) == expected
    assert _in(app, language, show_datetime, datetime(2026, 11, 30, 19, 5, tzinfo=UTC)) == f"{expected} 19:05 UTC"


@pytest.mark.parametrize(("language", "typed", "expected"), [
    ("en", "2026-11-30", date(2026, 11, 30)), ("en", "30.11.2026", None),
    ("nb", "30.11.2026", date(2026, 11, 30)), ("nb", "2026-11-30", date(2026, 11, 30)),
    ("uk", "01.02.2026", date(2026, 2, 1)), ("nb", "31.02.2026", None), ("nb", "tomorrow", None),
])
def test_typed_dates_in_the_languages_order(app, language, typed, expected):
    assert _in(app, language, parse_local_date, typed) == expected
