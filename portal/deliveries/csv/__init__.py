"""CSV import of a campaign's deliveries (SPEC §2.9, with the dry run → confirm → one
transaction semantics of §4 "CSV import of enrollments").

The same three steps as the enrollment import (:mod:`portal.enrollments.csv`), on the same
flow (:mod:`portal.csv_import`: screens, jobs, kept dry run, plan counts and digest;
:mod:`portal.csv_files` reads the upload and writes the errors file; chunked look-ups and the
paused cycle collector come from :mod:`portal.enrollments.csv.bulk`):

1. :func:`~.parse.parse_csv` — file-level checks, then every row's strings turned into typed
   values (date, time, Decimal, int) with plain code; problems collected per row.
2. :func:`~.plan.plan_import` — the dry run: each row's participant resolved to an
   enrollment of THIS campaign (:class:`~.plan.Roster`, the one place that knows whom an
   importer may name), then the delivery rules themselves
   (:func:`~portal.deliveries.operations.check_recorder`,
   :func:`~portal.deliveries.operations.check_accepts_deliveries`,
   :func:`~portal.deliveries.operations.clean_delivery`) and the ``(source, source_id)``
   replay rule. Nothing is written.
3. :func:`~.apply.apply_import` — inside the caller's one write transaction: lock the
   campaign, plan again, refuse when the plan is not the dry run the user saw, otherwise hand
   the rows to :func:`~portal.deliveries.batch.record_batch` (counters, milestones, one summary
   event).

The dry run and the confirm run as the flow's jobs (:mod:`.tasks`); :mod:`.summary` says
which cells of a row the dry-run table shows.
"""
