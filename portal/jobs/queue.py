"""Recording jobs and getting them run: the three backends (see the package's docstring).

:func:`start_job` records a job inside the caller's write transaction (and, on
Procrastinate, defers it on the same connection, so the job exists exactly when the
transaction commits); :func:`dispatch` runs it at once in ``inline`` mode and does
nothing otherwise; :func:`work` is a worker's loop for the configured backend.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from portal.db import db, transaction, utcnow
from portal.i18n import current_language
from portal.jobs.models import LANGUAGE_PARAM, QUEUED, RUNNING, STARTING, Job
from portal.jobs.runner import backend_name, recover_stalled, run_job, task_spec
from portal.privacy.retention import run_retention_job
from portal.webhooks.delivery import prune_finished, sweep_due, sweep_in_worker

log = logging.getLogger(__name__)


def start_job(kind: str, *, actor: Any, params: dict[str, Any], campaign_id: int | None = None,
              company_id: int | None = None) -> Job:
    """Record a job (call inside ``transaction()``), with the language it runs in: the current
    one (the person starting it), so what it stores reads in that person's language."""
    spec = task_spec(kind)
    params = {**params, LANGUAGE_PARAM: current_language()}
    job = Job(kind=kind, status=QUEUED, params=params, created_by_id=actor.id if actor else None,
              campaign_id=campaign_id, company_id=company_id, max_attempts=spec.max_attempts, created_at=utcnow())
    db.session.add(job)
    db.session.flush()
    if backend_name() == "procrastinate":
        connection = db.session.connection().connection.driver_connection
        procrastinate_app(current_app._get_current_object()).tasks["portal.run_job"].configure(
            connection=connection, lock=spec.lock(params)).defer(job_id=job.id)
    return job


def dispatch(job: Job) -> None:
    """After the recording transaction committed: run the job now in ``inline`` mode."""
    if backend_name() == "inline":
        run_job(job.id)
        db.session.refresh(job)


# --- the database backend ------------------------------------------------------------
def claim_next() -> int | None:
    """Take the oldest queued job (one conditional UPDATE, so two workers never take the same)."""
    with transaction():
        job_id = db.session.scalar(sa.select(Job.id).where(Job.status == QUEUED).order_by(Job.id).limit(1))
        if job_id is None:
            return None
        taken = db.session.execute(sa.update(Job).where(Job.id == job_id, Job.status == QUEUED)
                                   .values(status=RUNNING, phase=STARTING, heartbeat_at=utcnow()))
        return job_id if taken.rowcount == 1 else None


def run_daily_progress(today: date) -> int:
    """The daily progress task (both backends): milestones whose last threshold is time
    (``daysActive``), recorded on their day. Idempotent, so two workers may both run it."""
    from portal.deliveries.milestones import record_days_active_milestones

    try:
        with transaction():
            recorded = record_days_active_milestones(today)
    except sa.exc.IntegrityError:  # another worker recorded the same milestones first
        db.session.rollback()
        return 0
    if recorded:
        log.info("recorded %s milestones reached by days active", recorded)
    return recorded


def run_daily_step(step: Callable[[date], Any], today: date) -> None:
    """Run one daily step of the database worker; an unexpected error (a database error in
    the retention step, say) is logged with its traceback and rolled back, and the worker goes
    on running jobs: the step is tried again the next day (or when the worker restarts)."""
    try:
        step(today)
    except Exception:
        db.session.rollback()
        log.exception("daily step %s failed on %s; the worker goes on", getattr(step, "__name__", step), today)


def work_database(*, burst: bool = False, stop: threading.Event | None = None, poll_seconds: float = 0.5) -> int:
    """Run queued jobs until stopped (or, with ``burst``, until the queue is empty), and the
    daily progress task once a day (when the worker starts, then when the date changes)."""
    recovered = recover_stalled()
    if recovered:
        log.warning("jobs %s were left running by a stopped worker: queued again", recovered)
    ran = 0
    daily_done: date | None = None
    while not (stop and stop.is_set()):
        if daily_done != (today := utcnow().date()):
            run_daily_step(run_daily_progress, today)
            run_daily_step(run_retention_job, today)  # portal.privacy: erase whom their group's retention period lets go
            run_daily_step(prune_finished, today)  # portal.webhooks: finished deliveries past their keeping time
            db.session.remove()
            daily_done = today
        sweep_in_worker()  # portal.webhooks: retries whose time has come (every few seconds)
        job_id = claim_next()
        if job_id is None:
            if burst:
                break
            (stop.wait if stop else time.sleep)(poll_seconds)
            continue
        run_job(job_id)
        db.session.remove()
        ran += 1
    return ran


def embed_worker(app: Flask) -> None:
    """Start one worker thread inside the web process with its first request (``make run``:
    jobs with nothing to install; CLI commands such as ``flask db upgrade`` start none)."""
    lock = threading.Lock()

    @app.before_request
    def _start_embedded_worker() -> None:
        if "portal_jobs_stop" not in app.extensions:
            with lock:
                if "portal_jobs_stop" not in app.extensions:
                    start_embedded_worker(app)


def start_embedded_worker(app: Flask) -> threading.Thread:
    """One worker thread for the configured backend, inside this process."""
    stop = threading.Event()
    app.extensions["portal_jobs_stop"] = stop

    def loop() -> None:
        while not stop.is_set():
            try:
                with app.app_context():
                    name = backend_name()
                if name == "procrastinate":
                    work_procrastinate(app, in_thread=True)
                    return
                with app.app_context():
                    work_database(stop=stop)
            except Exception:  # keep serving jobs after an unexpected error
                log.exception("embedded job worker")
                stop.wait(2)

    thread = threading.Thread(target=loop, name="portal-jobs", daemon=True)
    thread.start()
    return thread


# --- the Procrastinate backend (PostgreSQL) ------------------------------------------
def procrastinate_app(app: Flask):
    """The Procrastinate app of this Flask app (PostgreSQL is the broker)."""
    if "procrastinate" in app.extensions:
        return app.extensions["procrastinate"]
    import procrastinate

    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    queue = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=url.render_as_string(hide_password=False)))

    @queue.task(name="portal.run_job", pass_context=False)
    def run_portal_job(job_id: int) -> None:
        with app.app_context():
            try:
                run_job(job_id)
            finally:
                db.session.remove()

    def in_app(work: Callable[[], Any]) -> None:
        """A periodic task's work in the app, its session ended whatever happens."""
        with app.app_context():
            try:
                work()
            finally:
                db.session.remove()

    @queue.periodic(cron="* * * * *", periodic_id="retry_stalled")
    @queue.task(name="portal.retry_stalled", queueing_lock="retry_stalled", pass_context=True)
    async def retry_stalled(context, timestamp: int) -> None:
        await retry_stalled_procrastinate(context.app, app.config["PORTAL_JOBS_STALL_SECONDS"])

    @queue.periodic(cron="5 0 * * *", periodic_id="days_active_milestones")
    @queue.task(name="portal.days_active_milestones", queueing_lock="days_active_milestones", pass_context=False)
    def days_active_milestones(timestamp: int) -> None:
        in_app(lambda: run_daily_progress(datetime.fromtimestamp(timestamp, UTC).date()))

    @queue.periodic(cron="15 0 * * *", periodic_id="privacy_retention")
    @queue.task(name="portal.privacy_retention", queueing_lock="privacy_retention", pass_context=False)
    def privacy_retention(timestamp: int) -> None:
        in_app(lambda: run_retention_job(datetime.fromtimestamp(timestamp, UTC).date()))

    @queue.periodic(cron="25 0 * * *", periodic_id="webhook_prune")
    @queue.task(name="portal.webhook_prune", queueing_lock="webhook_prune", pass_context=False)
    def webhook_prune(timestamp: int) -> None:
        in_app(lambda: prune_finished(datetime.fromtimestamp(timestamp, UTC).date()))

    @queue.periodic(cron="* * * * *", periodic_id="webhook_retries")
    @queue.task(name="portal.webhook_retries", queueing_lock="webhook_retries", pass_context=False)
    def webhook_retries(timestamp: int) -> None:  # portal.webhooks: retries whose time has come
        in_app(sweep_due)

    app.extensions["procrastinate"] = queue
    return queue


async def retry_stalled_procrastinate(queue, stall_seconds: float) -> list[int]:
    """Jobs whose worker stopped sending heartbeats are run again (:func:`run_job` decides
    whether attempts are left)."""
    stalled = list(await queue.job_manager.get_stalled_jobs(seconds_since_heartbeat=stall_seconds))
    for job in stalled:
        await queue.job_manager.retry_job(job)
    return [job.id for job in stalled]


def work_procrastinate(app: Flask, *, burst: bool = False, in_thread: bool = False) -> None:
    import asyncio

    queue = procrastinate_app(app)
    stall = app.config["PORTAL_JOBS_STALL_SECONDS"]

    async def main() -> None:
        async with queue.open_async():
            await queue.job_manager.prune_stalled_workers(seconds_since_heartbeat=stall)
            retried = await retry_stalled_procrastinate(queue, stall)
            if retried:
                log.warning("Procrastinate jobs %s were left running by a stopped worker: retried", retried)
            await queue.run_worker_async(wait=not burst, install_signal_handlers=not (burst or in_thread),
                                         update_heartbeat_interval=max(0.5, stall / 4),
                                         stalled_worker_timeout=stall, fetch_job_polling_interval=1.0)

    asyncio.run(main())


def work(app: Flask, *, burst: bool = False) -> None:
    """A worker for the configured backend (``flask jobs work``)."""
    with app.app_context():
        name = backend_name()
    if name == "procrastinate":
        work_procrastinate(app, burst=burst)
    elif name == "database":
        with app.app_context():
            work_database(burst=burst)
    else:
        raise RuntimeError("PORTAL_JOBS=inline runs jobs in the request: there is nothing for a worker to do.")
