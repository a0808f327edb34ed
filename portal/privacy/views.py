"""The privacy screens (SPEC §2.12), program managers only: the overview (retention due,
open data-subject requests with their due dates, withdrawn consents, erasure log), a
participant's rights page (recording a request received among them), the access export,
erasure with a typed confirmation, withdrawing consent, and closing a request by hand.
Thin: parse → operation in one transaction → render or redirect.

To anyone but a program manager every URL here answers 404, like a page that does not
exist: a company admin never learns that a privacy request concerns anybody.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, make_response, url_for
from flask_login import current_user, login_required

from portal.db import db, transaction, utcnow
from portal.enrollments.models import ROLE_LABELS, Enrollment, Participant
from portal.errors import DomainError
from portal.i18n import _, ngettext, number, show_date
from portal.privacy import queries, requests
from portal.privacy.access import access_report, record_access_export
from portal.privacy.consent import LEGAL_BASIS_LABELS, withdraw_consent
from portal.privacy.erasure import erase_participant, erase_word
from portal.privacy.forms import AccessForm, CloseRequestForm, EraseForm, RequestForm, WithdrawConsentForm
from portal.privacy.models import DataSubjectRequest
from portal.privacy.retention import due_for_retention
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

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def program_team_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in as a program manager; anyone else gets 404 (not 403: the screen is no one else's to know of)."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_program_manager:
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _participant(participant_id: int, *, for_update: bool = False) -> Participant:
    return get_visible_or_404(Participant, participant_id, current_user, for_update=for_update)


@bp.get("/")
@program_team_only
def index():
    today = utcnow().date()
    return render("privacy/index.html", due=due_for_retention(today), requests=requests.open_requests(),
                  today=today, kind_labels=requests.KIND_LABELS,
                  withdrawn=queries.withdrawn_not_erased(), erasures=queries.erasure_log())


def _participant_page(participant: Participant, status_code: int = 200, request_form: RequestForm | None = None):
    return render("privacy/participant.html", participant=participant,
                  enrollments=queries.enrollments_with_basis(participant), basis_labels=LEGAL_BASIS_LABELS,
                  role_labels=ROLE_LABELS, requests=requests.requests_of(participant), today=utcnow().date(),
                  kind_labels=requests.KIND_LABELS, outcome_labels=requests.OUTCOME_LABELS,
                  request_form=request_form or RequestForm(formdata=None, received_on=utcnow().date()),
                  withdraw_form=WithdrawConsentForm(), access_form=AccessForm(), status_code=status_code)


@bp.get("/participants/<int:participant_id>")
@program_team_only
def participant(participant_id: int):
    return _participant_page(_participant(participant_id))


@bp.post("/participants/<int:participant_id>/access")
@program_team_only
def access(participant_id: int):
    """The access export (Art. 15) as a JSON download or the readable page; either is logged."""
    person = _participant(participant_id)
    form = AccessForm()
    if not form.validate_on_submit():
        flash(_("Choose JSON or the readable page."), "error")
        return _participant_page(person, status_code=422)
    with transaction():
        person = _participant(participant_id, for_update=True)
        record_access_export(current_user, person, form.format.data)
        requests.close_access_requests(current_user, person)  # the export answers their open access requests
    report = access_report(person)
    if form.format.data == "page":
        from portal.deliveries.kinds import ATTENDANCE_LABELS, kind_label

        return render("privacy/access.html", participant=person, report=report, basis_labels=LEGAL_BASIS_LABELS,
                      role_labels=ROLE_LABELS, attendance_labels=ATTENDANCE_LABELS, kind_label=kind_label)
    body = json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True)
    response = make_response(body, 200)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="participant-{person.ref}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/participants/<int:participant_id>/erase", methods=["GET", "POST"])
@program_team_only
def erase(participant_id: int):
    person = _participant(participant_id)
    form = EraseForm()
    if not form.is_submitted():
        return _erase_page(person, form)
    if not form.validate_on_submit():
        return _erase_page(person, form, status_code=422)
    try:
        with transaction():
            locked = _participant(participant_id, for_update=True)
            result = erase_participant(current_user, locked, confirmation=form.confirmation.data)
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _erase_page(_participant(participant_id), form, status_code=exc.status_code)
    flash(_("Erased. Their identity is gone from %(enrollments)s, %(deliveries)s and every activity event that "
            "mentioned them; every figure stays the same.",
            enrollments=ngettext("%(count)s enrollment", "%(count)s enrollments", result.enrollments,
                                 count=number(result.enrollments)),
            deliveries=ngettext("%(count)s delivery", "%(count)s deliveries", result.deliveries,
                                count=number(result.deliveries))), "success")
    return redirect_to(url_for(".participant", participant_id=participant_id))


def _erase_page(person: Participant, form: EraseForm, status_code: int = 200) -> Response:
    return render("privacy/erase.html", participant=person, form=form, erase_word=erase_word(),
                  enrollments=queries.enrollments_with_basis(person), status_code=status_code)


@bp.post("/enrollments/<int:enrollment_id>/withdraw-consent")
@program_team_only
def withdraw(enrollment_id: int):
    """Withdraw consent (after a confirmation), then offer erasure."""
    enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user)
    person = db.session.get(Participant, enrollment.participant_id)
    back = url_for(".participant", participant_id=person.id)
    form = WithdrawConsentForm()
    if not form.validate_on_submit():
        return refused_action(_("The form expired; try again."), lambda: _participant_page(person, 400), back)
    if not is_confirmed():
        campaign = enrollment.campaign
        return confirmation_page(Confirmation(
            title=_("Withdraw consent for %(name)s in %(campaign)s?", name=person.display_name,
                    campaign=campaign.name),
            action=url_for(".withdraw", enrollment_id=enrollment_id), confirm_label=_("Withdraw consent"),
            cancel_url=back,
            consequences=[_("From now on no delivery and no match is recorded for this enrollment."),
                          _("Its proposed and active matches end now. The enrollment keeps its seat, so no figure "
                            "changes."),
                          _("Next you can erase the person's data, if they asked for that too.")],
            crumbs=[(_("Privacy"), url_for(".index")), (person.display_name, back), (_("Withdraw consent"), None)]))
    try:
        with transaction():
            locked = get_visible_or_404(Enrollment, enrollment_id, current_user, for_update=True)
            ended = withdraw_consent(current_user, locked, expected_version=form.expected_version())
    except DomainError as exc:
        status = exc.status_code
        return refused_action(exc.message, lambda: _participant_page(person, status), back)
    flash(ngettext("Consent withdrawn; %(count)s open match ended. If the person also asked to be forgotten, erase "
                   "their data below.",
                   "Consent withdrawn; %(count)s open matches ended. If the person also asked to be forgotten, erase "
                   "their data below.", len(ended), count=number(len(ended))), "success")
    return redirect_to(url_for(".erase", participant_id=person.id))


# --- the register of data-subject requests ---------------------------------------------------
@bp.post("/participants/<int:participant_id>/requests")
@program_team_only
def record_request(participant_id: int):
    """Record a request received from the participant (kind, day received, own reference)."""
    person = _participant(participant_id)
    form = RequestForm()
    if not form.validate_on_submit():
        return _participant_page(person, 422, form)
    try:
        with transaction():
            locked = _participant(participant_id, for_update=True)
            recorded = requests.record_request(current_user, locked, kind=form.kind.data,
                                               received_on=form.received_on.data, reference=form.reference.data)
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _participant_page(_participant(participant_id), exc.status_code, form)
    flash(_("Request recorded: answer it by %(day)s.", day=show_date(recorded.due_on)), "success")
    return redirect_to(url_for(".participant", participant_id=participant_id))


def _request_or_404(request_id: int, *, for_update: bool = False) -> DataSubjectRequest:
    stmt = sa.select(DataSubjectRequest).where(DataSubjectRequest.id == request_id)
    found = db.session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if found is None:
        abort(404)
    _participant(found.participant_id)  # the same visibility as the person's page
    return found


def _close_page(found: DataSubjectRequest, form: CloseRequestForm, status_code: int = 200) -> Response:
    return render("privacy/close_request.html", request_=found, participant=found.participant, form=form,
                  kind_labels=requests.KIND_LABELS, today=utcnow().date(), status_code=status_code)


@bp.route("/requests/<int:request_id>/close", methods=["GET", "POST"])
@program_team_only
def close_request(request_id: int):
    """Close one request by hand, saying how it was answered."""
    found = _request_or_404(request_id)
    form = CloseRequestForm()
    if not form.is_submitted():
        form.lock_version.data = str(found.lock_version)
        return _close_page(found, form)
    if not form.validate_on_submit():
        return _close_page(found, form, 422)
    try:
        with transaction():
            requests.close_request(current_user, _request_or_404(request_id, for_update=True), form.note.data,
                                   expected_version=form.expected_version())
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _close_page(_request_or_404(request_id), form, exc.status_code)
    flash(_("Request closed."), "success")
    return redirect_to(url_for(".index"))
