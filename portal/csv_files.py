"""Reading an uploaded CSV file, for every import (enrollments, deliveries): the file-level
checks and messages in one place (SPEC §4 "CSV import"; §7: every row is checked).

A file that cannot be read as a whole (empty, not UTF-8, NUL bytes, broken quoting, no
header, too many rows) raises :class:`ImportFileError` with a message for the upload
field; rows are handed to the caller's parser with their spreadsheet numbers (the header
is row 1, blank lines are skipped but counted), so each import collects its own row
problems.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from typing import Any, TypeVar

from portal.errors import DomainError

HEADER_BYTES = 64 * 1024  # the longest header line check_header reads
PROGRESS_EVERY_ROWS = 5_000
NOT_UTF8 = ("The file is not UTF-8 text (unreadable byte at position {position}). "
            "Save it as \"CSV UTF-8\" and upload it again.")
NO_HEADER = "The file has no header row. The first row names the columns (e.g. {example})."

H = TypeVar("H")
R = TypeVar("R")


class ImportFileError(DomainError):
    """The file as a whole cannot be read (encoding, CSV syntax, header, size)."""

    def __init__(self, message: str):
        super().__init__(message, "file")


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff_delimiter(text: str) -> str:
    """";" when the header line uses it and no comma (Excel in many locales), else ","."""
    first_line = text.split("\n", 1)[0]
    return ";" if ";" in first_line and "," not in first_line else ","


def decode_upload(data: bytes) -> str:
    """The file's text: UTF-8 (a BOM, Excel's "CSV UTF-8", is fine), not empty, no NUL bytes."""
    if not data or not data.strip():
        raise ImportFileError("The file is empty.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(NOT_UTF8.format(position=exc.start)) from None
    if "\x00" in text:
        raise ImportFileError("The file contains NUL bytes; it is not a CSV text file.")
    return text


def check_header_line(data: bytes, read_header: Callable[[list[str]], Any], example: str) -> None:
    """The checks that need only the first line, answered in the upload request itself
    before any job: empty file, not UTF-8 there, no header, unknown or missing columns
    (``read_header`` raises). The whole file is checked again when it is read."""
    if not data or not data.strip():
        raise ImportFileError("The file is empty.")
    first = data.lstrip(b"\r\n")[:HEADER_BYTES].split(b"\n", 1)[0]
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(NOT_UTF8.format(position=exc.start)) from None
    try:
        header = next(csv.reader([text.rstrip("\r")], delimiter=sniff_delimiter(text)), None)
    except csv.Error:
        return  # a header with odd quoting: reading the file reports it with its line
    if not header or not any(c.strip() for c in header):
        raise ImportFileError(NO_HEADER.format(example=example))
    read_header(header)


def read_rows(data: bytes, *, read_header: Callable[[list[str]], H], parse_row: Callable[[H, int, list[str]], R],
              example: str, max_rows: int, progress: Callable[[int], None] | None = None
              ) -> tuple[list[str], H, list[R]]:
    """Every data row of ``data`` parsed by ``parse_row(header_info, number, cells)``, in
    file order; ``read_header(cells)`` checks the header and returns what rows need.
    Returns the header's cells, ``read_header``'s answer and the parsed rows.
    ``progress(rows_parsed)`` is called every few thousand rows."""
    text = decode_upload(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    rows: list[R] = []
    try:
        header = next(reader, None)
        if not header or not any(c.strip() for c in header):
            raise ImportFileError(NO_HEADER.format(example=example))
        info = read_header(header)
        number = 1
        for cells in reader:
            number += 1
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise ImportFileError(f"The file has more than {max_rows:,} data rows. Split it into smaller files.")
            rows.append(parse_row(info, number, cells))
            if progress is not None and not len(rows) % PROGRESS_EVERY_ROWS:
                progress(len(rows))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV (line {reader.line_num}: {exc}). Check the quotes "
                              "around that line.") from None
    if not rows:
        raise ImportFileError("The file has a header but no data rows.")
    return [h.strip() for h in header], info, rows


def unescape_cell(cell: str) -> str:
    """Our exports prefix formula-like cells with an apostrophe; take it off again."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell

