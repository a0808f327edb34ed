"""Step 2 of the import: the dry run (SPEC §4 "CSV import of enrollments").

Participants are matched in bulk within the importer's owner (chunked IN queries); then
:func:`plan_rows`, a pure function, settles every row: first what only a file can get
wrong (duplicates, an e-mail and a reference naming different people, a new person
without a name, a company admin's beneficiary row), then the one enrollment rule,
:func:`~portal.enrollments.operations.decide_enrollment`, on a copy of the seat counters
that moves as rows take seats. Nothing is written.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.csv_import.plan import ALREADY, ERROR, PlannedFile, importer_company_id
from portal.db import db
from portal.enrollments.csv.bulk import cycle_gc_paused, in_chunks
from portal.enrollments.csv.parse import ImportRow, ParsedFile
from portal.enrollments.models import STATUS_WORDS, Enrollment, Participant
from portal.enrollments.operations import (
    ALREADY_ENROLLED,
    DEACTIVATED,
    FULL,
    INELIGIBLE,
    NOT_ACCEPTING,
    OTHER_COMPANY,
    SEAT,
    TEMPLATE_ARCHIVED,
    VOLUNTEER,
    VOLUNTEER_UNCAPPED,
    WAITLIST_PLACE,
    WAITLISTED,
    CampaignFacts,
    Decision,
    decide_enrollment,
    run_status_word,
    same_owner,
)
from portal.i18n import _, _l

__all__ = ["ALREADY", "ENROLL", "ERROR", "OUTCOMES", "WAITLIST", "CampaignState", "ImportPlan", "KnownParticipant",
           "RowPlan", "importer_company_id", "plan_import", "plan_rows"]

# Outcomes, in the order the screen lists their counts.
ENROLL, WAITLIST = "enroll", "waitlist"
OUTCOMES = (ENROLL, WAITLIST, ALREADY, ERROR)
OUTCOME_LABELS = {ENROLL: _l("will enroll"), WAITLIST: _l("will waitlist"), ALREADY: _l("already enrolled"),
                  ERROR: _l("error")}


@dataclass(frozen=True, slots=True)
class KnownParticipant:
    """The columns of an existing participant the plan needs (loaded in bulk, no ORM objects)."""

    id: int
    email: str | None
    external_ref: str | None
    is_enabled: bool
    company_id: int | None
    year_of_birth: int | None
    languages: list[str]


@dataclass(frozen=True)
class CampaignState:
    """What the plan depends on. Its fingerprint (:func:`~portal.csv_import.plan.state_fingerprint`),
    taken at the dry run, must be unchanged at confirm."""

    campaign_id: int
    company_id: int
    status: str
    program_status: str
    template_status: str
    enrolled_count: int
    waitlisted_count: int
    max_enrollment: int | None
    waitlist_enabled: bool
    seat_price: int | None
    budget_allocated: int | None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignState:
        program = campaign.program
        return cls(campaign.id, campaign.company_id, campaign.status, program.status, program.template.status,
                   campaign.enrolled_count, campaign.waitlisted_count, campaign.max_enrollment,
                   bool(campaign.waitlist_enabled), campaign.seat_price, campaign.budget_allocated)


@dataclass(slots=True)
class RowPlan:
    number: int
    outcome: str
    reason: str
    row: ImportRow
    participant_id: int | None = None  # an existing participant; None creates one (enroll/waitlist rows)

    @property
    def creates_participant(self) -> bool:
        return self.participant_id is None and self.outcome in (ENROLL, WAITLIST)

    def digest_key(self) -> str:
        """The row's outcome and target participant: what it writes."""
        return f"{self.number}|{self.outcome}|{self.participant_id or '-'}|{self.row.role}"


class ImportPlan(PlannedFile[RowPlan]):
    OUTCOMES = OUTCOMES


# How the dry run words each refusal of the enrollment rule, for one row of a file. A row's
# reason is text in the language of whoever runs the dry run (its job runs in their language):
# it is kept with the upload for the page and the errors file.
_ROW_REFUSALS: dict[str, Any] = {
    NOT_ACCEPTING: lambda facts, decision: _(
        "campaign is not accepting enrollments (status: campaign %(campaign)s, program %(program)s)",
        campaign=run_status_word(facts.status), program=run_status_word(facts.program_status)),
    TEMPLATE_ARCHIVED: lambda facts, decision: _("campaign is not accepting enrollments (the program's template "
                                                 "version is archived)"),
    DEACTIVATED: lambda facts, decision: _("participant is deactivated"),
    OTHER_COMPANY: lambda facts, decision: _("volunteer belongs to another company"),
    INELIGIBLE: lambda facts, decision: _("not eligible: %(reasons)s",
                                          reasons=" ".join(str(reason) for reason in decision.reasons)),
    FULL: lambda facts, decision: _("campaign full (capacity or budget) and it has no waitlist"),
}
# Refusals that read the same for every row of one plan (worded once per plan, not per row).
_SAME_FOR_EVERY_ROW = (NOT_ACCEPTING, TEMPLATE_ARCHIVED, DEACTIVATED, OTHER_COMPANY, FULL)


def _admitted_reasons() -> dict[tuple[str, bool], str]:
    """Each admission's reason, by decision code and whether the participant is known (worded
    once per plan: a 100k-row file would otherwise translate the same words 100k times)."""
    return {
        (SEAT, True): _("existing participant"),
        (SEAT, False): _("new participant"),
        (WAITLIST_PLACE, True): _("existing participant; the campaign is full (capacity or budget)"),
        (WAITLIST_PLACE, False): _("new participant; the campaign is full (capacity or budget)"),
        (VOLUNTEER_UNCAPPED, True): _("existing participant; volunteers are not capped"),
        (VOLUNTEER_UNCAPPED, False): _("new participant; volunteers are not capped"),
    }


def plan_rows(rows: Iterable[ImportRow], *, state: CampaignState, group: Any,
              by_email: dict[str, KnownParticipant], by_ref: dict[str, KnownParticipant],
              enrollment_status: dict[int, str], today_year: int | None = None,
              enroller_company_id: int | None = None) -> list[RowPlan]:
    """Decide every row, in file order, without touching the database.

    A row is first checked for what only a file can get wrong: its own problems from
    parsing; the participant, matched by e-mail, then external_ref (ambiguous or
    conflicting pairs and duplicates within the file are errors); a new participant
    without a display_name. Its outcome is then the one enrollment rule,
    :func:`~portal.enrollments.operations.decide_enrollment` — campaign and program
    active, participant enabled, already enrolled (an outcome here, not an error),
    volunteers' company, beneficiaries' eligibility, then a seat, the waitlist or
    "campaign full" — asked on :class:`~portal.enrollments.operations.CampaignFacts` whose
    seat counter moves as earlier rows take seats.

    ``enroller_company_id`` is set when a company admin imports: then every row must be a
    volunteer (a beneficiary row is an error: the program team enrolls beneficiaries), and
    ``by_email``/``by_ref`` hold only that company's employees, so a row about anyone else
    reads exactly like a row about a new person (who becomes the company's employee)."""
    today_year = today_year or datetime.now(UTC).year
    facts = CampaignFacts(state.status, state.program_status, state.template_status, state.company_id,
                          state.waitlist_enabled, group, state.max_enrollment, state.enrolled_count,
                          state.seat_price, state.budget_allocated)
    first_email: dict[str, int] = {}
    first_ref: dict[str, int] = {}
    first_participant: dict[int, int] = {}
    plans: list[RowPlan] = []
    admitted = _admitted_reasons()
    refusals: dict[str, str] = {}  # the refusals worded the same for every row, once each

    def refusal(decision: Decision) -> str:
        if decision.code not in _SAME_FOR_EVERY_ROW:
            return _ROW_REFUSALS[decision.code](facts, decision)
        if decision.code not in refusals:
            refusals[decision.code] = _ROW_REFUSALS[decision.code](facts, decision)
        return refusals[decision.code]

    beneficiary_row = _("beneficiaries are enrolled by the program team")  # a company admin's beneficiary row
    for row in rows:
        reasons = list(row.problems)
        if enroller_company_id is not None and not row.role_given:
            row.role = VOLUNTEER  # a company's file is about its own volunteers
        if enroller_company_id is not None and row.role != VOLUNTEER:
            reasons.append(beneficiary_row)
        duplicate = False
        if row.email:
            if (earlier := first_email.get(row.email)) is not None:
                reasons.append(_("duplicate of row %(row)s (same email)", row=earlier))
                duplicate = True
            else:
                first_email[row.email] = row.number
        if row.external_ref:
            if (earlier := first_ref.get(row.external_ref)) is not None:
                reasons.append(_("duplicate of row %(row)s (same external_ref)", row=earlier))
                duplicate = True
            else:
                first_ref[row.external_ref] = row.number
        by_mail = by_email.get(row.email) if row.email else None
        by_reference = by_ref.get(row.external_ref) if row.external_ref else None
        participant: KnownParticipant | None = None
        if by_mail is not None and by_reference is not None and by_mail.id != by_reference.id:
            reasons.append(_("ambiguous: the email matches one participant and the external_ref another"))
        else:
            participant = by_mail or by_reference
            if participant is not None:
                if by_mail is not None and row.external_ref and by_mail.external_ref not in (None, row.external_ref):
                    reasons.append(_("conflict: the email belongs to a participant with a different external_ref"))
                elif by_reference is not None and row.email and by_reference.email not in (None, row.email):
                    reasons.append(_("conflict: the external_ref belongs to a participant with a different email"))
                if (earlier := first_participant.get(participant.id)) is not None:
                    if not duplicate:
                        reasons.append(_("duplicate of row %(row)s (same participant)", row=earlier))
                else:
                    first_participant[participant.id] = row.number
        decision = _decide(facts, row, participant, enrollment_status, enroller_company_id, today_year)
        if decision.code in (NOT_ACCEPTING, TEMPLATE_ARCHIVED):
            reasons.insert(0, refusal(decision))  # it concerns every row: say it first
        elif decision.code == DEACTIVATED:
            reasons.append(refusal(decision))
        pid = participant.id if participant is not None else None
        if reasons:
            plans.append(RowPlan(row.number, ERROR, "; ".join(reasons), row))
        elif decision.code == ALREADY_ENROLLED:
            status = enrollment_status[pid]  # type: ignore[index]  (already enrolled: a known participant)
            plans.append(RowPlan(row.number, ALREADY, _("already in this campaign (%(status)s)",
                                                        status=STATUS_WORDS.get(status, status)), row, pid))
        elif participant is None and not row.display_name:
            plans.append(RowPlan(row.number, ERROR, _("a new participant needs a display_name"), row))
        elif decision.error is not None:
            plans.append(RowPlan(row.number, ERROR, refusal(decision), row, pid))
        else:
            if decision.code == SEAT:
                facts.enrolled_count += 1  # the seat is taken for the rows below
            plans.append(RowPlan(row.number, WAITLIST if decision.status == WAITLISTED else ENROLL,
                                 admitted[decision.code, pid is not None], row, pid))
    return plans


def _decide(facts: CampaignFacts, row: ImportRow, participant: KnownParticipant | None,
            enrollment_status: dict[int, str], enroller_company_id: int | None, today_year: int) -> Decision:
    """The enrollment rule for one row: a known participant with what is stored about them
    (the file's year of birth and languages are for new people), a new one with the row's
    values and the importer's owner as company."""
    if participant is None:
        return decide_enrollment(facts, role=row.role, year_of_birth=row.year_of_birth, languages=row.languages,
                                 company_id=enroller_company_id, today_year=today_year)
    return decide_enrollment(facts, role=row.role, year_of_birth=participant.year_of_birth,
                             languages=participant.languages, company_id=participant.company_id,
                             is_enabled=participant.is_enabled,
                             already_enrolled=participant.id in enrollment_status, today_year=today_year)


_KNOWN_COLUMNS = (Participant.id, Participant.email, Participant.external_ref, Participant.is_enabled,
                  Participant.company_id, Participant.year_of_birth, Participant.languages)


def find_known_participants(emails: Iterable[str], refs: Iterable[str], owner_company_id: int | None = None
                            ) -> tuple[dict[str, KnownParticipant], dict[str, KnownParticipant]]:
    """One owner's participants (the NGO's, or one company's employees) by normalised
    e-mail and by external_ref, in chunked IN queries. Nobody outside that owner is read."""
    by_email: dict[str, KnownParticipant] = {}
    by_ref: dict[str, KnownParticipant] = {}
    for column, values, target in ((Participant.email, emails, by_email), (Participant.external_ref, refs, by_ref)):
        for where in in_chunks(column, values):
            for r in db.session.execute(sa.select(*_KNOWN_COLUMNS).where(where, same_owner(owner_company_id))):
                known = KnownParticipant(r.id, r.email, r.external_ref, bool(r.is_enabled), r.company_id,
                                         r.year_of_birth, list(r.languages or []))
                target[known.email if column is Participant.email else known.external_ref] = known  # type: ignore
    return by_email, by_ref


@cycle_gc_paused()
def plan_import(campaign: Campaign, parsed: ParsedFile, viewer: User | None = None) -> ImportPlan:
    """The dry run: every row's outcome against the campaign as it is now. Reads only.
    A company admin ``viewer``'s rows are matched among its own employees only."""
    rows = parsed.rows
    owner = importer_company_id(viewer)
    by_email, by_ref = find_known_participants((r.email for r in rows if r.email),
                                               (r.external_ref for r in rows if r.external_ref), owner)
    ids = {p.id for p in by_email.values()} | {p.id for p in by_ref.values()}
    enrollment_status: dict[int, str] = {}
    for where in in_chunks(Enrollment.participant_id, ids):
        enrollment_status.update(db.session.execute(
            sa.select(Enrollment.participant_id, Enrollment.status)
            .where(Enrollment.campaign_id == campaign.id, where)).tuples().all())
    state = CampaignState.of(campaign)
    plans = plan_rows(rows, state=state, group=campaign.program.group, by_email=by_email, by_ref=by_ref,
                      enrollment_status=enrollment_status, enroller_company_id=owner)
    return ImportPlan(plans, state, parsed.sha256, parsed.meta_keys)
