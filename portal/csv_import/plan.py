"""What every import's dry run is made of (SPEC §4 "dry run → confirm"): a campaign that
still takes imports, the importer's owner, and a plan — every row's outcome in file order,
the campaign state it depends on (its fingerprint) and a digest of the writes it means.

A confirm plans the file again inside its write transaction and goes ahead only when both
the fingerprint and the digest equal the dry run's (:func:`check_confirmable`): otherwise
the user would get something other than what they saw.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from portal.errors import DomainError
from portal.i18n import _l

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.campaigns.models import Campaign

# The outcomes every import has: a row that cannot be imported, and one that adds nothing.
ERROR, ALREADY = "error", "already"
# Final states: a campaign in them never takes an import again.
CLOSED_STATUSES = ("completed", "archived")


class ImportClosed(DomainError):
    status_code = 409


def check_import_open(campaign: Campaign, refusal: str) -> None:
    """A completed or archived campaign refuses an import before its file is even read
    (409); ``refusal`` says what it no longer takes, e.g. "it accepts no imports."."""
    if campaign.status == "completed":
        raise ImportClosed(_l("This campaign is completed: %(refusal)s", refusal=refusal), "file")
    if campaign.status == "archived":
        raise ImportClosed(_l("This campaign is archived: %(refusal)s", refusal=refusal), "file")


def importer_company_id(viewer: User | None) -> int | None:
    """The owner an importer works in: a company admin its company; otherwise the NGO (None)."""
    return viewer.company_id if viewer is not None and viewer.is_company_admin else None


def state_fingerprint(state: Any) -> str:
    """A hash of a campaign-state dataclass: equal fingerprints, same campaign as far as a plan goes."""
    return hashlib.sha256(json.dumps(asdict(state), sort_keys=True).encode()).hexdigest()


class PlannedRow(Protocol):
    number: int
    outcome: str

    def digest_key(self) -> str: ...


P = TypeVar("P", bound=PlannedRow)


@dataclass
class PlannedFile(Generic[P]):
    """A file planned against a campaign: each import's ``ImportPlan`` names its ``OUTCOMES``
    (in the order the screen counts them) and its rows say what they write (``digest_key``)."""

    OUTCOMES: ClassVar[tuple[str, ...]] = ()

    rows: list[P]
    state: Any  # the import's CampaignState (a dataclass)
    file_sha256: str
    meta_keys: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(self.OUTCOMES, 0)
        for plan in self.rows:
            counts[plan.outcome] += 1
        return counts

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def errors(self) -> list[P]:
        return [p for p in self.rows if p.outcome == ERROR]

    @property
    def has_errors(self) -> bool:
        return any(p.outcome == ERROR for p in self.rows)

    @property
    def fingerprint(self) -> str:
        return state_fingerprint(self.state)

    @property
    def digest(self) -> str:
        """The file's hash, then every row's number, outcome and what it writes: equal
        digests mean the same writes."""
        h = hashlib.sha256(self.file_sha256.encode())
        for p in self.rows:
            h.update(f"{p.digest_key()}\n".encode())
        return h.hexdigest()

    def shown_rows(self, limit: int = 200, errors_limit: int | None = None) -> list[P]:
        """The first ``limit`` rows, then the later error rows (up to ``errors_limit`` of them)."""
        later_errors = [p for p in self.rows[limit:] if p.outcome == ERROR]
        return self.rows[:limit] + later_errors[:errors_limit]


def changed_since_dry_run(what: str) -> str:
    """What a confirm that met a changed campaign says, ``what`` being what may have changed
    (a lazy string, like the answer: both are read in the viewer's language)."""
    return _l("The campaign changed since your dry run (%(what)s), so nothing was imported. Below is the dry run "
              "as of now; confirm again if it is still what you want.", what=what)


class ImportChanged(DomainError):
    """The plan at confirm time is not the dry run the user saw: nothing was written."""

    status_code = 409

    def __init__(self, message: str) -> None:
        super().__init__(message, None)


class ImportHasErrors(DomainError):
    def __init__(self) -> None:
        super().__init__(_l("A file with error rows cannot be imported. Correct the rows and upload it again."),
                         "file")


def check_confirmable(plan: PlannedFile, *, expected_fingerprint: str, expected_digest: str,
                      changed_message: str) -> None:
    """The confirm's plan is the dry run the user saw (else :class:`ImportChanged` with
    ``changed_message``) and has no error rows (else :class:`ImportHasErrors`)."""
    if plan.fingerprint != expected_fingerprint or plan.digest != expected_digest:
        raise ImportChanged(changed_message)
    if plan.has_errors:
        raise ImportHasErrors()
