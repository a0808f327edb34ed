"""The enrollment import's dry run as the page shows it (SPEC §4 "CSV import of
enrollments"), kept with the upload by :mod:`portal.csv_import.dry_run`: who each row is
about, the role, the outcome and its reason."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.csv_import.dry_run import DryRun
from portal.enrollments.csv.plan import ENROLL, OUTCOME_LABELS, OUTCOMES, WAITLIST, RowPlan


@dataclass(frozen=True, slots=True)
class ShownRow:
    number: int
    email: str
    external_ref: str
    display_name: str
    role: str
    outcome: str
    reason: str


class EnrollmentDryRun(DryRun):
    OUTCOMES = OUTCOMES
    OUTCOME_LABELS = OUTCOME_LABELS
    APPLIED = (ENROLL, WAITLIST)
    SHOWN = ShownRow

    @staticmethod
    def shown_cells(p: RowPlan) -> list[Any]:
        r = p.row
        return [p.number, r.email or "", r.external_ref or "", r.display_name or "", r.role, p.outcome, p.reason]
