"""Enrolling one participant from the campaign screen: find or create the participant,
preview the outcome (eligibility and capacity) before saving, then enroll through
:func:`portal.enrollments.operations.enroll_participant` — the one rule path.

Every lookup here stays inside the enroller's own *owner* (SPEC §2.5): a program manager
finds the NGO's participants; a company admin only its own employees. So for a company
admin an outsider's e-mail and a made-up one lead to exactly the same answer: "a new
employee would be created".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.operations import (
    BENEFICIARY,
    check_enroller,
    create_participant,
    decide_enrollment,
    enroll_participant,
    same_owner,
)
from portal.errors import DomainError
from portal.i18n import _l

OUTLOOK_LABELS = {"enroll": _l("Will be enrolled"), "waitlist": _l("Will be waitlisted"),
                  "refuse": _l("Cannot enroll")}


@dataclass
class Outlook:
    """What enrolling would do right now: "enroll", "waitlist" or "refuse" (with reasons)."""

    outcome: str
    reasons: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return OUTLOOK_LABELS[self.outcome]


def owner_of(actor: User | None) -> int | None:
    """Whose people ``actor`` works with: a company admin its company's employees; program
    managers and connectors the NGO's participants (no company)."""
    return actor.company_id if actor is not None and actor.is_company_admin else None


def find_participant(owner_company_id: int | None, email: str | None, external_ref: str | None) -> Participant | None:
    """Match within one owner by e-mail (normalised, case-insensitive) first, then by
    external reference. Never looks at anyone outside that owner."""
    from portal.auth.operations import normalize_email

    scope = same_owner(owner_company_id)
    if email:
        try:
            normalized = normalize_email(email)
        except DomainError:
            normalized = None
        if normalized:
            found = db.session.scalars(sa.select(Participant).where(scope, Participant.email == normalized)).first()
            if found is not None:
                return found
    if external_ref:
        return db.session.scalars(sa.select(Participant).where(scope, Participant.external_ref == external_ref.strip())
                                  ).first()
    return None


def preview_enrollment(campaign: Campaign, *, role: str, year_of_birth: int | None, languages: list[str],
                       company_id: int | None = None, participant: Participant | None = None,
                       actor: User | None = None) -> Outlook:
    """What enrolling would do right now, by the same rules as enroll_participant."""
    try:
        check_enroller(actor, role=role, participant_company_id=participant.company_id if participant else
                       owner_of(actor))
    except DomainError as exc:
        return Outlook("refuse", [exc.message])
    already = participant is not None and db.session.scalar(
        sa.select(Enrollment.id).where(Enrollment.campaign_id == campaign.id,
                                       Enrollment.participant_id == participant.id)) is not None
    decision = decide_enrollment(campaign, role=role, year_of_birth=year_of_birth, languages=languages,
                                 company_id=company_id, is_enabled=participant.is_enabled if participant else True,
                                 already_enrolled=already)
    outcome = "refuse" if decision.error else ("waitlist" if decision.status == "waitlisted" else "enroll")
    return Outlook(outcome, decision.reasons)


def enroll_from_form(actor: User, campaign_id: int, *, participant_id: int | None, new_participant: dict[str, Any],
                     role: str = BENEFICIARY, meta: dict[str, Any] | None = None,
                     **legal_basis: Any) -> Enrollment:
    """Enroll an existing participant, or find-or-create one from the form's fields within
    the actor's owner (a company admin's new people are its employees). Matching an
    existing e-mail/reference reuses that person, so a repeated submit cannot create a
    second participant (the enrollment itself is unique per campaign)."""
    owner = owner_of(actor)
    if participant_id is not None:
        participant = db.session.get(Participant, participant_id)
        if participant is None:
            raise DomainError(_l("That participant no longer exists."), "participant_id")
    else:
        check_enroller(actor, role=role, participant_company_id=owner)
        participant = find_participant(owner, new_participant.get("email"), new_participant.get("external_ref"))
        if participant is None:
            participant = create_participant(actor, **{**new_participant, "company_id": owner})
            db.session.flush()
    return enroll_participant(actor, campaign_id, participant, role=role, meta=meta, **legal_basis)
