"""Campaign screens: list, start (from the catalog), edit, configuration, lifecycle,
dashboard, and enrollment actions. Thin: parse → operation in one transaction → render."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, get_template_attribute, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.activity.queries import describe, timeline
from portal.auth.models import Company
from portal.campaigns import operations as ops
from portal.campaigns.forms import BulkForm, DropForm, EditCampaignForm, NewCampaignForm, from_minor_units
from portal.campaigns.models import Campaign
from portal.configuration.json_input import parse_json_document
from portal.configuration.layers import LayerContext, read_layer_form
from portal.db import db, transaction, utcnow
from portal.deliveries.progress import LIST_SIZE as PROGRESS_LIST_SIZE
from portal.deliveries.progress import PREVIEW_SIZE, campaign_progress
from portal.enrollments.models import ROLE_LABELS, ROLES, STATUSES
from portal.enrollments.privacy import participant_label
from portal.enrollments.queries import enrollment_page
from portal.errors import ConfigInvalid, DomainError
from portal.forms import choices, parse_id
from portal.i18n import _, _l, catalogue_key, ngettext, number
from portal.impact.views import campaign_card
from portal.lifecycle import (
    ACTIVE,
    ARCHIVED,
    COMPLETED,
    MOVE_LABELS,
    PAUSED,
    RUN_MOVE_CONSEQUENCES,
    RUN_STATUSES,
    allowed_moves,
    asks_confirmation,
    check_transition,
    run_move_question,
    status_label,
)
from portal.pagination import keyset_page
from portal.programs.models import Program, in_catalog
from portal.rollups import campaign_dashboard
from portal.tenancy import get_visible_or_404, select_visible
from portal.web import (
    Confirmation,
    RenderedOnce,
    apply_domain_error,
    confirmation_page,
    is_confirmed,
    is_partial_request,
    redirect_to,
    refused_action,
    render,
)

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

# The confirmation page's button for a lifecycle move of a campaign.
CONFIRM_LABELS = {ACTIVE: _l("Start the campaign"), PAUSED: _l("Pause the campaign"),
                  COMPLETED: _l("Complete the campaign"), ARCHIVED: _l("Archive the campaign")}


def campaign_layer(campaign_program: Program) -> LayerContext:
    template = campaign_program.template
    return LayerContext(template.config_schema, template.ui_schema, template.default_config,
                        [("program", campaign_program.config_overrides)], "campaign")


# --- list -------------------------------------------------------------------------
# What a list row shows, read with the campaigns: the company's and program's names only, and
# none of the campaign's documents (a page of rows parsed 250 JSON values it never showed).
LIST_LOADS = (sa.orm.joinedload(Campaign.company).load_only(Company.id, Company.name),
              sa.orm.joinedload(Campaign.program).load_only(Program.id, Program.name),
              sa.orm.defer(Campaign.description), sa.orm.defer(Campaign.config_overrides), sa.orm.defer(Campaign.tags))


@bp.get("/")
@login_required
def index():
    status = request.args.get("status") if request.args.get("status") in RUN_STATUSES else None
    stmt = select_visible(Campaign, current_user).options(*LIST_LOADS)
    if status:
        stmt = stmt.where(Campaign.status == status)
    page = keyset_page(stmt, Campaign, request.args.get("after"), current_app.config["PORTAL_PAGE_SIZE"])
    return render("campaigns/index.html", block="results", page=page, status=status or "", statuses=RUN_STATUSES)


# --- start a campaign --------------------------------------------------------------
def _startable_programs() -> list[Program]:
    return list(db.session.scalars(sa.select(Program).where(in_catalog())
                                   .order_by(Program.name)))


def _new_page(form: NewCampaignForm, program: Program | None, *, overrides=None, display=None, errors=None,
              status_code: int = 200):
    config_node = campaign_layer(program).form(overrides or {}, values=display, errors=errors) if program else None
    return render("campaigns/new.html", block="form", form=form, program=program, config_node=config_node,
                  status_code=status_code)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Start a campaign (pre-filled with ``?program=<id>`` from the catalog). Created as draft."""
    form = NewCampaignForm()
    programs = _startable_programs()
    form.program_id.choices = choices([(p.id, p.name) for p in programs])
    if current_user.is_program_manager:
        form.company_id.choices = choices(db.session.execute(sa.select(Company.id, Company.name)
                                                             .order_by(Company.name)).all())
    else:
        form.company_id.choices = choices([(current_user.company_id, current_user.company.name)])
        form.company_id.data = current_user.company_id
    program_id = request.args.get("program", type=parse_id) or (form.program_id.data if request.method == "POST" else None)
    program = next((p for p in programs if p.id == program_id), None)
    if program_id and program is None:
        abort(404)  # not an active public program (or not visible)
    if request.method == "GET":
        if program:
            form.program_id.data = program.id
            form.name.data = form.name.data or f"{(current_user.company.name + ' – ') if current_user.company else ''}{program.name}"
        return _new_page(form, program)
    if program is None:
        form.program_id.errors = [_("Choose a program.")]
        return _new_page(form, None, status_code=422)
    try:  # the overrides carried between steps; anything unreadable starts again from none
        previous = parse_json_document(form.overrides_json.data or "{}", "overrides_json")
    except ConfigInvalid:
        previous = {}
    previous = previous if isinstance(previous, dict) else {}
    submission = read_layer_form(campaign_layer(program), request.form, previous)
    form.overrides_json.data = json.dumps(submission.overrides)
    if submission.action is not None:
        return _new_page(form, program, overrides=submission.overrides, display=submission.display)
    fields_ok = form.validate_on_submit()
    if fields_ok:  # every rule's message at once, not just the first layer's
        from portal.errors import ValidationFailed

        if field_errors := ops.campaign_field_errors(form.values()):
            apply_domain_error(form, ValidationFailed(field_errors))
            fields_ok = False
    if not fields_ok or submission.errors:
        return _new_page(form, program, overrides=submission.overrides, display=submission.display,
                         errors=submission.errors, status_code=422)
    try:
        with transaction():
            company = get_visible_or_404(Company, form.company_id.data, current_user)
            campaign = ops.create_campaign(current_user, program=db.session.get(Program, program.id), company=company,
                                           key=form.key.data or "", config_overrides=submission.overrides,
                                           **form.values())
        flash(_("Campaign “%(name)s” created as a draft. Start it when you are ready to enroll.", name=campaign.name),
              "success")
        return redirect_to(url_for(".detail", campaign_id=campaign.id))
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _new_page(form, program, overrides=submission.overrides, display=submission.display, status_code=422)


# --- dashboard ----------------------------------------------------------------------
@bp.get("/<int:campaign_id>")
@login_required
def detail(campaign_id: int):
    if is_partial_request():  # the list alone
        return detail_page(get_visible_or_404(Campaign, campaign_id, current_user))
    return detail_page(get_visible_or_404(Campaign, campaign_id, current_user, options=PAGE_LOADS))


# What the whole page reads with its campaign, in the same statement.
PAGE_LOADS = (sa.orm.joinedload(Campaign.program).joinedload(Program.template), sa.orm.joinedload(Campaign.company))


def _withhold_below() -> int | None:
    """Company admins see counts of people under the cohort minimum as "fewer than N" (SPEC §2.11)."""
    return None if current_user.is_program_manager else current_app.config["PORTAL_MIN_COHORT"]


def detail_page(campaign: Campaign, status_code: int = 200):
    """The campaign dashboard; a refused action re-renders it with its 409/422 and message."""
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    search = (request.args.get("q") or "").strip()[:100] or None
    page = enrollment_page(campaign, current_user, status=status, role=role, search=search,
                           cursor=request.args.get("after"), size=current_app.config["PORTAL_PAGE_SIZE"])
    filters = {k: v for k, v in {"status": status, "role": role, "q": search}.items() if v}
    if is_partial_request() and request.method == "GET":  # paging or filtering the list: only the list
        return render("campaigns/detail.html", block="enrollments", campaign=campaign, page=page, filters=filters,
                      label=participant_label, bulk_form=BulkForm(), role_labels=ROLE_LABELS)
    return render("campaigns/detail.html", campaign=campaign, program=campaign.program,
                  board=campaign_dashboard(campaign, withhold_below=_withhold_below()), page=page, filters=filters,
                  label=participant_label, list_size=PREVIEW_SIZE, role_labels=ROLE_LABELS,
                  statuses=STATUSES, roles=ROLES, moves=allowed_moves(campaign.status), move_labels=MOVE_LABELS,
                  bulk_form=BulkForm(),
                  config_preview=config_preview(campaign),
                  events=timeline("campaigns", campaign.id, current_user), describe=describe,
                  has_import="imports.upload" in current_app.view_functions,
                  has_export="imports.export" in current_app.view_functions, status_code=status_code,
                  impact_card=campaign_card(campaign))


@bp.get("/<int:campaign_id>/progress")
@login_required
def progress(campaign_id: int):
    """The whole ready-to-complete and needs-attention lists (the campaign page shows their first rows)."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    return render("campaigns/progress.html", campaign=campaign, label=participant_label, role_labels=ROLE_LABELS,
                  progress=campaign_progress(campaign, utcnow().date(), PROGRESS_LIST_SIZE), list_size=PROGRESS_LIST_SIZE)


_PREVIEWS = RenderedOnce(512)


def config_preview(campaign: Campaign) -> Markup:
    """The campaign's effective configuration, read-only, as HTML. It is the same for everyone
    who reads the same settings in the same words (no person, no link, no token in it), so a
    worker renders it once per version of the template's, program's and campaign's settings
    and language: it was the campaign page's costliest part after its lists."""
    program, template = campaign.program, campaign.program.template
    key = (template.id, template.updated_at, program.id, json.dumps(program.config_overrides or {}, sort_keys=True),
           json.dumps(campaign.config_overrides or {}, sort_keys=True), catalogue_key())
    return _PREVIEWS.get(key, lambda: get_template_attribute("configuration/_config_form.html", "config_form")(
        campaign_layer(program).form(campaign.config_overrides, readonly=True)))


def taking_part(seats: int, waiting: int) -> str:
    """ "3 seats taken, 1 person on the waitlist" in the reader's language."""
    return _("%(seats)s, %(waiting)s",
             seats=ngettext("%(count)s seat taken", "%(count)s seats taken", seats, count=number(seats)),
             waiting=ngettext("%(count)s person on the waitlist", "%(count)s people on the waitlist", waiting,
                              count=number(waiting)))


@bp.post("/<int:campaign_id>/status")
@login_required
def transition(campaign_id: int):
    """A lifecycle move; one that cannot be undone (complete, archive) only once confirmed."""
    form = DropForm()
    target = request.form.get("target")
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    if not form.validate_on_submit() or target not in RUN_STATUSES:
        abort(400)
    detail_url = url_for(".detail", campaign_id=campaign_id)
    try:
        if asks_confirmation(target) and not is_confirmed():
            check_transition(campaign.status, target)  # a move it cannot make is refused now, not after asking
            return confirmation_page(Confirmation(
                title=run_move_question(target, campaign.name), confirm_label=str(CONFIRM_LABELS[target]),
                action=url_for(".transition", campaign_id=campaign_id), cancel_url=detail_url,
                consequences=[str(RUN_MOVE_CONSEQUENCES[("campaign", target)])],
                facts=[(_("Program"), campaign.program.name), (_("Status now"), status_label(campaign.status).capitalize()),
                       (_("Taking part"), taking_part(campaign.enrolled_count, campaign.waitlisted_count))],
                crumbs=[(_("Campaigns"), url_for(".index")), (campaign.name, detail_url),
                        (str(MOVE_LABELS[target]), None)]))
        with transaction():
            campaign = get_visible_or_404(Campaign, campaign_id, current_user, for_update=True)
            ops.transition_campaign(current_user, campaign, target, expected_version=form.expected_version())
    except DomainError as exc:
        status = exc.status_code
        return refused_action(exc.message, lambda: detail_page(get_visible_or_404(Campaign, campaign_id, current_user),
                                                               status), detail_url)
    flash(_("Campaign is now %(status)s.", status=status_label(target)), "success")
    return redirect_to(detail_url)


# --- edit and configuration ---------------------------------------------------------
@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@login_required
def edit(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    if request.method == "GET":
        form = EditCampaignForm(obj=campaign, lock_version=campaign.lock_version)
        form.budget_allocated.data = from_minor_units(campaign.budget_allocated)
        form.seat_price.data = from_minor_units(campaign.seat_price)
        form.tags.data = ", ".join(campaign.tags or [])
        return render("campaigns/edit.html", block="form", form=form, campaign=campaign)
    form = EditCampaignForm()
    if form.validate_on_submit():
        try:
            with transaction():
                locked = get_visible_or_404(Campaign, campaign_id, current_user, for_update=True)
                promoted = ops.update_campaign(current_user, locked, expected_version=form.expected_version(),
                                               **form.values())
            message = _("Campaign saved.")
            if promoted:
                message += " " + ngettext("%(count)s waitlisted participant promoted.",
                                          "%(count)s waitlisted participants promoted.", len(promoted),
                                          count=number(len(promoted)))
            flash(message, "success")
            return redirect_to(url_for(".detail", campaign_id=campaign_id))
        except DomainError as exc:
            apply_domain_error(form, exc)
            return render("campaigns/edit.html", block="form", form=form, campaign=campaign,
                          status_code=exc.status_code)
    return render("campaigns/edit.html", block="form", form=form, campaign=campaign, status_code=422)


@bp.route("/<int:campaign_id>/config", methods=["GET", "POST"])
@login_required
def config(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    context = campaign_layer(campaign.program)
    form = DropForm(lock_version=campaign.lock_version)

    def page(overrides=None, display=None, errors=None, status_code=200, block=None, focus=None):
        archived = campaign.status == "archived"  # a record: shown, not changed
        node = context.form(campaign.config_overrides if overrides is None else overrides, values=display,
                            errors=errors, focus=focus, readonly=archived)
        return render("campaigns/config.html", block=block, campaign=campaign, config_node=node, form=form,
                      archived=archived, status_code=status_code)

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        abort(400)
    submission = read_layer_form(context, request.form, campaign.config_overrides)
    if submission.action is not None:
        return page(submission.overrides, submission.display, block="config", focus=submission.focus)
    if submission.errors:
        return page(submission.overrides, submission.display, submission.errors, 422, "config")
    try:
        with transaction():
            locked = get_visible_or_404(Campaign, campaign_id, current_user, for_update=True)
            ops.update_campaign_config(current_user, locked, submission.overrides,
                                       expected_version=form.expected_version())
    except ConfigInvalid as exc:
        return page(submission.overrides, submission.display, {p.path: [p.message] for p in exc.problems}, 422,
                    "config")
    except DomainError as exc:
        flash(exc.message, "error")
        return page(submission.overrides, submission.display, status_code=exc.status_code, block="config")
    flash(_("Configuration saved."), "success")
    return redirect_to(url_for(".detail", campaign_id=campaign_id))
