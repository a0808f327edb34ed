"""Participants and enrollments (SPEC §2.5).

The capacity rule is exact under concurrency: the campaign row is locked (PostgreSQL
``SELECT … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` holds the write lock), the
decision and the insert happen in that one transaction, the counter moves with a
conditional UPDATE, and CHECK constraints on the campaign are the backstop.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from flask_babel.speaklater import LazyString
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.activity.operations import changed_fields, record_event
from portal.auth.models import User
from portal.beneficiaries.models import BeneficiaryGroup
from portal.campaigns.capacity import CapacityReached, lock_campaign, move_counters, note_capacity_reached, seats_allow
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.enrollments.models import ROLES, SOURCES, Enrollment, Participant
from portal.enrollments.participant_fields import (
    FieldProblem,
    clean_country,
    clean_display_name,
    clean_email,
    clean_external_ref,
    clean_languages,
    clean_year_of_birth,
)
from portal.enrollments.privacy import BENEFICIARIES_BY_PROGRAM_TEAM, company_reference
from portal.enrollments.rollup import count_enrollment_days
from portal.enrollments.waitlist import promote_waitlisted
from portal.errors import DomainError, InvalidTransition, NotFound, StaleEdit, ValidationFailed
from portal.i18n import _, _l
from portal.lifecycle import ACTIVE
from portal.matches.operations import end_matches_of
from portal.privacy.consent import clean_legal_basis

BENEFICIARY, VOLUNTEER = "beneficiary", "volunteer"
WAITLISTED, ENROLLED, COMPLETED, DROPPED = "waitlisted", "active", "completed", "dropped"
ENROLLMENT_TRANSITIONS = {WAITLISTED: (ENROLLED, DROPPED), ENROLLED: (COMPLETED, DROPPED), COMPLETED: (), DROPPED: ()}


class NotAcceptingEnrollments(DomainError):
    status_code = 409


class AlreadyEnrolled(DomainError):
    status_code = 409


def joined(sentences: list[Any]) -> LazyString:
    """Sentences (lazy or not) as one text, read in the language of whoever reads it."""
    return LazyString(lambda: " ".join(str(sentence) for sentence in sentences))


class NotEligible(DomainError):
    def __init__(self, reasons: list[str]):
        super().__init__(_l("Not eligible: %(reasons)s", reasons=joined(reasons)), "participant_id")
        self.reasons = reasons


# A campaign's or program's status inside a sentence (SPEC §2.3's lifecycle).
RUN_STATUS_WORDS = {"draft": _l("draft"), "active": _l("active"), "paused": _l("paused"),
                    "completed": _l("completed"), "archived": _l("archived")}


def run_status_word(status: str) -> Any:
    return RUN_STATUS_WORDS.get(status, status)


# The group's language requirement, by level (a shared working language is needed above 'any').
_NO_SHARED_LANGUAGE = {
    "beginner": lambda languages: _l("No shared working language (the group works in %(languages)s at beginner "
                                     "level).", languages=languages),
    "conversational": lambda languages: _l("No shared working language (the group works in %(languages)s at "
                                           "conversational level).", languages=languages),
    "fluent": lambda languages: _l("No shared working language (the group works in %(languages)s at fluent "
                                   "level).", languages=languages),
}


# --- pure rules -------------------------------------------------------------------
@dataclass
class Eligibility:
    eligible: bool
    reasons: list[str] = field(default_factory=list)


def eligibility(group: BeneficiaryGroup, *, year_of_birth: int | None, languages: list[str],
                today_year: int | None = None) -> Eligibility:
    """A beneficiary fits the program's group: age (from year of birth) inside the range
    when both are known; a shared language when the group requires more than 'any'."""
    reasons: list[str] = []
    year = today_year or datetime.now(UTC).year
    if year_of_birth is not None and (group.age_min is not None or group.age_max is not None):
        age = year - year_of_birth
        if group.age_min is not None and age < group.age_min:
            reasons.append(_l("Age %(age)s is below the group's minimum of %(minimum)s.", age=age,
                              minimum=group.age_min))
        if group.age_max is not None and age > group.age_max:
            reasons.append(_l("Age %(age)s is above the group's maximum of %(maximum)s.", age=age,
                              maximum=group.age_max))
    if group.language_requirement != "any" and group.languages:
        if not set(languages or []) & set(group.languages):
            codes = ", ".join(group.languages)
            wording = _NO_SHARED_LANGUAGE.get(group.language_requirement)
            reasons.append(wording(codes) if wording else _l(
                "No shared working language (the group works in %(languages)s at %(level)s level).",
                languages=codes, level=group.language_requirement))
    return Eligibility(not reasons, reasons)


# --- participants -----------------------------------------------------------------
PARTICIPANT_FIELDS = ("display_name", "email", "year_of_birth", "languages", "country", "external_ref", "company_id",
                      "is_enabled")


def same_owner(company_id: int | None) -> sa.ColumnElement[bool]:
    """Participants with the same owner (SPEC §2.5): the NGO's beneficiaries (no company)
    or one company's employees. E-mail and external reference are unique per owner."""
    return Participant.company_id.is_(None) if company_id is None else Participant.company_id == company_id


def clean_participant_fields(values: dict[str, Any], *, participant_id: int | None = None) -> dict[str, Any]:
    """The participant rules (create, edit, import): the field rules of
    :mod:`portal.enrollments.participant_fields` (a 1–255 character name, a valid e-mail
    stored normalised, a year of birth from 1900 to this year, ISO 639-1 languages, an ISO
    3166-1 country, a reference of at most 100 characters), plus uniqueness within the
    owner: e-mail (case-insensitively) and external reference. The owner is
    ``values["company_id"]`` (None: the NGO's beneficiaries), so a check never looks at
    another owner's people. Returns the normalised values or raises ValidationFailed with
    every field's problem."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    rules: dict[str, Callable[[Any], Any]] = {
        "display_name": clean_display_name, "email": clean_email, "year_of_birth": clean_year_of_birth,
        "languages": clean_languages, "country": clean_country, "external_ref": clean_external_ref,
    }
    for name, rule in rules.items():
        try:
            clean[name] = rule(values.get(name))
        except FieldProblem as exc:
            errors[name] = exc.messages
    others = [same_owner(values.get("company_id"))]
    if participant_id is not None:
        others.append(Participant.id != participant_id)
    if clean.get("email") and db.session.scalar(sa.select(Participant.id).where(Participant.email == clean["email"],
                                                                                 *others)):
        errors["email"] = [_l("A participant with this e-mail already exists.")]
    if clean.get("external_ref") and db.session.scalar(
            sa.select(Participant.id).where(Participant.external_ref == clean["external_ref"], *others)):
        errors["external_ref"] = [_l("Another participant has this external reference.")]
    if errors:
        raise ValidationFailed(errors)
    return clean


def create_participant(actor: User | None, *, display_name: str, email: str | None = None,
                       year_of_birth: int | None = None, languages: list[str] | None = None,
                       country: str | None = None, external_ref: str | None = None,
                       company_id: int | None = None) -> Participant:
    clean = clean_participant_fields({"display_name": display_name, "email": email, "year_of_birth": year_of_birth,
                                      "languages": languages, "country": country, "external_ref": external_ref,
                                      "company_id": company_id})
    participant = Participant(**clean, company_id=company_id)
    db.session.add(participant)
    record_event("participant.created", actor=actor, subject=participant, company_id=company_id,
                 label=participant.ref)
    return participant


def update_participant(actor: User | None, participant: Participant, *, expected_version: int | None,
                       **changes: Any) -> Participant:
    """Edit a participant. A save based on a stale ``lock_version`` is refused (StaleEdit),
    never silently overwritten; the same rules as creation apply (e-mail unique
    case-insensitively). Writes ``participant.updated`` with what changed."""
    if expected_version is not None and participant.lock_version != expected_version:
        raise StaleEdit(_l("participant “%(name)s”", name=participant.display_name))
    unknown = set(changes) - set(PARTICIPANT_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    merged = {f: changes.get(f, getattr(participant, f)) for f in PARTICIPANT_FIELDS}
    clean = clean_participant_fields(merged, participant_id=participant.id)
    clean.update(company_id=merged["company_id"], is_enabled=bool(merged["is_enabled"]))
    made = changed_fields(participant, clean)
    if not made:
        return participant
    try:
        db.session.flush()
    except StaleDataError:  # changed between our read and this write (the version column caught it)
        raise StaleEdit(_l("participant “%(name)s”", name=participant.display_name)) from None
    except IntegrityError as exc:  # a concurrent save took the same e-mail or reference first
        field_name = "email" if "email" in str(exc.orig).lower() else "external_ref"
        raise ValidationFailed({field_name: [_l("Another participant has just been saved with this value.")]}) from None
    if "email" in made:  # who had the address is the person's data: log only that it changed
        made["email"] = {"changed": True}
    record_event("participant.updated", actor=actor, subject=participant, company_id=participant.company_id,
                 data=made, label=participant.ref)
    return participant


# --- enrollments ------------------------------------------------------------------
class EnrollmentFacts(Protocol):
    """What the enrollment decision reads about a campaign: its status, its program's and
    template version's, its company, its beneficiary group and waitlist switch, and the
    seat counters :func:`seats_allow` reads. :meth:`CampaignFacts.of` takes them from a
    (locked) campaign; the CSV import's planner keeps its own copy and moves the seat
    counter as the file's rows take seats."""

    status: str
    program_status: str
    template_status: str
    company_id: int
    waitlist_enabled: bool
    group: Any  # a BeneficiaryGroup, or anything with its age_min, age_max, languages, language_requirement
    max_enrollment: int | None
    enrolled_count: int
    seat_price: int | None
    budget_allocated: int | None


@dataclass(slots=True)
class CampaignFacts:
    """A snapshot of :class:`EnrollmentFacts`; ``enrolled_count`` may be moved by its owner."""

    status: str
    program_status: str
    template_status: str
    company_id: int
    waitlist_enabled: bool
    group: Any
    max_enrollment: int | None
    enrolled_count: int
    seat_price: int | None
    budget_allocated: int | None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignFacts:
        program = campaign.program
        return cls(campaign.status, program.status, program.template.status, campaign.company_id,
                   bool(campaign.waitlist_enabled), program.group, campaign.max_enrollment, campaign.enrolled_count,
                   campaign.seat_price, campaign.budget_allocated)


# Decision codes: why a decision came out as it did, for callers that word it their own way
# (the CSV import's row reasons).
NOT_ACCEPTING, TEMPLATE_ARCHIVED, DEACTIVATED = "not_accepting", "template_archived", "deactivated"
ALREADY_ENROLLED, OTHER_COMPANY, INELIGIBLE, FULL = "already_enrolled", "other_company", "not_eligible", "full"
VOLUNTEER_UNCAPPED, SEAT, WAITLIST_PLACE = "volunteer", "seat", "waitlist"


@dataclass
class Decision:
    """What enrolling would do: ``status`` ("active" or "waitlisted") with reasons to show,
    or the ``error`` that refuses it; ``code`` names which step of the rule decided."""

    status: str | None
    reasons: list[str]
    error: DomainError | None = None
    code: str = ""


def _refusal(code: str, error: DomainError) -> Decision:
    return Decision(None, list(getattr(error, "reasons", None) or [error.message]), error, code)


def decide_enrollment(facts: EnrollmentFacts | Campaign, *, role: str, year_of_birth: int | None,
                      languages: list[str], company_id: int | None, is_enabled: bool = True,
                      already_enrolled: bool = False, today_year: int | None = None) -> Decision:
    """The enrollment rule, in order: campaign and program active (template not archived);
    participant enabled and not already enrolled; volunteers: from the campaign's company
    when they have one, never capped; beneficiaries: eligible for the group, then a seat
    (capacity and budget) or the waitlist when it is on. Reads, never writes: the preview
    on the enroll screen, enroll_participant (under the campaign lock) and the CSV
    import's dry run (once per row, on its copy of the counters) all call it.

    ``facts`` is any :class:`EnrollmentFacts`; a Campaign is read through
    :meth:`CampaignFacts.of`."""
    if isinstance(facts, Campaign):
        facts = CampaignFacts.of(facts)
    if facts.status != ACTIVE or facts.program_status != ACTIVE:
        return _refusal(NOT_ACCEPTING, NotAcceptingEnrollments(_l(
            "Enrollments are accepted only while the campaign and its program are active "
            "(campaign %(campaign)s, program %(program)s).", campaign=run_status_word(facts.status),
            program=run_status_word(facts.program_status)), "campaign"))
    if facts.template_status == "archived":
        return _refusal(TEMPLATE_ARCHIVED, NotAcceptingEnrollments(
            _l("The program's template version is archived; it accepts no new enrollments."), "campaign"))
    if not is_enabled:
        return _refusal(DEACTIVATED, DomainError(_l("This participant is deactivated."), "participant_id"))
    if already_enrolled:
        return _refusal(ALREADY_ENROLLED, AlreadyEnrolled(_l("This participant is already enrolled in the campaign."),
                                                          "participant_id"))
    if role == VOLUNTEER:
        if company_id is not None and company_id != facts.company_id:
            return _refusal(OTHER_COMPANY, DomainError(_l("Volunteers from a company can join only that company's "
                                                          "campaigns."), "participant_id"))
        return Decision(ENROLLED, [_l("Volunteers are not capped.")], code=VOLUNTEER_UNCAPPED)
    check = eligibility(facts.group, year_of_birth=year_of_birth, languages=languages, today_year=today_year)
    if not check.eligible:
        return _refusal(INELIGIBLE, NotEligible(check.reasons))
    if seats_allow(facts):
        return Decision(ENROLLED, [_l("Eligible, and a seat is free.")], code=SEAT)
    if facts.waitlist_enabled:
        return Decision(WAITLISTED, [_l("Eligible, but the campaign is full (capacity or budget): joins the "
                                        "waitlist.")], code=WAITLIST_PLACE)
    return _refusal(FULL, CapacityReached(_l("The campaign is full (capacity or budget) and has no waitlist."),
                                          "campaign"))


def check_enroller(actor: User | None, *, role: str, participant_company_id: int | None) -> None:
    """Who enrolls whom (SPEC §2.5): program managers and connectors (no actor) enroll
    anyone; a company admin enrolls only its own employees, and only as volunteers. A
    person who is not the admin's employee is "not found", exactly like one who does not
    exist, so the answer never reveals that someone else is known to the portal."""
    if actor is None or actor.is_program_manager:
        return
    if role != VOLUNTEER:
        raise DomainError(BENEFICIARIES_BY_PROGRAM_TEAM, "role")
    if participant_company_id is None or participant_company_id != actor.company_id:
        raise NotFound(_l("That participant"))


def enroll_participant(actor: User | None, campaign_id: int, participant: Participant, *, role: str = BENEFICIARY,
                       source: str = "manual", source_id: str | None = None,
                       meta: dict[str, Any] | None = None, legal_basis: str | None = None,
                       consent_given_on: date | None = None) -> Enrollment:
    """Enroll, checking first who may enroll whom (:func:`check_enroller`), then in order:
    campaign and program active; not already enrolled; eligibility (beneficiaries);
    capacity — waitlisted when full and the waitlist is on, refused otherwise. Volunteers
    are uncapped but must belong to the campaign's company when they have one.

    ``legal_basis`` (SPEC §2.12) defaults to ``legitimate_interest`` when not given (the
    CSV import and connectors say nothing about it); ``consent`` needs ``consent_given_on``
    (:func:`portal.privacy.consent.clean_legal_basis`)."""
    legal_basis, consent_given_on = clean_legal_basis(legal_basis, consent_given_on, today=utcnow().date())
    if role not in ROLES:
        raise DomainError(_l("Choose beneficiary or volunteer."), "role")
    if source not in SOURCES:
        raise DomainError(_l("Unknown source."), "source")
    check_enroller(actor, role=role, participant_company_id=participant.company_id)
    campaign = lock_campaign(campaign_id)
    already = db.session.scalar(sa.select(Enrollment.id).where(Enrollment.campaign_id == campaign.id,
                                                                Enrollment.participant_id == participant.id))
    decision = decide_enrollment(CampaignFacts.of(campaign), role=role, year_of_birth=participant.year_of_birth,
                                 languages=participant.languages, company_id=participant.company_id,
                                 is_enabled=participant.is_enabled, already_enrolled=already is not None)
    if decision.error is not None:
        raise decision.error
    now = utcnow()
    seats_before = campaign.enrolled_count
    enrollment = Enrollment(campaign_id=campaign.id, participant_id=participant.id, role=role, source=source,
                            source_id=source_id, meta=meta or {}, legal_basis=legal_basis,
                            consent_given_on=consent_given_on)
    if decision.status == WAITLISTED:
        move_counters(campaign, waitlisted=1)
        enrollment.status, enrollment.waitlisted_at = WAITLISTED, now
        event = "program.enrollment.waitlisted"
    else:
        if role == BENEFICIARY:
            move_counters(campaign, enrolled=1)
        enrollment.status, enrollment.enrolled_at = ENROLLED, now
        event = "program.enrollment.created"
    db.session.add(enrollment)
    count_enrollment_days(campaign.id, {now.date(): 1})
    reference = company_reference(campaign.company, participant.id)
    record_event(event, actor=actor, subject=enrollment, company_id=campaign.company_id,
                 data={"campaign_id": campaign.id, "participant_ref": reference, "role": role, "source": source},
                 label=f"{reference} in {campaign.name}")
    note_capacity_reached(actor, campaign, seats_before)
    return enrollment


def check_enrollment_move(enrollment: Enrollment, target: str, expected_version: int | None = None) -> None:
    """A move based on a stale version is refused; then only the transitions the table allows."""
    if expected_version is not None and enrollment.lock_version != expected_version:
        raise StaleEdit(_l("this enrollment"))
    allowed = ENROLLMENT_TRANSITIONS.get(enrollment.status, ())
    if target not in allowed:
        raise InvalidTransition(enrollment.status, target, list(allowed))


def drop_enrollment(actor: User | None, enrollment: Enrollment, reason: str = "", *,
                    expected_version: int | None = None) -> list[Enrollment]:
    """Drop; an active beneficiary's seat goes to the oldest waitlisted one. Returns the promoted."""
    check_enrollment_move(enrollment, DROPPED, expected_version)
    campaign = lock_campaign(enrollment.campaign_id)
    was = enrollment.status
    enrollment.status, enrollment.dropped_at = DROPPED, utcnow()
    enrollment.drop_reason = (reason or "").strip()[:500] or None
    end_matches_of(enrollment, actor, _("The enrollment was dropped."))  # stored: text now
    # The company sees this event: a beneficiary's reason is a free-text note about a
    # person, so the event says only whether one was given (program managers read it on
    # the enrollment).
    data: dict[str, Any] = {"from": was}
    if enrollment.role == BENEFICIARY:
        data["reason_given"] = enrollment.drop_reason is not None
    else:
        data["reason"] = enrollment.drop_reason
    record_event("program.enrollment.dropped", actor=actor, subject=enrollment, company_id=campaign.company_id,
                 data=data, label=company_reference(campaign.company, enrollment.participant_id))
    if enrollment.role == BENEFICIARY:
        if was == ENROLLED:
            seats_before = campaign.enrolled_count
            move_counters(campaign, enrolled=-1)
            return promote_waitlisted(actor, campaign, seats_before=seats_before)
        if was == WAITLISTED:
            move_counters(campaign, waitlisted=-1)
    return []


def complete_enrollment(actor: User | None, enrollment: Enrollment, *,
                        expected_version: int | None = None) -> Enrollment:
    """Completed beneficiaries keep their seat (they count toward the cap and budget)."""
    check_enrollment_move(enrollment, COMPLETED, expected_version)
    enrollment.status, enrollment.completed_at = COMPLETED, utcnow()
    end_matches_of(enrollment, actor, _("The enrollment was completed."))
    campaign = enrollment.campaign
    record_event("program.enrollment.completed", actor=actor, subject=enrollment, company_id=campaign.company_id,
                 data={"campaign_id": campaign.id}, label=company_reference(campaign.company, enrollment.participant_id))
    return enrollment

