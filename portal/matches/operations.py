"""Propose, confirm and end matches (SPEC §2.8). Each operation takes the acting user,
changes the session, flushes and writes its activity event; the caller commits once
(``with transaction():``).

The volunteer's load is exact under concurrency: confirming moves the volunteer's
:class:`~portal.matches.models.MatchLoad` counter with a conditional UPDATE
(``active_matches + 1 … WHERE active_matches < limit``), which on PostgreSQL waits on the
row lock and re-checks the condition, and on SQLite runs inside ``BEGIN IMMEDIATE``; it
changes no row when the volunteer is full. The CHECK ``active_matches >= 0`` and the
partial unique index on open pairs are the database's backstops.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.activity.operations import record_event
from portal.campaigns.models import Campaign
from portal.campaigns.settings import campaign_config
from portal.db import db, utcnow
from portal.enrollments.models import Enrollment
from portal.errors import DomainError, Forbidden, InvalidTransition, StaleEdit
from portal.i18n import _l, _n, number
from portal.matches.models import ACTIVE, ENDED, MATCH_TRANSITIONS, PROPOSED, Match, MatchLoad
from portal.matches.suggestions import match_limit
from portal.privacy.consent import ensure_processing_allowed

if TYPE_CHECKING:
    from portal.auth.models import User

VOLUNTEER, BENEFICIARY = "volunteer", "beneficiary"
ALREADY_MATCHED = _l("These two already have a proposed or active match.")
# Why an enrollment that is not active cannot be matched, for a volunteer (True) and a beneficiary (False).
NOT_ACTIVE = {
    True: {"waitlisted": _l("The volunteer's enrollment is waitlisted; only active enrollments can be matched."),
           "completed": _l("The volunteer's enrollment is completed; only active enrollments can be matched."),
           "dropped": _l("The volunteer's enrollment is dropped; only active enrollments can be matched.")},
    False: {"waitlisted": _l("The beneficiary's enrollment is waitlisted; only active enrollments can be matched."),
            "completed": _l("The beneficiary's enrollment is completed; only active enrollments can be matched."),
            "dropped": _l("The beneficiary's enrollment is dropped; only active enrollments can be matched.")},
}


class VolunteerFull(DomainError):
    status_code = 409


class AlreadyMatched(DomainError):
    status_code = 409


class EnrollmentNotActive(DomainError):
    status_code = 409


# --- reading the rules' inputs --------------------------------------------------------
def campaign_matching(campaign: Campaign) -> dict[str, Any]:
    """The campaign's effective ``matching`` settings (template ← program ← campaign)."""
    matching = campaign_config(campaign).get("matching")
    return matching if isinstance(matching, dict) else {}


def volunteer_limit(campaign: Campaign) -> int:
    """How many active matches one volunteer may hold in this campaign."""
    return match_limit(campaign_matching(campaign))


def loads_of(enrollment_ids: list[int]) -> dict[int, int]:
    """Active matches per volunteer enrollment (0 for those with none)."""
    if not enrollment_ids:
        return {}
    rows = db.session.execute(sa.select(MatchLoad.volunteer_enrollment_id, MatchLoad.active_matches)
                              .where(MatchLoad.volunteer_enrollment_id.in_(enrollment_ids))).all()
    loads = dict.fromkeys(enrollment_ids, 0)
    loads.update({eid: n for eid, n in rows})
    return loads


# --- rules ----------------------------------------------------------------------------
def _check_actor(actor: User | None) -> None:
    """Program managers (and the system, no actor) make matches; company admins only read them."""
    if actor is not None and not actor.is_program_manager:
        raise Forbidden(_l("Matches are made by the program team."))


def _check_enrollment(campaign: Campaign, enrollment: Enrollment | None, role: str, field: str) -> Enrollment:
    volunteer = role == VOLUNTEER
    if enrollment is None or enrollment.campaign_id != campaign.id:
        raise DomainError(_l("Choose a volunteer enrolled in this campaign.") if volunteer
                          else _l("Choose a beneficiary enrolled in this campaign."), field)
    if enrollment.role != role:
        raise DomainError(_l("That enrollment is a beneficiary, not a volunteer: a match joins one volunteer and one "
                             "beneficiary.") if volunteer else
                          _l("That enrollment is a volunteer, not a beneficiary: a match joins one volunteer and one "
                             "beneficiary."), field)
    if enrollment.status != "active":
        raise EnrollmentNotActive(NOT_ACTIVE[volunteer].get(enrollment.status) or _l(
            "The enrollment is %(status)s; only active enrollments can be matched.", status=enrollment.status), field)
    ensure_processing_allowed(enrollment, field=field)
    return enrollment


def check_match_move(match: Match, target: str, expected_version: int | None = None) -> None:
    if expected_version is not None and match.lock_version != expected_version:
        raise StaleEdit(_l("this match"))
    allowed = MATCH_TRANSITIONS.get(match.status, ())
    if target not in allowed:
        raise InvalidTransition(match.status, target, list(allowed))


def _ensure_load_row(volunteer_enrollment_id: int) -> None:
    """The volunteer's counter row, created once (concurrent creators do not collide)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(MatchLoad).values(volunteer_enrollment_id=volunteer_enrollment_id, active_matches=0)
                       .on_conflict_do_nothing(index_elements=["volunteer_enrollment_id"]))


def _event(event_type: str, actor: User | None, match: Match, campaign: Campaign, data: dict[str, Any]) -> None:
    # Ids and statuses only: a company reads these events, and the beneficiary is not theirs to know.
    record_event(event_type, actor=actor, subject=match, company_id=campaign.company_id,
                 data={"campaign_id": campaign.id, "volunteer_enrollment_id": match.volunteer_enrollment_id,
                       "beneficiary_enrollment_id": match.beneficiary_enrollment_id, **data},
                 label=f"match #{match.id} in {campaign.name}")


# --- operations -----------------------------------------------------------------------
def propose_match(actor: User | None, campaign: Campaign, volunteer: Enrollment | None,
                  beneficiary: Enrollment | None) -> Match:
    """Propose a pair: one volunteer and one beneficiary enrollment of ``campaign``, both
    active, with no other open (proposed or active) match between them."""
    _check_actor(actor)
    volunteer = _check_enrollment(campaign, volunteer, VOLUNTEER, "volunteer_enrollment_id")
    beneficiary = _check_enrollment(campaign, beneficiary, BENEFICIARY, "beneficiary_enrollment_id")
    open_pair = db.session.scalar(sa.select(Match.id).where(
        Match.volunteer_enrollment_id == volunteer.id, Match.beneficiary_enrollment_id == beneficiary.id,
        Match.status != ENDED))
    if open_pair is not None:
        raise AlreadyMatched(ALREADY_MATCHED, "volunteer_enrollment_id")
    _ensure_load_row(volunteer.id)
    match = Match(campaign_id=campaign.id, volunteer_enrollment_id=volunteer.id,
                  beneficiary_enrollment_id=beneficiary.id, status=PROPOSED, proposed_at=utcnow(),
                  created_by_id=actor.id if actor is not None else None)
    try:
        with db.session.begin_nested():  # a concurrent proposal of the same pair trips the unique index
            db.session.add(match)
            db.session.flush()
    except IntegrityError:
        raise AlreadyMatched(ALREADY_MATCHED, "volunteer_enrollment_id") from None
    _event("program.match.proposed", actor, match, campaign, {"to": PROPOSED})
    return match


def confirm_match(actor: User | None, match: Match, *, expected_version: int | None = None) -> Match:
    """Proposed → active: both enrollments still active, and the volunteer takes one of
    their slots (at most ``matching.maxMenteesPerMentor`` active matches, 1 by default)."""
    _check_actor(actor)
    check_match_move(match, ACTIVE, expected_version)
    campaign = db.session.get(Campaign, match.campaign_id)
    _check_enrollment(campaign, db.session.get(Enrollment, match.volunteer_enrollment_id), VOLUNTEER,
                      "volunteer_enrollment_id")
    _check_enrollment(campaign, db.session.get(Enrollment, match.beneficiary_enrollment_id), BENEFICIARY,
                      "beneficiary_enrollment_id")
    limit = volunteer_limit(campaign)
    _ensure_load_row(match.volunteer_enrollment_id)
    taken = db.session.execute(
        sa.update(MatchLoad)
        .where(MatchLoad.volunteer_enrollment_id == match.volunteer_enrollment_id, MatchLoad.active_matches < limit)
        .values(active_matches=MatchLoad.active_matches + 1)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise VolunteerFull(_n("This volunteer already has %(count)s of %(count)s active match, the campaign's limit. "
                               "End one first.", "This volunteer already has %(count)s of %(count)s active matches, the "
                               "campaign's limit. End one first.", limit, count=number(limit)), None)
    match.status, match.started_at = ACTIVE, utcnow()
    _flush_versioned()
    _event("program.match.confirmed", actor, match, campaign, {"from": PROPOSED, "to": ACTIVE})
    return match


def end_match(actor: User | None, match: Match, reason: str = "", *, expected_version: int | None = None) -> Match:
    """Proposed or active → ended, with a reason; an active match frees the volunteer's slot."""
    _check_actor(actor)
    check_match_move(match, ENDED, expected_version)
    _end(actor, match, reason)
    return match


def _end(actor: User | None, match: Match, reason: str) -> None:
    was = match.status
    if was == ACTIVE:
        db.session.execute(
            sa.update(MatchLoad).where(MatchLoad.volunteer_enrollment_id == match.volunteer_enrollment_id)
            .values(active_matches=MatchLoad.active_matches - 1).execution_options(synchronize_session=False))
    match.status, match.ended_at = ENDED, utcnow()
    match.end_reason = (reason or "").strip()[:500] or None
    _flush_versioned()
    campaign = db.session.get(Campaign, match.campaign_id)
    # The reason may be a note about a beneficiary: the event says only whether one was given.
    _event("program.match.ended", actor, match, campaign,
           {"from": was, "to": ENDED, "reason_given": match.end_reason is not None})


def end_matches_of(enrollment: Enrollment, actor: User | None, reason: str) -> list[Match]:
    """End every proposed and active match of ``enrollment`` (volunteer or beneficiary) in
    the caller's transaction: a completed or dropped enrollment keeps no partner."""
    matches = list(db.session.scalars(
        sa.select(Match).where(sa.or_(Match.volunteer_enrollment_id == enrollment.id,
                                      Match.beneficiary_enrollment_id == enrollment.id),
                               Match.status != ENDED)
        .order_by(Match.id).with_for_update()))
    for match in matches:
        _end(actor, match, reason)
    return matches


def _flush_versioned() -> None:
    try:
        db.session.flush()
    except StaleDataError:  # changed between our read and this write (the version column caught it)
        raise StaleEdit(_l("this match")) from None
