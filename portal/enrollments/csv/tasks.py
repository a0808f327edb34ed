"""The enrollment import's dry run and confirm, and the export, as jobs (SPEC §6
"Background work").

The import's jobs are the shared ones (:mod:`portal.csv_import.jobs`): the confirm imports
every row in one transaction (:func:`~.apply.apply_import`) or, when the campaign changed
since the dry run, keeps the new dry run instead and says so. The export writes the
campaign's enrollments to a file kept for download.
"""
from __future__ import annotations

import re

import sqlalchemy as sa

from portal.campaigns.models import Campaign
from portal.csv_import.jobs import import_jobs
from portal.db import db, transaction
from portal.enrollments.csv.apply import apply_import
from portal.enrollments.csv.export import export_csv
from portal.enrollments.csv.parse import parse_csv
from portal.enrollments.csv.plan import plan_import
from portal.enrollments.csv.summary import EnrollmentDryRun
from portal.enrollments.models import Enrollment
from portal.i18n import _
from portal.jobs.files import store_file
from portal.jobs.runner import JobContext, job_task

IMPORT = import_jobs("enrollments.import", parse_csv=parse_csv, plan_import=plan_import, apply_import=apply_import,
                     dry_run_class=EnrollmentDryRun)
DRY_RUN, CONFIRM, UPLOAD = IMPORT.dry_run, IMPORT.confirm, IMPORT.upload
EXPORT = "enrollments.export"
EXPORT_FILE = "enrollments.export"  # StoredFile.purpose of an export


@job_task(EXPORT)
def export(ctx: JobContext) -> None:
    """Write the campaign's enrollments to a file kept for download (pseudonymised as on screen)."""
    campaign = db.session.get(Campaign, ctx.params["campaign_id"])
    viewer = ctx.actor
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                              .where(Enrollment.campaign_id == campaign.id)) or 0
    writing = _("Writing rows")  # the job's page shows it, in the language of whoever started the export
    ctx.progress(writing, 0, total, force=True)
    data, done = bytearray(), 0  # encoded as it comes: the file is held once, not as text and bytes
    for chunk in export_csv(viewer, campaign):
        data += chunk.encode("utf-8")
        done = min(total, done + chunk.count("\n"))  # the header's line makes it an estimate
        ctx.progress(writing, done, total)
    name = (re.sub(r"[^A-Za-z0-9_-]", "-", campaign.key)[:80] or f"campaign-{campaign.id}") + "-enrollments.csv"
    with transaction():
        stored = store_file(purpose=EXPORT_FILE, owner_id=viewer.id, campaign_id=campaign.id,
                            data=bytes(data), filename=name)
        ctx.succeed({"file": stored.token, "filename": name, "rows": total})
