"""Step 1 of the delivery import: read an uploaded file (SPEC §2.9).

File-level problems (encoding, CSV syntax, header, size) raise :class:`ImportFileError`
(:mod:`portal.csv_files`); every data row's strings become typed values here — a date, a
time, a Decimal, whole minutes — with a row message naming the column when they do not
parse, so :func:`~portal.deliveries.operations.clean_delivery` later sees the same types a
form or the API hands it.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from typing import Any

from portal.csv_files import (
    META_PREFIX,
    ImportColumns,
    ImportFileError,
    ParsedFile,
    RowReader,
    check_header_line,
    parse_file,
)
from portal.deliveries.operations import MAX_SOURCE_ID_LENGTH
from portal.enrollments.csv.bulk import cycle_gc_paused
from portal.forms import parse_decimal
from portal.i18n import _, ngettext

__all__ = ["COLUMNS", "DeliveryRow", "ImportFileError", "ParsedFile", "check_header", "parse_csv"]

COLUMNS = ("participant", "kind", "occurred_on", "occurred_time", "quantity", "duration_minutes", "attendance",
           "source_id")
REQUIRED_COLUMNS = ("participant", "kind", "occurred_on")
HEADER = ImportColumns(COLUMNS, meta_example=META_PREFIX + "rating")
DEFAULT_MAX_ROWS = 200_000
EXAMPLE_COLUMNS = "participant, kind, occurred_on"
MAX_PARTICIPANT = 254  # the longest e-mail address
MAX_KIND = 100

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")
_MINUTES = re.compile(r"\d{1,6}")
_INTEGER = re.compile(r"-?(0|[1-9]\d{0,14})")


@dataclass(slots=True)
class DeliveryRow:
    """One data row, parsed. ``number`` is the spreadsheet row (the header is row 1)."""

    number: int
    participant: str = ""
    kind: str = ""
    occurred_on: date | None = None
    occurred_time: time | None = None
    quantity: Decimal | None = None  # None: the default (1)
    duration_minutes: int | None = None
    attendance: str | None = None
    source_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_header(cells: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Known column -> index and metadata key -> index, or ImportFileError naming the problem."""
    known, meta = HEADER.read_header(cells)
    missing = [c for c in REQUIRED_COLUMNS if c not in known]
    if missing:
        raise ImportFileError(ngettext("The header needs the column %(columns)s: every delivery names its participant, "
                                       "kind and date.", "The header needs the columns %(columns)s: every delivery "
                                       "names its participant, kind and date.", len(missing),
                                       columns=", ".join(missing)))
    return known, meta


def check_header(data: bytes) -> None:
    """The file-level checks that need only the first line, answered in the upload request
    itself before any job; :func:`parse_csv` makes them again with the rest."""
    check_header_line(data, read_header, EXAMPLE_COLUMNS)


@cycle_gc_paused()
def parse_csv(data: bytes, *, max_rows: int = DEFAULT_MAX_ROWS,
              progress: Callable[[int], None] | None = None) -> ParsedFile[DeliveryRow]:
    """Every row of an uploaded file, parsed; file-level problems raise ImportFileError.
    Row numbers are spreadsheet rows (header = row 1; blank lines skipped but counted)."""
    return parse_file(data, read_header=read_header, row_reader=RowParser, example=EXAMPLE_COLUMNS,
                      max_rows=max_rows, progress=progress)


def parse_date(text: str) -> date:
    """``YYYY-MM-DD`` only (ValueError otherwise): 03/04/2026 means different days in different countries."""
    if not _DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_time(text: str) -> time:
    """``HH:MM`` or ``HH:MM:SS``, 24-hour clock (ValueError otherwise)."""
    if not _TIME.fullmatch(text):
        raise ValueError(text)
    parts = [int(p) for p in text.split(":")]
    return time(*parts)


def meta_value(text: str) -> Any:
    """A metadata cell: a whole number written plainly (``5``, not ``05``) is stored as a
    number, as the form and the API store ``{"rating": 5}``; anything else as text."""
    return int(text) if _INTEGER.fullmatch(text) else text


def _longer(column: str, limit: int) -> str:
    """"kind is longer than 100 characters" (the column is the file's own name for it)."""
    return ngettext("%(column)s is longer than %(num)s character", "%(column)s is longer than %(num)s characters",
                    limit, column=column)


def _show(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


class RowParser(RowReader):
    """Parses the data rows of one file with plain code; problems are collected, not raised."""

    def __init__(self, known: dict[str, int], meta_columns: dict[str, int], width: int) -> None:
        super().__init__(known, meta_columns, width)
        self.dates: dict[str, date | None] = {}  # a file's dates repeat: parse each once

    def __call__(self, number: int, cells: list[str]) -> DeliveryRow:
        row = DeliveryRow(number)
        problems = row.problems
        value = self.values(cells, problems)
        if value is None:
            return row
        row.participant = value.get("participant", "")
        if not row.participant:
            problems.append(_("no participant: give the participant's e-mail, external_ref or reference"))
        elif len(row.participant) > MAX_PARTICIPANT:
            problems.append(_longer("participant", MAX_PARTICIPANT))
        row.kind = sys.intern(value.get("kind", ""))  # a file's kinds and attendances repeat: one string each
        if not row.kind:
            problems.append(_("no kind: name what happened, e.g. session_completed"))
        elif len(row.kind) > MAX_KIND:
            problems.append(_longer("kind", MAX_KIND))
        on = value.get("occurred_on", "")
        if not on:
            problems.append(_("no occurred_on: give the date it happened as YYYY-MM-DD"))
        else:
            if on not in self.dates:
                try:
                    self.dates[on] = parse_date(on)
                except ValueError:
                    self.dates[on] = None
            row.occurred_on = self.dates[on]
            if row.occurred_on is None:
                problems.append(_("occurred_on %(value)s is not a date written as YYYY-MM-DD (e.g. 2026-03-14)",
                                  value=_show(on)))
        if at := value.get("occurred_time"):
            try:
                row.occurred_time = parse_time(at)
            except ValueError:
                problems.append(_("occurred_time %(value)s is not a time such as 14:30", value=_show(at)))
        if quantity := value.get("quantity"):
            try:
                row.quantity = parse_decimal(quantity)
            except ValueError:
                problems.append(_("quantity %(value)s is not a number such as 1 or 2.5", value=_show(quantity)))
        if minutes := value.get("duration_minutes"):
            if _MINUTES.fullmatch(minutes):
                row.duration_minutes = int(minutes)
            else:
                problems.append(_("duration_minutes %(value)s is not a whole number of minutes", value=_show(minutes)))
        if attendance := value.get("attendance"):
            row.attendance = sys.intern(attendance.lower())
        if source_id := value.get("source_id"):
            if len(source_id) > MAX_SOURCE_ID_LENGTH:
                problems.append(_longer("source_id", MAX_SOURCE_ID_LENGTH))
            row.source_id = source_id
        self.read_metadata(cells, problems, row.meta, meta_value)
        return row
