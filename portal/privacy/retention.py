"""Retention (SPEC §2.12): a beneficiary group may keep its participants' identity only so
many months (``retention_months``) after their last enrollment in the group ended.

The rule, per participant not yet erased:
- nobody with an enrollment still open (active or waitlisted), in any group, is due —
  they are still taking part;
- groups without a period do not hold anyone, and do not make anyone due;
- otherwise they are due on the latest of, for each group with a period they were in,
  (the day their last enrollment in it ended + that many months); due once that day has
  come.

``flask privacy retention`` lists who is due (a dry run: reads only); ``--apply`` erases
them, each in its own transaction, as the daily job does (:func:`run_retention_job`).
"""
from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.beneficiaries.models import BeneficiaryGroup
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment, Participant
from portal.errors import DomainError
from portal.programs.models import Program

log = logging.getLogger(__name__)
OPEN_STATUSES = ("active", "waitlisted")


@dataclass
class Due:
    participant_id: int
    ref: str
    display_name: str
    due_on: date
    groups: list[str] = field(default_factory=list)


@dataclass
class RetentionRun:
    due: list[Due]
    erased: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter: 31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_for_retention(today: date) -> list[Due]:
    """Participants whose retention period has run out by ``today`` (see the module doc), oldest due first."""
    ended = sa.func.max(sa.func.coalesce(Enrollment.completed_at, Enrollment.dropped_at))
    still_open = sa.func.sum(sa.case((Enrollment.status.in_(OPEN_STATUSES), 1), else_=0))
    rows = db.session.execute(
        sa.select(Participant.id, Participant.ref, Participant.display_name, BeneficiaryGroup.name,
                  BeneficiaryGroup.retention_months, ended.label("ended"), still_open.label("still_open"))
        .select_from(Enrollment)
        .join(Participant, Participant.id == Enrollment.participant_id)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .join(Program, Program.id == Campaign.program_id)
        .join(BeneficiaryGroup, BeneficiaryGroup.id == Program.group_id)
        .where(Participant.erased_at.is_(None))
        .group_by(Participant.id, Participant.ref, Participant.display_name, BeneficiaryGroup.id,
                  BeneficiaryGroup.name, BeneficiaryGroup.retention_months)
        .order_by(Participant.id)).all()
    people: dict[int, Due] = {}
    held_open: set[int] = set()
    for pid, ref, name, group_name, months, last_end, open_count in rows:
        if open_count:
            held_open.add(pid)
            continue
        if months is None or last_end is None:
            continue
        due_on = add_months(last_end.date(), months)
        person = people.setdefault(pid, Due(pid, ref, name, due_on))
        person.due_on = max(person.due_on, due_on)
        person.groups.append(group_name)
    due = [p for pid, p in people.items() if pid not in held_open and p.due_on <= today]
    return sorted(due, key=lambda p: (p.due_on, p.participant_id))


def apply_retention(today: date, *, apply: bool = False) -> RetentionRun:
    """Who is due; with ``apply``, erase each (its own transaction, so one refusal stops no
    one else). Without it nothing is written."""
    from portal.privacy.erasure import RETENTION, erase_participant

    run = RetentionRun(due_for_retention(today))
    if not apply:
        return run
    for person in run.due:
        try:
            with transaction():
                participant = db.session.scalars(sa.select(Participant).where(Participant.id == person.participant_id)
                                                 .with_for_update()).one()
                erase_participant(None, participant, confirmation=participant.ref, reason=RETENTION)
            run.erased.append(person.participant_id)
        except DomainError as exc:
            run.failed[person.participant_id] = exc.message
    return run


def run_retention_job(today: date) -> int:
    """The daily retention task (both job backends): erase everyone due. Returns how many."""
    run = apply_retention(today, apply=True)
    if run.erased:
        log.info("retention: erased %s participants", len(run.erased))
    for participant_id, message in run.failed.items():
        log.warning("retention: participant %s not erased: %s", participant_id, message)
    return len(run.erased)
