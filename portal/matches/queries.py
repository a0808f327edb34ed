"""What the match screens read: a campaign's matches, its volunteers' loads, and the
suggestions for one beneficiary. Callers have already checked the campaign is visible."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from portal.matches.models import ACTIVE, ENDED, PROPOSED, Match, MatchLoad
from portal.matches.operations import campaign_matching
from portal.matches.suggestions import Person, Suggestion, match_limit, rank_volunteers
from portal.privacy.consent import processing_allowed_sql

ENDED_SHOWN = 100  # the most recent ended matches listed; open ones are always all listed

@dataclass(frozen=True)
class VolunteerLoad:
    enrollment: Enrollment
    active: int
    limit: int

    @property
    def full(self) -> bool:
        return self.active >= self.limit

def campaign_matches(campaign_id: int) -> list[Match]:
    """Active first, then proposed, then the latest ended; newest first within each."""
    order = sa.case({ACTIVE: 0, PROPOSED: 1}, value=Match.status, else_=2)
    options = (joinedload(Match.volunteer).joinedload(Enrollment.participant),
               joinedload(Match.beneficiary).joinedload(Enrollment.participant))
    open_rows = db.session.scalars(sa.select(Match).options(*options).where(
        Match.campaign_id == campaign_id, Match.status != ENDED).order_by(order, Match.id.desc())).all()
    ended = db.session.scalars(sa.select(Match).options(*options).where(
        Match.campaign_id == campaign_id, Match.status == ENDED).order_by(Match.id.desc()).limit(ENDED_SHOWN)).all()
    return [*open_rows, *ended]

def volunteer_loads(campaign: Campaign, limit: int) -> list[VolunteerLoad]:
    """Every active volunteer of the campaign who may still be matched (not withdrawn, not
    erased: :func:`processing_allowed_sql`) with their active matches against ``limit``."""
    rows = db.session.execute(
        sa.select(Enrollment, sa.func.coalesce(MatchLoad.active_matches, 0))
        .outerjoin(MatchLoad, MatchLoad.volunteer_enrollment_id == Enrollment.id)
        .options(joinedload(Enrollment.participant))
        .where(Enrollment.campaign_id == campaign.id, Enrollment.role == "volunteer", Enrollment.status == "active",
               processing_allowed_sql())
        .order_by(Enrollment.id)).all()
    return [VolunteerLoad(e, n, limit) for e, n in rows]

def active_beneficiaries(campaign_id: int) -> list[Enrollment]:
    """The campaign's active beneficiaries who may still be matched (:func:`processing_allowed_sql`)."""
    return list(db.session.scalars(
        sa.select(Enrollment).join(Participant, Participant.id == Enrollment.participant_id)
        .options(joinedload(Enrollment.participant))
        .where(Enrollment.campaign_id == campaign_id, Enrollment.role == "beneficiary", Enrollment.status == "active",
               processing_allowed_sql())
        .order_by(Participant.display_name, Enrollment.id)))

def _person(enrollment: Enrollment, active: int = 0) -> Person:
    p = enrollment.participant
    return Person(enrollment_id=enrollment.id, label=p.display_name, languages=tuple(p.languages or ()),
                  country=p.country, year_of_birth=p.year_of_birth,
                  profile=enrollment.meta if isinstance(enrollment.meta, dict) else {}, active_matches=active)

def suggestions_for(campaign: Campaign, beneficiary: Enrollment, loads: list[VolunteerLoad]) -> list[Suggestion]:
    """The campaign's active volunteers with a free slot, ranked for ``beneficiary``; those
    already in an open match with them are left out."""
    partnered = set(db.session.scalars(sa.select(Match.volunteer_enrollment_id).where(
        Match.beneficiary_enrollment_id == beneficiary.id, Match.status != ENDED)))
    volunteers = [_person(load.enrollment, load.active) for load in loads if load.enrollment.id not in partnered]
    return rank_volunteers(_person(beneficiary), volunteers, campaign_matching(campaign),
                           current_year=datetime.now(UTC).year)

def campaign_limit(campaign: Campaign) -> int:
    return match_limit(campaign_matching(campaign))

def pair_match(campaign_id: int, match_id: int, *, for_update: bool = False) -> Match | None:
    stmt = sa.select(Match).where(Match.id == match_id, Match.campaign_id == campaign_id)
    if for_update:
        stmt = stmt.with_for_update()
    return db.session.scalars(stmt).first()
