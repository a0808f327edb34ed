"""Program screens (program managers): list, launch wizard, detail, configuration,
lifecycle, template upgrade. Thin: parse, call an operation in one transaction, render."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER
from portal.beneficiaries.models import BeneficiaryGroup
from portal.configuration.layers import LayerContext, read_layer_form
from portal.configuration.merge import effective_config
from portal.configuration.upgrades import override_report, schema_diff
from portal.db import db, transaction
from portal.errors import ConfigInvalid, DomainError
from portal.forms import parse_id
from portal.lifecycle import MOVE_LABELS, RUN_STATUSES, allowed_moves
from portal.program_templates.models import CATEGORIES, CATEGORY_LABELS, ProgramTemplate
from portal.programs import operations as ops
from portal.programs.forms import ConfigLayerForm, ProgramDetailsForm, TransitionForm, UpgradeForm
from portal.programs.models import Program
from portal.programs.queries import ProgramFilters, newer_active_version, program_page
from portal.rollups import campaign_counts, program_campaign_rollup
from portal.web import apply_domain_error, redirect_to, render, role_required

bp = Blueprint("programs", __name__, url_prefix="/programs")

NO_NEWER_VERSION = "There is no newer active version of this program's template."


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


def _details_step(template, group, form, overrides, *, errors=None, display=None, status_code=200):
    context = program_layer(template)
    config_form = context.form(overrides, values=display, errors=errors)
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
            refusal = (f"Template version {template.version} is {template.status}; only active versions launch."
                       if template is not None else "Choose a template to launch from.")
        return render("programs/wizard_template.html", block="wizard", templates=templates,
                      categories=CATEGORY_LABELS, refusal=refusal, status_code=422 if posted else 200)
    if group is None or ops.launch_problems(template, group):
        groups = db.session.scalars(sa.select(BeneficiaryGroup).where(BeneficiaryGroup.status != "archived")
                                    .order_by(BeneficiaryGroup.name)).all()
        ranked = sorted(((g, ops.launch_problems(template, g)) for g in groups), key=lambda gp: (bool(gp[1]), gp[0].name))
        refusal = None
        if posted:
            refusal = " ".join(ops.launch_problems(template, group)) if group is not None \
                else "Choose a beneficiary group."
        return render("programs/wizard_group.html", block="wizard", template=template, groups=ranked,
                      refusal=refusal, status_code=422 if posted else 200)

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
            flash(f"Program “{program.name}” created as a draft. Start it when it is ready.", "success")
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
        return _details_step(template, group, form, submission.overrides, display=submission.display)
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
                  preview=context.form(submission.overrides, readonly=True), overrides=submission.overrides,
                  sdgs=sdgs)


# --- detail, configuration, lifecycle, upgrade ---------------------------------
def _detail_page(program: Program, status_code: int = 200):
    context = program_layer(program.template)
    return render("programs/detail.html", program=program, preview=context.form(program.config_overrides,
                                                                                readonly=True),
                  rollup=program_campaign_rollup(program.id), moves=allowed_moves(program.status), move_labels=MOVE_LABELS,
                  action_form=TransitionForm(lock_version=program.lock_version), upgrade=newer_active_version(program),
                  events=timeline("programs", program.id, current_user), describe=describe, status_code=status_code)


def _refused(program_id: int, exc: DomainError):
    """A refused button: the detail page again, its message shown, with the refusal's status
    (409 for a conflict, 422 for a rule) so scripts and htmx can tell it from a success."""
    flash(exc.message, "error")
    return _detail_page(_get_program(program_id), status_code=exc.status_code)


@bp.get("/<int:program_id>")
@role_required(PROGRAM_MANAGER)
def detail(program_id: int):
    return _detail_page(_get_program(program_id))


def _config_page(program: Program, *, overrides=None, display=None, errors=None, status_code=200, block=None):
    context = program_layer(program.template)
    overrides = program.config_overrides if overrides is None else overrides
    return render("programs/config.html", block=block, program=program,
                  config_node=context.form(overrides, values=display, errors=errors),
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
        return _config_page(program, overrides=submission.overrides, display=submission.display, block="config")
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
        flash(exc.message, "error")
        return _config_page(_get_program(program_id), overrides=submission.overrides, display=submission.display,
                            status_code=exc.status_code, block="config")
    flash("Configuration saved.", "success")
    return redirect_to(url_for(".detail", program_id=program_id))


@bp.post("/<int:program_id>/config/validate")
@role_required(PROGRAM_MANAGER)
def validate_config(program_id: int):
    program = _get_program(program_id)
    context = program_layer(program.template)
    submission = read_layer_form(context, request.form, program.config_overrides)
    node = context.form(submission.overrides, values=submission.display, errors=submission.errors)
    return render("program_templates/_live_errors.html", node=node)


@bp.post("/<int:program_id>/status")
@role_required(PROGRAM_MANAGER)
def transition(program_id: int):
    form = TransitionForm()
    if not form.validate_on_submit() or form.target.data not in RUN_STATUSES:
        abort(400)
    try:
        with transaction():
            program = _get_program(program_id, for_update=True)
            ops.transition_program(current_user, program, form.target.data, expected_version=form.expected_version())
    except DomainError as exc:
        return _refused(program_id, exc)
    flash(f"Program is now {form.target.data}.", "success")
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
        flash(NO_NEWER_VERSION, "info")
        return redirect_to(url_for(".detail", program_id=program_id))
    current = program.template
    diff = schema_diff(current.config_schema, current.default_config, target.config_schema,
                       target.default_config)
    report = override_report(target.config_schema, target.default_config, program.config_overrides or {})
    can_apply = all(status == "kept" for _, status, _ in report)
    form = UpgradeForm(lock_version=program.lock_version, template_id=target.id)
    status_code = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if form.template_id.data != str(target.id):
            # A newer version was published since the page was shown: review that one first.
            flash(f"The newest active version is now {target.label}: review this upgrade again.", "error")
            form.template_id.data = str(target.id)
            status_code = 409
        else:
            try:
                with transaction():
                    locked_program = _get_program(program_id, for_update=True)
                    ops.upgrade_program(current_user, locked_program, db.session.get(ProgramTemplate, target.id),
                                        expected_version=form.expected_version())
                flash(f"Program upgraded to {target.label}.", "success")
                return redirect_to(url_for(".detail", program_id=program_id))
            except DomainError as exc:
                flash(exc.message if not isinstance(exc, ConfigInvalid) else
                      "The overrides do not fit the new version; fix them first.", "error")
                status_code = exc.status_code
    return render("programs/upgrade.html", program=program, current=current, target=target, diff=diff,
                  report=report, can_apply=can_apply, form=form, status_code=status_code)
