"""CSV import and export of a campaign's enrollments (SPEC §4, §7): the shared import
screens (:mod:`portal.csv_import.views`) over :mod:`portal.enrollments.csv` — upload, dry
run (a job), confirm (a job: one transaction, all rows or none), errors file and a sample
file for the viewer's role — and the export, a job writing a file to download.
"""
from __future__ import annotations

from flask import Blueprint, url_for
from flask_wtf import FlaskForm

from portal.csv_import.views import IMPORTER_ROLES, ImportScreen, job_page, record_campaign_job, visible_campaign
from portal.db import transaction
from portal.enrollments.csv.apply import CHANGED_MESSAGE
from portal.enrollments.csv.export import sample_csv
from portal.enrollments.csv.parse import COLUMNS, check_header
from portal.enrollments.csv.tasks import EXPORT, EXPORT_FILE, IMPORT
from portal.i18n import _, _l
from portal.jobs.models import Job
from portal.jobs.views import Outcome, outcome_for
from portal.web import role_required

bp = Blueprint("imports", __name__, url_prefix="/campaigns/<int:campaign_id>")


class ExportForm(FlaskForm):
    """Only the CSRF token: an export is a job."""


def sample_name(viewer) -> str:
    """A company admin's sample lists its employees as volunteers; a program manager's, beneficiaries too."""
    return "sample-volunteers.csv" if viewer.is_company_admin else "sample-enrollments.csv"


screen = ImportScreen(
    bp, jobs=IMPORT, parts="enrollments/_import.html", columns=COLUMNS, check_header=check_header,
    closed=_l("it accepts no imports."), sample=sample_csv, sample_name=sample_name, errors_stem="import",
    changed_message=CHANGED_MESSAGE, checking=_l("Checking the file (dry run)"), importing=_l("Importing the file"),
    page_context=lambda: {"export_form": ExportForm(formdata=None)})


@bp.post("/export", endpoint="export")
@role_required(*IMPORTER_ROLES)
def export(campaign_id: int):
    """Start writing the campaign's enrollments to a CSV file (pseudonymised for company admins)."""
    campaign = visible_campaign(campaign_id)
    with transaction():
        job = record_campaign_job(EXPORT, campaign)
    return job_page(job)


@outcome_for(EXPORT)
def export_outcome(job: Job) -> Outcome:
    result = job.result or {}
    return Outcome(_("Exporting enrollments to CSV"),
                   url_for("campaigns.detail", campaign_id=job.params["campaign_id"]), _("Back to the campaign"),
                   download=(result["file"], EXPORT_FILE) if "file" in result else None)
