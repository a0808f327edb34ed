"""Running a job: the task registry, :func:`run_job` (one attempt, its progress and its
outcome) and recovery of jobs whose worker died.

A task is a function ``task(ctx) -> None`` registered with :func:`job_task` under a kind.
It reports progress with ``ctx.progress(phase, done, total)`` (written on a connection of
its own, so pages see it while the task's transaction is still open) and ends by calling
``ctx.succeed(result)`` INSIDE its final write transaction: the job is marked succeeded
exactly when the work it did commits, never one without the other. A task refuses with a
:class:`~portal.errors.DomainError` (the job fails with that message, nothing retried);
anything else is a bug (the job fails with a generic message, the traceback is logged).
A worker killed mid-task leaves the job ``running``; it is run again (its transaction never
committed, so nothing is half-saved) until ``max_attempts``, then fails saying why.

A job runs in the language of the person who started it (recorded with it by
:func:`~portal.jobs.queue.start_job`, run inside ``force_locale``), whatever backend runs
it: every message it stores (its phases, its outcome, why it failed) is in that language.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal.db import db, transaction, utcnow
from portal.errors import DomainError
from portal.i18n import _, force_locale, ngettext, number
from portal.jobs.models import (
    CRASHED,
    DONE,
    FAILED,
    QUEUED,
    REFUSED,
    RUNNING,
    STARTING,
    STOPPED,
    SUCCEEDED,
    WAITING_AGAIN,
    Job,
)

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


def crashed_message(attempts: int) -> str:
    """Why a job whose worker stopped too often failed (in the language the job runs in)."""
    return ngettext("The worker running this job stopped %(count)s time, so it was not tried again. Nothing was "
                    "saved. Start it again; if it stops again, tell the portal's administrators.",
                    "The worker running this job stopped %(count)s times, so it was not tried again. Nothing was "
                    "saved. Start it again; if it stops again, tell the portal's administrators.",
                    attempts, count=number(attempts))


def bug_message() -> str:
    return _("Something went wrong on our side, so nothing was saved. Try again; if it fails again, tell us.")


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    function: Callable[[JobContext], None]
    max_attempts: int = 2
    # Jobs with the same lock never run at the same time (e.g. imports into one campaign).
    lock: Callable[[dict[str, Any]], str | None] = lambda params: None


TASKS: dict[str, TaskSpec] = {}


def job_task(kind: str, *, max_attempts: int = 2,
             lock: Callable[[dict[str, Any]], str | None] | None = None) -> Callable[[Callable], Callable]:
    def register(function: Callable[[JobContext], None]) -> Callable[[JobContext], None]:
        TASKS[kind] = TaskSpec(kind, function, max_attempts, lock or (lambda params: None))
        return function

    return register


def task_spec(kind: str) -> TaskSpec:
    _import_tasks()
    return TASKS[kind]


def _import_tasks() -> None:
    """Every module defining tasks, so a worker knows them all (each CSV import's dry run and
    confirm are registered by :func:`portal.csv_import.jobs.import_jobs` in its ``tasks``)."""
    from portal.deliveries.csv import tasks as delivery_tasks  # noqa: F401
    from portal.enrollments.csv import tasks as enrollment_tasks  # noqa: F401
    from portal.webhooks import delivery as webhook_tasks  # noqa: F401  (webhooks.deliver)


@dataclass
class JobContext:
    job_id: int
    kind: str
    params: dict[str, Any]
    created_by_id: int | None
    live_progress: bool = True
    language: str = "en"  # the starter's: the task runs in it
    succeeded: bool = False
    _last: tuple[str, float] = field(default=("", 0.0))
    _phase_started: datetime | None = None

    @property
    def actor(self):
        from portal.auth.models import User

        return db.session.get(User, self.created_by_id) if self.created_by_id else None

    def progress(self, phase: str, done: int = 0, total: int | None = None, *, force: bool = False) -> None:
        """Show ``phase`` and ``done`` of ``total`` on the job's page (at most twice a second)."""
        now = time.monotonic()
        last_phase, last_time = self._last
        if not force and phase == last_phase and now - last_time < PROGRESS_EVERY_SECONDS:
            return
        if phase != last_phase:
            self._phase_started = utcnow()
        self._last = (phase, now)
        if self.live_progress:
            # Every write carries the phase's start: on SQLite a write can be skipped while the
            # task holds the lock, and the page's time left is measured within the phase.
            write_progress(self.job_id, phase=phase[:60], done=done, total=total,
                           phase_started_at=self._phase_started)

    def succeed(self, result: dict[str, Any]) -> None:
        """Mark the job succeeded with ``result``: call inside the task's final write transaction."""
        db.session.execute(sa.update(Job).where(Job.id == self.job_id).values(
            status=SUCCEEDED, result=result, phase=DONE, finished_at=utcnow(), heartbeat_at=utcnow()))
        self.succeeded = True


def write_progress(job_id: int, **values: Any) -> None:
    """Update a running job's progress on a separate, immediately committed connection.

    Never waits: on SQLite, while the task's own transaction holds the write lock, the
    update is skipped (the page shows the last phase until the lock is released)."""
    try:
        with db.engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                connection.exec_driver_sql("PRAGMA busy_timeout = 0")
            try:
                connection.execute(sa.update(Job).where(Job.id == job_id, Job.status == RUNNING)
                                   .values(heartbeat_at=utcnow(), **values))
                connection.commit()
            finally:
                if sqlite:
                    connection.rollback()
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(current_app.config['SQLITE_BUSY_TIMEOUT_MS'])}")
    except sa.exc.OperationalError:
        log.debug("progress of job %s skipped: database busy", job_id)


def _finish(job_id: int, status: str, **values: Any) -> None:
    with transaction():
        db.session.execute(sa.update(Job).where(Job.id == job_id, Job.status.in_((QUEUED, RUNNING)))
                           .values(status=status, finished_at=utcnow(), heartbeat_at=utcnow(), **values))


def _start(job_id: int) -> JobContext | None:
    """Begin one attempt; None when there is nothing (more) to do."""
    with transaction():
        job = db.session.scalar(sa.select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.finished:
            return None  # a redelivered message for a job already done
        if job.attempts >= job.max_attempts:
            job.status, job.phase, job.finished_at = FAILED, STOPPED, utcnow()
            with force_locale(job.language):
                job.error = crashed_message(job.attempts)
            return None
        job.status, job.attempts, job.phase = RUNNING, job.attempts + 1, STARTING
        job.started_at = job.heartbeat_at = utcnow()
        return JobContext(job.id, job.kind, dict(job.params), job.created_by_id,
                          live_progress=backend_name() != "inline", language=job.language)


def run_job(job_id: int) -> None:
    """Run one attempt of job ``job_id`` (in an app context) in its starter's language.
    Safe to call twice."""
    ctx = _start(job_id)
    if ctx is None:
        return
    spec = task_spec(ctx.kind)
    with force_locale(ctx.language):
        try:
            spec.function(ctx)
        except DomainError as exc:
            db.session.rollback()
            _finish(job_id, FAILED, phase=REFUSED, error=str(exc.message))
            return
        except Exception:
            db.session.rollback()
            log.exception("job %s (%s) failed", job_id, ctx.kind)
            _finish(job_id, FAILED, phase=CRASHED, error=bug_message())
            return
    if not ctx.succeeded:
        _finish(job_id, SUCCEEDED, phase=DONE, result={})


def recover_stalled(stall_seconds: float | None = None) -> list[int]:
    """Jobs left ``running`` by a worker that stopped (no heartbeat for ``stall_seconds``)
    go back to the queue; :func:`run_job` tries them again or fails them when their
    attempts are used up. Returns their ids."""
    stall = stall_seconds if stall_seconds is not None else current_app.config["PORTAL_JOBS_STALL_SECONDS"]
    cutoff = utcnow() - timedelta(seconds=stall)
    with transaction():
        ids = list(db.session.scalars(sa.select(Job.id).where(
            Job.status == RUNNING, sa.func.coalesce(Job.heartbeat_at, Job.created_at) < cutoff)))
        if ids:
            db.session.execute(sa.update(Job).where(Job.id.in_(ids)).values(
                status=QUEUED, phase=WAITING_AGAIN))
    return ids


def backend_name() -> str:
    configured = current_app.config.get("PORTAL_JOBS") or ""
    if configured:
        return configured
    return "procrastinate" if db.engine.dialect.name == "postgresql" else "database"
