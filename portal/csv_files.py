"""CSV files in and out, for every import (enrollments, deliveries) and export: the
file-level checks and messages in one place (SPEC §4 "CSV import"; §7: every row is checked).

A file that cannot be read as a whole (empty, too large, not UTF-8, NUL bytes, broken
quoting, no header, unknown columns, too many rows) raises :class:`ImportFileError` with a
message for the upload field; rows are handed to the import's row parser with their
spreadsheet numbers (the header is row 1, blank lines are skipped but counted), so each
import collects its own row problems. Cells written out are safe against formula injection
(:func:`neutralise`), and :func:`unescape_cell` takes that guard off again on the way in.

Messages are text in the language of whoever sends the file (an upload's checks run in their
request, a dry run in their job); the files written keep machine formats.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from portal.errors import DomainError
from portal.i18n import _, ngettext
from portal.i18n import number as show_number

HEADER_BYTES = 64 * 1024  # the longest header line check_header reads
# Written by a dry run's errors file; every import ignores them, so a corrected errors file uploads as it is.
ERRORS_FILE_COLUMNS = ("row", "reason")
META_PREFIX = "metadata."
MAX_META_VALUE = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY_ROWS = 5_000


def not_utf8(position: int) -> str:
    return _("The file is not UTF-8 text (unreadable byte at position %(position)s). Save it as \"CSV UTF-8\" and "
             "upload it again.", position=position)


def no_header(example: str) -> str:
    return _("The file has no header row. The first row names the columns (e.g. %(example)s).", example=example)


H = TypeVar("H")
R = TypeVar("R")


class ImportFileError(DomainError):
    """The file as a whole cannot be read (encoding, CSV syntax, header, size). The message is
    text as soon as it is raised (in the uploader's request or job), ready to keep with a job."""

    def __init__(self, message: str):
        super().__init__(str(message), "file")


def file_too_large(max_bytes: int) -> ImportFileError:
    """The refusal of an upload larger than ``max_bytes``."""
    if max_bytes >= 2**20:
        return ImportFileError(_("The file is larger than %(size)s MB. Split it into smaller files.",
                                 size=show_number(round(max_bytes / 2**20, 6))))
    return ImportFileError(_("The file is larger than %(size)s KB. Split it into smaller files.",
                             size=show_number(round(max_bytes / 2**10, 6))))


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff_delimiter(text: str) -> str:
    """";" when the header line uses it and no comma (Excel in many locales), else ","."""
    first_line = text.split("\n", 1)[0]
    return ";" if ";" in first_line and "," not in first_line else ","


def decode_upload(data: bytes) -> str:
    """The file's text: UTF-8 (a BOM, Excel's "CSV UTF-8", is fine), not empty, no NUL bytes."""
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(not_utf8(exc.start)) from None
    if "\x00" in text:
        raise ImportFileError(_("The file contains NUL bytes; it is not a CSV text file."))
    return text


def check_header_line(data: bytes, read_header: Callable[[list[str]], Any], example: str) -> None:
    """The checks that need only the first line, answered in the upload request itself
    before any job: empty file, not UTF-8 there, no header, unknown or missing columns
    (``read_header`` raises). The whole file is checked again when it is read."""
    if not data or not data.strip():
        raise ImportFileError(_("The file is empty."))
    first = data.lstrip(b"\r\n")[:HEADER_BYTES].split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(not_utf8(exc.start)) from None
    try:
        header = next(csv.reader([text.rstrip("\r")], delimiter=sniff_delimiter(text)), None)
    except csv.Error:
        return  # a header with odd quoting: reading the file reports it with its line
    if not header or not any(c.strip() for c in header):
        raise ImportFileError(no_header(example))
    read_header(header)


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def text_lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time, ending as ``io.StringIO(text, newline="")`` ends
    them (``\n``, ``\r\n`` or ``\r``, kept), for ``csv.reader``. A StringIO copies the
    whole text into a buffer of 4 bytes per character: 40 MB more for a 10 MB file."""
    return (match.group() for match in _LINE.finditer(text))


def read_rows(data: bytes, *, read_header: Callable[[list[str]], H], parse_row: Callable[[H, int, list[str]], R],
              example: str, max_rows: int, progress: Callable[[int], None] | None = None
              ) -> tuple[list[str], H, list[R]]:
    """Every data row of ``data`` parsed by ``parse_row(header_info, number, cells)``, in
    file order; ``read_header(cells)`` checks the header and returns what rows need.
    Returns the header's cells, ``read_header``'s answer and the parsed rows.
    ``progress(rows_parsed)`` is called every few thousand rows."""
    text = decode_upload(data)
    reader = csv.reader(text_lines(text), delimiter=sniff_delimiter(text), strict=True)
    rows: list[R] = []
    try:
        header = next(reader, None)
        if not header or not any(c.strip() for c in header):
            raise ImportFileError(no_header(example))
        info = read_header(header)
        number = 1
        for cells in reader:
            number += 1
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise ImportFileError(_("The file has more than %(rows)s data rows. Split it into smaller files.",
                                        rows=show_number(max_rows)))
            rows.append(parse_row(info, number, cells))
            if progress is not None and not len(rows) % PROGRESS_EVERY_ROWS:
                progress(len(rows))
    except csv.Error as exc:
        raise ImportFileError(_("The file is not valid CSV (line %(line)s: %(problem)s). Check the quotes around "
                                "that line.", line=reader.line_num, problem=exc)) from None
    if not rows:
        raise ImportFileError(_("The file has a header but no data rows."))
    return [h.strip() for h in header], info, rows


# --- an import's header and rows -----------------------------------------------------
@dataclass(frozen=True)
class ImportColumns:
    """The header an import reads: its columns, the ones it accepts and ignores, and any
    number of ``metadata.<key>`` columns. Names are case-insensitive."""

    names: tuple[str, ...]
    ignored: tuple[str, ...] = ERRORS_FILE_COLUMNS
    meta_example: str = "metadata.note"  # named in the message about a metadata column without a key

    def read_header(self, cells: list[str]) -> tuple[dict[str, int], dict[str, int]]:
        """Known column -> index and metadata key -> index, or ImportFileError naming the problem.
        Which columns an import needs is its own check, after this one."""
        known: dict[str, int] = {}
        meta: dict[str, int] = {}
        unknown: list[str] = []
        seen: set[str] = set()
        for index, raw in enumerate(cells):
            name = raw.strip()
            lowered = name.lower()
            if not name:
                raise ImportFileError(_("Column %(number)s of the header has no name. Every column needs one.",
                                        number=index + 1))
            if lowered in seen:
                raise ImportFileError(_("The header names the column %(name)s twice.", name=repr(name)))
            seen.add(lowered)
            if lowered in self.names:
                known[lowered] = index
            elif lowered in self.ignored:
                continue
            elif lowered.startswith(META_PREFIX):
                key = name[len(META_PREFIX):].strip()
                if not key:
                    raise ImportFileError(_("Column %(number)s is %(name)s: name the metadata key, e.g. "
                                            "%(example)s.", number=index + 1, name=repr(name),
                                            example=self.meta_example))
                meta[key] = index
            else:
                unknown.append(name)
        if unknown:
            raise ImportFileError(ngettext(
                "Unknown column %(columns)s. Allowed: %(allowed)s and metadata.<key>.",
                "Unknown columns %(columns)s. Allowed: %(allowed)s and metadata.<key>.", len(unknown),
                columns=", ".join(repr(u) for u in unknown), allowed=", ".join(self.names)))
        return known, meta


class RowReader:
    """What every import's row parser does first: check a row's width against the header,
    read its known cells (trimmed, our export's formula guard taken off) and its metadata
    cells. Problems are collected on the row, not raised."""

    def __init__(self, known: dict[str, int], meta_columns: dict[str, int], width: int) -> None:
        self.known, self.meta_columns, self.width = list(known.items()), list(meta_columns.items()), width

    def values(self, cells: list[str], problems: list[str]) -> dict[str, str] | None:
        """The known columns' cells by name; None (and a problem) for a row of the wrong width."""
        if len(cells) != self.width:
            problems.append(_("the row has %(values)s but the header has %(columns)s",
                              values=ngettext("%(count)s value", "%(count)s values", len(cells),
                                              count=show_number(len(cells))),
                              columns=ngettext("%(count)s column", "%(count)s columns", self.width,
                                               count=show_number(self.width))))
            return None
        return {name: unescape_cell(cells[index].strip()) for name, index in self.known}

    def read_metadata(self, cells: list[str], problems: list[str], meta: dict[str, Any],
                      value: Callable[[str], Any] = str) -> None:
        """The row's non-empty ``metadata.<key>`` cells into ``meta``, each through ``value``."""
        for key, index in self.meta_columns:
            text = unescape_cell(cells[index].strip())
            if text:
                if len(text) > MAX_META_VALUE:
                    problems.append(_("metadata.%(key)s is longer than %(limit)s characters", key=key,
                                      limit=MAX_META_VALUE))
                meta[key] = value(text)


@dataclass
class ParsedFile(Generic[R]):
    """Every data row of an uploaded file, parsed, with what the dry run keeps about the file."""

    rows: list[R]
    sha256: str
    columns: list[str]
    meta_keys: list[str]


def parse_file(data: bytes, *, read_header: Callable[[list[str]], tuple[dict[str, int], dict[str, int]]],
               row_reader: Callable[[dict[str, int], dict[str, int], int], RowReader], example: str,
               max_rows: int, progress: Callable[[int], None] | None = None) -> ParsedFile:
    """Every row of an uploaded file through the import's ``row_reader`` (built from the
    header ``read_header`` checked and called with each row's number and cells);
    file-level problems raise ImportFileError."""
    def header(cells: list[str]) -> RowReader:
        known, meta_columns = read_header(cells)
        return row_reader(known, meta_columns, len(cells))

    columns, reader, rows = read_rows(data, read_header=header, parse_row=lambda r, n, cells: r(n, cells),
                                      example=example, max_rows=max_rows, progress=progress)
    return ParsedFile(rows=rows, sha256=file_sha256(data), columns=columns,
                      meta_keys=[key for key, _ in reader.meta_columns])


def unescape_cell(cell: str) -> str:
    """Our exports prefix formula-like cells with an apostrophe; take it off again."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


# --- writing ----------------------------------------------------------------------
def neutralise(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(cells: Iterable[Any]) -> str:
    return csv_lines([cells])


def csv_lines(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([neutralise(c) for c in cells] for cells in rows)
    return buffer.getvalue()


def errors_csv(data: bytes, reasons: dict[int, str]) -> Iterator[str]:
    """A dry run's error rows as a file to correct and upload again: ``row`` (the row's
    number in the uploaded file, header = row 1) and ``reason``, then every column of the
    uploaded file in its own header order with the row's cells as they were. Every import
    ignores ``row`` and ``reason``, so the corrected file parses with the same columns.
    A previous errors file's own ``row``/``reason`` columns are replaced, not repeated.

    ``data`` is the uploaded file (it parsed, so it decodes); ``reasons`` the reason of
    each error row by its number."""
    text = data.decode("utf-8-sig")
    records = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header = next(records)
    kept = [i for i, name in enumerate(header) if name.strip().lower() not in ERRORS_FILE_COLUMNS]
    width = len(header)
    yield "\ufeff" + csv_line(["row", "reason", *(header[i] for i in kept)])
    lines: list[str] = []
    for number, cells in enumerate(records, start=2):  # numbered as read_rows numbers them
        if number not in reasons:
            continue
        # A row of the wrong width keeps every cell it has, as it was: its reason says what to fix.
        own = [cells[i] for i in kept if i < len(cells)] + cells[width:]
        lines.append(csv_line([number, reasons[number], *own]))
        if len(lines) >= 1000:
            yield "".join(lines)
            lines = []
    yield "".join(lines)

