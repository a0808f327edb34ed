"""Beneficiary group screens (program managers): list with filters, create, edit with
live privacy validation, detail with status moves. Thin: parse → operation in one
transaction → render or redirect."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, url_for
from flask import request as http_request
from flask_login import current_user

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER
from portal.beneficiaries import operations as ops
from portal.beneficiaries.forms import (
    GROUP_TYPE_LABELS,
    LANGUAGE_REQUIREMENT_LABELS,
    EditGroupForm,
    LivePrivacyForm,
    NewGroupForm,
    StatusForm,
    language_filter_choices,
    split_list,
)
from portal.beneficiaries.models import GROUP_STATUSES, BeneficiaryGroup
from portal.beneficiaries.queries import GroupFilters, countries_in_use, group_page, languages_in_use
from portal.db import transaction
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _, _l, number
from portal.lifecycle import asks_confirmation, check_transition, status_label
from portal.program_templates.models import CATEGORY_LABELS
from portal.reference import country_name
from portal.rollups import group_figures, programs_of
from portal.tenancy import get_visible_or_404
from portal.web import (
    Confirmation,
    apply_domain_error,
    confirmation_page,
    is_confirmed,
    is_partial_request,
    redirect_to,
    render,
    role_required,
)

bp = Blueprint("beneficiaries", __name__, url_prefix="/groups")

MOVE_LABELS = {"active": _l("Activate"), "inactive": _l("Deactivate"), "archived": _l("Archive")}
# The flash after a move, one sentence per status the group moved to.
MOVED = {"active": _l("The group is now active."), "inactive": _l("The group is now inactive."),
         "archived": _l("The group is now archived.")}
LIVE_FIELDS = ("name", "description", "tags")


def _labels() -> dict:
    return {"type_labels": GROUP_TYPE_LABELS, "requirement_labels": LANGUAGE_REQUIREMENT_LABELS,
            "category_labels": CATEGORY_LABELS}


# --- list ---------------------------------------------------------------------------
@bp.get("/")
@role_required(PROGRAM_MANAGER)
def index():
    filters = GroupFilters.from_args(http_request.args)
    page = group_page(filters, http_request.args.get("after"), current_app.config["PORTAL_PAGE_SIZE"])
    figures = group_figures([g.id for g in page.items])
    context = {"page": page, "figures": figures, "filters": filters, **_labels()}
    if not is_partial_request():  # the filter form is outside the results fragment
        in_use = set(countries_in_use()) | ({filters.country} if filters.country else set())
        context.update(countries=sorted(in_use, key=country_name),
                       language_choices=language_filter_choices(languages_in_use()),
                       statuses=GROUP_STATUSES)
    return render("beneficiaries/index.html", block="results", **context)


# --- live privacy check -----------------------------------------------------------------
@bp.post("/validate")
@role_required(PROGRAM_MANAGER)
def validate():
    """The privacy messages for the name, description and tags being typed (saves nothing).
    Answers each posted field's error slot out of band."""
    form = LivePrivacyForm()
    # The field being typed in (htmx names it); without the header, every field posted.
    trigger = http_request.headers.get("HX-Trigger-Name")
    posted = [trigger] if trigger in LIVE_FIELDS else [f for f in LIVE_FIELDS if f in http_request.form]
    texts = {"name": form.name.data, "description": form.description.data, "tags": split_list(form.tags.data)}
    errors, warnings = ops.privacy_errors(**texts), ops.privacy_warnings(**texts)
    return render("beneficiaries/_live_errors.html",
                  slots={f: (errors.get(f, []), warnings.get(f, [])) for f in posted})


def _name_warnings(form) -> dict[str, list[str]]:
    """Field → "looks like a person's name" warnings for the form's texts (shown, never refused)."""
    values = form.values()
    return ops.privacy_warnings(name=values["name"], description=values["description"], tags=values["tags"])


def _flash_warnings(form, warnings: dict[str, list[str]]) -> None:
    """After a save: the warnings the author may not have seen (without JavaScript there is no live check)."""
    for field_name, messages in warnings.items():
        for message in messages:
            flash(f"{getattr(form, field_name).label.text}: {message}", "warning")  # both translated


def _merge_privacy(form) -> None:
    """Show the privacy problems with the form's own errors, so one submit lists them all."""
    values = form.values()
    errors = ops.privacy_errors(name=values["name"], description=values["description"], tags=values["tags"])
    for field_name, messages in errors.items():
        field = getattr(form, field_name)
        field.errors = list(field.errors) + [m for m in messages if m not in field.errors]


# --- create -------------------------------------------------------------------------------
@bp.route("/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new():
    form = NewGroupForm()
    if http_request.method == "GET":
        form.eligible_categories.data = form.eligible_categories.data or []
        return render("beneficiaries/new.html", block="form", form=form, warnings={}, **_labels())
    if form.validate_on_submit():
        try:
            with transaction():
                group = ops.create_group(current_user, key=form.key.data or "", **form.values())
            flash(_("Group “%(name)s” created.", name=group.name), "success")
            _flash_warnings(form, _name_warnings(form))
            return redirect_to(url_for(".detail", group_id=group.id))
        except DomainError as exc:
            apply_domain_error(form, exc)
    else:
        _merge_privacy(form)
    return render("beneficiaries/new.html", block="form", form=form, warnings=_name_warnings(form), status_code=422,
                  **_labels())


# --- edit -----------------------------------------------------------------------------------
@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def edit(group_id: int):
    group = get_visible_or_404(BeneficiaryGroup, group_id, current_user)
    if http_request.method == "GET":
        form = EditGroupForm(obj=group, lock_version=group.lock_version)
        form.fill_from(group)
        return render("beneficiaries/edit.html", block="form", form=form, group=group, warnings=_name_warnings(form),
                      **_labels())
    form = EditGroupForm()
    status = 422
    if form.validate_on_submit():
        try:
            with transaction():
                locked = get_visible_or_404(BeneficiaryGroup, group_id, current_user, for_update=True)
                ops.update_group(current_user, locked, expected_version=form.expected_version(), **form.values())
            flash(_("Group saved."), "success")
            _flash_warnings(form, _name_warnings(form))
            return redirect_to(url_for(".detail", group_id=group_id))
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
        except DomainError as exc:  # stale edit (409), archived group
            form.form_errors.append(str(exc.message))
            status = exc.status_code
        group = get_visible_or_404(BeneficiaryGroup, group_id, current_user)
    else:
        _merge_privacy(form)
    return render("beneficiaries/edit.html", block="form", form=form, group=group, warnings=_name_warnings(form),
                  status_code=status, **_labels())


# --- detail and status ----------------------------------------------------------------------
def _detail_page(group: BeneficiaryGroup, status_code: int = 200):
    return render(
        "beneficiaries/detail.html", group=group, programs=programs_of(group.id),
        figures=group_figures([group.id])[group.id],
        moves=ops.allowed_group_moves(group.status), move_labels=MOVE_LABELS,
        events=timeline("beneficiary_groups", group.id, current_user), describe=describe,
        status_code=status_code, **_labels(),
    )


@bp.get("/<int:group_id>")
@role_required(PROGRAM_MANAGER)
def detail(group_id: int):
    return _detail_page(get_visible_or_404(BeneficiaryGroup, group_id, current_user))


def _archive_confirmation(group: BeneficiaryGroup) -> Confirmation:
    check_transition(group.status, "archived", ops.GROUP_TRANSITIONS)  # refused now, not after asking
    detail_url = url_for(".detail", group_id=group.id)
    programs = programs_of(group.id)
    return Confirmation(
        title=_("Archive “%(name)s”?", name=group.name), confirm_label=_("Archive the group"),
        action=url_for(".set_status", group_id=group.id), cancel_url=detail_url,
        items=[_("%(program)s (%(status)s)", program=p.name, status=status_label(p.status))
               for p in programs],
        items_label=_("Programs for this group: %(num)s", num=number(len(programs))),
        consequences=[_("The group can no longer be edited or used for new programs. Programs already launched for "
                        "it are not changed.")],
        cancel_label=_("Cancel"),
        crumbs=[(_("Beneficiary groups"), url_for(".index")), (group.name, detail_url), (_("Archive"), None)])


@bp.post("/<int:group_id>/status")
@role_required(PROGRAM_MANAGER)
def set_status(group_id: int):
    get_visible_or_404(BeneficiaryGroup, group_id, current_user)
    form = StatusForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the status buttons."), "error")
        return _detail_page(get_visible_or_404(BeneficiaryGroup, group_id, current_user), status_code=400)
    try:
        if asks_confirmation(form.target.data) and not is_confirmed():  # archiving: nothing changes until confirmed
            return confirmation_page(_archive_confirmation(get_visible_or_404(BeneficiaryGroup, group_id, current_user)))
        with transaction():
            group = get_visible_or_404(BeneficiaryGroup, group_id, current_user, for_update=True)
            ops.set_group_status(current_user, group, form.target.data, expected_version=form.expected_version())
        flash(str(MOVED[form.target.data]), "success")
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _detail_page(get_visible_or_404(BeneficiaryGroup, group_id, current_user), status_code=exc.status_code)
    return redirect_to(url_for(".detail", group_id=group_id))
