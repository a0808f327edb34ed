"""Record, correct and void deliveries (SPEC §2.9) — the one path every screen, import and
connector goes through. Each operation takes the acting user, changes the session, moves
the enrollment's progress counters (:class:`~portal.deliveries.models.EnrollmentProgress`),
writes its activity event and flushes; the caller commits once (``with transaction():``).

Counters stay exact under concurrency: every operation first locks the enrollments it
writes for (``SELECT … FOR UPDATE`` in id order on PostgreSQL; SQLite's ``BEGIN
IMMEDIATE`` already serialises writers), so the read-modify-write of a counter row never
interleaves with another delivery of the same enrollment.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel.speaklater import LazyString
from sqlalchemy.orm.exc import StaleDataError

from portal.activity.operations import record_event
from portal.beneficiaries.privacy import RULES as PRIVACY_RULES
from portal.beneficiaries.privacy import privacy_problems
from portal.db import among, db, utcnow
from portal.deliveries.kinds import campaign_kinds, is_session_kind, kind_label, kind_words
from portal.deliveries.milestones import update_milestones
from portal.deliveries.models import ATTENDANCES, DELIVERY_SOURCES, PRESENT, Delivery, EnrollmentProgress
from portal.enrollments.models import Enrollment
from portal.errors import DomainError, StaleEdit, ValidationFailed
from portal.forms import decimal_places, parse_decimal
from portal.i18n import _, _l, _n, number, show_date
from portal.privacy.consent import ensure_processing_allowed

if TYPE_CHECKING:
    from portal.auth.models import User

LATE_ENTRY_DAYS = 90  # a completed enrollment still takes late entries this long
ACCEPTING_CAMPAIGN_STATUSES = ("active", "paused")
MAX_QUANTITY = Decimal(10_000)
MAX_QUANTITY_PLACES = 3
MAX_DURATION_MINUTES = 24 * 60
MAX_NOTE_LENGTH = 2000
MAX_SOURCE_ID_LENGTH = 100
MAX_METADATA_CHARS = 2000
MAX_VOID_REASON = 500
# Fields a correction may change; the first five are the pair's shared facts (a match session).
SHARED_FIELDS = ("kind", "occurred_on", "occurred_time", "quantity", "duration_minutes")
CORRECTABLE = (*SHARED_FIELDS, "attendance", "note", "meta")

class FixedMessage(LazyString):
    """A lazy message that hashes as its English text: a set or dict of messages built at import
    time (e.g. the API's "not yours" wordings) still finds it whatever the reader's language."""

    def __hash__(self) -> int:
        return hash(self._args[0])


def fixed(message: Any) -> FixedMessage:
    """``fixed(_l("…"))``: the lazy message, hashing as its English text (see FixedMessage)."""
    return FixedMessage(message._func, *message._args, **message._kwargs)


BENEFICIARY_DELIVERIES_BY_PROGRAM_TEAM = fixed(_l("Deliveries for beneficiaries are recorded by the program team."))
NOTES_BY_PROGRAM_TEAM = _l("Notes are kept by the program team: leave the note empty.")
ATTENDANCE_CHOICE = _l("Choose present, excused or unexcused.")
MATCH_BY_PROGRAM_TEAM = _l("Sessions of a match are recorded by the program team.")
ALREADY_VOID = _l("This delivery is already void.")
# Why a campaign takes no deliveries, by its status: whole sentences, so each language words them its way.
CAMPAIGN_NOT_ACCEPTING = {
    "draft": _l("The campaign is a draft: deliveries are recorded while it is active or paused."),
    "completed": _l("The campaign is completed: deliveries are recorded while it is active or paused."),
    "archived": _l("The campaign is archived: deliveries are recorded while it is active or paused."),
}


def campaign_refusal(status: str) -> str:
    """Why a campaign of ``status`` takes no deliveries (the attendance sheet says it too)."""
    return CAMPAIGN_NOT_ACCEPTING.get(status) or _l(
        "The campaign is %(status)s: deliveries are recorded while it is active or paused.", status=status)


def enrollment_refusal(status: str) -> str:
    """Why an enrollment of ``status`` (not active, nor completed lately) takes no deliveries."""
    if status == "completed":
        return _n("The enrollment was completed more than %(num)s day ago: it takes no more deliveries.",
                  "The enrollment was completed more than %(num)s days ago: it takes no more deliveries.",
                  LATE_ENTRY_DAYS)
    if status == "waitlisted":
        return _n("The enrollment is waitlisted: deliveries are recorded for active enrollments (or completed ones, "
                  "within %(num)s day).", "The enrollment is waitlisted: deliveries are recorded for active "
                  "enrollments (or completed ones, within %(num)s days).", LATE_ENTRY_DAYS)
    if status == "dropped":
        return _n("The enrollment is dropped: deliveries are recorded for active enrollments (or completed ones, "
                  "within %(num)s day).", "The enrollment is dropped: deliveries are recorded for active "
                  "enrollments (or completed ones, within %(num)s days).", LATE_ENTRY_DAYS)
    return _n("The enrollment is %(status)s: deliveries are recorded for active enrollments (or completed ones, "
              "within %(num)s day).", "The enrollment is %(status)s: deliveries are recorded for active "
              "enrollments (or completed ones, within %(num)s days).", LATE_ENTRY_DAYS, status=status)


def unknown_source(source: str) -> DomainError:
    return DomainError(_l("Unknown source “%(source)s”: use one of %(sources)s.", source=source,
                          sources=", ".join(DELIVERY_SOURCES)), "source")


def before_partner(partner_on: date) -> str:
    return _l("The date is before the partner's enrollment started (%(date)s).", date=show_date(partner_on))


class DeliveryRefused(DomainError):
    """The enrollment, campaign or delivery does not take this change now."""

    status_code = 409


class DuplicateSourceId(DomainError):
    status_code = 409

    def __init__(self, source: str, source_id: str):
        super().__init__(_l("Source id “%(source_id)s” (%(source)s) was already recorded for this enrollment with "
                            "different details. Correct that delivery instead, or use a new source id.",
                            source_id=source_id, source=source), "source_id")
        self.source, self.source_id = source, source_id


# --- pure rules ---------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryValues:
    kind: str
    occurred_on: date
    occurred_time: time | None
    quantity: Decimal
    duration_minutes: int | None
    attendance: str | None
    note: str | None
    meta: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in CORRECTABLE}


def at_most_characters(limit: int) -> str:
    return _n("Use at most %(count)s character.", "Use at most %(count)s characters.", limit, count=number(limit))


def note_problems(note: str | None) -> list[str]:
    """A note may not carry contact details: refused when it holds an e-mail address or a
    phone number (the detectors of :mod:`portal.beneficiaries.privacy`)."""
    if not note:
        return []
    if len(note) > MAX_NOTE_LENGTH:
        return [at_most_characters(MAX_NOTE_LENGTH)]
    kinds = {rule.message: rule.kind for rule in PRIVACY_RULES}
    found = {kinds.get(message) for message in privacy_problems(note, max_length=MAX_NOTE_LENGTH)}
    problems = []
    if "email" in found:
        problems.append(_l("Remove the e-mail address: a note must not hold contact details."))
    if "phone" in found:
        problems.append(_l("Remove the phone number: a note must not hold contact details."))
    return problems


def _minutes_range_now() -> str:
    return _("Enter whole minutes from 0 to %(most)s.", most=number(MAX_DURATION_MINUTES))


def minutes_range() -> str:
    """The duration's rule, read (number included) in the language of whoever reads it: also
    fit for a form's validator made at import time."""
    return LazyString(_minutes_range_now)


def _quantity(value: Any, errors: dict[str, list[str]]) -> Decimal:
    if value is None or value == "":
        return Decimal(1)
    try:
        quantity = parse_decimal(value)
    except ValueError as exc:
        errors["quantity"] = [str(exc)]
        return Decimal(1)
    if quantity < 0:
        errors["quantity"] = [_l("Enter zero or more.")]
    elif quantity > MAX_QUANTITY:
        errors["quantity"] = [_l("Enter at most %(most)s.", most=number(MAX_QUANTITY))]
    elif decimal_places(quantity) > MAX_QUANTITY_PLACES:
        errors["quantity"] = [_n("Use at most %(num)s decimal place.", "Use at most %(num)s decimal places.",
                                 MAX_QUANTITY_PLACES)]
    return quantity.quantize(Decimal("0.001")) if "quantity" not in errors else Decimal(1)


def clean_delivery(kinds: list[str], raw: dict[str, Any], *, enrolled_on: date | None, today: date,
                   notes_allowed: bool) -> DeliveryValues:
    """The field rules of a delivery, every problem at its field (ValidationFailed, 422):
    a kind of this program (the list is named), a date between the enrollment's start and
    today, a quantity of zero or more (at most 3 decimals), a duration of zero or more minutes,
    attendance only for session kinds, a note only from the program team and with no e-mail
    address or phone number, metadata a small JSON object."""
    errors: dict[str, list[str]] = {}
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in kinds:
        if kinds:
            errors["kind"] = [_l("Choose a kind this program records: %(kinds)s.",
                                 kinds=", ".join(f"{kind_label(k)} ({k})" for k in kinds))]
        else:
            errors["kind"] = [_l("Choose a kind this program records: none (the template defines no impact "
                                 "weights).")]
    occurred_on = raw.get("occurred_on")
    if not isinstance(occurred_on, date):
        errors["occurred_on"] = [_l("Enter the date it happened.")]
    elif occurred_on > today:
        errors["occurred_on"] = [_l("The date is in the future: record what has happened, up to today (%(today)s).",
                                    today=show_date(today))]
    elif enrolled_on is not None and occurred_on < enrolled_on:
        errors["occurred_on"] = [_l("The date is before the enrollment started (%(date)s).",
                                    date=show_date(enrolled_on))]
    occurred_time = raw.get("occurred_time")
    if occurred_time is not None and not isinstance(occurred_time, time):
        errors["occurred_time"] = [_l("Enter a time such as 14:30.")]
    quantity = _quantity(raw.get("quantity"), errors)
    duration = raw.get("duration_minutes")
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)
                                 or not 0 <= duration <= MAX_DURATION_MINUTES):
        errors["duration_minutes"] = [minutes_range()]
    attendance = raw.get("attendance") or None
    if attendance is not None:
        if attendance not in ATTENDANCES:
            errors["attendance"] = [ATTENDANCE_CHOICE]
        elif isinstance(kind, str) and kind in kinds and not is_session_kind(kind):
            errors["attendance"] = [_l("Attendance is taken for sessions only; leave it empty for “%(kind)s”.",
                                       kind=kind_label(kind))]
    note = (raw.get("note") or "").strip() or None
    if note is not None:
        if not notes_allowed:
            errors["note"] = [NOTES_BY_PROGRAM_TEAM]
        elif problems := note_problems(note):
            errors["note"] = problems
    meta = raw.get("meta")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        errors["meta"] = [_l("Metadata must be a JSON object such as {\"rating\": 5}.")]
    else:
        try:
            if len(json.dumps(meta, allow_nan=False)) > MAX_METADATA_CHARS:
                errors["meta"] = [_l("Metadata is too large: at most %(most)s characters of JSON.",
                                     most=number(MAX_METADATA_CHARS))]
        except (TypeError, ValueError):
            errors["meta"] = [_l("Metadata must be plain JSON values.")]
    if errors:
        raise ValidationFailed(errors)
    return DeliveryValues(kind=kind, occurred_on=occurred_on, occurred_time=occurred_time, quantity=quantity,
                          duration_minutes=duration, attendance=attendance, note=note, meta=dict(meta))


def counts(attendance: str | None, voided: bool) -> bool:
    """Whether a delivery counts towards progress: not void, and present where attendance applies."""
    return not voided and attendance in (None, PRESENT)


# --- checks on the people and the enrollment ------------------------------------------------
def check_recorder(actor: User | None, enrollment: Enrollment) -> None:
    """Program managers (and the system) record for anyone; a company admin only for its own
    company's volunteer enrollments (its employees) — a beneficiary's is refused, 422."""
    if actor is None or actor.is_program_manager:
        return
    participant = enrollment.participant
    if not (actor.is_company_admin and enrollment.role == "volunteer" and participant.company_id is not None
            and participant.company_id == actor.company_id and enrollment.campaign.company_id == actor.company_id):
        raise DomainError(BENEFICIARY_DELIVERIES_BY_PROGRAM_TEAM, None)


def check_accepts_deliveries(enrollment: Enrollment, today: date) -> None:
    """Deliveries are taken for active enrollments (completed ones within 90 days, for late
    entries) of active or paused campaigns (409 otherwise)."""
    campaign = enrollment.campaign
    if campaign.status not in ACCEPTING_CAMPAIGN_STATUSES:
        raise DeliveryRefused(campaign_refusal(campaign.status), None)
    if enrollment.status == "active":
        return
    if enrollment.status == "completed" and enrollment.completed_at is not None \
            and enrollment.completed_at.date() >= today - timedelta(days=LATE_ENTRY_DAYS):
        return
    raise DeliveryRefused(enrollment_refusal(enrollment.status), None)


def _enrolled_on(enrollment: Enrollment) -> date | None:
    return enrollment.enrolled_at.date() if enrollment.enrolled_at is not None else None


def _lock(enrollment_ids: list[int]) -> None:
    """Lock the enrollments whose counters this operation moves, in id order (no deadlock
    between two match sessions)."""
    db.session.execute(sa.select(Enrollment.id).where(among(Enrollment.id, sorted(set(enrollment_ids))))
                       .order_by(Enrollment.id).with_for_update())


# --- progress counters ---------------------------------------------------------------------
def _move_progress(delivery: Delivery, values: dict[str, Any], sign: int) -> None:
    """Add (+1) or take away (-1) one counted delivery with ``values`` from its enrollment's
    counter of that kind. Taking away the latest date re-reads the latest remaining one
    (an indexed lookup of that enrollment's deliveries of the kind, this one left out)."""
    if not counts(values["attendance"], values.get("voided", False)):
        return
    key = (delivery.enrollment_id, values["kind"])
    row = db.session.get(EnrollmentProgress, key)
    if row is None:
        row = EnrollmentProgress(enrollment_id=key[0], kind=key[1], counted_quantity=Decimal(0), deliveries=0)
        db.session.add(row)
    row.deliveries += sign
    row.counted_quantity = Decimal(row.counted_quantity) + sign * values["quantity"]
    if sign > 0:
        row.last_on = values["occurred_on"] if row.last_on is None else max(row.last_on, values["occurred_on"])
    elif row.deliveries == 0:
        row.last_on = None
    elif row.last_on is None or values["occurred_on"] >= row.last_on:
        with db.session.no_autoflush:
            row.last_on = db.session.scalar(
                sa.select(sa.func.max(Delivery.occurred_on)).where(
                    Delivery.enrollment_id == key[0], Delivery.kind == key[1], Delivery.id != delivery.id,
                    Delivery.voided_at.is_(None), sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT)))


def _counted(deliveries: Any) -> sa.ColumnElement[bool]:
    """SQL: the rows of ``deliveries`` (the table or its columns' owner) that count."""
    return sa.and_(deliveries.c.voided_at.is_(None),
                   sa.or_(deliveries.c.attendance.is_(None), deliveries.c.attendance == PRESENT))


def _forget_last_counted(enrollment_ids: Any) -> None:
    """The session's copies of these enrollments re-read the column the UPDATE just set."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Enrollment) and obj.id in enrollment_ids:
            db.session.expire(obj, ["last_counted_delivery_on"])


def raise_last_counted(latest: dict[int, date]) -> None:
    """Counted deliveries were added: each enrollment's ``last_counted_delivery_on`` becomes
    the later of itself and the new date (one batched UPDATE). A Core UPDATE, so neither the
    enrollment's version (someone editing it is not made stale by a delivery) nor its
    ``updated_at`` moves."""
    if not latest:
        return
    table = Enrollment.__table__
    column = table.c.last_counted_delivery_on
    new = sa.bindparam("latest", type_=sa.Date())
    db.session.execute(
        sa.update(table).where(table.c.id == sa.bindparam("enrollment_id"))
        .values(last_counted_delivery_on=sa.case((sa.or_(column.is_(None), column < new), new), else_=column),
                updated_at=table.c.updated_at),
        [{"enrollment_id": e, "latest": day} for e, day in sorted(latest.items())])
    _forget_last_counted(set(latest))


def recount_last_counted(enrollment_ids: Any) -> None:
    """A counted delivery was changed or taken away: each enrollment's
    ``last_counted_delivery_on`` is read again from that enrollment's remaining counted
    deliveries (through its ``(enrollment_id, occurred_on)`` index), None when none is left."""
    ids = sorted(set(enrollment_ids))
    if not ids:
        return
    table, deliveries = Enrollment.__table__, Delivery.__table__
    latest = (sa.select(sa.func.max(deliveries.c.occurred_on))
              .where(deliveries.c.enrollment_id == table.c.id, _counted(deliveries)).scalar_subquery())
    db.session.execute(sa.update(table).where(among(table.c.id, ids))
                       .values(last_counted_delivery_on=latest, updated_at=table.c.updated_at))
    _forget_last_counted(set(ids))


def _snapshot(delivery: Delivery) -> dict[str, Any]:
    return {"kind": delivery.kind, "occurred_on": delivery.occurred_on, "quantity": Decimal(delivery.quantity),
            "attendance": delivery.attendance, "voided": delivery.voided_at is not None}


# --- activity --------------------------------------------------------------------------------
def _event(verb: str, actor: User | None, delivery: Delivery, data: dict[str, Any] | None = None) -> None:
    # Ids, kind, date and figures only: the company reads these events, and a note is not theirs.
    enrollment = delivery.enrollment
    record_event(f"program.delivery.{verb}", actor=actor, subject=delivery, company_id=enrollment.campaign.company_id,
                 data={"enrollment_id": enrollment.id, "campaign_id": enrollment.campaign_id, "kind": delivery.kind,
                       "occurred_on": delivery.occurred_on.isoformat(), "quantity": str(delivery.quantity),
                       "attendance": delivery.attendance, "match_id": delivery.match_id,
                       "counterpart_id": delivery.counterpart_id, **(data or {})},
                 label=f"{kind_words(delivery.kind)} on {delivery.occurred_on.isoformat()}")  # stored: not translated


# --- matches -------------------------------------------------------------------------------
def _match_partner(actor: User | None, enrollment: Enrollment, match_id: Any) -> tuple[Any, Enrollment]:
    """The match the session belongs to and the other enrollment of the pair."""
    from portal.matches.models import ACTIVE, ENDED, Match

    if actor is not None and not actor.is_program_manager:
        raise DomainError(MATCH_BY_PROGRAM_TEAM, "match_id")
    match = db.session.get(Match, match_id) if isinstance(match_id, int) else None
    if match is None or enrollment.id not in (match.volunteer_enrollment_id, match.beneficiary_enrollment_id):
        raise DomainError(_l("Choose one of this enrollment's matches."), "match_id")
    if match.status not in (ACTIVE, ENDED):
        raise DeliveryRefused(_l("The match is only proposed: sessions are recorded once it is confirmed."),
                              "match_id")
    partner_id = match.beneficiary_enrollment_id if match.volunteer_enrollment_id == enrollment.id \
        else match.volunteer_enrollment_id
    return match, db.session.get(Enrollment, partner_id)


def _same_content(delivery: Delivery, values: DeliveryValues, match_id: int | None) -> bool:
    return (delivery.kind == values.kind and delivery.occurred_on == values.occurred_on
            and delivery.occurred_time == values.occurred_time and Decimal(delivery.quantity) == values.quantity
            and delivery.duration_minutes == values.duration_minutes and delivery.attendance == values.attendance
            and delivery.match_id == match_id and (delivery.meta or {}) == values.meta
            and (delivery.note or None) == values.note)


# --- operations ------------------------------------------------------------------------------
def record_delivery(actor: User | None, enrollment: Enrollment, *, kind: Any, occurred_on: Any,
                    occurred_time: Any = None, quantity: Any = None, duration_minutes: Any = None,
                    attendance: Any = None, match_id: Any = None, partner_attendance: Any = "same",
                    source: str = "manual", source_id: Any = None, meta: Any = None, note: Any = None,
                    today: date | None = None) -> Delivery:
    """Record one delivery for ``enrollment`` (SPEC §2.9): the recorder may record for it, the
    enrollment and its campaign take deliveries, the fields pass :func:`clean_delivery`. A
    session for a match also writes the partner's delivery (``partner_attendance``, by
    default the same), linked as counterparts, in this transaction. A re-sent ``source_id``
    with the same details adds nothing and answers the existing delivery; with different
    details it is refused (409, naming the id). Moves the counters; writes
    ``program.delivery.recorded``."""
    today = today or utcnow().date()
    check_recorder(actor, enrollment)
    if source not in DELIVERY_SOURCES:
        raise unknown_source(source)
    source_id = (str(source_id).strip() or None) if source_id is not None else None
    if source_id is not None and len(source_id) > MAX_SOURCE_ID_LENGTH:
        raise ValidationFailed({"source_id": [at_most_characters(MAX_SOURCE_ID_LENGTH)]})
    match, partner = (None, None) if match_id in (None, "") else _match_partner(actor, enrollment, match_id)
    _lock([enrollment.id] + ([partner.id] if partner is not None else []))
    check_accepts_deliveries(enrollment, today)
    ensure_processing_allowed(enrollment, partner)
    values = clean_delivery(campaign_kinds(enrollment.campaign),
                            {"kind": kind, "occurred_on": occurred_on, "occurred_time": occurred_time,
                             "quantity": quantity, "duration_minutes": duration_minutes, "attendance": attendance,
                             "note": note, "meta": meta},
                            enrolled_on=_enrolled_on(enrollment), today=today,
                            notes_allowed=actor is None or actor.is_program_manager)
    if source_id is not None:
        existing = db.session.scalars(sa.select(Delivery).where(
            Delivery.source == source, Delivery.source_id == source_id,
            Delivery.enrollment_id == enrollment.id)).first()
        if existing is not None:
            if _same_content(existing, values, match.id if match else None):
                return existing
            raise DuplicateSourceId(source, source_id)
    if partner is not None:
        check_accepts_deliveries(partner, today)
        partner_on = _enrolled_on(partner)
        if partner_on is not None and values.occurred_on < partner_on:
            raise ValidationFailed({"occurred_on": [before_partner(partner_on)]})
    recorder = actor.id if actor is not None else None
    delivery = Delivery(enrollment_id=enrollment.id, **values.as_dict(), match_id=match.id if match else None,
                        source=source, source_id=source_id, recorded_by_id=recorder)
    delivery.enrollment = enrollment
    db.session.add(delivery)
    db.session.flush()
    _move_progress(delivery, _snapshot(delivery), +1)
    latest: dict[int, date] = {}
    if counts(delivery.attendance, False):
        latest[enrollment.id] = delivery.occurred_on
    if partner is not None:
        twin_attendance = values.attendance if partner_attendance == "same" else (partner_attendance or None)
        twin_attendance = twin_attendance if is_session_kind(values.kind) else None
        if twin_attendance is not None and twin_attendance not in ATTENDANCES:
            raise ValidationFailed({"partner_attendance": [ATTENDANCE_CHOICE]})
        twin = Delivery(enrollment_id=partner.id, kind=values.kind, occurred_on=values.occurred_on,
                        occurred_time=values.occurred_time, quantity=values.quantity,
                        duration_minutes=values.duration_minutes, attendance=twin_attendance, meta=dict(values.meta),
                        match_id=match.id, source=source, source_id=source_id, recorded_by_id=recorder,
                        counterpart_id=delivery.id)
        twin.enrollment = partner
        db.session.add(twin)
        db.session.flush()
        delivery.counterpart_id = twin.id
        _move_progress(twin, _snapshot(twin), +1)
        if counts(twin.attendance, False):
            latest[partner.id] = twin.occurred_on
        update_milestones(partner, twin, today)
    raise_last_counted(latest)
    db.session.flush()
    _event("recorded", actor, delivery, _milestone_data(update_milestones(enrollment, delivery, today)))
    return delivery


def _check_version(delivery: Delivery, expected_version: int | None) -> None:
    if expected_version is not None and delivery.lock_version != expected_version:
        raise StaleEdit(_l("this delivery"))


def _counterpart(delivery: Delivery) -> Delivery | None:
    return db.session.get(Delivery, delivery.counterpart_id) if delivery.counterpart_id else None


def correct_delivery(actor: User | None, delivery: Delivery, *, expected_version: int | None,
                     today: date | None = None, **changes: Any) -> Delivery:
    """Correct a delivery (kind, date, time, quantity, duration, attendance, note, metadata)
    under the same rules as recording. A save based on a stale version is refused
    (StaleEdit, 409), never silently overwritten; a void delivery is not corrected. A match
    session's shared facts (kind, date, time, quantity, duration) change on both
    deliveries. Moves the counters; writes ``program.delivery.corrected`` with what changed."""
    today = today or utcnow().date()
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValueError(f"not correctable: {sorted(unknown)}")
    _check_version(delivery, expected_version)
    enrollment = delivery.enrollment
    check_recorder(actor, enrollment)
    if delivery.voided_at is not None:
        raise DeliveryRefused(_l("This delivery was voided: record a new one instead."), None)
    twin = _counterpart(delivery)
    _lock([enrollment.id] + ([twin.enrollment_id] if twin is not None else []))
    check_accepts_deliveries(enrollment, today)
    notes_allowed = actor is None or actor.is_program_manager
    merged = {name: changes.get(name, getattr(delivery, name)) for name in CORRECTABLE}
    if not notes_allowed:  # a note they cannot see is kept as it is (put back below); one they send is refused
        merged["note"] = changes.get("note")
    values = clean_delivery(campaign_kinds(enrollment.campaign), merged, enrolled_on=_enrolled_on(enrollment),
                            today=today, notes_allowed=notes_allowed)
    new = values.as_dict()
    if not notes_allowed:
        new["note"] = delivery.note
    made = {name: {"from": _jsonable(getattr(delivery, name)), "to": _jsonable(value)}
            for name, value in new.items() if _differs(getattr(delivery, name), value)}
    if not made:
        return delivery
    if "note" in made:
        made["note"] = {"changed": True}  # what a note says stays out of the activity data
    _move_progress(delivery, _snapshot(delivery), -1)
    for name, value in new.items():
        setattr(delivery, name, value)
    _flush_or_stale()
    _move_progress(delivery, _snapshot(delivery), +1)
    if twin is not None and any(name in made for name in SHARED_FIELDS):
        _move_progress(twin, _snapshot(twin), -1)
        for name in SHARED_FIELDS:
            setattr(twin, name, new[name])
        if twin.attendance is not None and not is_session_kind(twin.kind):
            twin.attendance = None
        _flush_or_stale()
        _move_progress(twin, _snapshot(twin), +1)
        update_milestones(twin.enrollment, twin, today)
    recount_last_counted([enrollment.id] + ([twin.enrollment_id] if twin is not None else []))
    db.session.flush()
    _event("corrected", actor, delivery,
           {"changes": made, **_milestone_data(update_milestones(enrollment, delivery, today))})
    return delivery


def void_delivery(actor: User | None, delivery: Delivery, *, reason: str = "",
                  expected_version: int | None = None) -> Delivery:
    """Void a delivery: it stays, marked void with who, when and why, and counts nowhere any
    more (nor does its match counterpart, voided with it). Writes ``program.delivery.voided``."""
    _check_version(delivery, expected_version)
    enrollment = delivery.enrollment
    check_recorder(actor, enrollment)
    if delivery.voided_at is not None:
        raise DeliveryRefused(ALREADY_VOID, None)
    reason = (reason or "").strip()
    if len(reason) > MAX_VOID_REASON:
        raise ValidationFailed({"reason": [at_most_characters(MAX_VOID_REASON)]})
    twin = _counterpart(delivery)
    _lock([enrollment.id] + ([twin.enrollment_id] if twin is not None else []))
    now = utcnow()
    changed: dict[str, list[str]] = {}
    for each in (delivery, twin):
        if each is None or each.voided_at is not None:
            continue
        _move_progress(each, _snapshot(each), -1)
        each.voided_at, each.voided_by_id, each.void_reason = now, actor.id if actor else None, reason or None
        _flush_or_stale()
        moved = update_milestones(each.enrollment, each, now.date())
        if each is delivery:
            changed = _milestone_data(moved)
    recount_last_counted([enrollment.id] + ([twin.enrollment_id] if twin is not None else []))
    _event("voided", actor, delivery, {"reason_given": bool(reason), **changed})
    return delivery


def _milestone_data(moved: tuple[list[str], list[str]]) -> dict[str, list[str]]:
    """The activity data of the milestones a delivery reached or un-reached (keys only)."""
    reached, unreached = moved
    return {**({"milestones_reached": reached} if reached else {}),
            **({"milestones_unreached": unreached} if unreached else {})}


def _flush_or_stale() -> None:
    try:
        db.session.flush()
    except StaleDataError:  # changed between our read and this write (the version column caught it)
        raise StaleEdit(_l("this delivery")) from None


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return old is None or new is None or Decimal(old) != Decimal(new)
    return (old or None) != (new or None) if isinstance(old, (dict, str)) or isinstance(new, (dict, str)) \
        else old != new


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
