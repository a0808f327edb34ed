"""Legal basis and consent (SPEC §2.12).

Each enrollment is processed under one legal basis: ``consent`` (with the date it was
given), ``legitimate_interest`` or ``contract``. Withdrawing consent stops processing at
once: from that moment :func:`ensure_processing_allowed` refuses every new delivery and
every new or confirmed match of the enrollment, and its open matches end. Erasure stops
processing the same way for every enrollment of the person.

This module imports only models and the activity writer at the top, so the delivery and
match operations can call the guard without an import cycle.
"""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.db import db, utcnow
from portal.enrollments.models import DEFAULT_LEGAL_BASIS, LEGAL_BASES, Enrollment, Participant
from portal.errors import DomainError, StaleEdit, ValidationFailed
from portal.i18n import _, _l

if TYPE_CHECKING:
    from portal.auth.models import User

CONSENT = "consent"
LEGAL_BASIS_LABELS = {  # in the reader's language: str() them where text is stored or serialised
    "consent": _l("Consent"),
    "legitimate_interest": _l("Legitimate interest"),
    "contract": _l("Contract"),
}
assert set(LEGAL_BASIS_LABELS) == set(LEGAL_BASES)


class ProcessingStopped(DomainError):
    """The person withdrew consent or was erased: nothing new is recorded about them."""

    status_code = 409


class ConsentNotWithdrawable(DomainError):
    status_code = 409


# --- pure rules ---------------------------------------------------------------------------
def clean_legal_basis(legal_basis: Any, consent_given_on: Any, *, today: date) -> tuple[str, date | None]:
    """The legal basis and consent date to store. A missing basis is the documented default
    (``legitimate_interest``); consent needs the day it was given (not in the future); the
    other bases carry no consent date (one given is dropped, not stored as a claim)."""
    basis = legal_basis or DEFAULT_LEGAL_BASIS
    if basis not in LEGAL_BASES:
        raise ValidationFailed({"legal_basis": [_l("Choose consent, legitimate interest or contract.")]})
    if basis != CONSENT:
        return basis, None
    if not isinstance(consent_given_on, date):
        raise ValidationFailed({"consent_given_on": [_l("Enter the day the person gave consent.")]})
    if consent_given_on > today:
        raise ValidationFailed({"consent_given_on": [_l("Consent cannot be given in the future.")]})
    return basis, consent_given_on


def processing_refusal(enrollment: Enrollment) -> str | None:
    """Why nothing new may be recorded about ``enrollment``'s person, or None."""
    if enrollment.consent_withdrawn_at is not None:
        return _("Consent was withdrawn for this enrollment: no new deliveries or matches are recorded.")
    participant = enrollment.participant if enrollment.participant_id is not None else None
    if participant is not None and participant.erased_at is not None:
        return _("This participant's data was erased: nothing new is recorded about them.")
    return None


def processing_allowed_sql() -> sa.ColumnElement[bool]:
    """:func:`processing_refusal` as a SQL condition on ``Enrollment``: true where something
    new may still be recorded (consent not withdrawn, the participant not erased). The
    screens that offer people for a match filter with it, so they never offer someone the
    guard would refuse."""
    person = sa.orm.aliased(Participant)  # its own alias: queries that join Participant stay apart
    erased = sa.select(person.id).where(person.id == Enrollment.participant_id,
                                        person.erased_at.is_not(None)).correlate_except(person)
    return sa.and_(Enrollment.consent_withdrawn_at.is_(None), ~erased.exists())


def ensure_processing_allowed(*enrollments: Enrollment | None, field: str | None = None) -> None:
    """Raise :class:`ProcessingStopped` (409) when any of ``enrollments`` (None ones are
    skipped) withdrew consent or belongs to an erased participant. The delivery and match
    operations call it before they record anything."""
    for enrollment in enrollments:
        if enrollment is not None and (reason := processing_refusal(enrollment)):
            raise ProcessingStopped(reason, field)


# --- operations ---------------------------------------------------------------------------
def withdraw_consent(actor: User | None, enrollment: Enrollment, *, expected_version: int | None = None) -> list[Any]:
    """Record that the person withdrew the consent ``enrollment`` is processed under. From
    now on no delivery or match is recorded for it (:func:`ensure_processing_allowed`),
    and its proposed and active matches end in this transaction (through the match
    operation's end path, which frees the volunteer's slot). The enrollment keeps its
    status and seat, so figures do not move. Writes ``program.enrollment.consent_withdrawn``
    (program team only, no personal data). Returns the ended matches."""
    from portal.matches.operations import end_matches_of  # the match operations import this module

    if expected_version is not None and enrollment.lock_version != expected_version:
        raise StaleEdit(_l("this enrollment"))
    if enrollment.legal_basis != CONSENT:
        if enrollment.legal_basis == "contract":
            message = _l("This enrollment is processed under a contract, not consent: there is no consent to "
                         "withdraw. To stop processing, erase the participant's data.")
        else:
            message = _l("This enrollment is processed under legitimate interest, not consent: there is no consent "
                         "to withdraw. To stop processing, erase the participant's data.")
        raise ConsentNotWithdrawable(message)
    if enrollment.consent_withdrawn_at is not None:
        raise ConsentNotWithdrawable(_l("Consent was already withdrawn for this enrollment."))
    participant = db.session.get(Participant, enrollment.participant_id)
    if participant is not None and participant.erased_at is not None:
        raise ConsentNotWithdrawable(_l("This participant's data was already erased."))
    enrollment.consent_withdrawn_at = utcnow()
    ended = end_matches_of(enrollment, actor, _("Consent was withdrawn."))  # stored: the actor's language
    db.session.flush()
    record_event("program.enrollment.consent_withdrawn", actor=actor, subject=enrollment, company_id=None,
                 data={"campaign_id": enrollment.campaign_id, "matches_ended": len(ended)},
                 label=f"{participant.ref if participant else 'participant'} in campaign #{enrollment.campaign_id}")
    return ended
