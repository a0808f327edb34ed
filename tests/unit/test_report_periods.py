"""Report periods (SPEC §2.11): "2026-Q2" is April to June exactly, months and years end on
their last day, a custom range ends on or after its start and spans at most five years, and
every other input is refused naming the field to fix."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.reports.periods import InvalidPeriod, parse_period


@pytest.mark.parametrize(("text", "start", "end", "label"), [
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31), "Q1 2026 (January–March)"),
    ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30), "Q2 2026 (April–June)"),
    ("2026-q3", date(2026, 7, 1), date(2026, 9, 30), "Q3 2026 (July–September)"),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), "Q4 2026 (October–December)"),
    ("2028-02", date(2028, 2, 1), date(2028, 2, 29), "February 2028"),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28), "February 2026"),
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30), "November 2026"),
    ("2026", date(2026, 1, 1), date(2026, 12, 31), "2026"),
])
def test_named_periods_cover_exactly_their_days(text, start, end, label):
    period = parse_period(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert parse_period(period.key) == period  # the key written in an address reads back the same


def test_a_custom_range_includes_both_days_and_reads_back():
    period = parse_period("custom", start="2026-01-15", end="2026-03-31")
    assert (period.start, period.end, period.kind) == (date(2026, 1, 15), date(2026, 3, 31), "custom")
    assert period.contains(date(2026, 1, 15)) and period.contains(date(2026, 3, 31))
    assert not period.contains(date(2026, 4, 1))
    assert parse_period(None, start="2026-01-15", end="2026-01-15").start == date(2026, 1, 15)  # one day


@pytest.mark.parametrize(("args", "field"), [
    (("custom",), {"start": "2026-03-01", "end": "2026-02-28"}),
    (("custom",), {"start": "2020-01-01", "end": "2026-01-01"}),
    (("custom",), {"start": "", "end": "2026-01-01"}),
    (("custom",), {"start": "2026-01-01", "end": "31/12/2026"}),
    (("2026-Q5",), {}), (("2026-13",), {}), (("2026-00",), {}), (("26",), {}), (("1999",), {}),
    (("next quarter",), {}), (("",), {}), (("2026-Q2; DROP TABLE",), {}),
])
def test_bad_periods_are_refused_naming_the_field(args, field):
    with pytest.raises(InvalidPeriod) as refused:
        parse_period(*args, **field)
    assert refused.value.status_code == 422
    assert refused.value.field in ("period", "start", "end")
    if field.get("end") == "2026-02-28":
        assert refused.value.field == "end" and "before the start" in refused.value.message
    if field.get("start") == "2020-01-01":
        assert "5 years" in refused.value.message


def test_five_years_is_the_longest_range():
    assert parse_period("custom", start="2021-01-01", end="2025-12-31").end == date(2025, 12, 31)
    with pytest.raises(InvalidPeriod):
        parse_period("custom", start="2021-01-01", end="2026-01-10")


@settings(max_examples=200, deadline=None)
@given(st.integers(2000, 2100), st.integers(1, 4))
def test_the_four_quarters_tile_the_year(year, number):
    quarters = [parse_period(f"{year}-Q{n}") for n in range(1, 5)]
    assert quarters[0].start == date(year, 1, 1) and quarters[-1].end == date(year, 12, 31)
    for before, after in zip(quarters, quarters[1:], strict=False):
        assert (after.start - before.end).days == 1
    assert parse_period(f"{year}-Q{number}").start.month == 3 * number - 2
