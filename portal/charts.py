"""Small server-side charts: geometry computed here, drawn as inline SVG by the
templates (attributes only — no inline styles under the CSP)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    line: str  # "x,y x,y …" for <polyline points>
    area: str  # closed polygon under the line
    x_labels: list[tuple[float, str]]
    y_labels: list[tuple[float, str]]
    total: int
    empty: bool


def cumulative_by_day(counts: dict[date, int], start: date, end: date) -> list[tuple[date, int]]:
    """Running totals for every day from start to end (days without events carry the total)."""
    series, total, day = [], 0, start
    while day <= end:
        total += counts.get(day, 0)
        series.append((day, total))
        day += timedelta(days=1)
    return series


def line_chart(series: list[tuple[date, int]], width: int = 640, height: int = 200) -> LineChart:
    left, right, top, bottom = 44, 12, 12, 28
    if not series:
        return LineChart(width, height, "", "", [], [], 0, True)
    peak = max(v for _, v in series) or 1
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(series) - 1, 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return round(left + i * step, 1), round(top + plot_h - value / peak * plot_h, 1)

    coords = [xy(i, v) for i, (_, v) in enumerate(series)]
    line = " ".join(f"{x},{y}" for x, y in coords)
    baseline = top + plot_h
    area = f"{coords[0][0]},{baseline} {line} {coords[-1][0]},{baseline}"
    ticks = min(6, len(series))
    x_labels = []
    for k in range(ticks):
        i = round(k * (len(series) - 1) / max(ticks - 1, 1))
        x_labels.append((coords[i][0], series[i][0].strftime("%d %b")))
    y_labels = [(round(top + plot_h - f * plot_h, 1), str(round(peak * f))) for f in (0, 0.5, 1)]
    return LineChart(width, height, line, area, x_labels, y_labels, series[-1][1], series[-1][1] == 0)


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
