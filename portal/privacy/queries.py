"""What the privacy screen reads: the erasure log, the withdrawn consents still holding an
identity (requests to follow up), and a participant's enrollments with their legal basis."""
from __future__ import annotations

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant


def erasure_log(limit: int = 50) -> list[tuple[ActivityEvent, str | None]]:
    """The latest ``participant.erased`` events with the erased row's reference."""
    rows = db.session.execute(
        sa.select(ActivityEvent, Participant.ref)
        .outerjoin(Participant, sa.and_(ActivityEvent.subject_type == Participant.__tablename__,
                                        Participant.id == ActivityEvent.subject_id))
        .options(sa.orm.joinedload(ActivityEvent.actor))
        .where(ActivityEvent.type == "participant.erased")
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc()).limit(limit)).all()
    return [(event, ref) for event, ref in rows]


def withdrawn_not_erased(limit: int = 100) -> list[tuple[Enrollment, Participant, str]]:
    """Enrollments whose consent was withdrawn while the person is still identifiable:
    open requests (erase them if the person asked for erasure too)."""
    rows = db.session.execute(
        sa.select(Enrollment, Participant, Campaign.name)
        .join(Participant, Participant.id == Enrollment.participant_id)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.consent_withdrawn_at.is_not(None), Participant.erased_at.is_(None))
        .order_by(Enrollment.consent_withdrawn_at, Enrollment.id).limit(limit)).all()
    return [(e, p, name) for e, p, name in rows]


def enrollments_with_basis(participant: Participant) -> list[tuple[Enrollment, str]]:
    return [(e, name) for e, name in db.session.execute(
        sa.select(Enrollment, Campaign.name).join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.participant_id == participant.id).order_by(Enrollment.id)).all()]
