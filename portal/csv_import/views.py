"""The screens of a CSV import into a campaign (SPEC §4, §6): upload → dry run (a job) →
confirm (a job) → result, the same for every import; thin handlers over :mod:`.jobs`.

:class:`ImportScreen` puts an import's endpoints on its blueprint — ``upload`` (GET the
page, POST a file: it is kept and its dry run started), ``dry_run`` (the kept dry run, all
rows or ``?show=errors``), ``confirm``, ``errors`` (the error rows as a file to correct)
and ``sample`` — and says what each of its jobs leads to. Every request that starts a job
records it and answers at once with the job's page.

Program managers and company admins import; a company admin reaches only its own
campaigns (404 otherwise, as for any missing object), and an upload works only for the user
and campaign that made it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, flash, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired

from portal.campaigns.models import Campaign
from portal.csv_files import ImportFileError, errors_csv, file_too_large
from portal.csv_import.dry_run import SHOWN_ERRORS, SHOWN_ROWS, DryRun, error_reasons
from portal.csv_import.jobs import CHANGED, IMPORTED, ImportJobs
from portal.csv_import.limits import max_bytes, max_rows
from portal.csv_import.plan import ImportClosed, check_import_open
from portal.db import transaction
from portal.i18n import _, _l
from portal.jobs.files import FileExpired, find_file, store_file
from portal.jobs.models import Job, StoredFile
from portal.jobs.queue import dispatch, start_job
from portal.jobs.views import Outcome, outcome_for
from portal.tenancy import get_visible_or_404
from portal.web import redirect_to, render, role_required

IMPORTER_ROLES = ("program_manager", "company_admin")
ERRORS_ONLY = "errors"  # ?show=errors: the dry-run table lists its error rows only
TEMPLATE = "imports/import.html"


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file to upload."))])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the file waits in the database under the token in the URL."""


def csv_download(body: Any, filename: str) -> Response:
    """A CSV file (text or chunks) as a download that no cache keeps."""
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def visible_campaign(campaign_id: int) -> Campaign:
    return get_visible_or_404(Campaign, campaign_id, current_user)


def record_campaign_job(kind: str, campaign: Campaign, **params: Any) -> Job:
    """Record a job about ``campaign`` for the current user (call inside ``transaction()``)."""
    return start_job(kind, actor=current_user, campaign_id=campaign.id, company_id=campaign.company_id,
                     params={"campaign_id": campaign.id, **params})


def job_page(job: Job) -> Response:
    """After the job's transaction committed: get it run, and show its page."""
    dispatch(job)
    return redirect_to(url_for("jobs.detail", job_id=job.id))


class ImportScreen:
    """One import's screens on ``bp`` (whose URL prefix holds ``<int:campaign_id>``).

    ``parts`` names the import's template of its own parts (wording, table cells, column
    docs; see ``templates/imports/import.html``); ``check_header(data)`` refuses a bad
    header at the door; ``closed`` is what a completed or archived campaign no longer takes
    ("it accepts no imports."); ``sample(viewer, campaign)`` writes a correct file to start
    from, named by ``sample_name(viewer)``; ``changed_message`` heads the dry run a confirm
    kept because the campaign changed; ``checking``/``importing`` title the jobs' pages;
    ``page_context()`` adds the import's own values to the page."""

    def __init__(self, bp: Blueprint, *, jobs: ImportJobs, parts: str, columns: tuple[str, ...],
                 check_header: Callable[[bytes], None], closed: str,
                 sample: Callable[[Any, Campaign], str], sample_name: Callable[[Any], str], errors_stem: str,
                 changed_message: str, checking: str, importing: str,
                 page_context: Callable[[], dict[str, Any]] = dict) -> None:
        self.bp, self.jobs, self.parts, self.columns = bp, jobs, parts, columns
        self.check_header, self.closed = check_header, closed
        self.sample, self.sample_name, self.errors_stem = sample, sample_name, errors_stem
        self.changed_message, self.checking, self.importing = changed_message, checking, importing
        self.page_context = page_context
        self._route("/import", "upload", self.upload, methods=("GET", "POST"))
        self._route("/import/<token>/confirm", "confirm", self.confirm, methods=("POST",))
        self._route("/import/<token>/", "dry_run", self.dry_run)
        self._route("/import/<token>/errors.csv", "errors", self.errors_file)
        self._route("/import/sample.csv", "sample", self.sample_file)
        outcome_for(jobs.dry_run)(self.dry_run_outcome)
        outcome_for(jobs.confirm)(self.confirm_outcome)

    def _route(self, rule: str, endpoint: str, view: Callable[..., Response], methods: tuple[str, ...] = ("GET",)
               ) -> None:
        self.bp.add_url_rule(rule, endpoint, role_required(*IMPORTER_ROLES)(view), methods=list(methods))

    def url(self, endpoint: str, **values: Any) -> str:
        return url_for(f"{self.bp.name}.{endpoint}", **values)

    # --- the page -------------------------------------------------------------------
    def page(self, campaign: Campaign, form: FlaskForm, *, dry_run: DryRun | None = None, token: str | None = None,
             filename: str = "", changed: bool = False, errors_only: bool = False, status_code: int = 200
             ) -> Response:
        errors_only = errors_only and dry_run is not None and dry_run.has_errors
        shown = [] if dry_run is None else (dry_run.error_rows if errors_only else dry_run.rows)
        return render(TEMPLATE, block="import", parts=self.parts, flow=self.bp.name, campaign=campaign, form=form,
                      plan=dry_run, token=token, filename=filename, changed=changed,
                      changed_message=self.changed_message, columns=self.columns, errors_only=errors_only,
                      shown=shown, shown_limit=SHOWN_ROWS, shown_errors_limit=SHOWN_ERRORS, max_rows=max_rows(),
                      confirm_form=ConfirmForm(formdata=None), status_code=status_code, **self.page_context())

    def _upload_of(self, token: str, campaign_id: int) -> StoredFile:
        """The user's upload for this campaign; 404 for an unknown or someone else's token,
        and back to the upload form (saying so) once it expired."""
        try:
            return find_file(token, purpose=self.jobs.upload, owner_id=current_user.id, campaign_id=campaign_id)
        except FileExpired as exc:
            flash(str(exc.message), "error")
            abort(redirect_to(self.url("upload", campaign_id=campaign_id)))

    # --- the handlers -----------------------------------------------------------------
    def upload(self, campaign_id: int) -> Response:
        """Upload a file: keep it and start its dry run (nothing is imported)."""
        campaign = visible_campaign(campaign_id)
        form = UploadForm()
        if request.method == "GET":
            return self.page(campaign, form)
        try:
            check_import_open(campaign, self.closed)
        except ImportClosed as exc:
            form.validate_on_submit()
            form.file.errors = [exc.message]
            return self.page(campaign, form, status_code=exc.status_code)
        limit = max_bytes()
        if request.content_length is not None and request.content_length > limit:
            form.file.errors = [file_too_large(limit).message]
            return self.page(campaign, form, status_code=422)
        if not form.validate_on_submit():
            return self.page(campaign, form, status_code=422)
        data = form.file.data.read(limit + 1)
        form.file.data.close()  # a large upload is spooled to a temporary file: release it now
        filename = re.sub(r"[^\w .()-]", "_", form.file.data.filename or "")[:120]
        try:
            if len(data) > limit:
                raise file_too_large(limit)
            self.check_header(data)
        except ImportFileError as exc:
            form.file.errors = [exc.message]
            return self.page(campaign, form, status_code=422)
        with transaction():
            stored = store_file(purpose=self.jobs.upload, owner_id=current_user.id, campaign_id=campaign.id,
                                data=data, filename=filename)
            job = record_campaign_job(self.jobs.dry_run, campaign, file_id=stored.id)
        return job_page(job)

    def confirm(self, campaign_id: int, token: str) -> Response:
        """Start importing the dry-run file (a job: one transaction, all rows or none)."""
        campaign = visible_campaign(campaign_id)
        stored = self._upload_of(token, campaign_id)
        dry_run = self.jobs.dry_run_class.from_meta(stored.meta)
        if dry_run is None or dry_run.has_errors:
            return self.page(campaign, UploadForm(formdata=None), dry_run=dry_run, token=token,
                             filename=stored.filename, status_code=422)
        with transaction():
            job = record_campaign_job(self.jobs.confirm, campaign, file_id=stored.id)
        return job_page(job)

    def dry_run(self, campaign_id: int, token: str) -> Response:
        """The kept dry run, all rows or (``?show=errors``) the error rows only."""
        campaign = visible_campaign(campaign_id)
        stored = self._upload_of(token, campaign_id)
        kept, changed = self.jobs.dry_run_class.from_meta(stored.meta), request.args.get("after") == CHANGED
        # A file with error rows is bad input (422); a confirm that met a changed campaign, a conflict (409).
        status = 409 if changed else 422 if kept is not None and kept.has_errors else 200
        return self.page(campaign, UploadForm(formdata=None), dry_run=kept, token=token, filename=stored.filename,
                         changed=changed, errors_only=request.args.get("show") == ERRORS_ONLY, status_code=status)

    def errors_file(self, campaign_id: int, token: str) -> Response:
        """The dry run's error rows as a file to correct and upload again: row and reason,
        then every column of the uploaded file (formula-like cells neutralised)."""
        visible_campaign(campaign_id)
        stored = self._upload_of(token, campaign_id)
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", re.sub(r"(?i)\.csv$", "", stored.filename))[:80]
        return csv_download(errors_csv(stored.data, error_reasons(stored.meta)),
                            f"{stem or self.errors_stem}-errors.csv")

    def sample_file(self, campaign_id: int) -> Response:
        """A small, correct file to start from, naming people the viewer may name."""
        campaign = visible_campaign(campaign_id)
        return csv_download(self.sample(current_user, campaign), self.sample_name(current_user))

    # --- what each job leads to --------------------------------------------------------
    def _back_to_import(self, job: Job) -> str:
        return self.url("upload", campaign_id=job.params["campaign_id"])

    def _dry_run_url(self, job: Job, **args: str) -> str | None:
        result = job.result or {}
        if "file" not in result:
            return None
        return self.url("dry_run", campaign_id=job.params["campaign_id"], token=result["file"], **args)

    def dry_run_outcome(self, job: Job) -> Outcome:
        return Outcome(str(self.checking), self._back_to_import(job), _("Back to the import"),
                       next_url=self._dry_run_url(job))

    def confirm_outcome(self, job: Job) -> Outcome:
        result = job.result or {}
        if result.get("outcome") == IMPORTED:
            campaign_url = url_for("campaigns.detail", campaign_id=job.params["campaign_id"])
            return Outcome(str(self.importing), campaign_url, _("Back to the campaign"), next_url=campaign_url,
                           message=result["message"])  # text in the language of whoever confirmed
        after = {"after": CHANGED} if result.get("outcome") == CHANGED else {}
        return Outcome(str(self.importing), self._back_to_import(job), _("Back to the import"),
                       next_url=self._dry_run_url(job, **after))
