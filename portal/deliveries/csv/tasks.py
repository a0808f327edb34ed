"""The delivery import's dry run and confirm, as jobs (SPEC §6 "Background work").

Each reads its upload from the database, reports progress by phase and rows, and ends with
``ctx.succeed`` inside its final write transaction. The confirm keeps the import's promise:
one transaction, all rows or none (:func:`~.apply.apply_import`); when the campaign changed
since the dry run it keeps the new dry run instead and says so.

The worker learns these tasks when the app imports :mod:`portal.deliveries.import_views`
(its blueprint is registered by ``create_app``).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.deliveries.csv.apply import ImportChanged, ImportHasErrors, apply_import
from portal.deliveries.csv.parse import DEFAULT_MAX_ROWS, ParsedFile, parse_csv
from portal.deliveries.csv.plan import plan_import
from portal.deliveries.csv.summary import summary_meta
from portal.errors import NotFound
from portal.jobs.models import StoredFile
from portal.jobs.runner import JobContext, job_task

DRY_RUN = "deliveries.import.dry_run"
CONFIRM = "deliveries.import.confirm"
UPLOAD = "deliveries.import"  # StoredFile.purpose of an upload


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


def _keep_dry_run(ctx: JobContext, plan, result: dict) -> None:
    with transaction():
        stored = _upload(ctx)
        stored.meta = {**stored.meta, **summary_meta(plan)}
        ctx.succeed(result)


@job_task(DRY_RUN)
def dry_run(ctx: JobContext) -> None:
    """Check every row; keep the dry run with the upload."""
    stored = _upload(ctx)
    parsed = _parse(ctx, stored.data)
    plan = plan_import(db.session.get(Campaign, ctx.params["campaign_id"]), parsed, ctx.actor)
    _keep_dry_run(ctx, plan, {"file": stored.token, "rows": plan.total, "counts": plan.counts})


@job_task(CONFIRM, lock=_campaign_lock)
def confirm(ctx: JobContext) -> None:
    """Record the file's deliveries in one transaction, or keep the dry run as of now when anything changed."""
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
                         "recorded": result.recorded, "already": result.already})
    except (ImportChanged, ImportHasErrors, sa.exc.IntegrityError) as exc:
        # Rolled back: nothing was imported. Keep the dry run as of now; a new confirm checks against it.
        ctx.progress("The campaign changed: checking the file again", 0, len(parsed.rows), force=True)
        plan = plan_import(db.session.get(Campaign, ctx.params["campaign_id"]), parsed, actor)
        _keep_dry_run(ctx, plan, {"outcome": "errors" if isinstance(exc, ImportHasErrors) else "changed",
                                  "file": token})
