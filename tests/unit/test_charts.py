"""Chart geometry (portal/charts.py): a count axis has distinct whole-number ticks, the end
dates are anchored inside the plot, and a running total starts from what came before."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.charts import cumulative_by_day, integer_ticks, line_chart


@pytest.mark.parametrize(("peak", "expected"), [
    (0, [0, 1]),
    (1, [0, 1]),
    (3, [0, 1, 2, 3]),
    (7, [0, 2, 4, 6, 8]),
    (1000, [0, 200, 400, 600, 800, 1000]),
])
def test_ticks_are_distinct_integers_from_zero_to_at_least_the_peak(peak, expected):
    ticks = integer_ticks(peak)
    assert ticks == expected
    assert all(isinstance(t, int) for t in ticks)
    assert len(set(ticks)) == len(ticks)
    assert ticks[0] == 0 and ticks[-1] >= peak


@pytest.mark.parametrize("peak", [*range(0, 130), 999, 1001, 2500, 12_345, 987_654, 3_000_000])
def test_ticks_are_few_evenly_spaced_and_tight(peak):
    ticks = integer_ticks(peak)
    steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1 and 2 <= len(ticks) <= 6
    step = steps.pop()
    assert ticks[-1] - step < max(peak, 1)  # no empty band above the peak


def test_small_counts_label_each_tick_once():
    start = date(2026, 11, 1)
    series = cumulative_by_day({start + timedelta(days=29): 1}, start, start + timedelta(days=29))
    chart = line_chart(series)
    assert [t.text for t in chart.y_labels] == ["0", "1"]
    assert len({t.at for t in chart.y_labels}) == 2


def test_end_dates_are_anchored_inside_the_plot():
    start = date(2026, 9, 1)
    chart = line_chart(cumulative_by_day({start: 2}, start, date(2026, 11, 30)))
    first, *middle, last = chart.x_labels
    assert (first.at, first.anchor) == (0, "start")
    assert (last.at, last.anchor, last.text) == (100, "end", "30 Nov")
    assert all(t.anchor == "middle" and 0 < t.at < 100 for t in middle)


def test_large_counts_keep_short_axis_labels():
    chart = line_chart([(date(2026, 1, 1), 0), (date(2026, 1, 2), 1_234_567)])
    assert [t.text for t in chart.y_labels] == ["0", "250k", "500k", "750k", "1M", "1.25M"]


def test_running_total_starts_from_counts_before_the_window():
    counts = {date(2025, 1, 1): 4, date(2026, 1, 2): 1}
    series = cumulative_by_day(counts, date(2026, 1, 1), date(2026, 1, 3))
    assert series == [(date(2026, 1, 1), 4), (date(2026, 1, 2), 5), (date(2026, 1, 3), 5)]


def test_a_single_day_is_a_flat_line_across_with_its_date_in_the_middle():
    chart = line_chart([(date(2026, 1, 1), 2)], title="Seats")
    assert chart.line == "0.0,0.0 1000.0,0.0"
    assert [(t.at, t.anchor) for t in chart.x_labels] == [(50.0, "middle")]
    assert chart.title == "Seats" and chart.total == 2 and not chart.empty


def _y_at(points: list[tuple[float, float]], x: float) -> float:
    """The drawn line's height at ``x`` (linear between the polyline's points)."""
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if x0 <= x <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    raise AssertionError(x)


def test_the_line_keeps_only_its_corners_and_still_passes_through_every_day():
    start = date(2026, 1, 1)
    values = [0] * 100 + [n * 3 for n in range(1, 101)] + [300] * 165  # flat, steady rise, flat
    series = [(start + timedelta(days=i), v) for i, v in enumerate(values)]
    chart = line_chart(series)
    points = [tuple(map(float, p.split(","))) for p in chart.line.split()]
    assert len(points) <= 6  # the ends and the two bends (give or take rounding), not 365 points
    step = 1000 / (len(values) - 1)
    for i, v in enumerate(values):  # every day's value lies on the drawn line
        assert abs(_y_at(points, round(i * step, 1)) - (160 - v / 300 * 160)) < 0.2, i
    flat = line_chart([(start + timedelta(days=i), 7) for i in range(365)])
    assert flat.line == "0.0,20.0 1000.0,20.0"  # 7 on an axis up to 8: one straight segment
