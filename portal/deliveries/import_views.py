"""CSV import of a campaign's deliveries (SPEC §2.9): thin handlers over
:mod:`portal.deliveries.csv`, built like the enrollment import
(:mod:`portal.enrollments.import_views`). The upload is kept in the database and checked by
a job (the dry run); the confirm is a job too (one transaction, all rows or none). Each
request records its job and answers at once with the job's page (SPEC §6). Also: a sample
file, the kept dry run (all rows or errors only) and its error rows as a file to correct.

Company admins reach only their own campaigns (404 otherwise); an upload works only for the
user and campaign that made it.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, flash, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from portal.campaigns.models import Campaign
from portal.db import transaction
from portal.deliveries.csv import tasks
from portal.deliveries.csv.apply import CHANGED_MESSAGE
from portal.deliveries.csv.parse import COLUMNS, DEFAULT_MAX_ROWS, ImportFileError, check_header
from portal.deliveries.csv.plan import check_import_open
from portal.deliveries.csv.sample import sample_csv
from portal.deliveries.csv.summary import SHOWN_ERRORS, SHOWN_ROWS, DryRun
from portal.enrollments.csv.export import errors_csv
from portal.enrollments.csv.plan import ImportClosed
from portal.enrollments.import_views import DEFAULT_MAX_BYTES, _csv_response, _setting, _too_large
from portal.jobs.files import FileExpired, find_file, store_file
from portal.jobs.models import Job, StoredFile
from portal.jobs.queue import dispatch, start_job
from portal.jobs.views import Outcome, outcome_for
from portal.tenancy import get_visible_or_404
from portal.web import redirect_to, render, role_required

bp = Blueprint("delivery_imports", __name__, url_prefix="/campaigns/<int:campaign_id>/deliveries")

ROLES_ALLOWED = ("program_manager", "company_admin")
ERRORS_ONLY = "errors"  # ?show=errors: the dry-run table lists its error rows only
CHANGED = "changed"  # ?after=changed: a confirm found the campaign changed and kept a new dry run


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the file waits in the database under the token in the URL."""


def _campaign(campaign_id: int) -> Campaign:
    return get_visible_or_404(Campaign, campaign_id, current_user)


def _upload_of(token: str, campaign_id: int) -> StoredFile:
    """The user's upload for this campaign; 404 for an unknown or someone else's token."""
    return find_file(token, purpose=tasks.UPLOAD, owner_id=current_user.id, campaign_id=campaign_id)


def _expired(campaign_id: int, exc: FileExpired) -> Response:
    flash(exc.message, "error")
    return redirect_to(url_for("delivery_imports.upload", campaign_id=campaign_id))


def _page(campaign: Campaign, form: FlaskForm, *, dry_run: DryRun | None = None, token: str | None = None,
          filename: str = "", changed: bool = False, errors_only: bool = False, status_code: int = 200) -> Response:
    errors_only = errors_only and dry_run is not None and dry_run.has_errors
    shown = [] if dry_run is None else (dry_run.error_rows if errors_only else dry_run.rows)
    return render("deliveries/import.html", block="import", campaign=campaign, form=form, plan=dry_run, token=token,
                  filename=filename, changed=changed, changed_message=CHANGED_MESSAGE, columns=COLUMNS,
                  errors_only=errors_only, shown=shown, shown_limit=SHOWN_ROWS, shown_errors_limit=SHOWN_ERRORS,
                  max_rows=_setting("PORTAL_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS),
                  confirm_form=ConfirmForm(formdata=None), status_code=status_code)


@bp.route("/import", methods=["GET", "POST"], endpoint="upload")
@role_required(*ROLES_ALLOWED)
def upload(campaign_id: int):
    """Upload a file: keep it and start its dry run (nothing is recorded)."""
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
        stored = store_file(purpose=tasks.UPLOAD, owner_id=current_user.id, campaign_id=campaign.id, data=data,
                            filename=filename)
        job = start_job(tasks.DRY_RUN, actor=current_user, campaign_id=campaign.id, company_id=campaign.company_id,
                        params={"campaign_id": campaign.id, "file_id": stored.id})
    dispatch(job)
    return redirect_to(url_for("jobs.detail", job_id=job.id))


@bp.post("/import/<token>/confirm", endpoint="confirm")
@role_required(*ROLES_ALLOWED)
def confirm(campaign_id: int, token: str):
    """Start recording the dry-run file (a job: one transaction, all rows or none)."""
    campaign = _campaign(campaign_id)
    try:
        stored = _upload_of(token, campaign_id)
    except FileExpired as exc:
        return _expired(campaign_id, exc)
    dry_run = DryRun.from_meta(stored.meta)
    if dry_run is None or dry_run.has_errors:
        return _page(campaign, UploadForm(formdata=None), dry_run=dry_run, token=token, filename=stored.filename,
                     status_code=422)
    with transaction():
        job = start_job(tasks.CONFIRM, actor=current_user, campaign_id=campaign.id, company_id=campaign.company_id,
                        params={"campaign_id": campaign.id, "file_id": stored.id})
    dispatch(job)
    return redirect_to(url_for("jobs.detail", job_id=job.id))


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
    """The dry run's error rows as a file to correct and upload again: row and reason, then
    every column of the uploaded file (formula-like cells neutralised)."""
    _campaign(campaign_id)
    try:
        stored = _upload_of(token, campaign_id)
    except FileExpired as exc:
        return _expired(campaign_id, exc)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", re.sub(r"(?i)\.csv$", "", stored.filename))[:80]
    return _csv_response(errors_csv(stored.data, stored.meta.get("errors", [])), f"{stem or 'deliveries'}-errors.csv")


@bp.get("/import/sample.csv", endpoint="sample")
@role_required(*ROLES_ALLOWED)
def sample(campaign_id: int):
    """A small, correct file to start from, naming people the viewer may name."""
    return _csv_response(sample_csv(current_user, _campaign(campaign_id)), "sample-deliveries.csv")


# --- what each job leads to ----------------------------------------------------------
def _campaign_url(job: Job) -> str:
    return url_for("campaigns.detail", campaign_id=job.params["campaign_id"])


def _import_url(job: Job) -> str:
    return url_for("delivery_imports.upload", campaign_id=job.params["campaign_id"])


@outcome_for(tasks.DRY_RUN)
def _dry_run_outcome(job: Job) -> Outcome:
    result = job.result or {}
    next_url = (url_for("delivery_imports.dry_run", campaign_id=job.params["campaign_id"], token=result["file"])
                if "file" in result else None)
    return Outcome("Checking the delivery file (dry run)", _import_url(job), "Back to the import", next_url=next_url)


@outcome_for(tasks.CONFIRM)
def _confirm_outcome(job: Job) -> Outcome:
    result = job.result or {}
    if result.get("outcome") == "imported":
        return Outcome("Importing the deliveries", _campaign_url(job), "Back to the campaign",
                       next_url=_campaign_url(job), message=result["message"])
    next_url = None
    if "file" in result:
        next_url = url_for("delivery_imports.dry_run", campaign_id=job.params["campaign_id"], token=result["file"],
                           **({"after": CHANGED} if result.get("outcome") == CHANGED else {}))
    return Outcome("Importing the deliveries", _import_url(job), "Back to the import", next_url=next_url)
