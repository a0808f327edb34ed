"""Data-subject requests (SPEC §2.12): record one when it arrives, answer it within a month.

- :func:`record_request` — a program manager records a request received: its kind, the
  participant, the day it arrived (not in the future) and an optional reference of the
  team's own (refused when it looks like an e-mail address or a phone number: the register
  holds no contact details).
- :func:`close_open_requests` — answering closes: the access export closes the person's
  open access requests; erasure closes every open request of theirs.
- :func:`close_request` — a program manager closes one by hand, saying how it was answered.

Every write is part of the caller's one transaction with its activity event
(``participant.request_recorded`` / ``participant.request_closed``, program team only);
events hold the kind, the outcome and ids — never the reference or the note.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.beneficiaries.privacy import RULES as PRIVACY_RULES
from portal.beneficiaries.privacy import privacy_problems
from portal.db import db, utcnow
from portal.deliveries.operations import at_most_characters, note_problems
from portal.enrollments.models import Participant
from portal.errors import DomainError, StaleEdit, ValidationFailed
from portal.i18n import _l
from portal.privacy.models import (
    ACCESS,
    BY_HAND,
    EXPORTED,
    NOTE_MAX,
    REFERENCE_MAX,
    REQUEST_KINDS,
    DataSubjectRequest,
)

if TYPE_CHECKING:
    from portal.auth.models import User

KIND_LABELS = {  # in the reader's language
    "access": _l("Access (a copy of their data)"),
    "erasure": _l("Erasure"),
    "rectification": _l("Rectification"),
    "objection": _l("Objection"),
}
OUTCOME_LABELS = {"exported": _l("Answered by the data export"), "erased": _l("Answered by erasure"),
                  "by_hand": _l("Closed by hand")}
assert set(KIND_LABELS) == set(REQUEST_KINDS)


class RequestClosed(DomainError):
    status_code = 409


# --- pure rules ---------------------------------------------------------------------------
def reference_problems(reference: str) -> list[Any]:
    """A reference is the team's own case number: no e-mail address, no phone number."""
    if len(reference) > REFERENCE_MAX:
        return [at_most_characters(REFERENCE_MAX)]
    kinds = {rule.message: rule.kind for rule in PRIVACY_RULES}
    found = {kinds.get(message) for message in privacy_problems(reference, max_length=REFERENCE_MAX)}
    problems: list[Any] = []
    if "email" in found:
        problems.append(_l("Remove the e-mail address: a reference must not hold personal data."))
    if "phone" in found:
        problems.append(_l("Remove the phone number: a reference must not hold personal data."))
    return problems


def clean_request(kind: Any, received_on: Any, reference: Any, *, today: date) -> tuple[str, date, str | None]:
    """The request's fields to store, or ValidationFailed naming every problem."""
    errors: dict[str, list[Any]] = {}
    if kind not in REQUEST_KINDS:
        errors["kind"] = [_l("Choose access, erasure, rectification or objection.")]
    if not isinstance(received_on, date):
        errors["received_on"] = [_l("Enter the day the request arrived.")]
    elif received_on > today:
        errors["received_on"] = [_l("A request cannot arrive in the future.")]
    text = " ".join(str(reference or "").split()) or None
    if text and (problems := reference_problems(text)):
        errors["reference"] = problems
    if errors:
        raise ValidationFailed(errors)
    return kind, received_on, text


# --- operations ---------------------------------------------------------------------------
def record_request(actor: User | None, participant: Participant, *, kind: Any, received_on: Any,
                   reference: Any = None) -> DataSubjectRequest:
    """Record a request received from ``participant`` (see the module doc)."""
    kind, received_on, reference = clean_request(kind, received_on, reference, today=utcnow().date())
    if participant.erased_at is not None:
        raise RequestClosed(_l("This participant's data was already erased: there is nothing left to answer."))
    request = DataSubjectRequest(participant_id=participant.id, kind=kind, received_on=received_on,
                                 reference=reference, recorded_by_id=actor.id if actor else None)
    db.session.add(request)
    db.session.flush()
    record_event("participant.request_recorded", actor=actor, subject=participant, company_id=None,
                 data={"request_id": request.id, "kind": kind, "received_on": received_on.isoformat()},
                 label=participant.ref)
    return request


def _close(actor: User | None, request: DataSubjectRequest, outcome: str, note: str | None = None) -> None:
    request.closed_at, request.closed_by_id = utcnow(), actor.id if actor else None
    request.outcome, request.outcome_note = outcome, note
    db.session.flush()
    record_event("participant.request_closed", actor=actor, subject=request.participant, company_id=None,
                 data={"request_id": request.id, "kind": request.kind, "outcome": outcome},
                 label=request.participant.ref)


def close_open_requests(actor: User | None, participant: Participant, outcome: str,
                        kinds: tuple[str, ...] | None = None) -> list[DataSubjectRequest]:
    """Close the participant's open requests (of ``kinds``; None: every kind) as answered by
    ``outcome``. Returns them."""
    stmt = sa.select(DataSubjectRequest).where(DataSubjectRequest.participant_id == participant.id,
                                               DataSubjectRequest.closed_at.is_(None))
    if kinds is not None:
        stmt = stmt.where(DataSubjectRequest.kind.in_(kinds))
    closed = list(db.session.scalars(stmt.order_by(DataSubjectRequest.id).with_for_update()))
    for request in closed:
        _close(actor, request, outcome)
    return closed


def close_access_requests(actor: User | None, participant: Participant) -> list[DataSubjectRequest]:
    """The access export answers the person's open access requests."""
    return close_open_requests(actor, participant, EXPORTED, kinds=(ACCESS,))


def close_request(actor: User | None, request: DataSubjectRequest, note: Any, *,
                  expected_version: int | None = None) -> DataSubjectRequest:
    """Close one request by hand; ``note`` says how it was answered (required, no contact details)."""
    if expected_version is not None and request.lock_version != expected_version:
        raise StaleEdit(_l("this request"))
    if request.closed_at is not None:
        raise RequestClosed(_l("This request is already closed."))
    text = " ".join(str(note or "").split())
    if not text:
        raise ValidationFailed({"note": [_l("Say how the request was answered.")]})
    if len(text) > NOTE_MAX:
        raise ValidationFailed({"note": [at_most_characters(NOTE_MAX)]})
    if problems := note_problems(text):
        raise ValidationFailed({"note": problems})
    _close(actor, request, BY_HAND, text)
    return request


# --- reading ------------------------------------------------------------------------------
def open_requests(limit: int = 200) -> list[DataSubjectRequest]:
    """Open requests, oldest first (the first due first)."""
    return list(db.session.scalars(
        sa.select(DataSubjectRequest).options(sa.orm.joinedload(DataSubjectRequest.participant))
        .where(DataSubjectRequest.closed_at.is_(None))
        .order_by(DataSubjectRequest.received_on, DataSubjectRequest.id).limit(limit)))


def requests_of(participant: Participant) -> list[DataSubjectRequest]:
    """Every request of one participant, the latest received first."""
    return list(db.session.scalars(
        sa.select(DataSubjectRequest).where(DataSubjectRequest.participant_id == participant.id)
        .order_by(DataSubjectRequest.received_on.desc(), DataSubjectRequest.id.desc())))
