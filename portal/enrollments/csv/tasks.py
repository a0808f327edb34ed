"""The import's dry run and confirm and the export, as jobs (SPEC §6 "Background work").

Each reads its upload from the database, reports progress by phase and rows, and ends
with ``ctx.succeed`` inside its final write transaction. The confirm keeps the import's
promise: one transaction, all rows or none (:func:`~.apply.apply_import`); when the
campaign changed since the dry run it keeps the new dry run instead and says so.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask import current_app

from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.csv.apply import ImportChanged, ImportHasErrors, apply_import
from portal.enrollments.csv.export import export_csv
from portal.enrollments.csv.parse import DEFAULT_MAX_ROWS, ParsedFile, parse_csv
from portal.enrollments.csv.plan import plan_import
from portal.enrollments.csv.summary import summary_meta
from portal.enrollments.models import Enrollment
from portal.errors import NotFound
from portal.jobs.files import store_file
from portal.jobs.models import StoredFile
from portal.jobs.runner import JobContext, job_task

DRY_RUN = "enrollments.import.dry_run"
CONFIRM = "enrollments.import.confirm"
EXPORT = "enrollments.export"
UPLOAD = "enrollments.import"  # StoredFile.purpose of an upload
EXPORT_FILE = "enrollments.export"  # …and of an export


def _campaign_lock(params: dict) -> str:
    return f"campaign-{params['campaign_id']}"  # imports into one campaign run one at a time


def _upload(ctx: JobContext) -> StoredFile:
    stored = db.session.get(StoredFile, ctx.params["file_id"])
    if stored is None:
        raise NotFound("The uploaded file")  # expired and swept before the job ran
    return stored


def _parse(ctx: JobContext, data: bytes) -> ParsedFile:
    total = max(1, data.count(b"\n"))
    ctx.progress("Reading the file", 0, total, force=True)
    max_rows = int(current_app.config.get("PORTAL_IMPORT_MAX_ROWS") or DEFAULT_MAX_ROWS)
    parsed = parse_csv(data, max_rows=max_rows, progress=lambda done: ctx.progress("Reading the file", done, total))
    ctx.progress("Checking every row against the campaign", 0, len(parsed.rows), force=True)
    return parsed


@job_task(DRY_RUN)
def dry_run(ctx: JobContext) -> None:
    """Check every row; keep the dry run with the upload."""
    stored = _upload(ctx)
    parsed = _parse(ctx, stored.data)
    campaign = db.session.get(Campaign, ctx.params["campaign_id"])
    plan = plan_import(campaign, parsed, ctx.actor)
    with transaction():
        stored = _upload(ctx)
        stored.meta = {**stored.meta, **summary_meta(plan)}
        ctx.succeed({"file": stored.token, "rows": plan.total, "counts": plan.counts})


@job_task(CONFIRM, lock=_campaign_lock)
def confirm(ctx: JobContext) -> None:
    """Import the file in one transaction, or keep the dry run as of now when anything changed."""
    stored = _upload(ctx)
    token, meta = stored.token, dict(stored.meta)
    parsed = _parse(ctx, stored.data)
    ctx.progress("Saving every row in one transaction", 0, len(parsed.rows), force=True)
    actor = ctx.actor
    try:
        with transaction():
            result = apply_import(actor, ctx.params["campaign_id"], parsed,
                                  expected_fingerprint=meta.get("fingerprint", ""),
                                  expected_digest=meta.get("digest", ""))
            db.session.execute(sa.delete(StoredFile).where(StoredFile.id == ctx.params["file_id"]))
            ctx.succeed({"outcome": "imported", "message": result.message, "rows": result.rows,
                         "enrolled": result.enrolled, "waitlisted": result.waitlisted})
    except (ImportChanged, ImportHasErrors, sa.exc.IntegrityError) as exc:
        # Rolled back: nothing was imported. Keep the dry run as of now; a new confirm checks against it.
        ctx.progress("The campaign changed: checking the file again", 0, len(parsed.rows), force=True)
        plan = plan_import(db.session.get(Campaign, ctx.params["campaign_id"]), parsed, actor)
        with transaction():
            stored = _upload(ctx)
            stored.meta = {**stored.meta, **summary_meta(plan)}
            ctx.succeed({"outcome": "errors" if isinstance(exc, ImportHasErrors) else "changed", "file": token})


@job_task(EXPORT)
def export(ctx: JobContext) -> None:
    """Write the campaign's enrollments to a file kept for download (pseudonymised as on screen)."""
    campaign = db.session.get(Campaign, ctx.params["campaign_id"])
    viewer = ctx.actor
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                              .where(Enrollment.campaign_id == campaign.id)) or 0
    ctx.progress("Writing rows", 0, total, force=True)
    chunks, done = [], 0
    for chunk in export_csv(viewer, campaign):
        chunks.append(chunk)
        done = min(total, done + chunk.count("\n"))  # the header's line makes it an estimate
        ctx.progress("Writing rows", done, total)
    name = (re.sub(r"[^A-Za-z0-9_-]", "-", campaign.key)[:80] or f"campaign-{campaign.id}") + "-enrollments.csv"
    with transaction():
        stored = store_file(purpose=EXPORT_FILE, owner_id=viewer.id, campaign_id=campaign.id,
                            data="".join(chunks).encode("utf-8"), filename=name)
        ctx.succeed({"file": stored.token, "filename": name, "rows": total})
