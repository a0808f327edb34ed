"""CSV import and export of a campaign's enrollments: thin handlers over
:mod:`portal.enrollments.csv` (upload → dry run → confirm in one transaction; export),
plus a sample file for the viewer's role, the stored dry run shown again (all rows or
errors only) and its error rows as a file to correct and upload again.

Company admins reach only their own campaigns (404 otherwise, as for any missing object);
an upload token works only for the user and campaign that made it.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, flash, request, stream_with_context, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from portal.campaigns.models import Campaign
from portal.db import transaction
from portal.enrollments.csv.apply import CHANGED_MESSAGE, ImportChanged, ImportHasErrors, apply_import
from portal.enrollments.csv.export import errors_csv, export_csv, sample_csv
from portal.enrollments.csv.parse import COLUMNS, DEFAULT_MAX_ROWS, ImportFileError, parse_csv
from portal.enrollments.csv.plan import ImportClosed, ImportPlan, check_import_open, plan_import
from portal.enrollments.csv.uploads import ImportUploads, StoredUpload, UploadExpired
from portal.tenancy import get_visible_or_404
from portal.web import redirect_to, render, role_required

bp = Blueprint("imports", __name__, url_prefix="/campaigns/<int:campaign_id>")

ROLES_ALLOWED = ("program_manager", "company_admin")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
SHOWN_ROWS = 200
ERRORS_ONLY = "errors"  # ?show=errors: the dry-run table lists its error rows only
RESHOWN_CHANGED_MESSAGE = ("The campaign changed since this dry run (seats, status or participants). Below is the "
                           "dry run as of now; a confirm imports what it shows.")


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the file waits on the server under the token in the URL."""


def _setting(name: str, default: int) -> int:
    value = current_app.config.get(name)
    return int(value if value is not None else os.environ.get(name, default))


def _too_large(max_bytes: int) -> str:
    size = f"{max_bytes / 2**20:g} MB" if max_bytes >= 2**20 else f"{max_bytes / 2**10:g} KB"
    return f"The file is larger than {size}. Split it into smaller files."


def _uploads() -> ImportUploads:
    folder = current_app.config.get("PORTAL_IMPORT_DIR") or Path(current_app.instance_path) / "imports"
    return ImportUploads(folder)


def _campaign(campaign_id: int) -> Campaign:
    return get_visible_or_404(Campaign, campaign_id, current_user)


def _load(token: str, campaign_id: int) -> StoredUpload:
    """The user's stored upload; 404 for an unknown or someone else's token."""
    return _uploads().load(token, user_id=current_user.id, campaign_id=campaign_id)


def _expired(campaign_id: int, exc: UploadExpired) -> Response:
    flash(exc.message, "error")
    return redirect_to(url_for("imports.upload", campaign_id=campaign_id))


def _shown(plan: ImportPlan | None, errors_only: bool) -> list:
    if plan is None:
        return []
    return plan.errors if errors_only else plan.shown_rows(SHOWN_ROWS)


def _page(campaign: Campaign, form: FlaskForm, *, plan: ImportPlan | None = None, token: str | None = None,
          filename: str = "", changed: bool = False, changed_message: str = CHANGED_MESSAGE,
          errors_only: bool = False, status_code: int = 200) -> Response:
    errors_only = errors_only and plan is not None and plan.has_errors
    return render("imports/upload.html", block="import", campaign=campaign, form=form, plan=plan, token=token,
                  filename=filename, changed=changed, changed_message=changed_message, columns=COLUMNS,
                  errors_only=errors_only, shown=_shown(plan, errors_only), shown_limit=SHOWN_ROWS,
                  max_rows=_setting("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
                  confirm_form=ConfirmForm(formdata=None), status_code=status_code)


@bp.route("/import", methods=["GET", "POST"], endpoint="upload")
@role_required(*ROLES_ALLOWED)
def upload(campaign_id: int):
    """Upload a file and show its dry run (nothing is saved)."""
    campaign = _campaign(campaign_id)
    form = UploadForm()
    if request.method == "GET":
        return _page(campaign, form)
    try:
        check_import_open(campaign)
    except ImportClosed as exc:
        form.validate_on_submit()
        form.file.errors = [exc.message]
        return _page(campaign, form, status_code=exc.status_code)
    max_bytes = _setting("PORTAL_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)
    if request.content_length is not None and request.content_length > max_bytes:
        form.file.errors = [_too_large(max_bytes)]
        return _page(campaign, form, status_code=422)
    if not form.validate_on_submit():
        return _page(campaign, form, status_code=422)
    data = form.file.data.read(max_bytes + 1)
    filename = re.sub(r"[^\w .()-]", "_", form.file.data.filename or "")[:120]
    try:
        if len(data) > max_bytes:
            raise ImportFileError(_too_large(max_bytes))
        parsed = parse_csv(data, max_rows=_setting("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))
    except ImportFileError as exc:
        form.file.errors = [exc.message]
        return _page(campaign, form, status_code=422)
    plan = plan_import(campaign, parsed, current_user)
    token = _uploads().save(user_id=current_user.id, campaign_id=campaign.id, data=data, plan=plan,
                            filename=filename)
    return _page(campaign, UploadForm(formdata=None), plan=plan, token=token, filename=filename,
                 status_code=422 if plan.has_errors else 200)


@bp.post("/import/<token>/confirm", endpoint="confirm")
@role_required(*ROLES_ALLOWED)
def confirm(campaign_id: int, token: str):
    """Import the dry-run file in one transaction, or show the new dry run if anything changed."""
    _campaign(campaign_id)
    try:
        stored = _load(token, campaign_id)
    except UploadExpired as exc:
        return _expired(campaign_id, exc)
    parsed = parse_csv(stored.data, max_rows=_setting("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))
    filename = stored.meta.get("filename", "")
    try:
        with transaction():
            result = apply_import(current_user, campaign_id, parsed,
                                  expected_fingerprint=stored.meta.get("fingerprint", ""),
                                  expected_digest=stored.meta.get("digest", ""))
    except (ImportChanged, ImportHasErrors, sa.exc.IntegrityError) as exc:
        # Rolled back. Show the dry run as of now; it becomes the one a new confirm checks against.
        campaign = _campaign(campaign_id)
        plan = plan_import(campaign, parsed, current_user)
        _uploads().remember(stored, plan)
        changed = not isinstance(exc, ImportHasErrors)
        return _page(campaign, UploadForm(formdata=None), plan=plan, token=token, filename=filename, changed=changed,
                     status_code=409 if changed else 422)
    _uploads().discard(token)
    flash(result.message, "success")
    return redirect_to(url_for("campaigns.detail", campaign_id=campaign_id))


@bp.get("/import/<token>/", endpoint="dry_run")
@role_required(*ROLES_ALLOWED)
def dry_run(campaign_id: int, token: str):
    """The stored dry run again, all rows or (``?show=errors``) the error rows only. It is
    checked against the campaign as it is now: when that differs from the last one shown,
    the page says so and the new one becomes the one a confirm checks against."""
    campaign = _campaign(campaign_id)
    try:
        stored = _load(token, campaign_id)
    except UploadExpired as exc:
        return _expired(campaign_id, exc)
    plan = plan_import(campaign, parse_csv(stored.data, max_rows=_setting("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)),
                       current_user)
    changed = (plan.fingerprint, plan.digest) != (stored.meta.get("fingerprint"), stored.meta.get("digest"))
    if changed:
        _uploads().remember(stored, plan)
    return _page(campaign, UploadForm(formdata=None), plan=plan, token=token, filename=stored.meta.get("filename", ""),
                 changed=changed, changed_message=RESHOWN_CHANGED_MESSAGE,
                 errors_only=request.args.get("show") == ERRORS_ONLY)


@bp.get("/import/<token>/errors.csv", endpoint="errors")
@role_required(*ROLES_ALLOWED)
def errors(campaign_id: int, token: str):
    """The dry run's error rows as a file to correct and upload again: row and reason,
    then every column of the uploaded file (formula-like cells neutralised)."""
    _campaign(campaign_id)
    try:
        stored = _load(token, campaign_id)
    except UploadExpired as exc:
        return _expired(campaign_id, exc)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", re.sub(r"(?i)\.csv$", "", stored.meta.get("filename", "")))[:80]
    return _csv_response(errors_csv(stored.data, stored.errors), f"{stem or 'import'}-errors.csv")


@bp.get("/import/sample.csv", endpoint="sample")
@role_required(*ROLES_ALLOWED)
def sample(campaign_id: int):
    """A small, correct file to start from: a company admin's employees as volunteers; a
    program manager's beneficiaries fitting the program's group, and a volunteer."""
    campaign = _campaign(campaign_id)
    name = "sample-volunteers.csv" if current_user.is_company_admin else "sample-enrollments.csv"
    return _csv_response(sample_csv(current_user, campaign), name)


@bp.get("/export.csv", endpoint="export")
@role_required(*ROLES_ALLOWED)
def export(campaign_id: int):
    """The campaign's enrollments as CSV, streamed (pseudonymised for company admins)."""
    campaign = _campaign(campaign_id)
    viewer = current_user._get_current_object()
    name = re.sub(r"[^A-Za-z0-9_-]", "-", campaign.key)[:80] or f"campaign-{campaign.id}"
    return _csv_response(stream_with_context(export_csv(viewer, campaign)), f"{name}-enrollments.csv")


def _csv_response(body, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
