"""Enrollment screens (SPEC §4 "Enrollments"): enroll one participant with an outlook
before saving, an enrollment's page, and complete/drop, single and in bulk. Thin: parse →
operation in one transaction → render. URLs live under the campaign they belong to.

The enroll form has one box that answers "can they join?": the outlook. htmx refreshes it
(and the Enroll button, disabled while it says "Cannot enroll") on every change; without
JavaScript a "Check" button re-renders the page with it, and a refused enroll shows the
refusal there too (field problems also at their fields), never a second, stale box.

A company admin enrolls only its own employees, as volunteers: every lookup here goes
through :mod:`portal.enrollments.intake`, which never looks outside the enroller's owner."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.activity.queries import describe, timeline
from portal.campaigns.forms import BulkForm, DropForm
from portal.campaigns.models import Campaign
from portal.campaigns.views import detail_page as campaign_page
from portal.db import db, transaction
from portal.enrollments import operations as ops
from portal.enrollments.forms import EnrollForm
from portal.enrollments.intake import Outlook, enroll_from_form, find_participant, owner_of, preview_enrollment
from portal.enrollments.models import ROLE_LABELS, SOURCE_LABELS, STATUS_WORDS, Enrollment, Participant
from portal.enrollments.privacy import company_reference, may_see_identity, participant_label
from portal.enrollments.queries import searchable_participants
from portal.errors import DomainError
from portal.forms import choices, parse_id
from portal.i18n import _, _l, ngettext, number
from portal.tenancy import get_visible_or_404
from portal.web import (
    Confirmation,
    apply_domain_error,
    confirmation_page,
    is_confirmed,
    redirect_to,
    refused_action,
    render,
)

bp = Blueprint("enrollments", __name__, url_prefix="/campaigns")


# --- enrolling ----------------------------------------------------------------------
def _enroll_form() -> EnrollForm:
    form = EnrollForm()
    if current_user.is_company_admin:  # its own employees, as volunteers only (SPEC §2.5)
        form.role.choices = choices([("volunteer", _("Volunteer (%(company)s employee)",
                                                     company=current_user.company.name))])
        form.role.validate_choice = False  # another role reaches the rule, which names who enrolls beneficiaries
        if request.method == "GET":
            form.role.data = "volunteer"
    else:
        form.role.choices = choices([("beneficiary", _("Beneficiary")), ("volunteer", _("Volunteer (company employee)"))])
        if request.method == "GET" and request.args.get("role") in ("beneficiary", "volunteer"):
            form.role.data = request.args["role"]  # "enroll another" keeps the role of the last one
    return form


def _chosen_participant(form: EnrollForm) -> Participant | None:
    """The participant picked from the search (404 unless the viewer may enroll them)."""
    if not form.participant_id.data:
        return None
    return get_visible_or_404(Participant, parse_id(form.participant_id.data) or 0, current_user)


def _outlook_for(campaign: Campaign, form: EnrollForm):
    """The outlook for what the form holds, or (None, None) while no one is entered yet.
    Fields the form refused come first ("Cannot enroll" until they are corrected). A company
    admin's lookups stay among its own employees (find_participant by owner), so an
    outsider's e-mail reads exactly like a made-up one."""
    participant = _chosen_participant(form)
    if problems := form.field_problems():
        return participant, Outlook("refuse", problems)
    if participant is None and (form.email.data or form.external_ref.data):
        participant = find_participant(owner_of(current_user), form.email.data, form.external_ref.data)
    if participant is not None:
        return participant, preview_enrollment(campaign, role=form.role.data, year_of_birth=participant.year_of_birth,
                                               languages=participant.languages, company_id=participant.company_id,
                                               participant=participant, actor=current_user)
    if not ((form.display_name.data or "").strip() or form.email.data or form.external_ref.data):
        return None, None
    return None, preview_enrollment(campaign, role=form.role.data, year_of_birth=form.year_of_birth.data,
                                    languages=form.language_list(), company_id=owner_of(current_user),
                                    actor=current_user)


def _enroll_page(campaign: Campaign, form: EnrollForm, *, matches=(), chosen=None, outlook=None,
                 refused: bool = False, status_code: int = 200):
    return render("enrollments/enroll.html", campaign=campaign, form=form, matches=list(matches),
                  chosen=chosen, outlook=outlook, refused=refused, label=participant_label, status_code=status_code)


def _refused_page(campaign: Campaign, form: EnrollForm, status_code: int, exc: DomainError | None = None):
    """The form again after a refused enroll: each field's problem at the field, and the
    outlook box saying "Cannot enroll" with every reason (a refusal that concerns no field
    too: the person chosen, the campaign), so nothing else on the page contradicts it."""
    reasons = [*(getattr(exc, "reasons", None) or form.form_errors), *form.field_problems()]  # worded as the outlook
    form.form_errors = []  # shown in the outlook instead of a second box
    return _enroll_page(campaign, form, chosen=_chosen_participant(form),
                        outlook=Outlook("refuse", reasons or [_("Check the details above.")]), refused=True,
                        status_code=status_code)


@bp.route("/<int:campaign_id>/enroll", methods=["GET", "POST"])
@login_required
def enroll(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = _enroll_form()
    if request.method == "GET":
        matches = searchable_participants(current_user, request.args.get("q", ""))
        if request.args.get("participant", type=parse_id):
            form.participant_id.data = str(request.args.get("participant", type=parse_id))
        chosen, outlook = _outlook_for(campaign, form) if form.participant_id.data else (None, None)
        return _enroll_page(campaign, form, matches=matches, chosen=chosen, outlook=outlook)
    valid = form.validate_on_submit()
    participant_id = parse_id(form.participant_id.data)
    if form.participant_id.data and participant_id is None:
        abort(404)
    if participant_id is not None:
        get_visible_or_404(Participant, participant_id, current_user)
    if form.check.data:  # "Check" (no JavaScript): the page again with the outlook, nothing saved
        chosen, outlook = _outlook_for(campaign, form)
        return _enroll_page(campaign, form, chosen=chosen, outlook=outlook, status_code=200 if valid else 422)
    if not valid:
        return _refused_page(campaign, form, 422)
    if participant_id is None and not (form.display_name.data or "").strip() and not (
            form.email.data or form.external_ref.data):
        form.display_name.errors = [_("Enter the participant's name, or pick an existing participant.")]
        return _refused_page(campaign, form, 422)
    for attempt in (1, 2):  # a concurrent double submit may trip a unique key once; the retry finds the row
        try:
            with transaction():
                enrollment = enroll_from_form(current_user, campaign.id, participant_id=participant_id,
                                              new_participant=form.new_participant(), role=form.role.data,
                                              **form.legal_basis_values())
            break
        except sa.exc.IntegrityError:
            if attempt == 2:
                raise
        except DomainError as exc:
            apply_domain_error(form, exc)
            return _refused_page(campaign, form, exc.status_code, exc)
    done = _enrolled_sentence(enrollment, db.session.get(Participant, enrollment.participant_id))
    campaign_url = url_for("campaigns.detail", campaign_id=campaign_id)
    enroll_url = url_for("enrollments.enroll", campaign_id=campaign_id, role=form.role.data)
    if form.add_another.data:  # entering several people: straight back to an empty form, same role
        flash(Markup('{} <a href="{}">{}</a>').format(done, campaign_url, _("Back to the campaign")), "success")
        return redirect_to(enroll_url)
    flash(Markup('{} <a href="{}">{}</a>').format(done, enroll_url, _("Enroll another")), "success")
    return redirect_to(campaign_url)


def _enrolled_sentence(enrollment: Enrollment, person: Participant) -> str:
    """What the flash after an enroll says: who (by name, or by the viewer's pseudonym for
    someone the viewer may not identify) and whether they got a seat or a waitlist place."""
    who = participant_label(current_user, person)
    if may_see_identity(current_user, person):
        if enrollment.status == ops.ENROLLED:
            return _("%(name)s is enrolled.", name=who)
        return _("%(name)s is on the waitlist: the campaign is full.", name=who)
    if enrollment.status == ops.ENROLLED:
        return _("The participant (listed as %(reference)s) is enrolled.", reference=who)
    return _("The participant (listed as %(reference)s) is on the waitlist: the campaign is full.", reference=who)


@bp.post("/<int:campaign_id>/enroll/check")
@login_required
def enroll_check(campaign_id: int):
    """The eligibility and capacity outlook for what the form holds now (nothing is saved)."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = _enroll_form()
    form.validate()
    chosen, outlook = _outlook_for(campaign, form)
    # The Enroll buttons follow the outlook: when their state changes they come along, swapped out of band.
    return render("enrollments/_outlook.html", outlook=outlook, chosen=chosen, label=participant_label,
                  campaign=campaign, out_of_band=True, shown_blocked=_shown_blocked(request.form.get("actions_blocked")))


def _shown_blocked(posted: str | None) -> bool | None:
    """Whether the page shows the Enroll buttons off ("y"), on ("n"), or unknown (None)."""
    return {"y": True, "n": False}.get(posted or "")


# --- one enrollment -------------------------------------------------------------------
def _enrollment_in(campaign: Campaign, enrollment_id: int, *, for_update: bool = False) -> Enrollment:
    enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user, for_update=for_update)
    if enrollment.campaign_id != campaign.id:
        abort(404)
    return enrollment


def _detail_page(campaign: Campaign, enrollment: Enrollment, status_code: int = 200, *, delivery_panel=None):
    from portal.deliveries.views import delivery_panel as deliveries_of

    return render("enrollments/detail.html", campaign=campaign, enrollment=enrollment,
                  delivery_panel=delivery_panel or deliveries_of(campaign, enrollment),
                  participant=enrollment.participant, show_identity=may_see_identity(current_user, enrollment.participant),
                  company_ref=company_reference(campaign.company, enrollment.participant_id),
                  label=participant_label, form=DropForm(lock_version=enrollment.lock_version),
                  events=timeline("enrollments", enrollment.id, current_user), describe=describe,
                  role_labels=ROLE_LABELS, source_labels=SOURCE_LABELS, status_code=status_code)


@bp.get("/<int:campaign_id>/enrollments/<int:enrollment_id>")
@login_required
def detail(campaign_id: int, enrollment_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    return _detail_page(campaign, _enrollment_in(campaign, enrollment_id))


ACTION_TARGETS = {"complete": ops.COMPLETED, "drop": ops.DROPPED}


def _change(enrollment: Enrollment, action: str, reason: str, expected_version: int | None = None) -> list:
    if action == "complete":
        ops.complete_enrollment(current_user, enrollment, expected_version=expected_version)
        return []
    if action == "drop":
        return ops.drop_enrollment(current_user, enrollment, reason, expected_version=expected_version)
    raise DomainError(_l("Unknown action."), None)


def _promoted_note(promoted: int) -> str:
    if not promoted:
        return ""
    return " " + ngettext("%(count)s waitlisted participant promoted.", "%(count)s waitlisted participants promoted.",
                          promoted, count=number(promoted))


def _what_happens(action: str, enrollments: list[Enrollment], campaign: Campaign) -> list[str]:
    """The confirmation's sentences: what completing or dropping these enrollments does."""
    if action == "complete":
        return [_("Completed means they finished the program: their seats stay counted towards the campaign's "
                  "maximum and budget.")]
    frees = sum(1 for e in enrollments if e.status == ops.ENROLLED and e.role == "beneficiary")
    sentences = [_("They leave the campaign; their enrollments stay in the history with the reason given.")]
    if frees:
        waiting = campaign.waitlisted_count - sum(1 for e in enrollments if e.status == ops.WAITLISTED)
        sentence = ngettext("This frees %(count)s seat.", "This frees %(count)s seats.", frees, count=number(frees))
        if waiting:
            sentence += " " + ngettext(
                "%(count)s person on the waitlist: the longest waiting get freed seats first.",
                "%(count)s people on the waitlist: the longest waiting get freed seats first.", waiting,
                count=number(waiting))
        sentences.append(sentence)
    return sentences


def _status_now(enrollment: Enrollment) -> str:
    word = str(STATUS_WORDS.get(enrollment.status, enrollment.status))
    return word[:1].upper() + word[1:]


def _change_confirmation(campaign: Campaign, enrollment: Enrollment, action: str, reason: str) -> Confirmation:
    who = participant_label(current_user, enrollment.participant)
    verb = _("Complete") if action == "complete" else _("Drop")
    facts = [(_("Campaign"), campaign.name), (_("Role"), str(ROLE_LABELS.get(enrollment.role, enrollment.role))),
             (_("Status now"), _status_now(enrollment))]
    if action == "drop":
        facts.append((_("Reason"), reason.strip() or _("None given")))
    detail_url = url_for(".detail", campaign_id=campaign.id, enrollment_id=enrollment.id)
    if action == "complete":
        title, confirm_label = _("Complete the enrollment of %(name)s?", name=who), _("Complete the enrollment")
    else:
        title, confirm_label = _("Drop the enrollment of %(name)s?", name=who), _("Drop the enrollment")
    return Confirmation(
        title=title, confirm_label=confirm_label,
        action=url_for(".change", campaign_id=campaign.id, enrollment_id=enrollment.id, action=action),
        cancel_url=detail_url, cancel_label=_("Keep it"), facts=facts,
        consequences=_what_happens(action, [enrollment], campaign), danger=action == "drop",
        crumbs=[(_("Campaigns"), url_for("campaigns.index")),
                (campaign.name, url_for("campaigns.detail", campaign_id=campaign.id)), (who, detail_url),
                (verb, None)])


@bp.post("/<int:campaign_id>/enrollments/<int:enrollment_id>/<any(complete, drop):action>")
@login_required
def change(campaign_id: int, enrollment_id: int, action: str):
    """Complete or drop one enrollment, once confirmed (until then: the confirmation page)."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = DropForm()
    if not form.validate_on_submit():
        abort(400)
    detail_url = url_for(".detail", campaign_id=campaign_id, enrollment_id=enrollment_id)
    try:
        if not is_confirmed():  # a move that would be refused is refused now, not after asking
            enrollment = _enrollment_in(campaign, enrollment_id)
            ops.check_enrollment_move(enrollment, ACTION_TARGETS[action], form.expected_version())
            return confirmation_page(_change_confirmation(campaign, enrollment, action, form.reason.data or ""))
        with transaction():
            enrollment = _enrollment_in(campaign, enrollment_id, for_update=True)
            promoted = _change(enrollment, action, form.reason.data or "", form.expected_version())
    except DomainError as exc:
        status = exc.status_code
        return refused_action(str(exc.message),
                              lambda: _detail_page(campaign, _enrollment_in(campaign, enrollment_id), status),
                              detail_url)
    done = _("Enrollment completed.") if action == "complete" else _("Enrollment dropped.")
    flash(done + _promoted_note(len(promoted)), "success")
    return redirect_to(request.form.get("next") if (request.form.get("next") or "").startswith("/campaigns/")
                       else url_for("campaigns.detail", campaign_id=campaign_id))


def _bulk_confirmation(campaign: Campaign, rows: list[Enrollment], action: str, reason: str) -> Confirmation:
    n, shown = len(rows), number(len(rows))
    if action == "complete":
        title = ngettext("Complete %(count)s enrollment?", "Complete %(count)s enrollments?", n, count=shown)
        confirm_label = ngettext("Complete %(count)s enrollment", "Complete %(count)s enrollments", n, count=shown)
        items_label = ngettext("Enrollment to complete", "Enrollments to complete", n)
    else:
        title = ngettext("Drop %(count)s enrollment?", "Drop %(count)s enrollments?", n, count=shown)
        confirm_label = ngettext("Drop %(count)s enrollment", "Drop %(count)s enrollments", n, count=shown)
        items_label = ngettext("Enrollment to drop", "Enrollments to drop", n)
    campaign_url = url_for("campaigns.detail", campaign_id=campaign.id)
    fields = [("action", action), ("reason", reason), *(("enrollment_ids", str(e.id)) for e in rows)]
    facts = [(_("Campaign"), campaign.name)]
    if action == "drop":
        facts.append((_("Reason"), reason.strip() or _("None given")))
    return Confirmation(
        title=title, confirm_label=confirm_label,
        action=url_for(".bulk", campaign_id=campaign.id), cancel_url=campaign_url, cancel_label=_("Keep them"),
        facts=facts, items=[participant_label(current_user, e.participant) for e in rows], items_label=items_label,
        consequences=[_("All of them change together, or none does."), *_what_happens(action, rows, campaign)],
        fields=fields, danger=action == "drop",
        crumbs=[(_("Campaigns"), url_for("campaigns.index")), (campaign.name, campaign_url), (confirm_label, None)])


@bp.post("/<int:campaign_id>/enrollments/bulk")
@login_required
def bulk(campaign_id: int):
    """Complete or drop several enrollments in one transaction: all or none, once confirmed
    (until then: the confirmation page naming each). "All on this page" ticks every row."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = BulkForm()
    if not form.validate_on_submit() or form.action.data not in ("complete", "drop"):
        abort(400)
    ticked = set(form.enrollment_ids.data or [])
    if form.all_on_page.data:
        ticked |= set(form.page_ids.data or [])
    ids = sorted(ticked)
    campaign_url = url_for("campaigns.detail", campaign_id=campaign_id)
    if not ids:
        return refused_action(_("Tick at least one enrollment first."), lambda: campaign_page(campaign, 422),
                              campaign_url)
    try:
        if not is_confirmed():
            rows = _bulk_rows(campaign, ids)
            for enrollment in rows:  # a move that would be refused is refused now, not after asking
                ops.check_enrollment_move(enrollment, ACTION_TARGETS[form.action.data])
            return confirmation_page(_bulk_confirmation(campaign, rows, form.action.data, form.reason.data or ""))
        with transaction():
            rows = _bulk_rows(campaign, ids, for_update=True)
            promoted = 0
            for enrollment in rows:
                promoted += len(_change(enrollment, form.action.data, form.reason.data or ""))
    except DomainError as exc:
        status = exc.status_code
        return refused_action(_("Nothing changed: %(reason)s", reason=exc.message),
                              lambda: campaign_page(get_visible_or_404(Campaign, campaign_id, current_user), status),
                              campaign_url)
    n = len(rows)
    if form.action.data == "complete":
        done = ngettext("%(count)s enrollment completed.", "%(count)s enrollments completed.", n, count=number(n))
    else:
        done = ngettext("%(count)s enrollment dropped.", "%(count)s enrollments dropped.", n, count=number(n))
    flash(done + _promoted_note(promoted), "success")
    return redirect_to(campaign_url)


def _bulk_rows(campaign: Campaign, ids: list[int], *, for_update: bool = False) -> list[Enrollment]:
    """The campaign's enrollments with these ids, in id order; 404 if any is not the campaign's."""
    stmt = sa.select(Enrollment).where(Enrollment.id.in_(ids), Enrollment.campaign_id == campaign.id) \
        .order_by(Enrollment.id)
    # FOR UPDATE locks the enrollments alone; the confirmation reads the names along.
    stmt = stmt.with_for_update() if for_update else stmt.options(sa.orm.joinedload(Enrollment.participant))
    rows = list(db.session.scalars(stmt))
    if len(rows) != len(ids):
        abort(404)
    return rows
