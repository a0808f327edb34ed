"""One enrollment decision: the form/operation path and the CSV import reach the same outcome.

The live path is what :func:`~portal.enrollments.operations.enroll_participant` (and the
enroll screen's preview) does: :func:`check_enroller`, then :func:`decide_enrollment` on the
campaign's facts. The CSV path is :func:`plan_rows` on a one-row file. For any campaign
(statuses, cap, budget, waitlist, company), group (age range, language requirement),
participant (new or known, enabled, already enrolled, company, year of birth, languages),
role and importer, both say the same: enroll, waitlist, already enrolled, or refuse.
No database: the facts are plain objects.
"""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from types import SimpleNamespace

from hypothesis import example, given, settings
from hypothesis import strategies as st

from portal.enrollments.csv.parse import parse_csv
from portal.enrollments.csv.plan import ALREADY, ENROLL, ERROR, WAITLIST, CampaignState, KnownParticipant, plan_rows
from portal.enrollments.operations import (
    ALREADY_ENROLLED,
    WAITLISTED,
    CampaignFacts,
    check_enroller,
    decide_enrollment,
)
from portal.errors import DomainError

THIS_YEAR = datetime.now(UTC).year
LANGUAGES = ["uk", "en", "ar", "no"]
CSV_OUTCOMES = {ENROLL: "enroll", WAITLIST: "waitlist", ALREADY: "already", ERROR: "refuse"}


def optional_int(low: int, high: int) -> st.SearchStrategy[int | None]:
    return st.none() | st.integers(low, high)


def mostly(value, *others):
    """``value`` about seven times in eight, so most examples get past the early checks."""
    return st.sampled_from([value] * 7 * len(others) + list(others))


languages = st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=3)
years = st.none() | st.integers(1930, THIS_YEAR)

campaigns = st.fixed_dictionaries({
    "status": mostly("active", "draft", "paused", "completed"),
    "program_status": mostly("active", "paused", "archived"),
    "template_status": mostly("active", "archived"),
    "company_id": st.sampled_from([1, 2]),
    "waitlist_enabled": st.booleans(),
    "max_enrollment": optional_int(0, 4),
    "enrolled_count": st.integers(0, 3),
    "seat_price": st.none() | st.none() | st.integers(0, 150),
    "budget_allocated": optional_int(0, 500),
})
groups = st.builds(SimpleNamespace, age_min=st.none() | st.none() | st.integers(0, 60),
                   age_max=st.none() | st.none() | st.integers(10, 100),
                   language_requirement=st.sampled_from(["any", "any", "any", "beginner", "conversational",
                                                         "fluent"]),
                   languages=languages)
participants = st.fixed_dictionaries({
    "known": st.booleans(),
    "is_enabled": st.sampled_from([True, True, True, False]),
    "already": mostly(None, "active", "waitlisted", "dropped"),
    "company_id": st.sampled_from([None, 1, 2]),
    "year_of_birth": years,
    "languages": languages,
    # What the file says about a known person (ignored: their stored facts count).
    "row_year_of_birth": years,
    "row_languages": languages,
})
ACTIVE_CAMPAIGN = dict(status="active", program_status="active", template_status="active", company_id=1,
                       waitlist_enabled=False, max_enrollment=None, enrolled_count=0, seat_price=None,
                       budget_allocated=None)


def live_outcome(campaign: dict, group, person: dict, role: str, importer: str) -> str:
    """What enroll_participant would do: who-enrolls-whom, then the decision on the campaign's facts."""
    actor = None if importer == "pm" else SimpleNamespace(is_program_manager=False, company_id=campaign["company_id"])
    company_id = person["company_id"] if person["known"] else (None if actor is None else actor.company_id)
    try:
        check_enroller(actor, role=role, participant_company_id=company_id)
    except DomainError:
        return "refuse"
    facts = CampaignFacts(group=group, **campaign)
    decision = decide_enrollment(
        facts, role=role, company_id=company_id,
        year_of_birth=person["year_of_birth"] if person["known"] else person["row_year_of_birth"],
        languages=person["languages"] if person["known"] else person["row_languages"],
        is_enabled=person["is_enabled"] if person["known"] else True,
        already_enrolled=person["known"] and person["already"] is not None)
    if decision.error is not None:
        return "already" if decision.code == ALREADY_ENROLLED else "refuse"
    return "waitlist" if decision.status == WAITLISTED else "enroll"


def csv_outcome(campaign: dict, group, person: dict, role: str, importer: str) -> str:
    """What the dry run says for a one-row file about the same person."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "display_name", "role", "year_of_birth", "languages"])
    writer.writerow(["person@example.org", "A Person", role, person["row_year_of_birth"] or "",
                     ";".join(person["row_languages"])])
    parsed = parse_csv(buffer.getvalue().encode())
    assert not parsed.rows[0].problems, parsed.rows[0].problems
    known = []
    if person["known"]:
        known = [KnownParticipant(7, "person@example.org", None, person["is_enabled"], person["company_id"],
                                  person["year_of_birth"], person["languages"])]
    state = CampaignState(campaign_id=1, waitlisted_count=0, **campaign)
    plans = plan_rows(parsed.rows, state=state, group=group, by_email={p.email: p for p in known}, by_ref={},
                      enrollment_status={7: person["already"]} if person["known"] and person["already"] else {},
                      enroller_company_id=None if importer == "pm" else campaign["company_id"])
    return CSV_OUTCOMES[plans[0].outcome]


@settings(max_examples=60, deadline=None)
@example(  # a known person's stored languages count, not the file's
    campaign=ACTIVE_CAMPAIGN, group=SimpleNamespace(age_min=None, age_max=None, language_requirement="fluent",
                                                    languages=["uk"]),
    person=dict(known=True, is_enabled=True, already=None, company_id=None, year_of_birth=None, languages=["en"],
                row_year_of_birth=None, row_languages=["uk"]),
    role="beneficiary", importer="pm")
@given(campaign=campaigns, group=groups, person=participants, role=st.sampled_from(["beneficiary", "volunteer"]),
       importer=st.sampled_from(["pm", "company_admin"]))
def test_the_form_path_and_the_csv_path_reach_the_same_outcome(campaign, group, person, role, importer):
    if importer == "company_admin" and person["known"]:
        # A company admin's file is matched only among its own employees (find_known_participants).
        person = dict(person, company_id=campaign["company_id"])
    assert csv_outcome(campaign, group, person, role, importer) == live_outcome(campaign, group, person, role,
                                                                                importer)


@settings(max_examples=30, deadline=None)
@example(campaign=dict(ACTIVE_CAMPAIGN, max_enrollment=2, enrolled_count=1),  # the second row finds no seat
         group=SimpleNamespace(age_min=None, age_max=None, language_requirement="any", languages=[]),
         rows=[(None, []), (None, []), (None, [])])
@given(campaign=campaigns, group=groups, rows=st.lists(st.tuples(years, languages), min_size=1, max_size=6))
def test_a_file_takes_seats_like_enrollments_one_after_another(campaign, group, rows):
    """Several new beneficiaries in a file: each row's outcome is the live decision after the
    rows above it took their seats."""
    lines = ["email,display_name,year_of_birth,languages"]
    lines += [f"p{i}@example.org,P{i},{year or ''},{';'.join(langs)}" for i, (year, langs) in enumerate(rows)]
    parsed = parse_csv(("\n".join(lines) + "\n").encode())
    plans = plan_rows(parsed.rows, state=CampaignState(campaign_id=1, waitlisted_count=0, **campaign), group=group,
                      by_email={}, by_ref={}, enrollment_status={})
    facts = CampaignFacts(group=group, **campaign)
    expected = []
    for year, langs in rows:
        decision = decide_enrollment(facts, role="beneficiary", year_of_birth=year, languages=langs, company_id=None)
        if decision.error is not None:
            expected.append("refuse")
        elif decision.status == WAITLISTED:
            expected.append("waitlist")
        else:
            expected.append("enroll")
            facts.enrolled_count += 1  # what move_counters does for the next enrollment
    assert [CSV_OUTCOMES[p.outcome] for p in plans] == expected
