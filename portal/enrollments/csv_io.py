"""CSV import and export of a campaign's enrollments (SPEC §4 "CSV import of enrollments", §7).

The import runs in three steps, each one function, and the same functions serve the
screen, the benchmark and the tests:

* :func:`parse_csv` — file-level checks (UTF-8, header, size), then every row parsed
  with plain code (no form object per row: that alone would cost ~9 s per 100k rows).
* :func:`plan_import` — the dry run. Participants are matched in bulk (chunked IN
  queries), then :func:`plan_rows`, a pure function, decides every row's outcome with
  the same rules and order as :func:`~portal.enrollments.operations.enroll_participant`
  (it reuses ``eligibility`` and ``seats_allow``), simulating capacity in file order.
  Nothing is written.
* :func:`apply_import` — inside the caller's one write transaction: lock the campaign,
  plan again, refuse (:class:`ImportChanged`) when the plan is not the one the user saw,
  otherwise bulk-insert participants and enrollments, move the counters with one
  conditional UPDATE and write one summary event.

Uploads wait between dry run and confirm in :class:`ImportUploads` (instance folder,
unguessable tokens, bound to user and campaign, one hour). :func:`export_csv` streams a
campaign's enrollments back out in the same columns, pseudonymised for company admins
and safe against formula injection.
"""
from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.activity.operations import record_event
from portal.auth.models import Company, User
from portal.auth.operations import normalize_email
from portal.campaigns.capacity import CapacityReached, lock_campaign, move_counters, note_capacity_reached, seats_allow
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.enrollments.models import _REF_ALPHABET, ROLES, Enrollment, Participant
from portal.enrollments.operations import (
    BENEFICIARY,
    ENROLLED,
    VOLUNTEER,
    WAITLISTED,
    eligibility,
    same_owner,
)
from portal.enrollments.privacy import BENEFICIARIES_BY_PROGRAM_TEAM, company_reference, may_see_identity
from portal.enrollments.rollup import count_enrollment_days
from portal.errors import DomainError
from portal.lifecycle import ACTIVE
from portal.reference import countries, country_problem, language_problem, languages

# --- columns ----------------------------------------------------------------------
IDENTITY_COLUMNS = ("email", "external_ref")
COLUMNS = ("email", "external_ref", "display_name", "role", "year_of_birth", "languages", "country", "source_id")
# Written by the export; accepted and ignored by the import, so an export can be re-imported.
EXPORT_ONLY_COLUMNS = ("status", "enrolled_at")
EXPORT_COLUMNS = (*COLUMNS, *EXPORT_ONLY_COLUMNS)
META_PREFIX = "metadata."

DEFAULT_MAX_ROWS = 200_000
MAX_LENGTHS = {"display_name": 255, "external_ref": 100, "source_id": 100}
MAX_META_VALUE = 1000
_LANGUAGE_SEPARATORS = re.compile(r"[;,]")
LOOKUP_CHUNK = 1000

# Outcomes, in the order the screen lists their counts.
ENROLL, WAITLIST, ALREADY, ERROR = "enroll", "waitlist", "already", "error"
OUTCOMES = (ENROLL, WAITLIST, ALREADY, ERROR)
OUTCOME_LABELS = {ENROLL: "will enroll", WAITLIST: "will waitlist", ALREADY: "already enrolled", ERROR: "error"}

CHANGED_MESSAGE = ("The campaign changed since your dry run (seats, status or participants), so nothing was "
                   "imported. Below is the dry run as of now; confirm again if it is still what you want.")


class ImportFileError(DomainError):
    """The file as a whole cannot be read (encoding, CSV syntax, header, size)."""

    def __init__(self, message: str):
        super().__init__(message, "file")


class ImportChanged(DomainError):
    """The plan at confirm time is not the dry run the user saw: nothing was written."""

    status_code = 409

    def __init__(self) -> None:
        super().__init__(CHANGED_MESSAGE, None)


class ImportHasErrors(DomainError):
    def __init__(self) -> None:
        super().__init__("A file with error rows cannot be imported. Correct the rows and upload it again.", "file")


# --- parsing ----------------------------------------------------------------------
@contextmanager
def cycle_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during bulk work.

    Parsing, planning and inserting 100k rows keep a million container objects alive,
    and the collector would rescan them again and again (measured on the 100k-row
    confirm: 9–13 s with it, under 6 s without). Reference counting still frees
    everything at once; only reference cycles wait until the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    meta: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    rows: list[ImportRow]
    sha256: str
    columns: list[str]
    meta_keys: list[str]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _unescape(cell: str) -> str:
    # Our export prefixes formula-like cells with an apostrophe; take it off again.
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r":
        return cell[1:]
    return cell


def read_header(cells: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Known column -> index and metadata key -> index, or ImportFileError naming the problem."""
    known: dict[str, int] = {}
    meta: dict[str, int] = {}
    unknown: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(cells):
        name = raw.strip()
        lowered = name.lower()
        if not name:
            raise ImportFileError(f"Column {index + 1} of the header has no name. Every column needs one.")
        if lowered in seen:
            raise ImportFileError(f"The header names the column {name!r} twice.")
        seen.add(lowered)
        if lowered in COLUMNS:
            known[lowered] = index
        elif lowered in EXPORT_ONLY_COLUMNS:
            continue
        elif lowered.startswith(META_PREFIX):
            key = name[len(META_PREFIX):].strip()
            if not key:
                raise ImportFileError(f"Column {index + 1} is {name!r}: name the metadata key, e.g. metadata.starting_cefr.")
            meta[key] = index
        else:
            unknown.append(name)
    if unknown:
        raise ImportFileError(
            "Unknown column" + ("s " if len(unknown) > 1 else " ") + ", ".join(repr(u) for u in unknown)
            + ". Allowed: " + ", ".join(COLUMNS) + " and metadata.<key>."
        )
    if not any(c in known for c in IDENTITY_COLUMNS):
        raise ImportFileError("The header needs an email or an external_ref column: one of them identifies each "
                              "participant.")
    return known, meta


@cycle_gc_paused()
def parse_csv(data: bytes, *, max_rows: int = DEFAULT_MAX_ROWS) -> ParsedFile:
    """Every row of an uploaded file, parsed; file-level problems raise ImportFileError.

    Blank lines are skipped but still counted, so row numbers match what a spreadsheet
    shows (header = row 1, first data row = row 2)."""
    if not data or not data.strip():
        raise ImportFileError("The file is empty.")
    try:
        text = data.decode("utf-8-sig")  # a UTF-8 BOM (Excel's "CSV UTF-8") is fine
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"The file is not UTF-8 text (unreadable byte at position {exc.start}). "
                              "Save it as \"CSV UTF-8\" and upload it again.") from None
    if "\x00" in text:
        raise ImportFileError("The file contains NUL bytes; it is not a CSV text file.")
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","  # Excel in many locales
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[ImportRow] = []
    try:
        header = next(reader, None)
        if not header or not any(c.strip() for c in header):
            raise ImportFileError("The file has no header row. The first row names the columns (e.g. email, "
                                  "display_name).")
        known, meta_columns = read_header(header)
        parse_row = RowParser(known, meta_columns, len(header))
        number = 1
        for cells in reader:
            number += 1
            if not cells or not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise ImportFileError(f"The file has more than {max_rows:,} data rows. Split it into smaller files.")
            rows.append(parse_row(number, cells))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV (line {reader.line_num}: {exc}). Check the quotes "
                              "around that line.") from None
    if not rows:
        raise ImportFileError("The file has a header but no data rows.")
    return ParsedFile(rows=rows, sha256=file_sha256(data), columns=[h.strip() for h in header],
                      meta_keys=list(meta_columns))


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


class RowParser:
    """Parses the data rows of one file with plain code; problems are collected, not raised."""

    def __init__(self, known: dict[str, int], meta_columns: dict[str, int], width: int) -> None:
        self.known, self.meta_columns, self.width = list(known.items()), list(meta_columns.items()), width
        self.normalize_email = EmailNormalizer()
        self.this_year = datetime.now(UTC).year
        self.languages, self.countries = languages(), countries()

    def __call__(self, number: int, cells: list[str]) -> ImportRow:
        row = ImportRow(number)
        problems = row.problems
        if len(cells) != self.width:
            problems.append(f"the row has {len(cells)} values but the header has {self.width} columns")
            return row
        value = {name: _unescape(cells[index].strip()) for name, index in self.known}
        email, ref = value.get("email"), value.get("external_ref")
        if email:
            try:
                row.email = self.normalize_email(email)
            except DomainError as exc:
                problems.append(f"email {email[:80]!r}: {exc.message}")
        if ref:
            row.external_ref = ref
        if not email and not ref:
            problems.append("no email or external_ref: one of them identifies the participant")
        row.display_name = value.get("display_name") or None
        row.source_id = value.get("source_id") or None
        if role := value.get("role"):
            role = role.lower()
            if role in ROLES:
                row.role, row.role_given = role, True
            else:
                problems.append(f"role {role[:40]!r} is unknown: use beneficiary or volunteer")
        if year := value.get("year_of_birth"):
            if year.isdigit() and 1900 <= int(year) <= self.this_year:
                row.year_of_birth = int(year)
            else:
                problems.append(f"year_of_birth {year[:20]!r} is not a year between 1900 and {self.this_year}")
        if langs := value.get("languages"):
            codes: list[str] = []
            for code in _LANGUAGE_SEPARATORS.split(langs.lower()):
                code = code.strip()
                if not code or code in codes:
                    continue
                if code in self.languages:
                    codes.append(code)
                else:
                    problems.append(f"languages: {language_problem(code[:20])}")
            row.languages = codes
        if country := value.get("country"):
            country = country.upper()
            if country in self.countries:
                row.country = country
            else:
                problems.append(f"country: {country_problem(country[:20])}")
        for name, limit in MAX_LENGTHS.items():
            text = value.get(name)
            if text and len(text) > limit:
                problems.append(f"{name} is longer than {limit} characters")
        for key, index in self.meta_columns:
            text = _unescape(cells[index].strip())
            if text:
                if len(text) > MAX_META_VALUE:
                    problems.append(f"metadata.{key} is longer than {MAX_META_VALUE} characters")
                row.meta[key] = text
        return row


# --- planning (the dry run) -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class KnownParticipant:
    """The columns of an existing participant the plan needs (loaded in bulk, no ORM objects)."""

    id: int
    email: str | None
    external_ref: str | None
    is_enabled: bool
    company_id: int | None
    year_of_birth: int | None
    languages: list[str]


@dataclass(frozen=True)
class CampaignState:
    """What the plan depends on. Its fingerprint, taken at the dry run, must be unchanged at confirm."""

    campaign_id: int
    company_id: int
    status: str
    program_status: str
    template_status: str
    enrolled_count: int
    waitlisted_count: int
    max_enrollment: int | None
    waitlist_enabled: bool
    seat_price: int | None
    budget_allocated: int | None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignState:
        program = campaign.program
        return cls(campaign.id, campaign.company_id, campaign.status, program.status, program.template.status,
                   campaign.enrolled_count, campaign.waitlisted_count, campaign.max_enrollment,
                   bool(campaign.waitlist_enabled), campaign.seat_price, campaign.budget_allocated)

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()

    def refusal(self) -> str | None:
        """Why no row can be enrolled, or None (the first check of enroll_participant)."""
        if self.status != ACTIVE or self.program_status != ACTIVE:
            return (f"campaign is not accepting enrollments (status: campaign {self.status}, "
                    f"program {self.program_status})")
        if self.template_status == "archived":
            return "campaign is not accepting enrollments (the program's template version is archived)"
        return None


@dataclass(slots=True)
class _Seats:
    """A copy of the campaign's capacity counters that seats_allow() can read."""

    max_enrollment: int | None
    enrolled_count: int
    seat_price: int | None
    budget_allocated: int | None


@dataclass(slots=True)
class RowPlan:
    number: int
    outcome: str
    reason: str
    row: ImportRow
    participant_id: int | None = None  # an existing participant; None creates one (enroll/waitlist rows)

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]

    @property
    def creates_participant(self) -> bool:
        return self.participant_id is None and self.outcome in (ENROLL, WAITLIST)


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    state: CampaignState
    file_sha256: str
    meta_keys: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for plan in self.rows:
            counts[plan.outcome] += 1
        return counts

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def errors(self) -> list[RowPlan]:
        return [p for p in self.rows if p.outcome == ERROR]

    @property
    def has_errors(self) -> bool:
        return any(p.outcome == ERROR for p in self.rows)

    @property
    def fingerprint(self) -> str:
        return self.state.fingerprint()

    @property
    def digest(self) -> str:
        """Every row's outcome and target participant: equal digests mean the same writes."""
        h = hashlib.sha256(self.file_sha256.encode())
        for p in self.rows:
            h.update(f"{p.number}|{p.outcome}|{p.participant_id or '-'}|{p.row.role}\n".encode())
        return h.hexdigest()

    def shown_rows(self, limit: int = 200) -> list[RowPlan]:
        """The first ``limit`` rows, then every later error row."""
        return self.rows[:limit] + [p for p in self.rows[limit:] if p.outcome == ERROR]


def plan_rows(rows: Iterable[ImportRow], *, state: CampaignState, group: Any,
              by_email: dict[str, KnownParticipant], by_ref: dict[str, KnownParticipant],
              enrollment_status: dict[int, str], today_year: int | None = None,
              enroller_company_id: int | None = None) -> list[RowPlan]:
    """Decide every row, in file order, without touching the database.

    Same checks and order as enroll_participant: campaign and program active; the
    participant (matched by e-mail, then external_ref; ambiguous or conflicting pairs,
    duplicates within the file and deactivated participants are errors); already
    enrolled (an outcome); volunteers' company; beneficiaries' eligibility; capacity on
    a copy of the counters — a seat, else the waitlist when on, else "campaign full".

    ``enroller_company_id`` is set when a company admin imports: then every row must be a
    volunteer (a beneficiary row is an error: the program team enrolls beneficiaries), and
    ``by_email``/``by_ref`` hold only that company's employees, so a row about anyone else
    reads exactly like a row about a new person."""
    today_year = today_year or datetime.now(UTC).year
    refusal = state.refusal()
    seats = _Seats(state.max_enrollment, state.enrolled_count, state.seat_price, state.budget_allocated)
    first_email: dict[str, int] = {}
    first_ref: dict[str, int] = {}
    first_participant: dict[int, int] = {}
    plans: list[RowPlan] = []
    for row in rows:
        reasons = [refusal] if refusal else []
        reasons += row.problems
        if enroller_company_id is not None and not row.role_given:
            row.role = VOLUNTEER  # a company's file is about its own volunteers
        if enroller_company_id is not None and row.role != VOLUNTEER:
            reasons.append(BENEFICIARIES_BY_PROGRAM_TEAM[:1].lower() + BENEFICIARIES_BY_PROGRAM_TEAM[1:-1])
        duplicate = False
        if row.email:
            if (earlier := first_email.get(row.email)) is not None:
                reasons.append(f"duplicate of row {earlier} (same email)")
                duplicate = True
            else:
                first_email[row.email] = row.number
        if row.external_ref:
            if (earlier := first_ref.get(row.external_ref)) is not None:
                reasons.append(f"duplicate of row {earlier} (same external_ref)")
                duplicate = True
            else:
                first_ref[row.external_ref] = row.number
        by_mail = by_email.get(row.email) if row.email else None
        by_reference = by_ref.get(row.external_ref) if row.external_ref else None
        participant: KnownParticipant | None = None
        if by_mail is not None and by_reference is not None and by_mail.id != by_reference.id:
            reasons.append("ambiguous: the email matches one participant and the external_ref another")
        else:
            participant = by_mail or by_reference
            if participant is not None:
                if by_mail is not None and row.external_ref and by_mail.external_ref not in (None, row.external_ref):
                    reasons.append("conflict: the email belongs to a participant with a different external_ref")
                elif by_reference is not None and row.email and by_reference.email not in (None, row.email):
                    reasons.append("conflict: the external_ref belongs to a participant with a different email")
                if (earlier := first_participant.get(participant.id)) is not None:
                    if not duplicate:
                        reasons.append(f"duplicate of row {earlier} (same participant)")
                else:
                    first_participant[participant.id] = row.number
                if not participant.is_enabled:
                    reasons.append("participant is deactivated")
        if reasons:
            plans.append(RowPlan(row.number, ERROR, "; ".join(reasons), row))
            continue
        if participant is not None and (status := enrollment_status.get(participant.id)) is not None:
            plans.append(RowPlan(row.number, ALREADY, f"already in this campaign ({status})", row, participant.id))
            continue
        pid = participant.id if participant is not None else None
        who = "existing participant" if participant is not None else "new participant"
        if participant is None and not row.display_name:
            plans.append(RowPlan(row.number, ERROR, "a new participant needs a display_name", row))
            continue
        if row.role == VOLUNTEER:
            if participant is not None and participant.company_id not in (None, state.company_id):
                plans.append(RowPlan(row.number, ERROR, "volunteer belongs to another company", row, pid))
            else:
                plans.append(RowPlan(row.number, ENROLL, f"{who}; volunteers are not capped", row, pid))
            continue
        year = participant.year_of_birth if participant is not None else row.year_of_birth
        langs = participant.languages if participant is not None else row.languages
        check = eligibility(group, year_of_birth=year, languages=langs, today_year=today_year)
        if not check.eligible:
            plans.append(RowPlan(row.number, ERROR, "not eligible: " + " ".join(check.reasons), row, pid))
        elif seats_allow(seats):  # type: ignore[arg-type]  (a copy of the counters)
            seats.enrolled_count += 1
            plans.append(RowPlan(row.number, ENROLL, who, row, pid))
        elif state.waitlist_enabled:
            plans.append(RowPlan(row.number, WAITLIST, f"{who}; the campaign is full (capacity or budget)", row, pid))
        else:
            plans.append(RowPlan(row.number, ERROR, "campaign full (capacity or budget) and it has no waitlist",
                                 row, pid))
    return plans


def _chunks(values: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _in_chunks(column: Any, values: Iterable[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """``column IN values`` as a few WHERE clauses: lists of 1,000 on SQLite; on PostgreSQL
    one array parameter per 10,000 values (``= ANY(…)`` is 5–7× faster there than long IN
    lists, measured on 100k e-mails)."""
    values = sorted(set(values))
    if db.session.get_bind().dialect.name == "postgresql":
        for chunk in _chunks(values, 10 * LOOKUP_CHUNK):
            yield column == sa.any_(sa.bindparam(None, chunk, type_=postgresql.ARRAY(column.type)))
    else:
        for chunk in _chunks(values):
            yield column.in_(chunk)


_KNOWN_COLUMNS = (Participant.id, Participant.email, Participant.external_ref, Participant.is_enabled,
                  Participant.company_id, Participant.year_of_birth, Participant.languages)


def find_known_participants(emails: Iterable[str], refs: Iterable[str], owner_company_id: int | None = None
                            ) -> tuple[dict[str, KnownParticipant], dict[str, KnownParticipant]]:
    """One owner's participants (the NGO's, or one company's employees) by normalised
    e-mail and by external_ref, in chunked IN queries. Nobody outside that owner is read."""
    by_email: dict[str, KnownParticipant] = {}
    by_ref: dict[str, KnownParticipant] = {}
    for column, values, target in ((Participant.email, emails, by_email), (Participant.external_ref, refs, by_ref)):
        for where in _in_chunks(column, values):
            for r in db.session.execute(sa.select(*_KNOWN_COLUMNS).where(where, same_owner(owner_company_id))):
                known = KnownParticipant(r.id, r.email, r.external_ref, bool(r.is_enabled), r.company_id,
                                         r.year_of_birth, list(r.languages or []))
                target[known.email if column is Participant.email else known.external_ref] = known  # type: ignore
    return by_email, by_ref


@cycle_gc_paused()
def plan_import(campaign: Campaign, parsed: ParsedFile, viewer: User | None = None) -> ImportPlan:
    """The dry run: every row's outcome against the campaign as it is now. Reads only.
    A company admin ``viewer``'s rows are matched among its own employees only."""
    rows = parsed.rows
    owner = importer_company_id(viewer)
    by_email, by_ref = find_known_participants((r.email for r in rows if r.email),
                                               (r.external_ref for r in rows if r.external_ref), owner)
    ids = {p.id for p in by_email.values()} | {p.id for p in by_ref.values()}
    enrollment_status: dict[int, str] = {}
    for where in _in_chunks(Enrollment.participant_id, ids):
        enrollment_status.update(db.session.execute(
            sa.select(Enrollment.participant_id, Enrollment.status)
            .where(Enrollment.campaign_id == campaign.id, where)).tuples().all())
    state = CampaignState.of(campaign)
    plans = plan_rows(rows, state=state, group=campaign.program.group, by_email=by_email, by_ref=by_ref,
                      enrollment_status=enrollment_status, enroller_company_id=owner)
    return ImportPlan(plans, state, parsed.sha256, parsed.meta_keys)


def importer_company_id(viewer: User | None) -> int | None:
    """The owner an importer works in: a company admin its company; otherwise the NGO (None)."""
    return viewer.company_id if viewer is not None and viewer.is_company_admin else None


# --- applying (the confirm) -------------------------------------------------------
@dataclass
class ImportResult:
    rows: int
    enrolled: int
    waitlisted: int
    already: int
    participants_created: int

    @property
    def message(self) -> str:
        if not self.enrolled and not self.waitlisted:
            return f"Nothing to import: all {self.rows:,} rows are already enrolled."
        return (f"Imported {self.rows:,} rows: {self.enrolled:,} enrolled, {self.waitlisted:,} waitlisted, "
                f"{self.already:,} already enrolled ({self.participants_created:,} new participants).")


def _fresh_refs(count: int) -> list[str]:
    """``count`` participant refs unused in the batch and in the database.

    Same format and alphabet as :func:`new_participant_ref` ("P-" and 7 of its 32
    characters), drawn in one ``secrets.token_bytes`` call: 700k separate
    ``secrets.choice`` calls would take a second per 100k rows. A byte modulo 32 is
    uniform (256 = 8 × 32). Seven characters collide often enough across 100k rows
    (~15 %) to need the checks below."""
    alphabet = _REF_ALPHABET
    refs: set[str] = set()
    while len(refs) < count:
        wanted = count - len(refs)
        noise = secrets.token_bytes(7 * wanted)
        candidates = {"P-" + "".join(alphabet[b & 31] for b in noise[i:i + 7]) for i in range(0, len(noise), 7)}
        candidates -= refs
        taken: set[str] = set()
        for where in _in_chunks(Participant.ref, candidates):
            taken.update(db.session.scalars(sa.select(Participant.ref).where(where)))
        refs |= candidates - taken
    return list(refs)


@cycle_gc_paused()
def apply_import(actor: User | None, campaign_id: int, parsed: ParsedFile, *, expected_fingerprint: str,
                 expected_digest: str) -> ImportResult:
    """Import a dry-run file: all rows or none. Call inside ``transaction()``.

    The campaign is locked and the file planned again; when the campaign's state or any
    row's outcome differs from the dry run the user confirmed, ImportChanged is raised
    (the caller's transaction rolls back, nothing is written). Otherwise participants
    and enrollments are bulk-inserted, the counters move with ONE conditional UPDATE
    guarded by cap and budget (a refusal also raises ImportChanged), and the import is
    recorded as ONE summary ``program.enrollment.created`` event with data
    ``{"import": true, "rows": n, "enrolled": a, "waitlisted": w, …}`` (plus
    ``program.campaign.capacity_reached`` when the cap is reached) — deliberately no event
    per row: 100k events would double the import's time and swamp the activity log."""
    campaign = lock_campaign(campaign_id)
    plan = plan_import(campaign, parsed, actor)
    if plan.fingerprint != expected_fingerprint or plan.digest != expected_digest:
        raise ImportChanged()
    if plan.has_errors:
        raise ImportHasErrors()
    counts = plan.counts
    result = ImportResult(plan.total, counts[ENROLL], counts[WAITLIST], counts[ALREADY], 0)
    todo = [p for p in plan.rows if p.outcome in (ENROLL, WAITLIST)]
    if not todo:
        return result  # re-importing the same file adds nothing, not even an event
    now = utcnow()
    session = db.session
    new = [p for p in todo if p.creates_participant]
    if new:
        refs = _fresh_refs(len(new))
        values = [{
            "ref": ref, "display_name": p.row.display_name, "email": p.row.email,
            "year_of_birth": p.row.year_of_birth, "languages": p.row.languages, "country": p.row.country,
            "external_ref": p.row.external_ref, "company_id": importer_company_id(actor), "is_enabled": True,
            "lock_version": 1,
            "created_at": now, "updated_at": now,
        } for p, ref in zip(new, refs, strict=True)]
        session.execute(sa.insert(Participant), values)
        # Read the new ids back by ref: 3x faster than INSERT … RETURNING for 100k rows.
        ids: dict[str, int] = {}
        for where in _in_chunks(Participant.ref, refs):
            ids.update(session.execute(sa.select(Participant.ref, Participant.id).where(where)).tuples().all())
        for p, ref in zip(new, refs, strict=True):
            p.participant_id = ids[ref]
        result.participants_created = len(new)
    session.execute(sa.insert(Enrollment), [{
        "campaign_id": campaign_id, "participant_id": p.participant_id, "role": p.row.role,
        "status": ENROLLED if p.outcome == ENROLL else WAITLISTED,
        "enrolled_at": now if p.outcome == ENROLL else None,
        "waitlisted_at": now if p.outcome == WAITLIST else None,
        "source": "csv", "source_id": p.row.source_id, "meta": p.row.meta, "lock_version": 1,
        "created_at": now, "updated_at": now,
    } for p in todo])
    count_enrollment_days(campaign_id, {now.date(): len(todo)})  # the charts' rollup, same transaction
    seats = sum(1 for p in todo if p.outcome == ENROLL and p.row.role == BENEFICIARY)
    before = campaign.enrolled_count
    try:
        move_counters(campaign, enrolled=seats, waitlisted=result.waitlisted)
    except CapacityReached:
        raise ImportChanged() from None
    record_event("program.enrollment.created", actor=actor, subject=campaign, company_id=campaign.company_id,
                 data={"import": True, "rows": result.rows, "enrolled": result.enrolled,
                       "waitlisted": result.waitlisted, "already_enrolled": result.already,
                       "participants_created": result.participants_created, "source": "csv"},
                 label=f"CSV import into {campaign.name}")
    note_capacity_reached(actor, campaign, before)
    return result


# --- uploads kept between dry run and confirm ---------------------------------------
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
UPLOAD_TTL_SECONDS = 3600


class UploadExpired(DomainError):
    status_code = 410

    def __init__(self) -> None:
        super().__init__("This dry run has expired (uploads are kept for an hour). Upload the file again.", "file")


@dataclass
class StoredUpload:
    token: str
    data: bytes
    meta: dict[str, Any]

    @property
    def errors(self) -> list[list[Any]]:
        return self.meta.get("errors", [])


class ImportUploads:
    """Uploaded files waiting for their confirm: ``<token>.csv`` plus ``<token>.json``
    (user, campaign, time, file sha256, the campaign fingerprint and outcome digest of
    the dry run the user saw, and its error rows for the download). A token is 256
    random bits; it works only for the user and campaign it was made for, for an hour."""

    def __init__(self, folder: str | Path, ttl_seconds: int = UPLOAD_TTL_SECONDS):
        self.folder = Path(folder)
        self.ttl = ttl_seconds

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.folder / f"{token}.csv", self.folder / f"{token}.json"

    def save(self, *, user_id: int, campaign_id: int, data: bytes, plan: ImportPlan, filename: str = "") -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(32)
        csv_path, _ = self._paths(token)
        _write_private(csv_path, data)
        meta = {"user_id": user_id, "campaign_id": campaign_id, "created": time.time(),
                "file_sha256": plan.file_sha256, "filename": filename[:200]}
        self._write_meta(token, meta, plan)
        return token

    def remember(self, upload: StoredUpload, plan: ImportPlan) -> None:
        """Record a newer dry run (shown after a refused confirm) as the one to confirm."""
        self._write_meta(upload.token, upload.meta, plan)

    def _write_meta(self, token: str, meta: dict[str, Any], plan: ImportPlan) -> None:
        meta = dict(meta, fingerprint=plan.fingerprint, digest=plan.digest,
                    errors=[[p.number, p.row.email or "", p.row.external_ref or "", p.reason] for p in plan.errors])
        _write_private(self._paths(token)[1], json.dumps(meta).encode())

    def load(self, token: str, *, user_id: int, campaign_id: int) -> StoredUpload:
        """The upload, or NotFound (unknown, malformed, another user's or campaign's token)
        / UploadExpired (its hour is over)."""
        from portal.errors import NotFound

        if not TOKEN_PATTERN.fullmatch(token or ""):
            raise NotFound("That dry run")
        csv_path, meta_path = self._paths(token)
        try:
            meta = json.loads(meta_path.read_bytes())
            data = csv_path.read_bytes()
        except (OSError, ValueError):
            raise NotFound("That dry run") from None
        if meta.get("user_id") != user_id or meta.get("campaign_id") != campaign_id:
            raise NotFound("That dry run")
        if time.time() - meta.get("created", 0) > self.ttl:
            self.discard(token)
            raise UploadExpired()
        if file_sha256(data) != meta.get("file_sha256"):
            raise NotFound("That dry run")
        return StoredUpload(token, data, meta)

    def discard(self, token: str) -> None:
        for path in self._paths(token):
            path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Delete uploads whose hour is over."""
        cutoff = time.time() - self.ttl
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    self.discard(path.stem)
            except OSError:
                continue
        for path in self.folder.glob("*.csv"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


# --- export -----------------------------------------------------------------------
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(cells: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(c) for c in cells])
    return buffer.getvalue()


def errors_csv(errors: list[list[Any]]) -> Iterator[str]:
    """The dry run's error rows as CSV: row number (header = row 1) and reason."""
    yield "\ufeff" + csv_line(["row", "email", "external_ref", "reason"])
    for chunk in _chunks(errors, 1000):
        yield "".join(csv_line(e) for e in chunk)


def export_csv(viewer: User, campaign: Campaign, chunk_size: int = 2000) -> Iterator[str]:
    """A campaign's enrollments in the import's columns plus status and enrolled_at, one
    ``metadata.<key>`` column per key present, streamed in keyset chunks. Company admins
    see their own employees in full; anyone else (beneficiaries above all) only as the
    company's pseudonym in display_name with role, status and date — no e-mail, external
    reference, year of birth, languages, country, source id or metadata."""
    company = db.session.get(Company, campaign.company_id)  # the campaign may be detached while streaming
    metas = sa.select(Enrollment.meta).where(Enrollment.campaign_id == campaign.id)
    if not viewer.is_program_manager:  # even the names of the keys come only from its own employees' rows
        metas = metas.join(Participant, Participant.id == Enrollment.participant_id).where(
            Participant.company_id == viewer.company_id)
    meta_keys = sorted({key for (meta,) in db.session.execute(metas) for key in (meta or {})})
    yield "\ufeff" + csv_line([*EXPORT_COLUMNS, *(META_PREFIX + k for k in meta_keys)])
    stmt = (sa.select(Enrollment.id, Enrollment.role, Enrollment.status, Enrollment.enrolled_at,
                      Enrollment.source_id, Enrollment.meta, Participant.id.label("id_of_participant"),
                      Participant.display_name,
                      Participant.email, Participant.external_ref, Participant.year_of_birth, Participant.languages,
                      Participant.country, Participant.company_id)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .where(Enrollment.campaign_id == campaign.id).order_by(Enrollment.id).limit(chunk_size))
    after = 0
    while True:
        rows = db.session.execute(stmt.where(Enrollment.id > after)).all()
        if not rows:
            return
        lines = []
        for r in rows:
            enrolled_at = r.enrolled_at.isoformat() if r.enrolled_at else ""
            if may_see_identity(viewer, r):  # reads r.company_id, as on a Participant
                meta = r.meta or {}
                lines.append(csv_line([
                    r.email, r.external_ref, r.display_name, r.role, r.year_of_birth,
                    ";".join(r.languages or []), r.country, r.source_id, r.status, enrolled_at,
                    *(_meta_cell(meta.get(k)) for k in meta_keys),
                ]))
            else:
                lines.append(csv_line([
                    "", "", company_reference(company, r.id_of_participant), r.role, "", "", "", "",
                    r.status, enrolled_at, *([""] * len(meta_keys)),
                ]))
        yield "".join(lines)
        after = rows[-1].id


def _meta_cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
