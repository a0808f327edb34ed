"""Template screens (program managers): list, detail, create, edit draft, lifecycle, compare."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER
from portal.configuration.form_build import build_form
from portal.configuration.form_fields import form_errors
from portal.configuration.form_parse import parse_form
from portal.configuration.masters import load_master
from portal.configuration.upgrades import reconcile_defaults, schema_diff
from portal.configuration.validation import config_errors
from portal.db import transaction
from portal.errors import ConfigInvalid, DomainError
from portal.forms import parse_id
from portal.i18n import _, number
from portal.lifecycle import (
    ACTIVE,
    ARCHIVED,
    DEPRECATED,
    TEMPLATE_STATUSES,
    TEMPLATE_TRANSITIONS,
    check_transition,
    status_label,
)
from portal.program_templates import operations as ops
from portal.program_templates.forms import (
    START_FROM,
    DefaultsForm,
    NewTemplateForm,
    TemplateDetailsForm,
    TemplateSchemaForm,
)
from portal.program_templates.models import CATEGORIES, CATEGORY_LABELS, ProgramTemplate
from portal.program_templates.queries import get_version_or_404
from portal.rollups import programs_using, template_rows, versions_of
from portal.web import (
    Confirmation,
    apply_domain_error,
    confirmation_page,
    is_confirmed,
    redirect_to,
    render,
    role_required,
)

bp = Blueprint("program_templates", __name__, url_prefix="/templates")



@bp.get("/")
@role_required(PROGRAM_MANAGER)
def index():
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    status = request.args.get("status") if request.args.get("status") in TEMPLATE_STATUSES else None
    search = (request.args.get("q") or "").strip()[:100] or None
    rows, next_key = template_rows(category=category, status=status, search=search,
                                   after_key=request.args.get("after") or None,
                                   size=current_app.config["PORTAL_PAGE_SIZE"])
    filters = {"category": category or "", "status": status or "", "q": search or ""}
    active_filters = {name: value for name, value in filters.items() if value}
    return render("program_templates/index.html", block="results", rows=rows, next_key=next_key, filters=filters,
                  active_filters=active_filters,
                  categories=CATEGORY_LABELS, statuses=TEMPLATE_STATUSES)


@bp.route("/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new():
    form = NewTemplateForm()
    if request.method == "GET" and request.args.get("from") in START_FROM:
        form.start_from.data = request.args["from"]
        if form.start_from.data:
            master = load_master(form.start_from.data)
            form.category.data, form.name.data = master["category"], _("%(name)s (copy)", name=master["name"])
    if form.validate_on_submit():
        if form.start_from.data:
            master = load_master(form.start_from.data)
            documents = {"config_schema": master["config_schema"], "default_config": master["default_config"],
                         "ui_schema": master.get("ui_schema"), "tags": master.get("tags"),
                         "sdg_goals": master.get("sdg_goals")}
        else:
            documents = {"config_schema": dict(ops.BLANK_SCHEMA), "default_config": {}, "ui_schema": None}
        try:
            with transaction():
                template = ops.create_template(current_user, name=form.name.data, key=form.key.data or "",
                                               category=form.category.data, description=form.description.data or "",
                                               **documents)
            flash(_("Draft “%(name)s” created. Adjust its defaults, then publish it.", name=template.name), "success")
            return redirect_to(url_for(".edit", key=template.key, version=template.version))
        except DomainError as exc:
            apply_domain_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render("program_templates/new.html", block="form", form=form, status_code=status)


def _detail_context(template: ProgramTemplate) -> dict:
    return {
        "template": template,
        "versions": versions_of(template.key),
        "programs": programs_using(template.id),
        "preview": build_form(template.config_schema, template.default_config, ui_schema=template.ui_schema,
                              readonly=True),
        "events": timeline("program_templates", template.id, current_user),
        "describe": describe,
        "action_form": DefaultsForm(formdata=None, lock_version=template.lock_version),
    }


def _version_page(template: ProgramTemplate, status_code: int = 200):
    return render("program_templates/detail.html", status_code=status_code, **_detail_context(template))


@bp.get("/<key>")
@role_required(PROGRAM_MANAGER)
def detail(key: str):
    return render("program_templates/detail.html", **_detail_context(get_version_or_404(key)))


@bp.get("/<key>/v<int:version>")
@role_required(PROGRAM_MANAGER)
def version_detail(key: str, version: int):
    return render("program_templates/detail.html", **_detail_context(get_version_or_404(key, version)))


# --- editing a draft ------------------------------------------------------------
def _edit_page(template: ProgramTemplate, *, details_form=None, schema_form=None, defaults_form=None,
               defaults_values=None, defaults_errors=None, status_code: int = 200, block: str | None = None):
    """The edit page. The form that was posted comes back as the user left it; its sibling
    forms show the saved draft and are built with ``formdata=None``: otherwise they would read
    the other form's submission, and a field it lacks comes back empty (the SDG boxes unticked
    after a failed defaults save, then wiped by "Save details")."""
    if template.status != "draft":
        flash(_("Version %(version)s is %(status)s; only drafts can be edited. Start a new version.",
                version=template.version, status=status_label(template.status)), "error")
        if request.method == "POST":  # an edit posted to a non-draft is refused, not redirected
            return _version_page(template, status_code=status_code if status_code >= 400 else 422)
        return redirect_to(url_for(".version_detail", key=template.key, version=template.version))
    details_form = details_form or TemplateDetailsForm(
        formdata=None, lock_version=template.lock_version, name=template.name, category=template.category,
        description=template.description, tags=", ".join(template.tags or []), sdg_goals=template.sdg_goals)
    schema_form = schema_form or TemplateSchemaForm(
        formdata=None, lock_version=template.lock_version, config_schema=json.dumps(template.config_schema, indent=2),
        ui_schema=json.dumps(template.ui_schema, indent=2) if template.ui_schema else "")
    defaults = build_form(template.config_schema, template.default_config if defaults_values is None
                          else defaults_values, ui_schema=template.ui_schema, errors=defaults_errors or {},
                          enforce_locks=False)
    return render("program_templates/edit.html", block=block, template=template, details_form=details_form,
                  schema_form=schema_form, defaults=defaults,
                  defaults_form=defaults_form or DefaultsForm(formdata=None, lock_version=template.lock_version),
                  status_code=status_code)


@bp.get("/<key>/v<int:version>/edit")
@role_required(PROGRAM_MANAGER)
def edit(key: str, version: int):
    return _edit_page(get_version_or_404(key, version))


@bp.post("/<key>/v<int:version>/details")
@role_required(PROGRAM_MANAGER)
def save_details(key: str, version: int):
    template = get_version_or_404(key, version)
    form = TemplateDetailsForm()
    if form.validate_on_submit():
        try:
            with transaction():
                template = get_version_or_404(key, version, for_update=True)
                ops.update_draft(current_user, template, expected_version=form.expected_version(),
                                 name=form.name.data, category=form.category.data,
                                 description=form.description.data or "", tags=form.tag_list(),
                                 sdg_goals=form.sdg_goals.data or [])
            flash(_("Details saved."), "success")
            return redirect_to(url_for(".edit", key=key, version=version))
        except DomainError as exc:
            apply_domain_error(form, exc)
            template = get_version_or_404(key, version)
            return _edit_page(template, details_form=form, status_code=exc.status_code)
    return _edit_page(template, details_form=form, status_code=422)


@bp.post("/<key>/v<int:version>/schema")
@role_required(PROGRAM_MANAGER)
def save_schema(key: str, version: int):
    template = get_version_or_404(key, version)
    form = TemplateSchemaForm()
    if form.validate_on_submit():
        config_schema, ui_schema = form.parsed()
        try:
            with transaction():
                template = get_version_or_404(key, version, for_update=True)
                # Defaults follow the new shape: new properties take the schema's own defaults.
                ops.update_draft(current_user, template, expected_version=form.expected_version(),
                                 config_schema=config_schema, ui_schema=ui_schema,
                                 default_config=reconcile_defaults(config_schema, template.default_config))
            flash(_("Schema saved."), "success")
            return redirect_to(url_for(".edit", key=key, version=version))
        except ConfigInvalid as exc:
            target = form.ui_schema if exc.field == "ui_schema" else form.config_schema
            target.errors = list(target.errors) + [
                (_("Current defaults do not fit the new schema — %(problem)s", problem=m)
                 if exc.field == "default_config" else str(m))
                for m in exc.errors[exc.field]]
            template = get_version_or_404(key, version)
            return _edit_page(template, schema_form=form, status_code=422)
        except DomainError as exc:
            apply_domain_error(form, exc)
            template = get_version_or_404(key, version)
            return _edit_page(template, schema_form=form, status_code=exc.status_code)
    return _edit_page(template, schema_form=form, status_code=422)


@bp.post("/<key>/v<int:version>/defaults")
@role_required(PROGRAM_MANAGER)
def save_defaults(key: str, version: int):
    """Save the defaults from the generated form. Add/remove-row buttons post here too:
    they change the form, not the database."""
    template = get_version_or_404(key, version)
    form = DefaultsForm()
    if not form.validate_on_submit():
        abort(400)
    parsed = parse_form(template.config_schema, request.form, enforce_locks=False, current=template.default_config)
    if parsed.action is not None:
        return _edit_page(template, defaults_form=form, defaults_values=parsed.display, block="defaults")
    errors = form_errors(parsed.errors, config_errors(template.config_schema, parsed.value))
    if errors:
        return _edit_page(template, defaults_form=form, defaults_values=parsed.display, defaults_errors=errors,
                          status_code=422, block="defaults")
    try:
        with transaction():
            template = get_version_or_404(key, version, for_update=True)
            ops.update_draft(current_user, template, expected_version=form.expected_version(),
                             default_config=parsed.value)
    except DomainError as exc:  # a stale edit: said in the form's error summary (also in an htmx swap)
        template = get_version_or_404(key, version)
        return _edit_page(template, defaults_form=form, defaults_values=parsed.display,
                          defaults_errors={"": [str(exc.message)]}, status_code=exc.status_code, block="defaults")
    flash(_("Defaults saved."), "success")
    return redirect_to(url_for(".edit", key=key, version=version))


@bp.post("/<key>/v<int:version>/defaults/validate")
@role_required(PROGRAM_MANAGER)
def validate_defaults(key: str, version: int):
    """Live validation: every field's error slot, swapped out-of-band; nothing is saved."""
    template = get_version_or_404(key, version)
    parsed = parse_form(template.config_schema, request.form, enforce_locks=False, current=template.default_config)
    errors = form_errors(parsed.errors, config_errors(template.config_schema, parsed.value))
    node = build_form(template.config_schema, parsed.display, ui_schema=template.ui_schema, errors=errors,
                      enforce_locks=False)
    return render("program_templates/_live_errors.html", node=node)


# --- lifecycle ------------------------------------------------------------------
def _lifecycle_action(key: str, version: int, operation, success, done_url=None, *, ask=None, target=None):
    """Run one lifecycle button. Success: flash ``success(template)`` (the sentence in the
    reader's language) and redirect (303). Refusal: the version's
    page again with the message and the refusal's status (409 conflict, 422 rule). With
    ``ask`` (template → Confirmation) nothing happens until the post is confirmed; a move to
    ``target`` the version cannot make is refused before asking."""
    form = DefaultsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if ask is not None and not is_confirmed():
            template = get_version_or_404(key, version)
            if target is not None:
                check_transition(template.status, target, TEMPLATE_TRANSITIONS)
            return confirmation_page(ask(template))
        with transaction():
            template = get_version_or_404(key, version, for_update=True)
            operation(current_user, template, expected_version=form.expected_version())
    except ConfigInvalid as exc:
        flash(_("Cannot publish version %(version)s: %(problems)s", version=version,
                problems="; ".join(str(m) for m in exc.errors[exc.field][:5])), "error")
        return _version_page(get_version_or_404(key, version), status_code=exc.status_code)
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _version_page(get_version_or_404(key, version), status_code=exc.status_code)
    flash(success(template), "success")
    return redirect_to(done_url() if done_url else url_for(".version_detail", key=key, version=version))


# The words of each lifecycle question: (title, button, breadcrumb) given the version.
QUESTIONS = {
    "publish": (lambda t: _("Publish %(label)s?", label=t.label), lambda t: _("Publish v%(version)s", version=t.version),
                lambda: _("Publish")),
    "deprecate": (lambda t: _("Deprecate %(label)s?", label=t.label),
                  lambda t: _("Deprecate v%(version)s", version=t.version), lambda: _("Deprecate")),
    "archive": (lambda t: _("Archive %(label)s?", label=t.label), lambda t: _("Archive v%(version)s", version=t.version),
                lambda: _("Archive")),
    "delete": (lambda t: _("Delete %(label)s?", label=t.label), lambda t: _("Delete v%(version)s", version=t.version),
               lambda: _("Delete")),
}


def _asking(action: str, consequences, *, danger: bool = True):
    """A Confirmation builder for one lifecycle button: ``consequences(template)`` gives
    (sentences, affected program names, their label)."""
    title, button, crumb = QUESTIONS[action]

    def confirmation(template: ProgramTemplate) -> Confirmation:
        sentences, items, items_label = consequences(template)
        page_url = url_for(".version_detail", key=template.key, version=template.version)
        return Confirmation(
            title=title(template), confirm_label=button(template),
            action=request.path,
            cancel_url=page_url, consequences=sentences, items=items,
            items_label=items_label, danger=danger,
            facts=[(_("Template"), template.name),
                   (_("Version"), _("v%(version)s (%(status)s)", version=template.version,
                                    status=status_label(template.status)))],
            crumbs=[(_("Templates"), url_for(".index")), (template.name, page_url), (crumb(), None)])
    return confirmation


def _programs_of(template: ProgramTemplate) -> tuple[int, list[str]]:
    """How many programs run on this version, and the names of the first ones."""
    count = next((n for t, n in versions_of(template.key) if t.id == template.id), 0)
    return count, [p.name for p in programs_using(template.id)]


def _publish_consequences(template: ProgramTemplate):
    sentences = [_("v%(version)s becomes the active version: new programs launch from it. It can no longer "
                   "be edited; later changes need a new version.", version=template.version)]
    active = next(((t, n) for t, n in versions_of(template.key) if t.status == "active"), None)
    if active is None:
        return sentences, [], ""
    previous = active[0]
    sentences.append(_("v%(version)s, the active version now, becomes deprecated: no new programs launch from "
                       "it, and programs already launched from it keep running on it.", version=previous.version))
    return sentences, *_programs_on(previous)


def _programs_on(template: ProgramTemplate) -> tuple[list[str], str]:
    """The programs running on a version, by name, and the list's heading ("Programs on v1: 3")."""
    count, names = _programs_of(template)
    if count > len(names):
        return names, _("Programs on v%(version)s: %(count)s, the first %(shown)s shown", version=template.version,
                        count=number(count), shown=number(len(names)))
    return names, _("Programs on v%(version)s: %(count)s", version=template.version, count=number(count))


def _deprecate_consequences(template: ProgramTemplate):
    return ([_("No new programs launch from v%(version)s. Programs already launched from it keep running on "
               "it and can be upgraded to a newer version.", version=template.version)], *_programs_on(template))


def _archive_consequences(template: ProgramTemplate):
    return ([_("No new programs launch from v%(version)s, and the campaigns of programs launched from it take "
               "no new enrollments until those programs are upgraded to a newer version.", version=template.version)],
            *_programs_on(template))


@bp.post("/<key>/v<int:version>/publish")
@role_required(PROGRAM_MANAGER)
def publish(key: str, version: int):
    return _lifecycle_action(key, version, ops.publish_template,
                             lambda t: _("%(label)s is published and active.", label=t.label),
                             ask=_asking("publish", _publish_consequences, danger=False), target=ACTIVE)


@bp.post("/<key>/v<int:version>/deprecate")
@role_required(PROGRAM_MANAGER)
def deprecate(key: str, version: int):
    return _lifecycle_action(key, version, ops.deprecate_template,
                             lambda t: _("%(label)s is deprecated: no new programs launch from it.", label=t.label),
                             ask=_asking("deprecate", _deprecate_consequences), target=DEPRECATED)


@bp.post("/<key>/v<int:version>/archive")
@role_required(PROGRAM_MANAGER)
def archive(key: str, version: int):
    return _lifecycle_action(key, version, ops.archive_template, lambda t: _("%(label)s is archived.", label=t.label),
                             ask=_asking("archive", _archive_consequences), target=ARCHIVED)


@bp.post("/<key>/v<int:version>/delete")
@role_required(PROGRAM_MANAGER)
def delete(key: str, version: int):
    return _lifecycle_action(key, version, ops.delete_draft, lambda t: _("Draft %(label)s deleted.", label=t.label),
                             done_url=lambda: url_for(".detail", key=key) if versions_of(key) else url_for(".index"),
                             ask=_asking("delete", lambda t: ([_("The draft and every change made to it are deleted "
                                                                 "for good.")], [], "")))


@bp.post("/<key>/v<int:version>/new-version")
@role_required(PROGRAM_MANAGER)
def make_new_version(key: str, version: int):
    form = DefaultsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction():
            draft, created = ops.new_version(current_user, get_version_or_404(key, version))
    except sa.exc.IntegrityError:  # someone else created the draft a moment ago
        draft, created = get_version_or_404(key), False
    flash(_("Draft version %(draft)s created from version %(version)s.", draft=draft.version, version=version)
          if created else _("Version %(version)s is already the draft of this template: continue there.",
                            version=draft.version), "success")
    return redirect_to(url_for(".edit", key=key, version=draft.version))


@bp.get("/<key>/compare")
@role_required(PROGRAM_MANAGER)
def compare(key: str):
    versions = versions_of(key)
    if not versions:
        abort(404)
    numbers = [t.version for t, _ in versions]
    base_n = request.args.get("base", type=parse_id) or (numbers[1] if len(numbers) > 1 else numbers[0])
    other_n = request.args.get("other", type=parse_id) or numbers[0]
    base, other = get_version_or_404(key, base_n), get_version_or_404(key, other_n)
    diff = schema_diff(base.config_schema, base.default_config, other.config_schema, other.default_config,
                       old_ui=base.ui_schema, new_ui=other.ui_schema)
    return render("program_templates/compare.html", block="diff", key=key, versions=versions, base=base,
                  other=other, diff=diff)
