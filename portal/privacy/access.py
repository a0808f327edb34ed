"""Access (GDPR Art. 15, SPEC §2.12): everything the portal holds about one participant.
Its codes and values are as stored; the few words it adds (the legal basis in words, who a
match's partner is, who acted) are in the language of whoever exports it.

:func:`access_report` gathers it as one JSON-ready document (the download) that the
readable page renders too, so the two never differ. Other people are left out: a match
names the partner's role and enrollment number, never who they are. Every export writes
``participant.data_exported`` (who and when; the event holds no personal data).
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.activity.operations import record_event
from portal.auth.models import Company
from portal.campaigns.models import Campaign
from portal.db import db
from portal.deliveries.models import Delivery, EnrollmentMilestone
from portal.enrollments.models import Enrollment, Participant
from portal.i18n import _
from portal.matches.models import Match
from portal.privacy.consent import LEGAL_BASIS_LABELS
from portal.privacy.models import DataSubjectRequest
from portal.privacy.requests import KIND_LABELS, OUTCOME_LABELS

if TYPE_CHECKING:
    from portal.auth.models import User

FORMATS = ("json", "page")


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Any, names: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    return {**{name: _plain(getattr(obj, name)) for name in names}, **extra}


def access_report(participant: Participant) -> dict[str, Any]:
    """The participant's profile, enrollments (with legal basis), matches, deliveries,
    milestones, their data-subject requests and the activity events whose subject is them or
    one of those records."""
    company = db.session.get(Company, participant.company_id) if participant.company_id else None
    rows = db.session.execute(
        sa.select(Enrollment, Campaign.name, Company.name)
        .join(Campaign, Campaign.id == Enrollment.campaign_id).join(Company, Company.id == Campaign.company_id)
        .where(Enrollment.participant_id == participant.id).order_by(Enrollment.id)).all()
    enrollments = [e for e, _, _ in rows]
    ids = [e.id for e in enrollments]
    deliveries = list(db.session.scalars(sa.select(Delivery).where(Delivery.enrollment_id.in_(ids))
                                         .order_by(Delivery.occurred_on, Delivery.id))) if ids else []
    matches = list(db.session.scalars(sa.select(Match).where(sa.or_(
        Match.volunteer_enrollment_id.in_(ids), Match.beneficiary_enrollment_id.in_(ids))).order_by(Match.id))) \
        if ids else []
    milestones = list(db.session.scalars(sa.select(EnrollmentMilestone).where(
        EnrollmentMilestone.enrollment_id.in_(ids)).order_by(EnrollmentMilestone.reached_on))) if ids else []
    about = [sa.and_(ActivityEvent.subject_type == "participants", ActivityEvent.subject_id == participant.id)]
    for subject_type, subject_ids in (("enrollments", ids), ("deliveries", [d.id for d in deliveries]),
                                      ("matches", [m.id for m in matches])):
        if subject_ids:
            about.append(sa.and_(ActivityEvent.subject_type == subject_type, ActivityEvent.subject_id.in_(subject_ids)))
    requests = list(db.session.scalars(sa.select(DataSubjectRequest).where(
        DataSubjectRequest.participant_id == participant.id).order_by(DataSubjectRequest.received_on,
                                                                      DataSubjectRequest.id)))
    events = list(db.session.scalars(sa.select(ActivityEvent).options(sa.orm.joinedload(ActivityEvent.actor))
                                     .where(sa.or_(*about)).order_by(ActivityEvent.created_at, ActivityEvent.id)))
    return {
        "participant": _row(participant, ("ref", "display_name", "email", "year_of_birth", "languages", "country",
                                          "external_ref", "is_enabled", "created_at", "updated_at", "erased_at"),
                            company=company.name if company else None),
        "enrollments": [
            _row(e, ("id", "role", "status", "legal_basis", "consent_given_on", "consent_withdrawn_at", "enrolled_at",
                     "waitlisted_at", "completed_at", "dropped_at", "drop_reason", "source", "source_id", "meta",
                     "created_at"),
                 campaign=campaign_name, sponsor=company_name,
                 legal_basis_label=str(LEGAL_BASIS_LABELS.get(e.legal_basis, e.legal_basis)))
            for e, campaign_name, company_name in rows
        ],
        "matches": [
            {**_row(m, ("id", "status", "proposed_at", "started_at", "ended_at", "end_reason")),
             "role": "volunteer" if m.volunteer_enrollment_id in ids else "beneficiary",
             "enrollment_id": m.volunteer_enrollment_id if m.volunteer_enrollment_id in ids
             else m.beneficiary_enrollment_id,
             "partner": _("a beneficiary") if m.volunteer_enrollment_id in ids else _("a volunteer")}
            for m in matches
        ],
        "deliveries": [
            _row(d, ("id", "enrollment_id", "kind", "occurred_on", "occurred_time", "quantity", "duration_minutes",
                     "attendance", "match_id", "source", "source_id", "meta", "note", "created_at", "voided_at",
                     "void_reason"))
            for d in deliveries
        ],
        "milestones": [_row(m, ("enrollment_id", "key", "name", "reached_on")) for m in milestones],
        "requests": [
            _row(r, ("kind", "received_on", "reference", "closed_at", "outcome", "outcome_note"),
                 kind_label=str(KIND_LABELS.get(r.kind, r.kind)),
                 outcome_label=str(OUTCOME_LABELS[r.outcome]) if r.outcome in OUTCOME_LABELS else None)
            for r in requests
        ],
        "events": [
            {**_row(ev, ("type", "created_at", "subject_type", "subject_id", "data")),
             "by": _("the system") if ev.actor is None else (
                 _("the program team") if ev.actor.is_program_manager else _("the sponsoring company"))}
            for ev in events
        ],
    }


def record_access_export(actor: User | None, participant: Participant, fmt: str) -> None:
    """Log that ``actor`` exported the participant's data (who and when come with every
    event; the data says only the format)."""
    record_event("participant.data_exported", actor=actor, subject=participant, company_id=None,
                 data={"format": fmt if fmt in FORMATS else "json"}, label=participant.ref)
