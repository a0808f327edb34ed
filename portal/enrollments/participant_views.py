"""Participants screens (program managers): search, detail, edit.

Company admins get 403 here: they reach participants only through their own
campaigns, where beneficiaries appear pseudonymised (SPEC §2.5).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user

from portal.activity.queries import describe
from portal.db import transaction
from portal.enrollments import queries
from portal.enrollments.forms import SEARCH_FIELDS, ParticipantForm
from portal.enrollments.models import ROLE_LABELS, SOURCE_LABELS, Participant
from portal.enrollments.operations import update_participant
from portal.errors import DomainError
from portal.i18n import _
from portal.tenancy import get_visible_or_404
from portal.web import apply_domain_error, redirect_to, render, role_required

bp = Blueprint("participants", __name__, url_prefix="/participants")

PROGRAM_MANAGER = "program_manager"


@bp.get("/")
@role_required(PROGRAM_MANAGER)
def index():
    q = queries.clean_search_term(request.args.get("q"))
    by = request.args.get("by") if request.args.get("by") in SEARCH_FIELDS else "any"
    results = queries.search_participants(q, mode=by, cursor=request.args.get("after"),
                                          size=current_app.config["PORTAL_PAGE_SIZE"])
    filters = {k: v for k, v in {"q": q, "by": by if by != "any" else ""}.items() if v}
    return render("participants/index.html", block="results", results=results, q=q, by=by, filters=filters,
                  search_fields=SEARCH_FIELDS)


@bp.get("/<int:participant_id>")
@role_required(PROGRAM_MANAGER)
def detail(participant_id: int):
    participant = get_visible_or_404(Participant, participant_id, current_user)
    enrollments = queries.participant_enrollments(participant, current_user)
    return render("participants/detail.html", participant=participant, enrollments=enrollments,
                  events=queries.participant_timeline(participant, enrollments, current_user), describe=describe,
                  role_labels=ROLE_LABELS, source_labels=SOURCE_LABELS)


@bp.route("/<int:participant_id>/edit", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def edit(participant_id: int):
    participant = get_visible_or_404(Participant, participant_id, current_user)
    form = ParticipantForm(companies=queries.company_options())
    if request.method == "GET":
        form.fill(participant)
        return render("participants/edit.html", block="form", form=form, participant=participant)
    if not form.validate_on_submit():
        return render("participants/edit.html", block="form", form=form, participant=participant, status_code=422)
    try:
        with transaction():
            locked = get_visible_or_404(Participant, participant_id, current_user, for_update=True)
            update_participant(current_user, locked, expected_version=form.expected_version(), **form.values())
    except DomainError as exc:
        apply_domain_error(form, exc)
        return render("participants/edit.html", block="form", form=form, participant=participant,
                      status_code=exc.status_code)
    flash(_("Participant saved."), "success")
    return redirect_to(url_for(".detail", participant_id=participant_id))
