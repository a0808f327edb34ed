"""CSV import and export of a campaign's enrollments: thin handlers over
:mod:`portal.enrollments.csv`. The upload is kept in the database and checked by a job
(the dry run); the confirm is a job too (one transaction, all rows or none); the export
is a job writing a file to download. Each request records its job and answers at once
with the job's page (SPEC §6 "Background work"). Also: a sample file for the viewer's
role, the kept dry run (all rows or errors only) and its error rows as a file to correct
and upload again.

Company admins reach only their own campaigns (404 otherwise, as for any missing object);
an upload works only for the user and campaign that made it.
"""
from __future__ import annotations

import os
import re

from flask import Blueprint, Response, current_app, flash, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from portal.campaigns.models import Campaign
from portal.db import transaction
from portal.enrollments.csv.export import errors_csv, sample_csv
from portal.enrollments.csv.parse import COLUMNS, DEFAULT_MAX_ROWS, ImportFileError, check_header
from portal.enrollments.csv.plan import ImportClosed, check_import_open
from portal.enrollments.csv.summary import SHOWN_ERRORS, SHOWN_ROWS, DryRun
from portal.enrollments.csv.tasks import CONFIRM, DRY_RUN, EXPORT, EXPORT_FILE, UPLOAD
from portal.jobs.files import FileExpired, find_file, store_file
from portal.jobs.models import Job, StoredFile
from portal.jobs.queue import dispatch, start_job
from portal.jobs.views import Outcome, outcome_for
from portal.tenancy import get_visible_or_404
from portal.web import redirect_to, render, role_required

bp = Blueprint("imports", __name__, url_prefix="/campaigns/<int:campaign_id>")

ROLES_ALLOWED = ("program_manager", "company_admin")
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
ERRORS_ONLY = "errors"  # ?show=errors: the dry-run table lists its error rows only
CHANGED = "changed"  # ?after=changed: a confirm found the campaign changed and kept a new dry run
CHANGED_MESSAGE = ("The campaign changed since your dry run (seats, status or participants), so nothing was "
                   "imported. Below is the dry run as of now; confirm again if it is still what you want.")


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the file waits in the database under the token in the URL."""


class ExportForm(FlaskForm):
    """Only the CSRF token: an export is a job."""


def _setting(name: str, default: int) -> int:
    value = current_app.config.get(name)
    return int(value if value is not None else os.environ.get(name, default))


def _too_large(max_bytes: int) -> str:
    size = f"{max_bytes / 2**20:g} MB" if max_bytes >= 2**20 else f"{max_bytes / 2**10:g} KB"
    return f"The file is larger than {size}. Split it into smaller files."


def _campaign(campaign_id: int) -> Campaign:
    return get_visible_or_404(Campaign, campaign_id, current_user)


def _upload_of(token: str, campaign_id: int) -> StoredFile:
    """The user's upload for this campaign; 404 for an unknown or someone else's token."""
    return find_file(token, purpose=UPLOAD, owner_id=current_user.id, campaign_id=campaign_id)


def _expired(campaign_id: int, exc: FileExpired) -> Response:
    flash(exc.message, "error")
    return redirect_to(url_for("imports.upload", campaign_id=campaign_id))


def _page(campaign: Campaign, form: FlaskForm, *, dry_run: DryRun | None = None, token: str | None = None,
          filename: str = "", changed: bool = False, errors_only: bool = False, status_code: int = 200) -> Response:
    errors_only = errors_only and dry_run is not None and dry_run.has_errors
    shown = [] if dry_run is None else (dry_run.error_rows if errors_only else dry_run.rows)
    return render("imports/upload.html", block="import", campaign=campaign, form=form, plan=dry_run, token=token,
                  filename=filename, changed=changed, changed_message=CHANGED_MESSAGE, columns=COLUMNS,
                  errors_only=errors_only, shown=shown, shown_limit=SHOWN_ROWS, shown_errors_limit=SHOWN_ERRORS,
                  max_rows=_setting("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
                  confirm_form=ConfirmForm(formdata=None), export_form=ExportForm(formdata=None),
                  status_code=status_code)


def _start(kind: str, campaign: Campaign, **params) -> Response:
    """Record a job for this campaign (in its own transaction) and show its page."""
    with transaction():
        job = start_job(kind, actor=current_user, campaign_id=campaign.id, company_id=campaign.company_id,
                        params={"campaign_id": campaign.id, **params})
    dispatch(job)
    return redirect_to(url_for("jobs.detail", job_id=job.id))


@bp.route("/import", methods=["GET", "POST"], endpoint="upload")
@role_required(*ROLES_ALLOWED)
def upload(campaign_id: int):
    """Upload a file: keep it and start its dry run (nothing is imported)."""
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
    form.file.data.close()  # a large upload is spooled to a temporary file: release it now
    filename = re.sub(r"[^\w .()-]", "_", form.file.data.filename or "")[:120]
    try:
        if len(data) > max_bytes:
            raise ImportFileError(_too_large(max_bytes))
        check_header(data)
    except ImportFileError as exc:
        form.file.errors = [exc.message]
        return _page(campaign, form, status_code=422)
    with transaction():
        stored = store_file(purpose=UPLOAD, owner_id=current_user.id, campaign_id=campaign.id, data=data,
                            filename=filename)
        job = start_job(DRY_RUN, actor=current_user, campaign_id=campaign.id, company_id=campaign.company_id,
                        params={"campaign_id": campaign.id, "file_id": stored.id})
    dispatch(job)
    return redirect_to(url_for("jobs.detail", job_id=job.id))


@bp.post("/import/<token>/confirm", endpoint="confirm")
@role_required(*ROLES_ALLOWED)
def confirm(campaign_id: int, token: str):
    """Start importing the dry-run file (a job: one transaction, all rows or none)."""
    campaign = _campaign(campaign_id)
    try:
        stored = _upload_of(token, campaign_id)
    except FileExpired as exc:
        return _expired(campaign_id, exc)
    dry_run = DryRun.from_meta(stored.meta)
    if dry_run is None or dry_run.has_errors:
        return _page(campaign, UploadForm(formdata=None), dry_run=dry_run, token=token, filename=stored.filename,
                     status_code=422)
    return _start(CONFIRM, campaign, file_id=stored.id)


@bp.get("/import/<token>/", endpoint="dry_run")
@role_required(*ROLES_ALLOWED)
def dry_run(campaign_id: int, token: str):
    """The kept dry run, all rows or (``?show=errors``) the error rows only."""
    campaign = _campaign(campaign_id)
    try:
        stored = _upload_of(token, campaign_id)
    except FileExpired as exc:
        return _expired(campaign_id, exc)
    kept, changed = DryRun.from_meta(stored.meta), request.args.get("after") == CHANGED
    # A file with error rows is bad input (422); a confirm that met a changed campaign, a conflict (409).
    status = 409 if changed else 422 if kept is not None and kept.has_errors else 200
    return _page(campaign, UploadForm(formdata=None), dry_run=kept, token=token, filename=stored.filename,
                 changed=changed, errors_only=request.args.get("show") == ERRORS_ONLY, status_code=status)


@bp.get("/import/<token>/errors.csv", endpoint="errors")
@role_required(*ROLES_ALLOWED)
def errors(campaign_id: int, token: str):
    """The dry run's error rows as a file to correct and upload again: row and reason,
    then every column of the uploaded file (formula-like cells neutralised)."""
    _campaign(campaign_id)
    try:
        stored = _upload_of(token, campaign_id)
    except FileExpired as exc:
        return _expired(campaign_id, exc)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", re.sub(r"(?i)\.csv$", "", stored.filename))[:80]
    return _csv_response(errors_csv(stored.data, stored.meta.get("errors", [])), f"{stem or 'import'}-errors.csv")


@bp.get("/import/sample.csv", endpoint="sample")
@role_required(*ROLES_ALLOWED)
def sample(campaign_id: int):
    """A small, correct file to start from: a company admin's employees as volunteers; a
    program manager's beneficiaries fitting the program's group, and a volunteer."""
    campaign = _campaign(campaign_id)
    name = "sample-volunteers.csv" if current_user.is_company_admin else "sample-enrollments.csv"
    return _csv_response(sample_csv(current_user, campaign), name)


@bp.post("/export", endpoint="export")
@role_required(*ROLES_ALLOWED)
def export(campaign_id: int):
    """Start writing the campaign's enrollments to a CSV file (pseudonymised for company admins)."""
    return _start(EXPORT, _campaign(campaign_id))


def _csv_response(body, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- what each job leads to ----------------------------------------------------------
def _campaign_url(job: Job) -> str:
    return url_for("campaigns.detail", campaign_id=job.params["campaign_id"])


def _import_url(job: Job) -> str:
    return url_for("imports.upload", campaign_id=job.params["campaign_id"])


@outcome_for(DRY_RUN)
def _dry_run_outcome(job: Job) -> Outcome:
    result = job.result or {}
    next_url = (url_for("imports.dry_run", campaign_id=job.params["campaign_id"], token=result["file"])
                if "file" in result else None)
    return Outcome("Checking the file (dry run)", _import_url(job), "Back to the import", next_url=next_url)


@outcome_for(CONFIRM)
def _confirm_outcome(job: Job) -> Outcome:
    result = job.result or {}
    if result.get("outcome") == "imported":
        return Outcome("Importing the file", _campaign_url(job), "Back to the campaign", next_url=_campaign_url(job),
                       message=result["message"])
    next_url = None
    if "file" in result:
        next_url = url_for("imports.dry_run", campaign_id=job.params["campaign_id"], token=result["file"],
                           **({"after": CHANGED} if result.get("outcome") == CHANGED else {}))
    return Outcome("Importing the file", _import_url(job), "Back to the import", next_url=next_url)


@outcome_for(EXPORT)
def _export_outcome(job: Job) -> Outcome:
    result = job.result or {}
    return Outcome("Exporting enrollments to CSV", _campaign_url(job), "Back to the campaign",
                   download=(result["file"], EXPORT_FILE) if "file" in result else None)
