"""Small server-side charts: geometry computed here, drawn as inline SVG by the
templates (attributes only — no inline styles under the CSP).

A line chart is drawn at its real pixel height and the full width of its box: text is laid
out in CSS pixels (so a 12 px label is 12 px on a phone and on a desktop) and only the line
itself is stretched to the width. x positions are therefore percentages of the plot's width,
y positions pixels from the plot's top.

The words and figures on a chart follow the reader's language (portal.i18n): the callers
give translated titles and labels; axis dates and counts are formatted here ("30 Nov",
"12.5k" in English; "30. nov.", "12,5k" in Norwegian; "30 лист.", "12,5 тис." in Ukrainian)."""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate

from babel.dates import format_date
from babel.numbers import format_compact_decimal

from portal.i18n import current_language, number

PLOT_HEIGHT = 160  # pixels; the macro adds the margins for the axis labels
LINE_BOX_WIDTH = 1000  # the line's own coordinate box, stretched to the plot's width
MAX_X_LABELS = 5  # 5 dates of ~40 px still leave gaps on a phone-wide plot


@dataclass(frozen=True)
class Tick:
    at: float  # x: percent of the plot's width; y: pixels from the plot's top
    text: str
    anchor: str = "middle"  # SVG text-anchor: the end labels are anchored inwards


@dataclass(frozen=True)
class LineChart:
    plot_height: int
    line: str  # "x,y x,y …" for <polyline points>, in a LINE_BOX_WIDTH × plot_height box
    area: str  # closed polygon under the line, same box
    x_labels: list[Tick]
    y_labels: list[Tick]
    total: int
    empty: bool
    title: str = ""  # what the line counts, said precisely (the screen's label otherwise)
    box_width: int = LINE_BOX_WIDTH


class DailyTotals(Sequence):
    """Running totals, one a day from ``start``: reads as a list of ``(day, total)`` pairs,
    kept as the totals alone (a year of pairs and dates cost more to build than the chart)."""

    __slots__ = ("start", "values")

    def __init__(self, start: date, values: list[int]) -> None:
        self.start, self.values = start, values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self.values)
        return self.start + timedelta(days=index), self.values[index]

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


def cumulative_by_day(counts: dict[date, int], start: date, end: date) -> DailyTotals:
    """Running totals for every day from start to end (days without events carry the total;
    events before ``start`` are the total the series starts from)."""
    days = max((end - start).days + 1, 0)
    changes = [0] * days
    before = 0
    for day, n in counts.items():
        if day < start:
            before += n
        elif day <= end:
            changes[(day - start).days] += n
    return DailyTotals(start, list(accumulate(changes, initial=before))[1:])


def integer_ticks(peak: float, max_ticks: int = 6) -> list[int]:
    """Distinct whole-number axis ticks from 0 to the first round step at or above ``peak``:
    steps of 1, 2, 2.5 (from 25 on) or 5 times a power of ten, at most ``max_ticks`` ticks.
    A count axis never says "0, 0, 1"."""
    top = max(math.ceil(peak), 1)
    magnitude = 1
    while True:
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * magnitude
            if step != int(step):
                continue
            step = int(step)
            intervals = math.ceil(top / step)
            if intervals + 1 <= max_ticks:
                return [k * step for k in range(intervals + 1)]
        magnitude *= 10


def _count_label(n: int) -> str:
    """A y-axis count short enough for the axis gutter: 7,500 · 12.5k · 1.25M (English; the
    language's own short forms elsewhere)."""
    language = current_language()
    if n >= 10_000 and language != "en":
        return format_compact_decimal(n, format_type="short", locale=language, fraction_digits=2)
    if n >= 1_000_000:
        return f"{n / 1_000_000:g}M"
    if n >= 10_000:
        return f"{n / 1000:g}k"
    return number(n)


def _date_label(day: date) -> str:
    language = current_language()
    if language != "en":
        return format_date(day, "d MMM", locale=language)
    return f"{day.day} {day:%b}"


def _x_labels(series: Sequence[tuple[date, int]]) -> list[Tick]:
    """Up to MAX_X_LABELS evenly spread dates; the first and last anchored inwards so that
    neither is cut at the chart's edge."""
    last = len(series) - 1
    if last == 0:
        return [Tick(50.0, _date_label(series[0][0]))]
    count = min(MAX_X_LABELS, len(series))
    indexes = sorted({round(k * last / (count - 1)) for k in range(count)})
    anchors = {0: "start", last: "end"}
    return [Tick(round(i / last * 100, 2), _date_label(series[i][0]), anchors.get(i, "middle")) for i in indexes]


def _corners(values: list[int]) -> list[int]:
    """Indexes of the days where the line turns (the day's change differs from the next's): a
    day on a straight run between its neighbours draws nothing (a year of days, mostly flat or
    steady, is a few dozen corners, not 365 points). Days are evenly spaced, so this is
    judged on the counts themselves, exactly."""
    last = len(values) - 1
    return [0, *(i for i in range(1, last) if values[i] - values[i - 1] != values[i + 1] - values[i]), last] \
        if last > 1 else list(range(last + 1))


@lru_cache(maxsize=16)
def _x_positions(days: int) -> tuple[str, ...]:
    """Each day's x in the line's box, as text, for a line of ``days`` days (a chart is a
    month or a year of days: a few lengths, each written once)."""
    step = LINE_BOX_WIDTH / (days - 1)
    return tuple(f"{round(i * step, 1)}" for i in range(days))


def line_chart(series: Sequence[tuple[date, int]], *, title: str = "", plot_height: int = PLOT_HEIGHT) -> LineChart:
    """The geometry of a line over ``series`` (one value a day) on an integer y axis."""
    if not series:
        return LineChart(plot_height, "", "", [], [], 0, True, title)
    values = series.values if isinstance(series, DailyTotals) else [v for _, v in series]
    ticks = integer_ticks(max(values))

    def y_of(value: float) -> float:
        return round(plot_height - value / ticks[-1] * plot_height, 1)

    if len(values) == 1:
        values = values * 2  # one day: a flat line across
    xs = _x_positions(len(values))
    top = ticks[-1]
    ys = {value: f"{round(plot_height - value / top * plot_height, 1)}" for value in set(values)}  # y_of, as text
    line = " ".join([f"{xs[i]},{ys[values[i]]}" for i in _corners(values)])
    area = f"{xs[0]},{plot_height} {line} {xs[-1]},{plot_height}"
    y_labels = [Tick(y_of(t), _count_label(t), "end") for t in ticks]
    total = values[-1]
    return LineChart(plot_height, line, area, _x_labels(series), y_labels, total, total == 0, title)


@dataclass(frozen=True)
class Gauge:
    """Seats used against target and cap, as fractions of the bar's width."""

    used: int
    target: int | None
    cap: int | None
    waitlisted: int
    used_fraction: float
    target_fraction: float | None
    level: str  # "ok", "high" (≥ 80 %), "full"


def capacity_gauge(used: int, target: int | None, cap: int | None, waitlisted: int) -> Gauge:
    scale = cap or max(target or 0, used, 1)
    used_fraction = min(used / scale, 1.0) if scale else 0.0
    target_fraction = min(target / scale, 1.0) if target and scale else None
    level = "full" if cap is not None and used >= cap else ("high" if cap and used >= 0.8 * cap else "ok")
    return Gauge(used, target, cap, waitlisted, round(used_fraction, 4), target_fraction, level)


# --- horizontal bars ------------------------------------------------------------------
BAR_ROW_HEIGHT = 44  # pixels: a 12 px label line, then the bar
BAR_HEIGHT = 14


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the figure as shown ("12", "fewer than 10")
    fraction: float  # of the plot's width; for a withheld figure, the range it lies in
    y: int  # pixels from the chart's top to the row's label baseline
    withheld: bool = False  # drawn as an outline up to the cohort minimum, never its value


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    title: str
    empty: bool
    bar_height: int = BAR_HEIGHT


def bar_chart(items: list[tuple[str, int]], *, title: str, withhold_below: int | None = None,
              withheld_text: str = "") -> BarChart:
    """Horizontal bars, one row per ``(label, value)``: the label and the figure on a line,
    the bar under it (so a long label never squeezes the bar on a phone). With
    ``withhold_below``, a value under it is not drawn: its row shows ``withheld_text`` and
    an outline spanning 0 … the minimum, the range it lies in, so the picture tells no more
    than the words."""
    withheld = [withhold_below is not None and value < withhold_below for _, value in items]
    shown = [value for (_, value), hidden in zip(items, withheld, strict=True) if not hidden]
    scale = max([*shown, *([withhold_below] if any(withheld) else []), 1])
    bars = []
    for index, ((label, value), hidden) in enumerate(zip(items, withheld, strict=True)):
        bars.append(Bar(label, withheld_text if hidden else number(value),
                        round((withhold_below if hidden else value) / scale, 4), 14 + index * BAR_ROW_HEIGHT, hidden))
    return BarChart(bars, len(items) * BAR_ROW_HEIGHT, title, not any(v for _, v in items) and not any(withheld))
