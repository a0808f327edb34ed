"""The dry run as the user saw it, kept with the upload (SPEC §4 "CSV import of enrollments").

A dry run of 100k rows takes seconds, so it is made once, by a job, and kept in the
uploaded file's ``meta``: the counts, the campaign fingerprint and outcome digest a confirm
must match, the rows the page shows (the first rows and the error rows) and every error
row for the errors file. Pages render it without planning the file again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.enrollments.csv.plan import ERROR, OUTCOME_LABELS, OUTCOMES, ImportPlan, RowPlan

SHOWN_ROWS = 200  # the page shows the first rows…
SHOWN_ERRORS = 1_000  # …and error rows up to this many (the errors file has them all)


def _shown(p: RowPlan) -> list[Any]:
    r = p.row
    return [p.number, r.email or "", r.external_ref or "", r.display_name or "", r.role, p.outcome, p.reason]


def summary_meta(plan: ImportPlan) -> dict[str, Any]:
    """What a dry run keeps: JSON for the upload's ``meta``."""
    errors = plan.errors
    first = plan.rows[:SHOWN_ROWS]
    later_errors = [p for p in errors if p.number > (first[-1].number if first else 0)][:SHOWN_ERRORS]
    return {
        "total": plan.total, "counts": plan.counts, "fingerprint": plan.fingerprint, "digest": plan.digest,
        "rows": [_shown(p) for p in first + later_errors],
        "error_rows": [_shown(p) for p in errors[:SHOWN_ERRORS]],
        "errors": [[p.number, p.row.email or "", p.row.external_ref or "", p.reason] for p in errors],
    }


@dataclass(frozen=True, slots=True)
class ShownRow:
    number: int
    email: str
    external_ref: str
    display_name: str
    role: str
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
    def to_import(self) -> int:
        return self.counts["enroll"] + self.counts["waitlist"]
