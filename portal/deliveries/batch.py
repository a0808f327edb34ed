"""Record many deliveries of one campaign in one transaction, all or nothing (SPEC §2.9):
the attendance sheet, and later the delivery import and the API's batch, go through here.

Every item passes the same rules as :func:`~portal.deliveries.operations.record_delivery`
(``check_recorder``, the match's pair, ``check_accepts_deliveries``, ``clean_delivery``,
the ``(source, source_id)`` replay rule); the problems of every item are collected and
raised together as one :class:`BatchRefused` (item index → field → messages), so a sheet
shows each row's problem and nothing is saved. Then the work is done in bulk: the
enrollments are locked once, the deliveries inserted with a few statements per 5,000 rows
(a file's 100k rows in chunks, in the same transaction, so their parameters are never all
held at once), each (enrollment, kind) counter moved by one upsert, the milestones of every
affected enrollment updated by the rule functions of :mod:`portal.deliveries.milestones` with
one read and one write for the batch, and one summary activity event written with the counts.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from portal.activity.operations import record_event
from portal.db import among, db, execute_rows, utcnow
from portal.deliveries.kinds import campaign_kinds, is_session_kind
from portal.deliveries.milestones import Reaching, update_milestones_many
from portal.deliveries.models import ATTENDANCES, DELIVERY_SOURCES, Delivery, EnrollmentProgress
from portal.deliveries.operations import (
    ATTENDANCE_CHOICE,
    MAX_SOURCE_ID_LENGTH,
    DeliveryValues,
    DuplicateSourceId,
    _enrolled_on,
    _lock,
    _match_partner,
    _same_content,
    at_most_characters,
    before_partner,
    check_accepts_deliveries,
    check_recorder,
    clean_delivery,
    counts,
    fixed,
    raise_last_counted,
    unknown_source,
)
from portal.enrollments.csv.bulk import bulk_insert
from portal.enrollments.models import Enrollment
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _l, _n, number
from portal.privacy.consent import ensure_processing_allowed

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.campaigns.models import Campaign

MAX_BATCH_ITEMS = 5_000
WRITE_CHUNK = 5_000  # rows inserted per statement (a request's batch is one chunk; a file import, many)
ROW = ""  # the key of a problem that belongs to the whole item, not one of its fields
NOT_IN_CAMPAIGN = fixed(_l("Not an enrollment of this campaign."))
FIELDS = ("kind", "occurred_on", "occurred_time", "quantity", "duration_minutes", "attendance", "note", "meta")


class BatchRefused(DomainError):
    """Some items broke a rule: nothing was saved. ``errors`` maps each refused item's index
    to its problems (field → messages; ``""`` for the item as a whole)."""

    def __init__(self, errors: dict[int, dict[str, list[str]]], status_code: int = 422):
        n = len(errors)
        super().__init__(_n("%(count)s row could not be recorded, so nothing was saved. Fix the rows marked below and "
                            "save again.", "%(count)s rows could not be recorded, so nothing was saved. Fix the rows "
                            "marked below and save again.", n, count=number(n)), None)
        self.errors = errors
        self.status_code = status_code


@dataclass
class BatchResult:
    """What a saved batch did: items recorded, items that were replays (already recorded
    with the same details: nothing added), deliveries written (a match item writes two),
    counted deliveries by attendance, and the milestones reached per enrollment."""

    recorded: int = 0
    replayed: int = 0
    deliveries: int = 0
    attendance: dict[str, int] = field(default_factory=dict)
    milestones_reached: dict[int, list[str]] = field(default_factory=dict)
    replayed_items: list[int] = field(default_factory=list)  # the indexes of the replays


@dataclass(slots=True)
class _Planned:
    index: int
    enrollment: Enrollment
    values: DeliveryValues
    source_id: str | None
    match: Any = None
    partner: Enrollment | None = None
    partner_attendance: str | None = None


def _problems(exc: DomainError) -> dict[str, list[str]]:
    if isinstance(exc, ValidationFailed):
        return {name: list(messages) for name, messages in exc.errors.items()}
    return {exc.field or ROW: [exc.message]}


def _source_id(value: Any) -> str | None:
    text = (str(value).strip() or None) if value is not None else None
    if text is not None and len(text) > MAX_SOURCE_ID_LENGTH:
        raise ValidationFailed({"source_id": [at_most_characters(MAX_SOURCE_ID_LENGTH)]})
    return text


def _load(campaign: Campaign, items: list[dict[str, Any]]) -> tuple[dict[int, Enrollment], dict[int, Any]]:
    """The items' enrollments of this campaign (with their participants) and matches, each in
    one query, so the per-item rules below read the identity map instead of the database."""
    from portal.matches.models import Match

    match_ids = {i["match_id"] for i in items if _is_id(i.get("match_id"))}
    matches = {m.id: m for m in db.session.scalars(sa.select(Match).where(
        among(Match.id, match_ids), Match.campaign_id == campaign.id))} if match_ids else {}
    enrollment_ids = {i["enrollment_id"] for i in items if _is_id(i.get("enrollment_id"))}
    for match in matches.values():
        enrollment_ids |= {match.volunteer_enrollment_id, match.beneficiary_enrollment_id}
    enrollments = {e.id: e for e in db.session.scalars(
        sa.select(Enrollment).options(joinedload(Enrollment.participant))
        .where(among(Enrollment.id, enrollment_ids), Enrollment.campaign_id == campaign.id))} if enrollment_ids else {}
    return enrollments, matches


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _plan(actor: User | None, campaign: Campaign, items: list[dict[str, Any]], source: str,
          today: date) -> tuple[list[_Planned], dict[int, dict[str, list[str]]], int]:
    """Every item through the rules of ``record_delivery``; returns the items to write, the
    problems per item and the HTTP status the refusal should carry."""
    enrollments, matches = _load(campaign, items)
    kinds = campaign_kinds(campaign)
    notes_allowed = actor is None or actor.is_program_manager
    planned: list[_Planned] = []
    errors: dict[int, dict[str, list[str]]] = {}
    statuses: set[int] = set()
    for index, item in enumerate(items):
        try:
            match_id = item.get("match_id")
            enrollment_id = item.get("enrollment_id")
            if match_id not in (None, "") and enrollment_id is None:
                # A pair's row: the session is the beneficiary's, the volunteer's is its twin.
                match = matches.get(match_id) if _is_id(match_id) else None
                if match is None:
                    raise DomainError(_l("Choose one of this campaign's matches."), "match_id")
                enrollment_id = match.beneficiary_enrollment_id
            enrollment = enrollments.get(enrollment_id) if _is_id(enrollment_id) else None
            if enrollment is None:
                raise DomainError(NOT_IN_CAMPAIGN, ROW)
            check_recorder(actor, enrollment)
            source_id = _source_id(item.get("source_id"))
            match, partner = (None, None) if match_id in (None, "") else _match_partner(actor, enrollment, match_id)
            check_accepts_deliveries(enrollment, today)
            ensure_processing_allowed(enrollment, partner)
            values = clean_delivery(kinds, {name: item.get(name) for name in FIELDS},
                                    enrolled_on=_enrolled_on(enrollment), today=today, notes_allowed=notes_allowed)
            partner_attendance = None
            if partner is not None:
                check_accepts_deliveries(partner, today)
                partner_on = _enrolled_on(partner)
                if partner_on is not None and values.occurred_on < partner_on:
                    raise ValidationFailed({"occurred_on": [before_partner(partner_on)]})
                wanted = item.get("partner_attendance", "same")
                partner_attendance = values.attendance if wanted == "same" else (wanted or None)
                partner_attendance = partner_attendance if is_session_kind(values.kind) else None
                if partner_attendance is not None and partner_attendance not in ATTENDANCES:
                    raise ValidationFailed({"partner_attendance": [ATTENDANCE_CHOICE]})
            planned.append(_Planned(index, enrollment, values, source_id, match, partner, partner_attendance))
        except DomainError as exc:
            errors[index] = _problems(exc)
            statuses.add(exc.status_code)
    return planned, errors, (422 if 422 in statuses or not statuses else max(statuses))


def _replays(planned: list[_Planned], source: str, errors: dict[int, dict[str, list[str]]]) -> list[_Planned]:
    """Drop the items already recorded with the same details (a re-sent row adds nothing);
    one recorded with different details, or sent twice in this batch, is an error — the
    rule of ``record_delivery``, read for the whole batch in one query."""
    keyed = [p for p in planned if p.source_id is not None]
    if not keyed:
        return planned
    existing = {(d.enrollment_id, d.source_id): d for d in db.session.scalars(sa.select(Delivery).where(
        Delivery.source == source, among(Delivery.source_id, {p.source_id for p in keyed}),
        among(Delivery.enrollment_id, {p.enrollment.id for p in keyed})))}
    seen: set[tuple[int, str]] = set()
    fresh: list[_Planned] = []
    for p in planned:
        if p.source_id is None:
            fresh.append(p)
            continue
        key = (p.enrollment.id, p.source_id)
        if key in seen:
            errors[p.index] = {"source_id": [_l("Source id “%(source_id)s” is used by another row of this batch.",
                                                source_id=p.source_id)]}
            continue
        seen.add(key)
        found = existing.get(key)
        if found is None:
            fresh.append(p)
        elif not _same_content(found, p.values, p.match.id if p.match else None):
            errors[p.index] = _problems(DuplicateSourceId(source, p.source_id))
    return fresh


_KEY_COLUMNS = ("enrollment_id", "match_id", "source_id", "kind", "occurred_on", "occurred_time", "quantity",
                "duration_minutes", "attendance", "note", "counterpart_id")


def _key(values: dict[str, Any]) -> tuple[Any, ...]:
    return (*(values[name] for name in _KEY_COLUMNS), json.dumps(values["metadata"], sort_keys=True, default=str))


def _insert(rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` with one batched statement; their new ids, in row order. (PostgreSQL:
    ids drawn from the sequence, then COPY.)

    The driver gets the rows as one multi-row INSERT … RETURNING. Asking SQLAlchemy for the
    ids in parameter order would send SQLite one INSERT per row (it has no sentinel to sort
    by), so each returned row is matched to its parameters by what it holds instead: rows
    that hold exactly the same are interchangeable."""
    if not rows:
        return []
    table = Delivery.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        # Ids first, then one COPY: no per-statement parameter handling, and the deliveries'
        # statement triggers (the impact rollups) fire once per chunk, not per row (100k rows: ~60 s → a few).
        ids = list(db.session.scalars(sa.text("SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) "
                                              "FROM generate_series(1, :n)"), {"n": len(rows)}))
        bulk_insert(table, ({"id": new_id, **row} for new_id, row in zip(ids, rows, strict=True)))
        return ids
    result = db.session.execute(sa.insert(table).returning(table.c.id, *(table.c[n] for n in _KEY_COLUMNS),
                                                            table.c.metadata), rows)
    waiting: dict[tuple[Any, ...], list[int]] = {}
    for found in result.mappings():
        waiting.setdefault(_key(found), []).append(found["id"])
    for ids in waiting.values():
        ids.sort(reverse=True)  # interchangeable rows take their ids in insertion order
    return [waiting[_key(row)].pop() for row in rows]


def _count(totals: dict[tuple[int, str], list[Any]], enrollment_id: int, values: DeliveryValues,
           attendance: str | None) -> None:
    """Add one written delivery to its (enrollment, kind) total, if it counts."""
    if not counts(attendance, False):
        return
    total = totals.setdefault((enrollment_id, values.kind), [0, Decimal(0), values.occurred_on])
    total[0] += 1
    total[1] += values.quantity
    total[2] = max(total[2], values.occurred_on)


def _move_counters(totals: dict[tuple[int, str], list[Any]]) -> None:
    """Add the counted deliveries (``totals``: (enrollment, kind) → [deliveries, quantity,
    latest date], from :func:`_count`) to their counters: one upsert per pair, sent as one
    batched statement."""
    if not totals:
        return
    table = EnrollmentProgress.__table__
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    new = insert.excluded
    stmt = insert.on_conflict_do_update(index_elements=[table.c.enrollment_id, table.c.kind], set_={
        "deliveries": table.c.deliveries + new.deliveries,
        "counted_quantity": table.c.counted_quantity + new.counted_quantity,
        "last_on": sa.case((table.c.last_on.is_(None), new.last_on), (new.last_on > table.c.last_on, new.last_on),
                           else_=table.c.last_on)})
    execute_rows(stmt, [{"enrollment_id": e, "kind": k, "deliveries": n, "counted_quantity": q, "last_on": last}
                        for (e, k), (n, q, last) in sorted(totals.items())])
    # Counter objects an earlier read left in the session would be stale now.
    for obj in [o for o in db.session.identity_map.values() if isinstance(o, EnrollmentProgress)]:
        db.session.expire(obj)


@dataclass
class _Written:
    """What the batch's writes add up to, kept as they are made (per enrollment or kind, never
    per row), so a 100k-row import holds no list of every row written."""

    deliveries: int = 0
    attendance: Counter = field(default_factory=Counter)
    totals: dict[tuple[int, str], list[Any]] = field(default_factory=dict)  # see _count
    latest_counted: dict[int, date] = field(default_factory=dict)
    latest: dict[int, Reaching] = field(default_factory=dict)  # the delivery that may reach milestones
    people: dict[int, Enrollment] = field(default_factory=dict)

    def add(self, enrollment: Enrollment, delivery_id: int, values: DeliveryValues, attendance: str | None) -> None:
        self.deliveries += 1
        self.attendance[attendance or "none"] += 1
        _count(self.totals, enrollment.id, values, attendance)
        if counts(attendance, False):
            day = self.latest_counted.get(enrollment.id)
            self.latest_counted[enrollment.id] = values.occurred_on if day is None else max(day, values.occurred_on)
        # Milestones per enrollment, dated by its latest delivery of this batch (the one that reached them).
        self.people[enrollment.id] = enrollment
        best = self.latest.get(enrollment.id)
        if best is None or (values.occurred_on, delivery_id) > (best.occurred_on, best.id):
            self.latest[enrollment.id] = Reaching(delivery_id, values.occurred_on)


def _write(fresh: list[_Planned], common: dict[str, Any], written: _Written) -> None:
    """Insert the deliveries of ``fresh`` (and a match item's twin, linked as counterparts)
    with a few batched statements, adding each to ``written``."""

    def row(enrollment_id: int, p: _Planned, attendance: str | None, note: str | None) -> dict[str, Any]:
        v = p.values
        return {**common, "enrollment_id": enrollment_id, "kind": v.kind, "occurred_on": v.occurred_on,
                "occurred_time": v.occurred_time, "quantity": v.quantity, "duration_minutes": v.duration_minutes,
                "attendance": attendance, "match_id": p.match.id if p.match else None, "source_id": p.source_id,
                "metadata": dict(v.meta), "note": note}

    main_ids = _insert([row(p.enrollment.id, p, p.values.attendance, p.values.note) for p in fresh])
    pairs = [(p, main_id) for p, main_id in zip(fresh, main_ids, strict=True) if p.partner is not None]
    twin_ids = _insert([{**row(p.partner.id, p, p.partner_attendance, None), "counterpart_id": main_id}
                        for p, main_id in pairs])
    if pairs:
        db.session.execute(sa.update(Delivery.__table__).where(Delivery.__table__.c.id == sa.bindparam("main_id"))
                           .values(counterpart_id=sa.bindparam("twin_id")),
                           [{"main_id": main_id, "twin_id": twin_id}
                            for (_, main_id), twin_id in zip(pairs, twin_ids, strict=True)])
    for p, main_id in zip(fresh, main_ids, strict=True):
        written.add(p.enrollment, main_id, p.values, p.values.attendance)
    for (p, _), twin_id in zip(pairs, twin_ids, strict=True):
        written.add(p.partner, twin_id, p.values, p.partner_attendance)


def record_batch(actor: User | None, campaign: Campaign, items: list[dict[str, Any]], *, source: str,
                 summary_label: str, today: date | None = None,
                 max_items: int | None = MAX_BATCH_ITEMS) -> BatchResult:
    """Record ``items`` (each the keyword arguments of ``record_delivery`` plus
    ``enrollment_id``; a pair's session may give only ``match_id``) for enrollments of
    ``campaign``, in the caller's transaction, all or nothing: every item passes the rules of
    ``record_delivery``, and if any is refused, :class:`BatchRefused` names each refused item's
    problems and nothing is written. A match item writes a delivery on both enrollments,
    linked as counterparts. An item whose ``(source, source_id)`` was already recorded with
    the same details adds nothing. Moves the counters, updates milestones, and writes one
    ``program.delivery.recorded`` event for the whole batch with its counts. ``max_items``
    bounds what a request may send (the sheet, the API); the file import, a job, passes None."""
    today = today or utcnow().date()
    if source not in DELIVERY_SOURCES:
        raise unknown_source(source)
    if max_items is not None and len(items) > max_items:
        raise DomainError(_n("Send at most %(count)s row at once.", "Send at most %(count)s rows at once.", max_items,
                             count=number(max_items)), None)
    planned, errors, status = _plan(actor, campaign, items, source, today)
    if errors:  # the field rules first: the lock is taken only for a batch that may be written
        raise BatchRefused(errors, status)
    ids = [p.enrollment.id for p in planned] + [p.partner.id for p in planned if p.partner is not None]
    if ids:
        _lock(ids)
    fresh = _replays(planned, source, errors)
    if errors:
        raise BatchRefused(errors, 409)

    recorder = actor.id if actor is not None else None
    now = utcnow()
    common = {"source": source, "recorded_by_id": recorder, "created_at": now, "updated_at": now, "lock_version": 1,
              "counterpart_id": None, "voided_at": None, "voided_by_id": None, "void_reason": None}
    # Written in chunks, in this one transaction: a 100k-row file never holds every row's
    # insert parameters (or, on SQLite, every returned row) at once.
    written = _Written()
    for start in range(0, len(fresh), WRITE_CHUNK):
        _write(fresh[start:start + WRITE_CHUNK], common, written)

    _move_counters(written.totals)
    raise_last_counted(written.latest_counted)
    kept = {p.index for p in fresh}
    result = BatchResult(recorded=len(fresh), replayed=len(planned) - len(fresh), deliveries=written.deliveries,
                         attendance=dict(written.attendance),
                         replayed_items=[p.index for p in planned if p.index not in kept])
    result.milestones_reached = {enrollment_id: reached for enrollment_id, (reached, _) in
                                 update_milestones_many(written.people, written.latest, today).items() if reached}

    kinds = sorted({p.values.kind for p in fresh})
    record_event("program.delivery.recorded", actor=actor, subject=campaign, company_id=campaign.company_id,
                 label=summary_label,
                 data={"batch": True, "campaign_id": campaign.id, "source": source, "rows": len(items),
                       "recorded": result.recorded, "replayed": result.replayed, "deliveries": result.deliveries,
                       "kinds": kinds, "attendance": result.attendance,
                       "milestones_reached": sum(len(keys) for keys in result.milestones_reached.values())})
    return result
