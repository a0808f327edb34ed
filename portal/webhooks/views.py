"""The webhook screens (program managers; company admins get 403): the endpoints list, register
(the secret shown once), edit, enable/disable, rotate the secret (shown once), delete with a
confirmation, and each endpoint's page with its delivery log and a "send test event" button.
Thin: parse → operation in one transaction → render or redirect. Every form works without
JavaScript; htmx only asks before the destructive buttons."""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user

from portal.auth.models import PROGRAM_MANAGER
from portal.db import transaction, utcnow
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.i18n import _
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
from portal.webhooks import operations as ops
from portal.webhooks.events import EVENT_GROUPS, group_label, type_label
from portal.webhooks.forms import ButtonForm, EnabledForm, EndpointForm
from portal.webhooks.models import WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _endpoint_or_404(webhook_id: int, *, for_update: bool = False) -> WebhookEndpoint:
    try:
        return ops.get_endpoint(webhook_id, for_update=for_update)
    except NotFound:
        abort(404)


def _form_context(form: EndpointForm) -> dict:
    chosen = set(form.event_types.data or [])
    return {"form": form, "groups": EVENT_GROUPS, "chosen": chosen, "type_label": type_label,
            "group_label": group_label}


# --- list and register ----------------------------------------------------------------------
@bp.get("/")
@role_required(PROGRAM_MANAGER)
def index():
    return render("webhooks/index.html", rows=ops.endpoint_rows(), type_label=type_label)


@bp.route("/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new():
    form = EndpointForm(company_choices=ops.companies())
    if request.method == "GET":
        return render("webhooks/new.html", **_form_context(form))
    if form.validate_on_submit():
        try:
            with transaction():
                endpoint, secret = ops.create_endpoint(current_user, **form.values())
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            response = render("webhooks/secret.html", endpoint=endpoint, secret=secret, created=True, status_code=201)
            response.headers["Cache-Control"] = "no-store"
            return response
    elif form.csrf_token.errors:
        abort(400)
    return render("webhooks/new.html", status_code=422, **_form_context(form))


# --- one endpoint ------------------------------------------------------------------------------
def _detail_page(endpoint: WebhookEndpoint, status_code: int = 200):
    return render("webhooks/detail.html", endpoint=endpoint, deliveries=ops.recent_deliveries(endpoint.id),
                  attempts=ops.recent_attempts(endpoint.id), button_form=ButtonForm(), enabled_form=EnabledForm(),
                  type_label=type_label, now=utcnow(), status_code=status_code)


@bp.get("/<int:webhook_id>")
@role_required(PROGRAM_MANAGER)
def detail(webhook_id: int):
    response = _detail_page(_endpoint_or_404(webhook_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:webhook_id>/edit", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def edit(webhook_id: int):
    endpoint = _endpoint_or_404(webhook_id)
    if request.method == "GET":
        form = EndpointForm(company_choices=ops.companies(), obj=endpoint, lock_version=endpoint.lock_version)
        form.company_id.data = str(endpoint.company_id) if endpoint.company_id else ""
        return render("webhooks/edit.html", endpoint=endpoint, **_form_context(form))
    form = EndpointForm(company_choices=ops.companies())
    status = 422
    if form.validate_on_submit():
        try:
            with transaction():
                locked = _endpoint_or_404(webhook_id, for_update=True)
                ops.update_endpoint(current_user, locked, expected_version=form.expected_version(),
                                    enabled=form.enabled.data, **form.values())
            flash(_("Webhook endpoint saved."), "success")
            return redirect_to(url_for(".detail", webhook_id=webhook_id))
        except ValidationFailed as exc:
            apply_domain_error(form, exc)
        except DomainError as exc:  # someone saved it meanwhile (409)
            form.form_errors.append(exc.message)
            status = exc.status_code
        endpoint = _endpoint_or_404(webhook_id)
    elif form.csrf_token.errors:
        abort(400)
    return render("webhooks/edit.html", endpoint=endpoint, status_code=status, **_form_context(form))


@bp.post("/<int:webhook_id>/enabled")
@role_required(PROGRAM_MANAGER)
def set_enabled(webhook_id: int):
    form = EnabledForm()
    if not form.validate_on_submit() or form.enabled.data not in ("yes", "no"):
        abort(400)
    _endpoint_or_404(webhook_id)
    with transaction():
        endpoint = _endpoint_or_404(webhook_id, for_update=True)
        ops.set_enabled(current_user, endpoint, form.enabled.data == "yes")
    flash(_("Webhook endpoint enabled.") if endpoint.enabled else _("Webhook endpoint disabled."), "success")
    return redirect_to(url_for(".detail", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/test")
@role_required(PROGRAM_MANAGER)
def send_test(webhook_id: int):
    """Queue a ``webhook.test`` message; it shows in the log when sent (at once in most setups)."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    endpoint = _endpoint_or_404(webhook_id)
    detail_url = url_for(".detail", webhook_id=webhook_id)
    try:
        with transaction():
            ops.send_test_event(current_user, _endpoint_or_404(webhook_id, for_update=True))
    except DomainError as exc:
        status = exc.status_code
        return refused_action(exc.message, lambda: _detail_page(endpoint, status), detail_url)
    flash(_("Test event sent. Its attempt shows in the delivery log below (reload if it is still pending)."), "success")
    return redirect_to(detail_url)


@bp.post("/<int:webhook_id>/rotate")
@role_required(PROGRAM_MANAGER)
def rotate_secret(webhook_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    endpoint = _endpoint_or_404(webhook_id)
    detail_url = url_for(".detail", webhook_id=webhook_id)
    if not is_confirmed():
        return confirmation_page(Confirmation(
            title=_("Rotate the secret of “%(name)s”?", name=endpoint.name), confirm_label=_("Rotate the secret"),
            action=url_for(".rotate_secret", webhook_id=webhook_id), cancel_url=detail_url, cancel_label=_("Keep it"),
            facts=[(_("URL"), endpoint.url)], danger=False, final=False,
            consequences=[_("A new secret is made and shown once. For 24 hours every message is signed with both the "
                            "old and the new secret, so the receiver can switch over; then the old one stops.")],
            crumbs=[(_("Webhooks"), url_for(".index")), (endpoint.name, detail_url), (_("Rotate secret"), None)]))
    with transaction():
        endpoint = _endpoint_or_404(webhook_id, for_update=True)
        secret = ops.rotate_secret(current_user, endpoint)
    response = render("webhooks/secret.html", endpoint=endpoint, secret=secret, created=False)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:webhook_id>/delete")
@role_required(PROGRAM_MANAGER)
def delete(webhook_id: int):
    if not ButtonForm().validate_on_submit():
        abort(400)
    endpoint = _endpoint_or_404(webhook_id)
    index_url = url_for(".index")
    if not is_confirmed():
        detail_url = url_for(".detail", webhook_id=webhook_id)
        return confirmation_page(Confirmation(
            title=_("Delete the webhook endpoint “%(name)s”?", name=endpoint.name),
            confirm_label=_("Delete the endpoint"),
            action=url_for(".delete", webhook_id=webhook_id), cancel_url=detail_url, cancel_label=_("Keep it"),
            facts=[(_("URL"), endpoint.url), (_("Events"), ", ".join(type_label(t) for t in endpoint.event_types))],
            consequences=[_("Nothing more is sent to this URL, messages waiting for a retry are dropped, and its "
                            "delivery log is deleted. To pause it instead, disable it.")],
            crumbs=[(_("Webhooks"), index_url), (endpoint.name, detail_url), (_("Delete"), None)]))
    with transaction():
        endpoint = _endpoint_or_404(webhook_id, for_update=True)
        name = endpoint.name
        ops.delete_endpoint(current_user, endpoint)
    flash(_("The webhook endpoint “%(name)s” is deleted.", name=name), "success")
    return redirect_to(index_url)
