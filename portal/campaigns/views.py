"""Campaign screens (read side for now: list and detail with enrollments)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, request
from flask_login import current_user, login_required

from portal.activity.queries import describe, timeline
from portal.auth.scoping import get_visible_or_404, select_visible
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment
from portal.enrollments.privacy import may_see_identity, participant_label
from portal.lifecycle import RUN_STATUSES
from portal.pagination import keyset_page
from portal.programs.models import Program
from portal.web import render

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


@bp.get("/")
@login_required
def index():
    status = request.args.get("status") if request.args.get("status") in RUN_STATUSES else None
    stmt = select_visible(Campaign, current_user).options(
        sa.orm.joinedload(Campaign.company), sa.orm.joinedload(Campaign.program)
    )
    if status:
        stmt = stmt.where(Campaign.status == status)
    page = keyset_page(stmt, Campaign, request.args.get("after"), current_app.config["PORTAL_PAGE_SIZE"])
    return render("campaigns/index.html", block="results", page=page, status=status or "", statuses=RUN_STATUSES)


@bp.get("/new")
@login_required
def new():
    """Campaign creation, pre-filled from the catalog (``?program=<id>``)."""
    program = None
    if request.args.get("program", type=int):
        program = get_visible_or_404(Program, request.args.get("program", type=int), current_user)
    return render("campaigns/new.html", program=program)


@bp.get("/<int:campaign_id>")
@login_required
def detail(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    counts = dict(db.session.execute(
        sa.select(Enrollment.status, sa.func.count()).where(Enrollment.campaign_id == campaign.id)
        .group_by(Enrollment.status)
    ).all())
    page = keyset_page(
        sa.select(Enrollment).options(sa.orm.joinedload(Enrollment.participant))
        .where(Enrollment.campaign_id == campaign.id),
        Enrollment, request.args.get("after"), current_app.config["PORTAL_PAGE_SIZE"],
    )
    program = db.session.get(Program, campaign.program_id)
    return render("campaigns/detail.html", block="enrollments", campaign=campaign, program=program, counts=counts,
                  page=page, label=participant_label, events=timeline("campaigns", campaign.id, current_user),
                  describe=describe)


@bp.get("/<int:campaign_id>/enrollments/<int:enrollment_id>")
@login_required
def enrollment_detail(campaign_id: int, enrollment_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user)
    if enrollment.campaign_id != campaign.id:
        abort(404)
    return render("campaigns/enrollment.html", campaign=campaign, enrollment=enrollment,
                  participant=enrollment.participant, show_identity=may_see_identity(current_user, enrollment.participant),
                  label=participant_label, events=timeline("enrollments", enrollment.id, current_user),
                  describe=describe)
