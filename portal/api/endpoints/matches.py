"""A campaign's matches (SPEC §2.8): list and read them (company admins see their own
campaigns' pairs, the beneficiary as the company's pseudonym, no end reasons, as on the
match screen); propose, confirm and end through :mod:`portal.matches.operations`, which
leaves matching to the program team (a company admin's token gets that operation's 403)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.orm import joinedload

from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, json_body, problems, query_params, requires
from portal.api.conditional import check_version, etag_of
from portal.api.idempotency import Reply, idempotent_write, versioned_reply
from portal.api.lists import check_cursor, page_body
from portal.api.problems import NOT_YOURS_TO_SEE, ApiProblem, domain_errors
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment
from portal.errors import DomainError, ValidationFailed
from portal.matches import operations as ops
from portal.matches.models import Match
from portal.pagination import keyset_page
from portal.tenancy import get_visible_or_404, visible

WRITE_PROBLEMS = (*COMMON_PROBLEMS, 400, 404, 409, 415, 422)
SCOPE = "matches:write"
_WITH_PEOPLE = (joinedload(Match.volunteer).joinedload(Enrollment.participant),
                joinedload(Match.beneficiary).joinedload(Enrollment.participant))


def _refused(exc: DomainError, field_paths: dict | None = None) -> ApiProblem:
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [exc.message]}
    return ApiProblem(exc.status_code, exc.message, errors=domain_errors(errors, field_paths))


def _match_in(campaign: Campaign, match_id: int, *, for_update: bool = False) -> Match:
    stmt = sa.select(Match).where(Match.id == match_id, Match.campaign_id == campaign.id,
                                  visible(Match, api_user()))
    match = db.session.scalars(stmt.with_for_update() if for_update else stmt.options(*_WITH_PEOPLE)).first()
    if match is None:
        raise ApiProblem(404, NOT_YOURS_TO_SEE)
    return match


def _reply(campaign: Campaign, match: Match, status: int = 200) -> Reply:
    return versioned_reply(match, lambda: serializers.match(api_user(), match, campaign), status,
                           lambda: url_for("api.get_match", campaign_id=campaign.id, match_id=match.id))


@bp.get("/campaigns/<int:campaign_id>/matches")
@bp.output(schemas.Page[schemas.MatchOut])
@requires("read")
@bp.doc(tags=["Matches"], responses=problems(*COMMON_PROBLEMS, 404, 422))
@query_params(schemas.MatchQuery)
def list_matches(campaign_id: int, query: schemas.MatchQuery):
    """List a campaign's matches

    Newest first, filtered by status. Company admins see the beneficiary as their company's
    pseudonym."""
    user = api_user()
    campaign = get_visible_or_404(Campaign, campaign_id, user)
    stmt = sa.select(Match).options(*_WITH_PEOPLE).where(Match.campaign_id == campaign.id, visible(Match, user))
    if query.status:
        stmt = stmt.where(Match.status == query.status)
    page = keyset_page(stmt, Match, check_cursor(query.cursor), query.limit)
    return page_body([serializers.match(user, m, campaign) for m in page.items], page.next_cursor)


@bp.get("/campaigns/<int:campaign_id>/matches/<int:match_id>")
@bp.output(schemas.MatchOut)
@requires("read")
@bp.doc(tags=["Matches"], responses=problems(*COMMON_PROBLEMS, 404))
def get_match(campaign_id: int, match_id: int):
    """Get one match

    Its ETag is its version: send it as If-Match to confirm or end it."""
    campaign = get_visible_or_404(Campaign, campaign_id, api_user())
    match = _match_in(campaign, match_id)
    return serializers.match(api_user(), match, campaign), {"ETag": etag_of(match.lock_version)}


@bp.post("/campaigns/<int:campaign_id>/matches")
@bp.output(schemas.MatchOut, status_code=201, description="Proposed.")
@requires(SCOPE)
@bp.doc(tags=["Matches"], responses=problems(*WRITE_PROBLEMS))
@json_body(schemas.MatchPropose)
def propose_match(campaign_id: int, body: schemas.MatchPropose):
    """Propose a match

    One volunteer and one beneficiary enrollment of the campaign, both active, with no other
    open match between them. Program managers only. Needs an Idempotency-Key."""
    user = api_user()
    get_visible_or_404(Campaign, campaign_id, user)

    def work() -> Reply:
        campaign = get_visible_or_404(Campaign, campaign_id, user)
        try:
            match = ops.propose_match(user, campaign, db.session.get(Enrollment, body.volunteer_enrollment_id),
                                      db.session.get(Enrollment, body.beneficiary_enrollment_id))
        except DomainError as exc:
            raise _refused(exc) from None
        return _reply(campaign, match, 201)

    return idempotent_write(work)


def _move(campaign_id: int, match_id: int, target: str, reason: str = ""):
    user = api_user()
    _match_in(get_visible_or_404(Campaign, campaign_id, user), match_id)  # 404 before anything else

    def work() -> Reply:
        campaign = get_visible_or_404(Campaign, campaign_id, user)
        match = _match_in(campaign, match_id, for_update=True)
        check_version(match.lock_version, "match")
        try:
            if target == "active":
                ops.confirm_match(user, match, expected_version=match.lock_version)
            else:
                ops.end_match(user, match, reason, expected_version=match.lock_version)
        except DomainError as exc:
            raise _refused(exc, {"volunteer_enrollment_id": None, "beneficiary_enrollment_id": None,
                                 "status": None}) from None
        return _reply(campaign, match)

    return idempotent_write(work)


@bp.post("/campaigns/<int:campaign_id>/matches/<int:match_id>/confirm")
@bp.output(schemas.MatchOut)
@requires(SCOPE)
@bp.doc(tags=["Matches"], responses=problems(*WRITE_PROBLEMS, 412, 428))
def confirm_match(campaign_id: int, match_id: int):
    """Confirm a match

    Proposed → active: both enrollments still active, and the volunteer takes one of their
    slots (``matching.maxMenteesPerMentor``; 409 when full). Needs If-Match and an
    Idempotency-Key."""
    return _move(campaign_id, match_id, "active")


@bp.post("/campaigns/<int:campaign_id>/matches/<int:match_id>/end")
@bp.output(schemas.MatchOut)
@requires(SCOPE)
@bp.doc(tags=["Matches"], responses=problems(*WRITE_PROBLEMS, 412, 428))
@json_body(schemas.MatchEnd, optional=True)
def end_match(campaign_id: int, match_id: int, body: schemas.MatchEnd):
    """End a match

    Proposed or active → ended, with an optional reason (kept for the program team); an
    active match frees the volunteer's slot. Needs If-Match and an Idempotency-Key."""
    return _move(campaign_id, match_id, "ended", body.reason)
