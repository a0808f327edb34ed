"""Step 2 of the delivery import: the dry run (SPEC §2.9; §4's dry run → confirm).

Every row is settled without writing anything: its participant resolved to an enrollment of
THIS campaign by the :class:`Roster` (the one place that knows whom an importer may name),
then the rules every recording path shares — :func:`~portal.deliveries.operations.check_recorder`
and :func:`~portal.deliveries.operations.check_accepts_deliveries` for the enrollment,
:func:`~portal.deliveries.operations.clean_delivery` for the values — and the
``(source, source_id)`` replay rule: a source id already recorded for that enrollment with the
same details is *already recorded* (an outcome, not an error), with different details an error.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.campaigns.models import Campaign
from portal.csv_import.plan import ALREADY, ERROR, PlannedFile, importer_company_id
from portal.db import db, utcnow
from portal.deliveries.csv.parse import DeliveryRow, ParsedFile
from portal.deliveries.kinds import campaign_kinds
from portal.deliveries.models import Delivery
from portal.deliveries.operations import (
    DeliveryValues,
    DuplicateSourceId,
    _same_content,
    check_accepts_deliveries,
    check_recorder,
    clean_delivery,
)
from portal.enrollments.csv.bulk import cycle_gc_paused, in_chunks
from portal.enrollments.csv.parse import EmailNormalizer
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.pseudonyms import participant_id_for
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _, _l
from portal.privacy.consent import ensure_processing_allowed

if TYPE_CHECKING:
    from portal.auth.models import User

SOURCE = "csv"
__all__ = ["ALREADY", "ERROR", "OUTCOMES", "RECORD", "SOURCE", "CampaignState", "ImportPlan", "Roster", "RowPlan",
           "derived_source_id", "plan_import", "plan_rows"]

# Outcomes, in the order the screen lists their counts.
RECORD = "record"
OUTCOMES = (RECORD, ALREADY, ERROR)
OUTCOME_LABELS = {RECORD: _l("will record"), ALREADY: _l("already recorded"), ERROR: _l("error")}

# The reasons are text in the language of whoever runs the dry run (the job runs in the
# language of the person who started it), kept with it and written to the errors file.


def not_your_volunteer(value: str) -> str:
    """A company admin's row naming anyone but one of its own volunteers in this campaign — a
    beneficiary, another company's employee, nobody at all — reads exactly this (SPEC §2.5)."""
    return _("no volunteer of yours in this campaign matches “%(value)s”", value=value)


def not_in_campaign(value: str) -> str:
    return _("no participant of this campaign matches “%(value)s”", value=value)


def ambiguous(value: str, n: int) -> str:
    return _("ambiguous: “%(value)s” matches %(n)s participants of this campaign (by e-mail, external_ref, "
             "participant reference or pseudonym); name one by its e-mail or participant reference", value=value, n=n)


FIELD_NAMES = {"meta": "metadata"}
SHOWN_VALUE = 80


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_VALUE else value[:SHOWN_VALUE] + "…"


class Roster:
    """The enrollments of one campaign an importer may name, and how a row names one.

    A program manager names any enrollment of the campaign by the participant's e-mail
    (normalised as everywhere), external_ref, participant reference (``P-…``) or the
    campaign company's pseudonym for them; a value that fits more than one enrollment is
    ambiguous. A company admin names only its own employees' volunteer enrollments, by
    e-mail or external_ref, and nobody else is even loaded: a row about a beneficiary,
    another company's employee or a made-up person gets the same words."""

    def __init__(self, campaign: Campaign, viewer: User | None, today: date) -> None:
        self.campaign, self.viewer, self.today = campaign, viewer, today
        self.owner = importer_company_id(viewer)
        query = (sa.select(Enrollment).options(joinedload(Enrollment.participant))
                 .where(Enrollment.campaign_id == campaign.id).order_by(Enrollment.id))
        if self.owner is not None:
            query = query.where(Enrollment.role == "volunteer", Enrollment.participant_id.in_(
                sa.select(Participant.id).where(Participant.company_id == self.owner)))
        self.enrollments: dict[int, Enrollment] = {e.id: e for e in db.session.scalars(query)}
        self.by_email: dict[str, list[Enrollment]] = {}
        self.by_name: dict[str, list[Enrollment]] = {}  # external_ref, and (program team) participant ref
        self.by_participant: dict[int, Enrollment] = {}
        for e in self.enrollments.values():
            p = e.participant
            if p.email:
                self.by_email.setdefault(p.email, []).append(e)
            if p.external_ref:
                self.by_name.setdefault(p.external_ref, []).append(e)
            if self.owner is None:
                self.by_name.setdefault(p.ref.upper(), []).append(e)
                self.by_participant[p.id] = e
        self.pseudonym_key = campaign.company.pseudonym_key if self.owner is None else None
        self.normalize_email = EmailNormalizer()
        self._found: dict[str, tuple[Enrollment | None, str | None]] = {}
        self._refusals: dict[int, str | None] = {}

    def resolve(self, value: str) -> tuple[Enrollment | None, str | None]:
        """The enrollment ``value`` names, or None and the row's reason."""
        if value not in self._found:
            self._found[value] = self._resolve(value)
        return self._found[value]

    def _resolve(self, value: str) -> tuple[Enrollment | None, str | None]:
        unknown = (not_your_volunteer if self.owner is not None else not_in_campaign)(_shown(value))
        if "@" in value:
            try:
                found = list(self.by_email.get(self.normalize_email(value), ()))
            except DomainError as exc:
                return None, _("participant “%(value)s”: %(problem)s", value=_shown(value), problem=exc.message)
        else:
            found = list(self.by_name.get(value, ()))
            if self.owner is None:
                found += self.by_name.get(value.upper(), ()) if value.upper() != value else ()
                if self.pseudonym_key is not None:
                    pid = participant_id_for(self.pseudonym_key, value)
                    if pid is not None and pid in self.by_participant:
                        found.append(self.by_participant[pid])
        distinct = {e.id: e for e in found}
        if not distinct:
            return None, unknown
        if len(distinct) > 1:
            return None, ambiguous(_shown(value), len(distinct))
        return next(iter(distinct.values())), None

    def refusal(self, enrollment: Enrollment) -> str | None:
        """Why ``enrollment`` takes no delivery from this importer now (None: it does)."""
        if enrollment.id not in self._refusals:
            try:
                check_recorder(self.viewer, enrollment)
                check_accepts_deliveries(enrollment, self.today)
                ensure_processing_allowed(enrollment)  # consent withdrawn or erased: the confirm would refuse it
                self._refusals[enrollment.id] = None
            except DomainError as exc:
                self._refusals[enrollment.id] = str(exc.message)
        return self._refusals[enrollment.id]


@dataclass(frozen=True)
class CampaignState:
    """What the plan depends on beyond its rows. Its fingerprint, taken at the dry run, must
    be unchanged at confirm."""

    campaign_id: int
    status: str
    kinds: tuple[str, ...]

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignState:
        return cls(campaign.id, campaign.status, tuple(campaign_kinds(campaign)))


@dataclass(slots=True)
class RowPlan:
    number: int
    outcome: str
    reason: str
    row: DeliveryRow
    enrollment_id: int | None = None
    source_id: str | None = None  # the row's own, or the one derived from its content
    values: DeliveryValues | None = None

    def digest_key(self) -> str:
        """The row's outcome, enrollment and source id: what it writes (the values themselves
        come from the file, whose hash starts the plan's digest)."""
        return f"{self.number}|{self.outcome}|{self.enrollment_id or '-'}|{self.source_id or '-'}"

    def item(self) -> dict[str, Any]:
        """The row as one item of :func:`~portal.deliveries.batch.record_batch`."""
        v = self.values
        assert v is not None and self.enrollment_id is not None
        return {"enrollment_id": self.enrollment_id, "kind": v.kind, "occurred_on": v.occurred_on,
                "occurred_time": v.occurred_time, "quantity": v.quantity, "duration_minutes": v.duration_minutes,
                "attendance": v.attendance, "meta": v.meta, "source_id": self.source_id}


class ImportPlan(PlannedFile[RowPlan]):
    OUTCOMES = OUTCOMES


def derived_source_id(enrollment_id: int, values: DeliveryValues) -> str:
    """The source id of a row that gives none: ``csv-`` and a hash of what the row says
    (enrollment, kind, date, time, quantity, duration, attendance, metadata). The same row
    imported again gets the same id, so re-importing a file adds nothing; two rows of one
    file saying exactly the same thing collide, and the second is a row error (give each its
    own source_id to record both)."""
    content = [enrollment_id, values.kind, values.occurred_on.isoformat(),
               values.occurred_time.isoformat() if values.occurred_time else None, str(values.quantity),
               values.duration_minutes, values.attendance, values.meta]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return "csv-" + hashlib.sha256(text.encode()).hexdigest()[:40]


def _field_problems(exc: ValidationFailed) -> list[str]:
    return [_("%(column)s: %(problem)s", column=FIELD_NAMES.get(name, name), problem=message)
            for name, messages in exc.errors.items() for message in messages]


def _existing(campaign_id: int, source_ids: Iterable[str]) -> dict[tuple[int, str], Any]:
    """Deliveries already recorded from CSV under these source ids for this campaign's
    enrollments, by (enrollment, source id): the columns the replay rule compares."""
    found: dict[tuple[int, str], Any] = {}
    in_campaign = sa.select(Enrollment.id).where(Enrollment.campaign_id == campaign_id).scalar_subquery()
    columns = (Delivery.enrollment_id, Delivery.source_id, Delivery.kind, Delivery.occurred_on,
               Delivery.occurred_time, Delivery.quantity, Delivery.duration_minutes, Delivery.attendance,
               Delivery.match_id, Delivery.meta.label("meta"), Delivery.note)
    for where in in_chunks(Delivery.source_id, source_ids):
        for row in db.session.execute(sa.select(*columns).where(
                where, Delivery.source == SOURCE, Delivery.enrollment_id.in_(in_campaign))):
            found[row.enrollment_id, row.source_id] = row
    return found


def plan_rows(rows: Iterable[DeliveryRow], *, roster: Roster, kinds: list[str], campaign_id: int) -> list[RowPlan]:
    """Decide every row, in file order. Reads only (the existing source ids, in bulk).

    A row's reasons are all collected: its own parse problems; its participant (see
    :class:`Roster`); the enrollment's refusal, if any (recorder, status, campaign); the
    field rules of :func:`clean_delivery` (kind of this program, date not in the future nor
    before the enrollment, quantity, duration, attendance only for sessions, metadata); a
    source id used by an earlier row of the file. A clean row is then *already recorded*
    when its source id is stored for that enrollment with the same details, an error when
    with different ones, else *will record*."""
    staged: list[RowPlan] = []
    first: dict[str, int] = {}
    for row in rows:
        reasons = list(row.problems)
        enrollment = None
        if row.participant:
            enrollment, problem = roster.resolve(row.participant)
            if problem:
                reasons.append(problem)
            elif (refused := roster.refusal(enrollment)) is not None:
                reasons.append(refused)
        values = None
        if not row.problems:
            raw = {"kind": row.kind, "occurred_on": row.occurred_on, "occurred_time": row.occurred_time,
                   "quantity": row.quantity, "duration_minutes": row.duration_minutes,
                   "attendance": row.attendance, "meta": row.meta}
            enrolled_on = enrollment.enrolled_at.date() if enrollment is not None and enrollment.enrolled_at else None
            try:
                values = clean_delivery(kinds, raw, enrolled_on=enrolled_on, today=roster.today, notes_allowed=False)
            except ValidationFailed as exc:
                reasons.extend(_field_problems(exc))
        source_id = row.source_id
        if source_id is None and values is not None and enrollment is not None:
            source_id = derived_source_id(enrollment.id, values)
        if source_id is not None:
            if (earlier := first.get(source_id)) is not None:
                reasons.append(_("duplicate of row %(row)s (same source_id “%(source_id)s”)", row=earlier,
                                 source_id=_shown(source_id)) if row.source_id
                               else _("the same delivery as row %(row)s: give each row its own source_id to "
                                      "record both", row=earlier))
            else:
                first[source_id] = row.number
        if reasons:
            staged.append(RowPlan(row.number, ERROR, "; ".join(reasons), row, enrollment.id if enrollment else None,
                                  source_id))
        else:
            staged.append(RowPlan(row.number, RECORD, "", row, enrollment.id, source_id, values))
    existing = _existing(campaign_id, {p.source_id for p in staged if p.outcome == RECORD})
    for p in staged:
        if p.outcome != RECORD:
            continue
        found = existing.get((p.enrollment_id, p.source_id))
        if found is None:
            p.reason = _("new delivery")
        elif _same_content(found, p.values, None):
            p.outcome, p.reason = ALREADY, _("already recorded with the same details: nothing to add")
        else:
            p.outcome, p.reason = ERROR, str(DuplicateSourceId(SOURCE, p.source_id).message)
    return staged


@cycle_gc_paused()
def plan_import(campaign: Campaign, parsed: ParsedFile, viewer: User | None = None,
                today: date | None = None) -> ImportPlan:
    """The dry run: every row's outcome against the campaign as it is now. Reads only."""
    today = today or utcnow().date()
    roster = Roster(campaign, viewer, today)
    state = CampaignState.of(campaign)
    plans = plan_rows(parsed.rows, roster=roster, kinds=list(state.kinds), campaign_id=campaign.id)
    return ImportPlan(plans, state, parsed.sha256, parsed.meta_keys)
