"""Step 1 of the import: read an uploaded file (SPEC §4 "CSV import of enrollments").

File-level problems (encoding, CSV syntax, header, size) raise :class:`ImportFileError`;
every data row is parsed with plain code into an :class:`ImportRow` whose problems are
collected, not raised. A row's fields follow :mod:`portal.enrollments.participant_fields`,
the same rules as the participant forms and operations.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portal.auth.operations import normalize_email
from portal.csv_files import (
    ERRORS_FILE_COLUMNS,
    META_PREFIX,
    ImportColumns,
    ImportFileError,
    ParsedFile,
    RowReader,
    check_header_line,
    parse_file,
)
from portal.db import utcnow
from portal.enrollments.csv.bulk import cycle_gc_paused
from portal.enrollments.models import DEFAULT_LEGAL_BASIS, ROLES
from portal.enrollments.operations import BENEFICIARY
from portal.enrollments.participant_fields import (
    DISPLAY_NAME_MAX,
    EXTERNAL_REF_MAX,
    YEAR_OF_BIRTH_MIN,
    FieldProblem,
    clean_country,
    clean_email,
    clean_languages,
    clean_year_of_birth,
    this_year,
)
from portal.errors import ValidationFailed
from portal.i18n import _
from portal.privacy.consent import CONSENT, clean_legal_basis

__all__ = ["ImportFileError", "ImportRow", "ParsedFile", "check_header", "parse_csv"]

# --- columns ----------------------------------------------------------------------
IDENTITY_COLUMNS = ("email", "external_ref")
COLUMNS = ("email", "external_ref", "display_name", "role", "year_of_birth", "languages", "country", "source_id")
# Written by the export; accepted and ignored by the import, so an export can be re-imported.
EXPORT_ONLY_COLUMNS = ("status", "enrolled_at")
# Optional (SPEC §2.12): the enrollment's legal basis, and for consent the day it was given;
# left out, the enrollment is processed under legitimate interest. The export writes them.
LEGAL_BASIS_COLUMNS = ("legal_basis", "consent_given_on")
# Written by the export: when the person withdrew the consent. The import reads it only to
# refuse a row that would enroll someone under the consent they withdrew.
WITHDRAWN_COLUMN = "consent_withdrawn_at"
EXPORT_COLUMNS = (*COLUMNS, *EXPORT_ONLY_COLUMNS, *LEGAL_BASIS_COLUMNS, WITHDRAWN_COLUMN)
HEADER = ImportColumns((*COLUMNS, *LEGAL_BASIS_COLUMNS, WITHDRAWN_COLUMN),
                       ignored=(*EXPORT_ONLY_COLUMNS, *ERRORS_FILE_COLUMNS), meta_example=META_PREFIX + "starting_cefr")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

DEFAULT_MAX_ROWS = 200_000
EXAMPLE_COLUMNS = "email, display_name"
MAX_LENGTHS = {"display_name": DISPLAY_NAME_MAX, "external_ref": EXTERNAL_REF_MAX, "source_id": 100}


# --- parsing ----------------------------------------------------------------------
@dataclass(slots=True)
class ImportRow:
    """One data row, parsed. ``number`` is the spreadsheet row (the header is row 1)."""

    number: int
    email: str | None = None
    external_ref: str | None = None
    display_name: str | None = None
    role: str = BENEFICIARY
    role_given: bool = False  # False: the file has no role for this row (the importer's default applies)
    year_of_birth: int | None = None
    languages: list[str] = field(default_factory=list)
    country: str | None = None
    source_id: str | None = None
    legal_basis: str = DEFAULT_LEGAL_BASIS
    consent_given_on: date | None = None
    meta: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read_header(cells: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Known column -> index and metadata key -> index, or ImportFileError naming the problem."""
    known, meta = HEADER.read_header(cells)
    if not any(c in known for c in IDENTITY_COLUMNS):
        raise ImportFileError(_("The header needs an email or an external_ref column: one of them identifies each "
                                "participant."))
    return known, meta


def check_header(data: bytes) -> None:
    """The file-level checks that need only the first line, answered in the upload request
    itself before any job; :func:`parse_csv` makes them again with the rest."""
    check_header_line(data, read_header, EXAMPLE_COLUMNS)


@cycle_gc_paused()
def parse_csv(data: bytes, *, max_rows: int = DEFAULT_MAX_ROWS,
              progress: Callable[[int], None] | None = None) -> ParsedFile[ImportRow]:
    """Every row of an uploaded file, parsed; file-level problems raise ImportFileError.

    Blank lines are skipped but still counted, so row numbers match what a spreadsheet
    shows (header = row 1, first data row = row 2). ``progress(rows_parsed)`` is called
    every few thousand rows."""
    return parse_file(data, read_header=read_header, row_reader=RowParser, example=EXAMPLE_COLUMNS,
                      max_rows=max_rows, progress=progress)


class EmailNormalizer:
    """:func:`normalize_email` (the one e-mail rule) for a whole file, faster.

    Checking an address's domain (IDNA, special-use names) is most of the cost, and a
    file's addresses share a handful of domains. So each distinct domain goes through
    normalize_email once; later addresses with that domain and a plain ASCII dot-atom
    local part (the only local parts whose check is this one regex; anything else still
    goes through normalize_email) reuse the domain's normalized form."""

    _ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
    _LOCAL = re.compile(rf"{_ATOM}(?:\.{_ATOM})*")
    LOCAL_MAX, ADDRESS_MAX = 64, 254

    def __init__(self) -> None:
        self.domains: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        local, _, domain = raw.rpartition("@")
        plain_local = len(local) <= self.LOCAL_MAX and self._LOCAL.fullmatch(local) is not None
        known = self.domains.get(domain)
        if known is not None and plain_local and len(local) + 1 + len(known) <= self.ADDRESS_MAX:
            return f"{local}@{known}".lower()
        normalized = normalize_email(raw)  # raises DomainError with the reason
        if plain_local and raw == raw.strip():
            self.domains[domain] = normalized.rpartition("@")[2]
        return normalized


class RowParser(RowReader):
    """Parses the data rows of one file with plain code; problems are collected, not raised.
    A problem is text in the language the file is read in (the dry run's job runs in the
    language of whoever uploaded it), kept with the upload for the page and the errors file."""

    def __init__(self, known: dict[str, int], meta_columns: dict[str, int], width: int) -> None:
        super().__init__(known, meta_columns, width)
        self.normalize_email = EmailNormalizer()
        self.this_year = this_year()
        self.today = utcnow().date()
        self.seen: dict[tuple[Callable, str], Any] = {}

    def cleaned(self, clean: Callable[[str], Any], raw: str) -> Any:
        """``clean(raw)``, once per distinct value in the file: a file's languages, countries
        and years repeat, and rows then share one (never mutated) cleaned value, which
        saves a list per row (~20 MB per 100k rows). A FieldProblem is remembered too."""
        key = (clean, raw)
        if key not in self.seen:
            try:
                self.seen[key] = clean(raw)
            except FieldProblem as exc:
                self.seen[key] = exc
        found = self.seen[key]
        if isinstance(found, FieldProblem):
            raise found
        return found

    def __call__(self, number: int, cells: list[str]) -> ImportRow:
        row = ImportRow(number)
        problems = row.problems
        value = self.values(cells, problems)
        if value is None:
            return row
        email, ref = value.get("email"), value.get("external_ref")
        if email:
            try:
                row.email = clean_email(email, normalize=self.normalize_email)
            except FieldProblem as exc:
                problems.append(_("email %(value)s: %(problem)s", value=repr(email[:80]), problem=str(exc)))
        if ref:
            row.external_ref = ref
        if not email and not ref:
            problems.append(_("no email or external_ref: one of them identifies the participant"))
        row.display_name = value.get("display_name") or None
        row.source_id = value.get("source_id") or None
        if role := value.get("role"):
            role = role.lower()
            if role in ROLES:
                row.role, row.role_given = sys.intern(role), True  # one string for every row's role
            else:
                problems.append(_("role %(value)s is unknown: use beneficiary or volunteer", value=repr(role[:40])))
        if year := value.get("year_of_birth"):
            try:
                row.year_of_birth = self.cleaned(self.clean_year, year)
            except FieldProblem:
                problems.append(_("year_of_birth %(value)s is not a year between %(first)s and %(last)s",
                                  value=repr(year[:20]), first=YEAR_OF_BIRTH_MIN, last=self.this_year))
        if langs := value.get("languages"):
            try:
                row.languages = self.cleaned(clean_languages, langs)
            except FieldProblem as exc:
                problems.extend(_("languages: %(problem)s", problem=str(message)) for message in exc.messages)
        if country := value.get("country"):
            try:
                row.country = self.cleaned(clean_country, country)
            except FieldProblem as exc:
                problems.append(_("country: %(problem)s", problem=str(exc)))
        basis, given_on = value.get("legal_basis"), value.get("consent_given_on")
        if basis or given_on:
            self.legal_basis(row, basis, given_on)
        if value.get(WITHDRAWN_COLUMN) and row.legal_basis == CONSENT:  # an exported withdrawal, kept
            problems.append(_("%(column)s: %(problem)s", column=WITHDRAWN_COLUMN, problem=_(
                "The person withdrew this consent. Record their new consent in consent_given_on and empty this "
                "cell, or choose another legal basis.")))
        for name, limit in MAX_LENGTHS.items():
            text = value.get(name)
            if text and len(text) > limit:
                problems.append(_("%(column)s is longer than %(limit)s characters", column=name, limit=limit))
        self.read_metadata(cells, problems, row.meta)
        return row

    def legal_basis(self, row: ImportRow, basis: str | None, given_on: str | None) -> None:
        """The enrollment form's rule (:func:`~portal.privacy.consent.clean_legal_basis`) on
        the row's two cells; its problems become the row's."""
        day: Any = None
        if given_on:
            try:
                day = date.fromisoformat(given_on) if _DATE.fullmatch(given_on) else None
            except ValueError:
                day = None
            if day is None:
                row.problems.append(_("%(column)s: %(problem)s", column="consent_given_on",
                                      problem=_("Use a date as YYYY-MM-DD.")))
                return
        try:
            basis, day = clean_legal_basis((basis or "").strip().lower() or None, day, today=self.today)
        except ValidationFailed as exc:
            row.problems.extend(_("%(column)s: %(problem)s", column=column, problem=str(message))
                                for column, messages in exc.errors.items() for message in messages)
            return
        row.legal_basis, row.consent_given_on = sys.intern(basis), day

    def clean_year(self, raw: str) -> int | None:
        return clean_year_of_birth(raw, today_year=self.this_year)
