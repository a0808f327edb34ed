"""The suggestion ranking (SPEC §2.8) on the three master templates' own ``matching``
defaults: golden orders and reasons, the load limit, and the rules that rule a volunteer out."""
from __future__ import annotations

import copy

import pytest

from portal.matches.suggestions import Person, match_limit, rank_volunteers
from tests.factories import master

YEAR = 2026


def matching(name: str, **changes) -> dict:
    settings = copy.deepcopy(master(name)["default_config"]["matching"])
    settings.update(changes)
    return settings


def ranked(beneficiary: Person, volunteers: list[Person], settings: dict) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.volunteer.label, s.reasons) for s in rank_volunteers(beneficiary, volunteers, settings,
                                                                       current_year=YEAR)]


# --- the limit ---------------------------------------------------------------------------
def test_limit_is_the_mentorship_setting_and_one_where_a_template_has_none():
    assert match_limit(matching("mentorship")) == 3
    assert match_limit(matching("language")) == 1
    assert match_limit(matching("buddy")) == 1
    assert match_limit(None) == 1
    assert match_limit({"maxMenteesPerMentor": True}) == 1  # not a number of mentees


def test_a_volunteer_without_a_free_slot_is_never_suggested():
    mentee = Person(1, "Mentee", languages=("uk",))
    full = Person(2, "Full", languages=("uk",), active_matches=3)
    free = Person(3, "Free", languages=("uk",), active_matches=2)
    suggestions = rank_volunteers(mentee, [full, free], matching("mentorship"), current_year=YEAR)
    assert [(s.volunteer.label, s.free_slots) for s in suggestions] == [("Free", 1)]
    buddy = rank_volunteers(mentee, [free], matching("buddy"), current_year=YEAR)
    assert buddy == []  # limit 1 in a buddy program: two active matches is already full


# --- mentorship ---------------------------------------------------------------------------
def test_mentorship_golden_ranking():
    mentee = Person(1, "Mentee", languages=("uk", "en"),
                    profile={"skills": ["Python", "sql"], "interests": ["design"], "industry": ["finance"]})
    ana = Person(10, "Ana", languages=("en",), profile={"skills": ["python"], "interests": ["Design"]})
    bo = Person(11, "Bo", languages=("uk", "en"), active_matches=1)
    cy = Person(12, "Cy", languages=("no",))
    settings = matching("mentorship", criteria={"skills": [], "interests": [], "languages": ["uk"], "industry": []})
    assert ranked(mentee, [cy, bo, ana], settings) == [
        ("Ana", ("Both speak English.", "Shared skills: python.", "Shared interests: design.")),
        ("Bo", ("Both speak English and Ukrainian; the matching criteria ask for Ukrainian.",)),
        ("Cy", ()),
    ]


def test_mentorship_criteria_lists_narrow_what_counts_and_location_reads_the_country():
    mentee = Person(1, "Mentee", languages=("uk",), profile={"skills": ["python", "excel"]})
    mentor = Person(2, "Mentor", languages=("uk",), country="NO", profile={"skills": ["python", "excel"]})
    settings = matching("mentorship", criteria={"skills": ["excel"], "interests": [], "languages": [],
                                                "industry": [], "location": "no"})
    [s] = rank_volunteers(mentee, [mentor], settings, current_year=YEAR)
    assert s.reasons == ("Both speak Ukrainian.", "Shared skills: excel.",
                         "Based in Norway, the location the matching criteria prefer.")
    assert s.score == pytest.approx(0.6)


def test_equal_scores_prefer_the_lighter_load_then_the_older_enrollment():
    mentee = Person(1, "Mentee", languages=("uk",))
    volunteers = [Person(9, "Late", ("uk",)), Person(5, "Busy", ("uk",), active_matches=2), Person(7, "Early", ("uk",))]
    assert [label for label, _ in ranked(mentee, volunteers, matching("mentorship"))] == ["Early", "Late", "Busy"]


# --- language practice ----------------------------------------------------------------------
def test_language_golden_ranking_uses_the_pairs_native_speakers_and_cefr_gap():
    learner = Person(1, "Learner", languages=("uk",), profile={"starting_cefr": "A2"})
    native = Person(10, "Native", languages=("en",), profile={"native_language": "en", "cefr": "C2"})
    near = Person(11, "Near", languages=("en", "uk"), profile={"cefr": "B1"})
    none = Person(12, "None", languages=("de",))
    assert ranked(learner, [none, near, native], matching("language")) == [
        ("Near", ("Speaks English, the language Ukrainian speakers practise in this campaign (uk → en).",
                  "Both speak Ukrainian, so they can explain things to each other.",
                  "CEFR levels A2 and B1 are within the allowed gap of 1.")),
        ("Native", ("Speaks English, the language Ukrainian speakers practise in this campaign (uk → en).",
                    "A native English speaker, as the campaign prefers.")),
        ("None", ()),
    ]
    [s] = rank_volunteers(learner, [native], matching("language"), current_year=YEAR)
    assert s.notes == ("CEFR levels A2 and C2 are further apart than the allowed gap of 1.",)


def test_language_without_recorded_levels_says_the_gap_was_not_checked():
    [s] = rank_volunteers(Person(1, "L", ("uk",)), [Person(2, "V", ("en",))], matching("language"), current_year=YEAR)
    assert s.notes == ("CEFR levels are not recorded for both: the proficiency gap was not checked.",)


# --- buddy -----------------------------------------------------------------------------------
def test_buddy_golden_ranking_with_weights_location_and_age():
    newcomer = Person(1, "Newcomer", languages=("uk", "en"), country="NO", year_of_birth=1990,
                      profile={"interests": ["hiking", "chess"]})
    close = Person(10, "Close", languages=("en",), country="NO", year_of_birth=1994, profile={"interests": ["hiking"]})
    far_age = Person(11, "Old", languages=("uk",), country="NO", year_of_birth=1960)  # 30 years apart > 15
    abroad = Person(12, "Abroad", languages=("uk",), country="SE", year_of_birth=1990)  # another country
    unknown = Person(13, "Unknown", languages=("uk",))
    suggestions = rank_volunteers(newcomer, [unknown, abroad, far_age, close], matching("buddy"), current_year=YEAR)
    assert [s.volunteer.label for s in suggestions] == ["Close", "Unknown"]
    best, other = suggestions
    assert best.reasons == (
        "Both live in Norway. The portal stores only the country, so the same region (the campaign's rule) "
        "could not be checked: confirm it before proposing.",
        "Born 4 years apart (at most 15 allowed).",
        "Both speak English.",
        "Shared interests: hiking.",
    )
    # location 0.3 / 2 + demographics 0.1 + language 0.2 + interests 0.4 × 1/2
    assert best.score == pytest.approx(0.65)
    assert other.reasons == ("Both speak Ukrainian.",)
    assert other.notes == ("A country is not recorded for both: the location rule (the same region) was not checked.",
                           "A year of birth is not recorded for both: the age difference was not checked.")


@pytest.mark.parametrize("rule,reason,score", [
    ("same_country", "Both live in Norway.", 0.3),
    ("any", "Any location suits this campaign.", 0.3),
])
def test_buddy_location_rules(rule, reason, score):
    a = Person(1, "A", country="NO")
    b = Person(2, "B", country="NO")
    [s] = rank_volunteers(a, [b], matching("buddy", location=rule), current_year=YEAR)
    assert s.reasons[0] == reason and s.score == pytest.approx(score)


def test_any_location_keeps_a_volunteer_from_another_country():
    a, b = Person(1, "A", country="NO"), Person(2, "B", country="SE")
    assert rank_volunteers(a, [b], matching("buddy", location="same_country"), current_year=YEAR) == []
    assert len(rank_volunteers(a, [b], matching("buddy", location="any"), current_year=YEAR)) == 1


def test_ranking_does_not_change_its_inputs():
    settings = matching("buddy")
    before = copy.deepcopy(settings)
    rank_volunteers(Person(1, "A", ("uk",)), [Person(2, "B", ("uk",))], settings, current_year=YEAR)
    assert settings == before
