"""Step 3 of the delivery import: the confirm (SPEC §2.9; §4's "one transaction").

Inside the caller's one write transaction: lock the campaign, plan the file again, refuse
(:class:`ImportChanged`) when the plan is not the dry run the user saw, otherwise record the
rows through :func:`~portal.deliveries.batch.record_batch` — the same rules again, the
counters and milestones moved, one summary event. A confirmed file lands whole or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from portal.campaigns.capacity import lock_campaign
from portal.csv_import.plan import ImportChanged, changed_since_dry_run, check_confirmable
from portal.deliveries.batch import BatchRefused, record_batch
from portal.deliveries.csv.parse import ParsedFile
from portal.deliveries.csv.plan import ALREADY, RECORD, SOURCE, plan_import
from portal.enrollments.csv.bulk import cycle_gc_paused
from portal.i18n import _, _l, ngettext, number

if TYPE_CHECKING:
    from portal.auth.models import User

CHANGED_MESSAGE = changed_since_dry_run(_l("its status, kinds, enrollments or deliveries"))


@dataclass
class ImportResult:
    rows: int
    recorded: int
    already: int
    milestones_reached: int = 0

    @property
    def message(self) -> str:
        """What the confirm did, in the language the job runs in (kept with the job as text)."""
        if not self.recorded:
            return ngettext("Nothing to import: every row is already recorded (%(count)s row).",
                            "Nothing to import: every row is already recorded (%(count)s rows).", self.rows,
                            count=number(self.rows))
        return _("Imported %(rows)s: %(recorded)s, %(already)s already recorded (%(milestones)s reached).",
                 rows=ngettext("%(count)s row", "%(count)s rows", self.rows, count=number(self.rows)),
                 recorded=ngettext("%(count)s delivery recorded", "%(count)s deliveries recorded", self.recorded,
                                   count=number(self.recorded)),
                 already=number(self.already),
                 milestones=ngettext("%(count)s milestone", "%(count)s milestones", self.milestones_reached,
                                     count=number(self.milestones_reached)))

    @property
    def figures(self) -> dict[str, Any]:
        """The counts a confirm job's result keeps."""
        return {"rows": self.rows, "recorded": self.recorded, "already": self.already}


@cycle_gc_paused()
def apply_import(actor: User | None, campaign_id: int, parsed: ParsedFile, *, expected_fingerprint: str,
                 expected_digest: str, today: date | None = None) -> ImportResult:
    """Import a dry-run file: all rows or none. Call inside ``transaction()``.

    The campaign is locked and the file planned again; when the campaign's state or any
    row's outcome differs from the dry run the user confirmed, ImportChanged is raised (the
    caller's transaction rolls back, nothing is written). Otherwise every row that is not an
    error goes to :func:`record_batch` with source ``csv`` (rows already recorded are its
    replays and add nothing); a refusal there also means the campaign changed. A file that
    adds nothing writes nothing, not even an event. ``parsed`` is used up: once its rows
    are handed to the batch, ``parsed.rows`` is emptied (parse the file again to plan it)."""
    campaign = lock_campaign(campaign_id)
    plan = plan_import(campaign, parsed, actor, today)
    check_confirmable(plan, expected_fingerprint=expected_fingerprint, expected_digest=expected_digest,
                      changed_message=CHANGED_MESSAGE)
    counts = plan.counts
    result = ImportResult(plan.total, counts[RECORD], counts[ALREADY])
    if not result.recorded:
        return result
    # One batch for the whole file: one transaction and one summary event with its counts.
    items = [p.item() for p in plan.rows if p.outcome in (RECORD, ALREADY)]
    # The file's parsed rows and their plan are not needed beside the items: let them go
    # before the rows are checked again and written (~85 MB for 100k rows).
    del plan
    parsed.rows = []
    label = f"CSV import of deliveries into {campaign.name}"
    try:
        done = record_batch(actor, campaign, items, source=SOURCE, summary_label=label, today=today, max_items=None)
        result.milestones_reached += sum(len(keys) for keys in done.milestones_reached.values())
    except BatchRefused:
        raise ImportChanged(CHANGED_MESSAGE) from None
    return result
