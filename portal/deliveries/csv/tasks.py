"""The delivery import's dry run and confirm, as jobs (:mod:`portal.csv_import.jobs`): the
confirm records every row in one transaction (:func:`~.apply.apply_import`) or, when the
campaign changed since the dry run, keeps the new dry run instead and says so."""
from __future__ import annotations

from portal.csv_import.jobs import import_jobs
from portal.deliveries.csv.apply import apply_import
from portal.deliveries.csv.parse import parse_csv
from portal.deliveries.csv.plan import plan_import
from portal.deliveries.csv.summary import DeliveryDryRun

IMPORT = import_jobs("deliveries.import", parse_csv=parse_csv, plan_import=plan_import, apply_import=apply_import,
                     dry_run_class=DeliveryDryRun)
DRY_RUN, CONFIRM, UPLOAD = IMPORT.dry_run, IMPORT.confirm, IMPORT.upload
