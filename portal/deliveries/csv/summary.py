"""The delivery import's dry run as the page shows it (SPEC §2.9), kept with the upload by
:mod:`portal.csv_import.dry_run`: the participant as the file names them, the kind (its
key: the page shows its label), the date, the outcome and its reason."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.csv_import.dry_run import DryRun
from portal.deliveries.csv.plan import OUTCOME_LABELS, OUTCOMES, RECORD, RowPlan


@dataclass(frozen=True, slots=True)
class ShownRow:
    number: int
    participant: str
    kind: str
    occurred_on: str
    outcome: str
    reason: str


class DeliveryDryRun(DryRun):
    OUTCOMES = OUTCOMES
    OUTCOME_LABELS = OUTCOME_LABELS
    APPLIED = (RECORD,)
    SHOWN = ShownRow

    @staticmethod
    def shown_cells(p: RowPlan) -> list[Any]:
        r = p.row
        return [p.number, r.participant, r.kind, r.occurred_on.isoformat() if r.occurred_on else "", p.outcome,
                p.reason]
