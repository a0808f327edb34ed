"""An import's dry run and confirm, as jobs (SPEC §6 "Background work").

Each reads its upload from the database, reports progress by phase and rows, and ends with
``ctx.succeed`` inside its final write transaction. The confirm keeps the import's promise:
one transaction, all rows or none (the import's ``apply_import``); when the campaign
changed since the dry run it keeps the new dry run instead and says so. Confirms into one
campaign run one at a time.

An import declares its jobs once with :func:`import_jobs`; the worker learns them when
:mod:`portal.jobs.runner` imports that import's ``tasks`` module.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from portal.campaigns.models import Campaign
from portal.csv_files import ParsedFile
from portal.csv_import.dry_run import DryRun
from portal.csv_import.limits import max_rows
from portal.csv_import.plan import ImportChanged, ImportHasErrors, PlannedFile
from portal.db import db, transaction
from portal.errors import NotFound
from portal.i18n import _, _l
from portal.jobs.files import file_data
from portal.jobs.models import StoredFile
from portal.jobs.runner import JobContext, job_task

IMPORTED, CHANGED, ERRORS = "imported", "changed", "errors"  # a confirm's ``outcome``


@dataclass(frozen=True)
class ImportJobs:
    """The job kinds of one import and the upload's purpose (``<name>.dry_run``,
    ``<name>.confirm``; the upload is kept as ``<name>``)."""

    name: str
    dry_run_class: type[DryRun]

    @property
    def dry_run(self) -> str:
        return f"{self.name}.dry_run"

    @property
    def confirm(self) -> str:
        return f"{self.name}.confirm"

    @property
    def upload(self) -> str:
        return self.name  # StoredFile.purpose of an upload


def campaign_lock(params: dict[str, Any]) -> str:
    return f"campaign-{params['campaign_id']}"  # imports into one campaign run one at a time


def import_jobs(name: str, *, parse_csv: Callable[..., ParsedFile], plan_import: Callable[..., PlannedFile],
                apply_import: Callable[..., Any], dry_run_class: type[DryRun]) -> ImportJobs:
    """Register the dry run and confirm of the import ``name``:

    - ``parse_csv(data, max_rows=, progress=)`` reads the file (:mod:`portal.csv_files`);
    - ``plan_import(campaign, parsed, actor)`` plans it, reading only;
    - ``apply_import(actor, campaign_id, parsed, expected_fingerprint=, expected_digest=)``
      writes it inside the confirm's transaction and returns a result with a ``message``
      and ``figures`` (a dict for the job's result); it may empty ``parsed.rows`` once it
      no longer needs them (the file is then parsed again if the confirm falls back);
    - ``dry_run_class.meta_of(plan)`` is what the dry run keeps with the upload."""
    jobs = ImportJobs(name, dry_run_class)

    def upload(ctx: JobContext) -> StoredFile:
        stored = db.session.get(StoredFile, ctx.params["file_id"])
        if stored is None:
            raise NotFound(_l("The uploaded file"))  # expired and swept before the job ran
        return stored

    def parse(ctx: JobContext, stored: StoredFile) -> ParsedFile:
        # A job's phases show on its page in the language of whoever started it (its job runs in it).
        data = file_data(stored)
        total, reading = max(1, data.count(b"\n")), _("Reading the file")
        ctx.progress(reading, 0, total, force=True)
        parsed = parse_csv(data, max_rows=max_rows(), progress=lambda done: ctx.progress(reading, done, total))
        del data  # parsed: the file's bytes are not kept beside its rows
        ctx.progress(_("Checking every row against the campaign"), 0, len(parsed.rows), force=True)
        return parsed

    def plan(ctx: JobContext, parsed: ParsedFile) -> PlannedFile:
        return plan_import(db.session.get(Campaign, ctx.params["campaign_id"]), parsed, ctx.actor)

    def keep_dry_run(ctx: JobContext, planned: PlannedFile, result: dict[str, Any]) -> None:
        with transaction():
            stored = upload(ctx)
            stored.meta = {**stored.meta, **dry_run_class.meta_of(planned)}
            ctx.succeed(result)

    @job_task(jobs.dry_run)
    def dry_run(ctx: JobContext) -> None:
        """Check every row; keep the dry run with the upload."""
        stored = upload(ctx)
        planned = plan(ctx, parse(ctx, stored))
        keep_dry_run(ctx, planned, {"file": stored.token, "rows": planned.total, "counts": planned.counts})

    @job_task(jobs.confirm, lock=campaign_lock)
    def confirm(ctx: JobContext) -> None:
        """Import the file in one transaction, or keep the dry run as of now when anything changed."""
        stored = upload(ctx)
        token, meta = stored.token, dict(stored.meta)
        parsed = parse(ctx, stored)
        ctx.progress(_("Saving every row in one transaction"), 0, len(parsed.rows), force=True)
        try:
            with transaction():
                result = apply_import(ctx.actor, ctx.params["campaign_id"], parsed,
                                      expected_fingerprint=meta.get("fingerprint", ""),
                                      expected_digest=meta.get("digest", ""))
                db.session.execute(sa.delete(StoredFile).where(StoredFile.id == ctx.params["file_id"]))
                ctx.succeed({"outcome": IMPORTED, "message": result.message, **result.figures})
        except (ImportChanged, ImportHasErrors, sa.exc.IntegrityError) as exc:
            # Rolled back: nothing was imported. Keep the dry run as of now; a new confirm checks against it.
            if not parsed.rows:  # the import used them up (it lets the rows go before writing)
                parsed = parse(ctx, upload(ctx))
            ctx.progress(_("The campaign changed: checking the file again"), 0, len(parsed.rows), force=True)
            keep_dry_run(ctx, plan(ctx, parsed),
                         {"outcome": ERRORS if isinstance(exc, ImportHasErrors) else CHANGED, "file": token})

    return jobs
