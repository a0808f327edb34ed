"""Background work (SPEC §6 "Background work"): jobs recorded in the request, run by a worker.

A :class:`~portal.jobs.models.Job` row is the truth about a piece of background work: its
kind, parameters, who asked, progress (phase, rows done of total), outcome and attempts.
The request records it in the same transaction as anything else it writes and answers at
once; a *backend* gets :func:`~portal.jobs.runner.run_job` called for it:

- ``procrastinate`` (production on PostgreSQL): the job is deferred to Procrastinate on the
  request's own connection, so it exists exactly when the transaction commits; workers on any
  number of machines run ``flask jobs work``; Procrastinate retries a job whose worker died.
- ``database`` (SQLite, ``make run``): workers poll the jobs table; development starts one
  worker thread inside the web process, so nothing extra needs installing.
- ``inline`` (the test harness): the job runs in the request, right after it is recorded.

Uploaded files and job results are :class:`~portal.jobs.models.StoredFile` rows, never files
on a local disk, so any instance can serve any step.
"""
