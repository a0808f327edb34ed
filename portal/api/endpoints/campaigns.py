"""Campaigns: company admins their own, program managers all — portal.tenancy, as on the
screens. Writes (``campaigns:write``) call the campaign operations the screens call
(:mod:`portal.campaigns.operations`): create (as a draft, from the catalog's programs, for
your own company when you are a company admin), update (the edit screen's fields and the
configuration screen's layer) and the lifecycle moves (start, pause, complete, archive)."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import url_for

from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, json_body, problems, query_params, requires
from portal.api.conditional import check_version, etag_of
from portal.api.idempotency import Reply, idempotent_write, versioned_reply
from portal.api.lists import check_cursor, page_body
from portal.api.problems import ApiProblem, body_error, domain_errors
from portal.auth.models import Company
from portal.campaigns import operations as ops
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _, _l
from portal.lifecycle import ACTIVE, ARCHIVED, COMPLETED, PAUSED
from portal.pagination import keyset_page
from portal.programs.models import Program, in_catalog
from portal.tenancy import get_visible_or_404, select_visible, visible

SCOPE = "campaigns:write"
WRITE_PROBLEMS = (*COMMON_PROBLEMS, 400, 404, 409, 415, 422)
# The operations' field names are the body's; a lifecycle refusal is about the request as a whole.
FIELD_PATHS: dict[str, tuple | None] = {"status": None, "": None}
NOT_IN_CATALOG = _l("No program with this id in the catalog: campaigns start from active public programs.")
NOT_YOUR_COMPANY = _l("No company with this id among yours.")


def _refused(exc: DomainError) -> ApiProblem:
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [exc.message]}
    return ApiProblem(exc.status_code, exc.message, errors=domain_errors(errors, FIELD_PATHS))


def _reply(campaign: Campaign, status: int = 200) -> Reply:
    return versioned_reply(campaign, lambda: serializers.campaign(campaign), status,
                           lambda: url_for("api.get_campaign", campaign_id=campaign.id))


@bp.get("/campaigns")
@bp.output(schemas.Page[schemas.CampaignOut])
@requires("read")
@bp.doc(tags=["Campaigns"], responses=problems(*COMMON_PROBLEMS, 422))
@query_params(schemas.CampaignQuery)
def list_campaigns(query: schemas.CampaignQuery):
    """List campaigns

    Newest first. Company admins see their company's campaigns only; filtering by another
    company gives an empty list."""
    stmt = select_visible(Campaign, api_user())
    if query.status:
        stmt = stmt.where(Campaign.status == query.status)
    if query.program_id:
        stmt = stmt.where(Campaign.program_id == query.program_id)
    if query.company_id:
        stmt = stmt.where(Campaign.company_id == query.company_id)
    page = keyset_page(stmt, Campaign, check_cursor(query.cursor), query.limit)
    return page_body([serializers.campaign(c) for c in page.items], page.next_cursor)


@bp.get("/campaigns/<int:campaign_id>")
@bp.output(schemas.CampaignOut)
@requires("read")
@bp.doc(tags=["Campaigns"], responses=problems(*COMMON_PROBLEMS, 404))
def get_campaign(campaign_id: int):
    """Get one campaign

    Another company's campaign is 404, exactly like a missing one. Its ETag is its version:
    send it as If-Match to change the campaign or move it along its lifecycle."""
    campaign = get_visible_or_404(Campaign, campaign_id, api_user())
    return serializers.campaign(campaign), {"ETag": etag_of(campaign.lock_version)}


# --- writes -------------------------------------------------------------------------------------
def _program_and_company(body: schemas.CampaignCreate) -> tuple[Program, Company]:
    """The start screen's choices: a program of the catalog, and a company the user may see
    (a company admin: its own). Anything else is a field error that says nothing about
    whose it is."""
    user = api_user()
    program = db.session.scalar(sa.select(Program).where(Program.id == body.program_id, in_catalog()))
    company_id = body.company_id if body.company_id is not None else user.company_id
    company = None if company_id is None else db.session.scalar(
        sa.select(Company).where(Company.id == company_id, visible(Company, user)))
    errors = []
    if program is None:
        errors.append(body_error(["program_id"], NOT_IN_CATALOG))
    if company is None:
        errors.append(body_error(["company_id"], _("Field required") if company_id is None else NOT_YOUR_COMPANY))
    if errors:
        raise ApiProblem(422, _("Some values in the body are not valid."), errors=errors)
    return program, company  # type: ignore[return-value]


@bp.post("/campaigns")
@bp.output(schemas.CampaignOut, status_code=201, description="Created, as a draft.")
@requires(SCOPE)
@bp.doc(tags=["Campaigns"], responses=problems(*WRITE_PROBLEMS))
@json_body(schemas.CampaignCreate)
def create_campaign(body: schemas.CampaignCreate):
    """Create a campaign

    The start-a-campaign screen's rules: a program of the catalog (active and public), a
    company admin for its own company only (``company_id`` may be left out), program
    managers for any company. Created as a draft: start it with ``/start``. Amounts are
    integers in minor units of ``currency``. ``config_overrides`` is the campaign's
    configuration layer (impact settings are refused). Needs an Idempotency-Key."""
    user = api_user()
    values = body.model_dump(exclude={"program_id", "company_id", "key", "config_overrides"})

    def work() -> Reply:
        program, company = _program_and_company(body)
        try:
            campaign = ops.create_campaign(user, program=program, company=company, key=body.key,
                                           config_overrides=body.config_overrides, **values)
        except DomainError as exc:
            raise _refused(exc) from None
        return _reply(campaign, 201)

    return idempotent_write(work)


@bp.patch("/campaigns/<int:campaign_id>")
@bp.output(schemas.CampaignOut)
@requires(SCOPE)
@bp.doc(tags=["Campaigns"], responses=problems(*WRITE_PROBLEMS, 412, 428))
@json_body(schemas.CampaignUpdate)
def update_campaign(campaign_id: int, body: schemas.CampaignUpdate):
    """Change a campaign

    Only the fields sent change, under the edit screen's rules: the cap not below the seats
    already taken, nor the budget below what they commit; raising the cap or the budget
    promotes waitlisted beneficiaries, oldest first, in the same transaction. An archived
    campaign does not change. ``config_overrides`` replaces the campaign's configuration
    layer, as the configuration screen saves it (impact settings are refused); changing
    fields and the configuration in one request is one transaction that the activity log
    shows as two changes. Needs If-Match (the campaign's ETag)."""
    user = api_user()
    get_visible_or_404(Campaign, campaign_id, user)  # 404 before anything else
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    overrides = changes.pop("config_overrides", None)
    with transaction():
        campaign = get_visible_or_404(Campaign, campaign_id, user, for_update=True)
        check_version(campaign.lock_version, "campaign")
        try:
            if changes:
                ops.update_campaign(user, campaign, expected_version=campaign.lock_version, **changes)
            if overrides is not None:
                db.session.flush()
                ops.update_campaign_config(user, campaign, overrides, expected_version=campaign.lock_version)
        except DomainError as exc:
            raise _refused(exc) from None
        reply = _reply(campaign)
    return reply.response()


def _move(campaign_id: int, target: str):
    user = api_user()
    get_visible_or_404(Campaign, campaign_id, user)  # 404 before anything else

    def work() -> Reply:
        campaign = get_visible_or_404(Campaign, campaign_id, user, for_update=True)
        check_version(campaign.lock_version, "campaign")
        try:
            ops.transition_campaign(user, campaign, target, expected_version=campaign.lock_version)
        except DomainError as exc:
            raise _refused(exc) from None
        return _reply(campaign)

    return idempotent_write(work)


@bp.post("/campaigns/<int:campaign_id>/start")
@bp.output(schemas.CampaignOut, description="Active.")
@requires(SCOPE)
@bp.doc(tags=["Campaigns"], responses=problems(*WRITE_PROBLEMS, 412, 428))
def start_campaign(campaign_id: int):
    """Start (or resume) a campaign

    Draft or paused → active, while its program is active. Needs If-Match (the campaign's
    ETag) and an Idempotency-Key. A move the lifecycle does not allow is 409, naming the
    moves allowed."""
    return _move(campaign_id, ACTIVE)


@bp.post("/campaigns/<int:campaign_id>/pause")
@bp.output(schemas.CampaignOut, description="Paused.")
@requires(SCOPE)
@bp.doc(tags=["Campaigns"], responses=problems(*WRITE_PROBLEMS, 412, 428))
def pause_campaign(campaign_id: int):
    """Pause a campaign

    Active → paused: it takes no new enrollments until started again. Needs If-Match and an
    Idempotency-Key."""
    return _move(campaign_id, PAUSED)


@bp.post("/campaigns/<int:campaign_id>/complete")
@bp.output(schemas.CampaignOut, description="Completed.")
@requires(SCOPE)
@bp.doc(tags=["Campaigns"], responses=problems(*WRITE_PROBLEMS, 412, 428))
def complete_campaign(campaign_id: int):
    """Complete a campaign

    Active or paused → completed: it takes no new enrollments, and its enrollments and
    figures stay as they are. It cannot be started again, only archived. Needs If-Match and
    an Idempotency-Key."""
    return _move(campaign_id, COMPLETED)


@bp.post("/campaigns/<int:campaign_id>/archive")
@bp.output(schemas.CampaignOut, description="Archived.")
@requires(SCOPE)
@bp.doc(tags=["Campaigns"], responses=problems(*WRITE_PROBLEMS, 412, 428))
def archive_campaign(campaign_id: int):
    """Archive a campaign

    Any state but archived → archived: it takes no new enrollments and can no longer be
    changed or started again; its enrollments, figures and activity stay readable. Needs
    If-Match and an Idempotency-Key."""
    return _move(campaign_id, ARCHIVED)
