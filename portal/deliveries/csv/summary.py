"""The delivery import's dry run as the user saw it, kept with the upload's ``meta`` (as
:mod:`portal.enrollments.csv.summary` keeps the enrollment import's): counts, the campaign
fingerprint and outcome digest a confirm must match, the rows the page shows and every error
row for the errors file. Pages render it without planning the file again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.deliveries.csv.plan import ERROR, OUTCOME_LABELS, OUTCOMES, RECORD, ImportPlan, RowPlan

SHOWN_ROWS = 200  # the page shows the first rows…
SHOWN_ERRORS = 1_000  # …and error rows up to this many (the errors file has them all)


def _shown(p: RowPlan) -> list[Any]:
    r = p.row
    return [p.number, r.participant, r.kind, r.occurred_on.isoformat() if r.occurred_on else "", p.outcome, p.reason]


def summary_meta(plan: ImportPlan) -> dict[str, Any]:
    """What a dry run keeps: JSON for the upload's ``meta``."""
    errors = plan.errors
    first = plan.rows[:SHOWN_ROWS]
    later_errors = [p for p in errors if p.number > (first[-1].number if first else 0)][:SHOWN_ERRORS]
    return {
        "total": plan.total, "counts": plan.counts, "fingerprint": plan.fingerprint, "digest": plan.digest,
        "rows": [_shown(p) for p in first + later_errors],
        "error_rows": [_shown(p) for p in errors[:SHOWN_ERRORS]],
        # [row, participant, reason]: the shape portal.enrollments.csv.export.errors_csv reads (row first, reason last)
        "errors": [[p.number, p.row.participant, p.reason] for p in errors],
    }


@dataclass(frozen=True, slots=True)
class ShownRow:
    number: int
    participant: str
    kind: str
    occurred_on: str
    outcome: str
    reason: str

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass(frozen=True)
class DryRun:
    """A kept dry run, read back for the page."""

    total: int
    counts: dict[str, int]
    fingerprint: str
    digest: str
    rows: list[ShownRow]
    error_rows: list[ShownRow]

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> DryRun | None:
        if "digest" not in meta:
            return None  # not checked yet
        counts = dict.fromkeys(OUTCOMES, 0) | meta["counts"]
        return cls(meta["total"], counts, meta["fingerprint"], meta["digest"],
                   [ShownRow(*r) for r in meta["rows"]], [ShownRow(*r) for r in meta["error_rows"]])

    @property
    def has_errors(self) -> bool:
        return self.counts[ERROR] > 0

    @property
    def to_record(self) -> int:
        return self.counts[RECORD]
