"""The CSV import flow every import into a campaign follows (SPEC §4 "CSV import", §6
"Background work"; enrollments and deliveries today): upload → dry run → confirm → result.

- The upload is checked at the door (size, header) and kept in the database; a job (the
  **dry run**) reads every row, plans it against the campaign without writing anything and
  keeps what the page shows with the upload (:mod:`.dry_run`).
- The **confirm** is a job too: the campaign is locked, the file planned again, and it lands
  whole in one transaction with one summary event, or — when the plan is not the dry run the
  user saw — nothing is written and the new dry run is kept instead (:mod:`.jobs`).
- The screens (:mod:`.views`, ``templates/imports/import.html``) are the same for every
  import: upload form, dry-run table (all rows or errors only), errors file, sample file.

What stays with each import is what is really its own: its columns and row parsing
(``parse.py``, over :mod:`portal.csv_files`), how a row is resolved and decided
(``plan.py``, over :mod:`.plan`), the operation a confirm runs (``apply.py``), the cells its
dry-run table shows (``summary.py``) and its wording and column docs (a ``_import.html``
template of macros).
"""
