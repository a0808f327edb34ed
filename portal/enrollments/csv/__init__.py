"""CSV import and export of a campaign's enrollments (SPEC §4 "CSV import of enrollments", §7).

The import runs in three steps, each one function, and the same functions serve the
screen, the benchmark and the tests:

1. :func:`~.parse.parse_csv` — file-level checks (UTF-8, header, size), then every row
   parsed with plain code and the participant field rules of
   :mod:`portal.enrollments.participant_fields` (no form object per row: that alone would
   cost ~9 s per 100k rows).
2. :func:`~.plan.plan_import` — the dry run. Participants are matched in bulk, then
   :func:`~.plan.plan_rows`, a pure function, asks
   :func:`~portal.enrollments.operations.decide_enrollment` about every row, on a copy of
   the seat counters it moves in file order. Nothing is written.
3. :func:`~.apply.apply_import` — inside the caller's one write transaction: lock the
   campaign, plan again, refuse when the plan is not the one the user saw, otherwise
   bulk-insert and write one summary event.

The upload → dry run → confirm flow (screens, jobs, the kept dry run) is the one every
import shares, :mod:`portal.csv_import`; this package declares its jobs (:mod:`.tasks`) and
the cells its dry-run table shows (:mod:`.summary`). :mod:`.export` writes a campaign's
enrollments back out in the same columns.
"""
