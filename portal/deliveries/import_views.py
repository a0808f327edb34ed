"""CSV import of a campaign's deliveries (SPEC §2.9): the shared import screens
(:mod:`portal.csv_import.views`) over :mod:`portal.deliveries.csv` — upload, dry run (a
job), confirm (a job: one transaction, all rows or none), errors file and sample file.
"""
from __future__ import annotations

from flask import Blueprint

from portal.csv_import.views import ImportScreen
from portal.deliveries.csv import tasks
from portal.deliveries.csv.apply import CHANGED_MESSAGE
from portal.deliveries.csv.parse import COLUMNS, check_header
from portal.deliveries.csv.sample import sample_csv
from portal.i18n import _l

bp = Blueprint("delivery_imports", __name__, url_prefix="/campaigns/<int:campaign_id>/deliveries")

screen = ImportScreen(
    bp, jobs=tasks.IMPORT, parts="deliveries/_import.html", columns=COLUMNS, check_header=check_header,
    closed=_l("it records no more deliveries."), sample=sample_csv, sample_name=lambda viewer: "sample-deliveries.csv",
    errors_stem="deliveries", changed_message=CHANGED_MESSAGE, checking=_l("Checking the delivery file (dry run)"),
    importing=_l("Importing the deliveries"))
