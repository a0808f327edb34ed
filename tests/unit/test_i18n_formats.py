"""Numbers, money, percentages and dates in each language's own formats (portal/i18n.py);
English keeps the formats the portal always showed (ISO dates, "NOK 1,234.50")."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markupsafe import Markup

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


_FIGURES = st.one_of(
    st.integers(min_value=-10**15, max_value=10**15),
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, allow_infinity=False, places=6),
    st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(value=_FIGURES, places=st.sampled_from([None, 0, 1, 2, 3]), pct_places=st.sampled_from([0, 1, 2]))
@example(value=Decimal("0.0005"), places=None, pct_places=2)
@example(value=Decimal("-0.0004"), places=2, pct_places=0)
@example(value=Decimal("2.5"), places=0, pct_places=0)
@example(value=Decimal("-1234567.125"), places=2, pct_places=2)
def test_english_figures_are_written_exactly_as_babel_writes_them(value, places, pct_places):
    """The English fast path (portal.i18n._english_digits) against Babel itself: the same text
    for every number, amount and percentage, rounding halves to even as Babel does."""
    from babel import Locale
    from babel import numbers as babel_numbers

    from portal.i18n import _english_digits

    en = Locale.parse("en")
    pattern = None if places is None else "#,##0" + ("." + "0" * places if places else "")
    fast = _english_digits(value, places or 0, 3 if places is None else places)
    assert fast == babel_numbers.format_decimal(value, format=pattern, locale=en)
    money_fast = _english_digits(abs(Decimal(value)), 2, 2)
    assert money_fast == babel_numbers.format_decimal(abs(Decimal(value)), format="#,##0.00", locale=en)
    digits = "#,##0" + ("." + "#" * pct_places if pct_places else "")
    pct_fast = _english_digits(Decimal(str(value)), 0, pct_places)
    assert f"{pct_fast}\u00a0%" == babel_numbers.format_percent(Decimal(str(value)) / 100, format=digits + "\u00a0%",
                                                                 locale=en)


_SENTENCES = ["%(name)s left", "<strong>%(figure)s</strong> of %(num)s seats", "%(n)d days", "%(share).1f %%",
              "100%% done", "%(name)s and %(name)s", "no placeholder", "%(name)r"]
_VALUES = st.one_of(st.text(max_size=12), st.sampled_from(["<b>bold</b>", "A & B", "'q'", '"dq"']),
                    st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.decimals(allow_nan=False, allow_infinity=False, places=2), st.none(),
                    st.builds(Markup, st.sampled_from(["<em>ok</em>", "a &amp; b"])))


@settings(max_examples=300, deadline=None)
@given(text=st.sampled_from(_SENTENCES), name=_VALUES, figure=_VALUES, num=_VALUES, n=_VALUES, share=_VALUES)
def test_template_sentences_are_filled_exactly_as_markupsafe_fills_them(text, name, figure, num, n, share):
    """Templates fill translated sentences without markupsafe's per-value wrapper (portal.i18n
    ._filled): the same HTML, every value escaped, or the same error."""
    from portal.i18n import _filled

    variables = {"name": name, "figure": figure, "num": num, "n": n, "share": share}
    try:
        expected = Markup(text) % variables
    except (TypeError, ValueError) as refused:
        with pytest.raises(type(refused)):
            _filled(text, variables)
        return
    assert _filled(text, variables) == expected
    assert isinstance(_filled(text, variables), Markup)
