"""Program screens (program managers): list, launch wizard, detail, configuration,
lifecycle, template upgrade. Thin: parse, call an operation in one transaction, render."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER
from portal.beneficiaries.models import GROUP_TYPE_LABELS, BeneficiaryGroup
from portal.configuration.layers import LayerContext, read_layer_form
from portal.configuration.merge import effective_config
from portal.db import db, transaction
from portal.errors import ConfigInvalid, DomainError
from portal.forms import parse_id
from portal.i18n import _, _l, ngettext, number
from portal.impact.views import program_card
from portal.lifecycle import (
    MOVE_LABELS,
    RUN_MOVE_CONSEQUENCES,
    RUN_STATUSES,
    allowed_moves,
    asks_confirmation,
    check_transition,
    run_move_question,
    status_label,
)
from portal.program_templates.models import CATEGORIES, CATEGORY_LABELS, ProgramTemplate
from portal.programs import operations as ops
from portal.programs.forms import ConfigLayerForm, ProgramDetailsForm, TransitionForm, UpgradeForm
from portal.programs.models import VISIBILITY_LABELS, Program
from portal.programs.queries import ProgramFilters, newer_active_version, program_page
from portal.rollups import campaign_counts, program_campaign_rollup
from portal.web import (
    Confirmation,
    apply_domain_error,
    confirmation_page,
    is_confirmed,
    redirect_to,
    refused_action,
    render,
    role_required,
)

bp = Blueprint("programs", __name__, url_prefix="/programs")

NO_NEWER_VERSION = _l("There is no newer active version of this program's template.")
# The flash after a lifecycle move, one sentence per status the program moved to.
MOVED = {"draft": _l("Program is now draft."), "active": _l("Program is now active."),
         "paused": _l("Program is now paused."), "completed": _l("Program is now completed."),
         "archived": _l("Program is now archived.")}
# The confirmation page's button for the moves that ask first (portal.lifecycle.MOVES_THAT_ASK).
CONFIRM_LABELS = {"completed": _l("Complete the program"), "archived": _l("Archive the program")}


def program_layer(program_template: ProgramTemplate) -> LayerContext:
    return LayerContext(program_template.config_schema, program_template.ui_schema,
                        program_template.default_config, [], "program")


def _get_program(program_id: int, *, for_update: bool = False) -> Program:
    stmt = sa.select(Program).where(Program.id == program_id)
    if for_update:
        stmt = stmt.with_for_update()
    program = db.session.scalars(stmt).first()
    if program is None:
        abort(404)
    return program


# --- list -----------------------------------------------------------------------
@bp.get("/")
@role_required(PROGRAM_MANAGER)
def index():
    args = request.args
    filters = ProgramFilters(
        category=args.get("category") if args.get("category") in CATEGORIES else None,
        status=args.get("status") if args.get("status") in RUN_STATUSES else None,
        group_id=args.get("group", type=parse_id),
        country=(args.get("country") or "").upper()[:2] or None,
        template_key=(args.get("template") or "")[:100] or None,
        search=(args.get("q") or "").strip()[:100] or None,
    )
    page = program_page(filters, args.get("after"), current_app.config["PORTAL_PAGE_SIZE"])
    counts = campaign_counts([p.id for p in page.items])
    groups = db.session.execute(sa.select(BeneficiaryGroup.id, BeneficiaryGroup.name)
                                .order_by(BeneficiaryGroup.name).limit(500)).all()
    template_keys = db.session.scalars(sa.select(ProgramTemplate.key).distinct().order_by(ProgramTemplate.key)).all()
    countries = db.session.scalars(sa.select(BeneficiaryGroup.country).distinct().order_by(BeneficiaryGroup.country)).all()
    return render("programs/index.html", block="results", page=page, campaign_counts=counts,
                  filters=filters, args=filters.as_args(), categories=CATEGORY_LABELS, statuses=RUN_STATUSES,
                  visibility_labels=VISIBILITY_LABELS,
                  groups=groups, template_keys=template_keys, countries=countries)


# --- launch wizard --------------------------------------------------------------
def _wizard_choice(model, arg: str):
    object_id = request.args.get(arg, type=parse_id)
    if object_id is None:
        return None
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _details_step(template, group, form, overrides, *, errors=None, display=None, status_code=200, focus=None):
    context = program_layer(template)
    config_form = context.form(overrides, values=display, errors=errors, focus=focus)
    return render("programs/wizard_details.html", block="wizard", template=template, group=group, form=form,
                  config_node=config_form, status_code=status_code)


@bp.route("/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new():
    template = _wizard_choice(ProgramTemplate, "template")
    group = _wizard_choice(BeneficiaryGroup, "group")
    # A POST is a launch attempt: if its template or group cannot launch (any more), it is
    # refused with 422 and the reason, on the step to choose again.
    posted = request.method == "POST"
    if template is None or template.status != "active":
        templates = db.session.scalars(sa.select(ProgramTemplate).where(ProgramTemplate.status == "active")
                                       .order_by(ProgramTemplate.name)).all()
        refusal = None
        if posted:
            refusal = (ops.template_not_launchable(template) if template is not None
                       else _("Choose a template to launch from."))
        return render("programs/wizard_template.html", block="wizard", templates=templates,
                      categories=CATEGORY_LABELS, refusal=refusal, status_code=422 if posted else 200)
    if group is None or ops.launch_problems(template, group):
        groups = db.session.scalars(sa.select(BeneficiaryGroup).where(BeneficiaryGroup.status != "archived")
                                    .order_by(BeneficiaryGroup.name)).all()
        ranked = sorted(((g, ops.launch_problems(template, g)) for g in groups), key=lambda gp: (bool(gp[1]), gp[0].name))
        refusal = None
        if posted:
            refusal = " ".join(str(p) for p in ops.launch_problems(template, group)) if group is not None \
                else _("Choose a beneficiary group.")
        return render("programs/wizard_group.html", block="wizard", template=template, groups=ranked,
                      type_labels=GROUP_TYPE_LABELS, refusal=refusal, status_code=422 if posted else 200)

    form = ProgramDetailsForm()
    if request.method == "GET":
        form.extra_sdgs.data = list(template.sdg_goals or [])
        return _details_step(template, group, form, {})
    step = form.step.data or "review"
    if step == "create":
        if not form.validate_on_submit():
            return _details_step(template, group, form, form.overrides(), status_code=422)
        try:
            with transaction():
                program = ops.launch_program(
                    current_user, template=db.session.get(ProgramTemplate, template.id),
                    group=db.session.get(BeneficiaryGroup, group.id), name=form.name.data, key=form.key.data or "",
                    description=form.description.data or "", config_overrides=form.overrides(),
                    start_date=form.start_date.data, end_date=form.end_date.data,
                    visibility=form.visibility.data, extra_sdg_goals=form.extra_sdgs.data or [],
                    external_id=form.external_id.data or None)
            flash(_("Program “%(name)s” created as a draft. Start it when it is ready.", name=program.name), "success")
            return redirect_to(url_for(".detail", program_id=program.id))
        except DomainError as exc:
            apply_domain_error(form, exc)
            return _details_step(template, group, form, form.overrides(), status_code=422)
    if step == "edit":  # back from the review
        return _details_step(template, group, form, form.overrides())

    # step == "review": read the configuration form, then show the review or the errors.
    submission = read_layer_form(program_layer(template), request.form, form.overrides())
    form.overrides_json.data = json.dumps(submission.overrides)
    if submission.action is not None:
        return _details_step(template, group, form, submission.overrides, display=submission.display,
                             focus=submission.focus)
    details_ok = form.validate_on_submit()
    if form.key.data and (problem := ops.program_key_problem(form.key.data)):
        form.key.errors = [*form.key.errors, problem]
        details_ok = False
    if submission.errors or not details_ok:
        return _details_step(template, group, form, submission.overrides, errors=submission.errors,
                             display=submission.display, status_code=422)
    context = program_layer(template)
    sdgs = ops.program_sdg_goals(template, form.extra_sdgs.data)
    return render("programs/wizard_review.html", block="wizard", template=template, group=group, form=form,
                  visibility_labels=VISIBILITY_LABELS, preview=context.form(submission.overrides, readonly=True),
                  overridden=context.labels.leaves(submission.overrides), sdgs=sdgs)


# --- detail, configuration, lifecycle, upgrade ---------------------------------
def _detail_page(program: Program, status_code: int = 200):
    context = program_layer(program.template)
    return render("programs/detail.html", program=program, preview=context.form(program.config_overrides,
                                                                                readonly=True),
                  rollup=program_campaign_rollup(program.id), moves=allowed_moves(program.status), move_labels=MOVE_LABELS,
                  visibility_labels=VISIBILITY_LABELS,
                  action_form=TransitionForm(lock_version=program.lock_version), upgrade=newer_active_version(program),
                  events=timeline("programs", program.id, current_user), describe=describe, status_code=status_code,
                  impact_card=program_card(program))


def _refused(program_id: int, exc: DomainError):
    """A refused button: the detail page again, its message shown, with the refusal's status
    (409 for a conflict, 422 for a rule) so scripts and htmx can tell it from a success."""
    flash(str(exc.message), "error")
    return _detail_page(_get_program(program_id), status_code=exc.status_code)


@bp.get("/<int:program_id>")
@role_required(PROGRAM_MANAGER)
def detail(program_id: int):
    return _detail_page(_get_program(program_id))


def _config_page(program: Program, *, overrides=None, display=None, errors=None, status_code=200, block=None,
                 focus=None):
    context = program_layer(program.template)
    overrides = program.config_overrides if overrides is None else overrides
    return render("programs/config.html", block=block, program=program,
                  config_node=context.form(overrides, values=display, errors=errors, focus=focus),
                  form=ConfigLayerForm(lock_version=program.lock_version), status_code=status_code)


@bp.route("/<int:program_id>/config", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def config(program_id: int):
    program = _get_program(program_id)
    if request.method == "GET":
        return _config_page(program)
    form = ConfigLayerForm()
    if not form.validate_on_submit():
        abort(400)
    submission = read_layer_form(program_layer(program.template), request.form, program.config_overrides)
    if submission.action is not None:
        return _config_page(program, overrides=submission.overrides, display=submission.display, block="config",
                            focus=submission.focus)
    if submission.errors:
        return _config_page(program, overrides=submission.overrides, display=submission.display,
                            errors=submission.errors, status_code=422, block="config")
    try:
        with transaction():
            program = _get_program(program_id, for_update=True)
            desired = effective_config(program.template.default_config, submission.overrides)
            ops.update_program_config(current_user, program, desired, expected_version=form.expected_version())
    except ConfigInvalid as exc:
        return _config_page(_get_program(program_id), overrides=submission.overrides, display=submission.display,
                            errors={p.path: [p.message] for p in exc.problems}, status_code=422, block="config")
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _config_page(_get_program(program_id), overrides=submission.overrides, display=submission.display,
                            status_code=exc.status_code, block="config")
    flash(_("Configuration saved."), "success")
    return redirect_to(url_for(".detail", program_id=program_id))


@bp.post("/<int:program_id>/config/validate")
@role_required(PROGRAM_MANAGER)
def validate_config(program_id: int):
    program = _get_program(program_id)
    context = program_layer(program.template)
    submission = read_layer_form(context, request.form, program.config_overrides)
    node = context.form(submission.overrides, values=submission.display, errors=submission.errors)
    return render("program_templates/_live_errors.html", node=node)


def _move_confirmation(program: Program, target: str) -> Confirmation:
    """What completing or archiving the program does, naming the campaigns it stops."""
    detail_url = url_for(".detail", program_id=program.id)
    running = [c for c in program_campaign_rollup(program.id).campaigns if c.status in ("draft", "active", "paused")]
    return Confirmation(
        title=str(run_move_question(target, program.name)),
        confirm_label=str(CONFIRM_LABELS[target]),
        action=url_for(".transition", program_id=program.id), cancel_url=detail_url,
        consequences=[str(RUN_MOVE_CONSEQUENCES[("program", target)])],
        facts=[(_("Template"), program.template.label), (_("Beneficiary group"), program.group.name),
               (_("Status now"), status_label(program.status).capitalize())],
        items=[_("%(campaign)s (%(company)s, %(status)s)", campaign=c.name, company=c.company.name,
                 status=status_label(c.status)) for c in running],
        items_label=ngettext("%(count)s campaign not yet finished, which will take no new enrollments",
                             "%(count)s campaigns not yet finished, which will take no new enrollments",
                             len(running), count=number(len(running))),
        cancel_label=_("Cancel"),
        crumbs=[(_("Programs"), url_for(".index")), (program.name, detail_url), (str(MOVE_LABELS[target]), None)])


@bp.post("/<int:program_id>/status")
@role_required(PROGRAM_MANAGER)
def transition(program_id: int):
    """A lifecycle move; one that cannot be undone (complete, archive) only once confirmed."""
    form = TransitionForm()
    if not form.validate_on_submit() or form.target.data not in RUN_STATUSES:
        abort(400)
    try:
        if asks_confirmation(form.target.data) and not is_confirmed():
            program = _get_program(program_id)
            check_transition(program.status, form.target.data)  # refused now, not after asking
            return confirmation_page(_move_confirmation(program, form.target.data))
        with transaction():
            program = _get_program(program_id, for_update=True)
            ops.transition_program(current_user, program, form.target.data, expected_version=form.expected_version())
    except DomainError as exc:  # htmx gets a full load of the page, where the message shows
        status = exc.status_code
        return refused_action(str(exc.message), lambda: _detail_page(_get_program(program_id), status_code=status),
                              url_for(".detail", program_id=program_id))
    flash(str(MOVED[form.target.data]), "success")
    return redirect_to(url_for(".detail", program_id=program_id))


@bp.route("/<int:program_id>/upgrade", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def upgrade(program_id: int):
    program = _get_program(program_id)
    target = newer_active_version(program)
    if target is None:
        if request.method == "POST":  # the version the page offered is gone: a conflict, not a success
            refusal = DomainError(NO_NEWER_VERSION)
            refusal.status_code = 409
            return _refused(program_id, refusal)
        flash(str(NO_NEWER_VERSION), "info")
        return redirect_to(url_for(".detail", program_id=program_id))
    review = ops.upgrade_review(program, target)
    form = UpgradeForm(lock_version=program.lock_version, template_id=target.id)
    status_code = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if form.template_id.data != str(target.id):
            # A newer version was published since the page was shown: review that one first.
            flash(_("The newest active version is now %(version)s: review this upgrade again.", version=target.label),
                  "error")
            form.template_id.data = str(target.id)
            status_code = 409
        else:
            try:
                with transaction():
                    locked_program = _get_program(program_id, for_update=True)
                    dropped = form.overrides_to_drop()
                    ops.upgrade_program(current_user, locked_program, db.session.get(ProgramTemplate, target.id),
                                        expected_version=form.expected_version(), drop_overrides=dropped)
                if dropped:
                    flash(ngettext("Program upgraded to %(version)s. %(count)s override dropped.",
                                   "Program upgraded to %(version)s. %(count)s overrides dropped.", len(dropped),
                                   version=target.label, count=number(len(dropped))), "success")
                else:
                    flash(_("Program upgraded to %(version)s.", version=target.label), "success")
                return redirect_to(url_for(".detail", program_id=program_id))
            except DomainError as exc:
                flash(str(exc.message) if not isinstance(exc, ConfigInvalid) else
                      _("The overrides do not fit the new version: drop them below, or adjust the configuration "
                        "first."), "error")
                status_code = exc.status_code
    if status_code != 200:  # refused: show the review as it is now
        program = _get_program(program_id)
        review = ops.upgrade_review(program, target)
        form.lock_version.data = str(program.lock_version)
    return render("programs/upgrade.html", program=program, current=program.template, target=target,
                  review=review, form=form, status_code=status_code)
