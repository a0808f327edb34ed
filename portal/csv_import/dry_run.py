"""A dry run as the user saw it, kept with the upload (SPEC §4 "CSV import").

A dry run of 100k rows takes seconds, so a job makes it once and keeps it in the uploaded
file's ``meta``: the counts, the campaign fingerprint and outcome digest a confirm must
match, the rows the page shows (the first rows and the error rows) and every error row's
reason for the errors file. Pages render it without planning the file again.

Each import subclasses :class:`DryRun` with the row its table shows (``SHOWN``, a dataclass
of plain values whose last two fields are ``outcome`` and ``reason``) and how a planned row
becomes one (:meth:`DryRun.shown_cells`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from portal.csv_import.plan import ERROR, PlannedFile
from portal.i18n import _l

SHOWN_ROWS = 200  # the page shows the first rows…
SHOWN_ERRORS = 1_000  # …and error rows up to this many (the errors file has them all)


@dataclass(frozen=True)
class DryRun:
    """A kept dry run, read back for the page."""

    OUTCOMES: ClassVar[tuple[str, ...]] = ()  # in the order the page counts them
    OUTCOME_LABELS: ClassVar[dict[str, str]] = {}  # lazy strings: read in the viewer's language
    APPLIED: ClassVar[tuple[str, ...]] = ()  # the outcomes a confirm writes
    SHOWN: ClassVar[type]  # one row of the table

    total: int
    counts: dict[str, int]
    fingerprint: str
    digest: str
    rows: list[Any]
    error_rows: list[Any]

    @staticmethod
    def shown_cells(row: Any) -> list[Any]:
        """A planned row as the cells of ``SHOWN`` (JSON values), in its field order."""
        raise NotImplementedError

    @classmethod
    def meta_of(cls, plan: PlannedFile) -> dict[str, Any]:
        """What a dry run keeps: JSON for the upload's ``meta``."""
        errors = plan.errors
        return {
            "total": plan.total, "counts": plan.counts, "fingerprint": plan.fingerprint, "digest": plan.digest,
            "rows": [cls.shown_cells(p) for p in plan.shown_rows(SHOWN_ROWS, SHOWN_ERRORS)],
            "error_rows": [cls.shown_cells(p) for p in errors[:SHOWN_ERRORS]],
            "errors": [[p.number, p.reason] for p in errors],  # [row, reason], for the errors file
        }

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> DryRun | None:
        if "digest" not in meta:
            return None  # not checked yet
        counts = dict.fromkeys(cls.OUTCOMES, 0) | meta["counts"]
        return cls(meta["total"], counts, meta["fingerprint"], meta["digest"],
                   [cls.SHOWN(*r) for r in meta["rows"]], [cls.SHOWN(*r) for r in meta["error_rows"]])

    @property
    def has_errors(self) -> bool:
        return self.counts[ERROR] > 0

    @property
    def to_apply(self) -> int:
        """How many rows a confirm writes."""
        return sum(self.counts[outcome] for outcome in self.APPLIED)

    @property
    def stats(self) -> list[tuple[int, str]]:
        """(count, label) of every outcome, for the figures above the table."""
        return [(self.counts[o], _l("errors") if o == ERROR else self.OUTCOME_LABELS[o]) for o in self.OUTCOMES]

    def label(self, outcome: str) -> str:
        return self.OUTCOME_LABELS[outcome]


def error_reasons(meta: dict[str, Any]) -> dict[int, str]:
    """The kept reason of every error row, by row number (for the errors file)."""
    return {int(e[0]): str(e[-1]) for e in meta.get("errors", [])}
