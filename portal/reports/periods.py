"""Report periods (SPEC §2.11 "for a period"): a month ("2026-11"), a quarter ("2026-Q2" is
April to June exactly), a year ("2026") or a custom range — both ends inclusive, the end
never before the start and the whole at most five years.

Pure functions: the report screens, the PDF, the API and the tests read the same rules."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from portal.errors import DomainError
from portal.i18n import _, _l, current_language

MAX_DAYS = 5 * 366  # "over 5 years" is refused; leap days never make five calendar years too long
KINDS = ("month", "quarter", "year", "custom")

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])", re.IGNORECASE)
_YEAR = re.compile(r"\d{4}")


class InvalidPeriod(DomainError):
    """A period a report cannot cover; ``field`` names the input that is wrong."""

    def __init__(self, message: object, field: str = "period") -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date  # inclusive

    @property
    def key(self) -> str:
        """How the period is written in an address and on a report: "2026-Q2", "2026-11",
        "2026", or "2026-01-15..2026-03-31"."""
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def label(self) -> str:
        """For people, in the reader's language (month names from Babel): "November 2026",
        "Q2 2026 (April–June)", "2026", "15 Jan 2026 – 31 Mar 2026" in English; "november 2026",
        "2. kvartal 2026 (april–juni)" in Norwegian; "листопад 2026", "II квартал 2026 (квітень–червень)"…"""
        from babel.dates import format_date

        locale = current_language()
        if self.kind == "month":
            return format_date(self.start, "LLLL y", locale=locale)
        if self.kind == "quarter":
            return _("Q%(number)s %(year)s (%(first)s–%(last)s)", number=(self.start.month - 1) // 3 + 1,
                     year=self.start.year, first=format_date(self.start, "LLLL", locale=locale),
                     last=format_date(self.end, "LLLL", locale=locale))
        if self.kind == "year":
            return str(self.start.year)
        pattern = "d MMM y" if locale == "en" else "medium"
        return f"{format_date(self.start, pattern, locale=locale)} – {format_date(self.end, pattern, locale=locale)}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def month(year: int, number: int) -> Period:
    return Period("month", date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1]))


def quarter(year: int, number: int) -> Period:
    first = 3 * (number - 1) + 1
    return Period("quarter", date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]))


def year(number: int) -> Period:
    return Period("year", date(number, 1, 1), date(number, 12, 31))


def custom(start: date, end: date) -> Period:
    if end < start:
        raise InvalidPeriod(_l("The end date is before the start date."), field="end")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidPeriod(_l("A report covers at most 5 years: choose a shorter period."), field="end")
    return Period("custom", start, end)


def parse_period(text: str | None, *, start: str | None = None, end: str | None = None) -> Period:
    """The period an address or form names: ``text`` as "2026-11", "2026-Q2" or "2026", or
    ``start``/``end`` ISO dates for a custom range. Anything else is an :class:`InvalidPeriod`
    naming the field to fix."""
    text = (text or "").strip()
    if start or end or text == "custom":
        return custom(_iso(start, "start"), _iso(end, "end"))
    try:
        if found := _QUARTER.fullmatch(text):
            return quarter(_year_in_range(int(found.group(1))), int(found.group(2)))
        if found := _MONTH.fullmatch(text):
            number = int(found.group(2))
            if not 1 <= number <= 12:
                raise InvalidPeriod(_l("A month is 01 to 12, as in 2026-11."))
            return month(_year_in_range(int(found.group(1))), number)
        if _YEAR.fullmatch(text):
            return year(_year_in_range(int(text)))
    except ValueError:  # a date the calendar does not have
        pass
    raise InvalidPeriod(_l("Give a month (2026-11), a quarter (2026-Q2), a year (2026) or a start and end date."))


def _year_in_range(number: int) -> int:
    if not 2000 <= number <= 2100:
        raise InvalidPeriod(_l("Choose a year between 2000 and 2100."))
    return number


def _iso(value: str | None, field: str) -> date:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        raise InvalidPeriod(_l("Enter a date as YYYY-MM-DD."), field=field) from None
    if not 2000 <= day.year <= 2100:
        raise InvalidPeriod(_l("Choose a date between the years 2000 and 2100."), field=field)
    return day


def current_quarter(today: date) -> Period:
    return quarter(today.year, (today.month - 1) // 3 + 1)
