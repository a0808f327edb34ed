"""Small cells in a sponsor's report (SPEC §2.11): a part resting on fewer than the cohort
minimum is withheld, and no total stands beside shown parts from which a withheld one could
be worked out by subtraction."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.disclosure import withheld_parts

COHORT = 10


def parts(*people: int) -> list[int]:
    return list(people)


def test_nothing_small_withholds_nothing():
    assert withheld_parts(parts(12, 40, 10), COHORT) == (set(), False)


def test_one_small_part_takes_the_next_smallest_with_it():
    # 3 alone would be total − 40 − 25 − 12: the 12 is withheld too, so only 3 + 12 = 15 shows.
    hidden, total_hidden = withheld_parts(parts(40, 3, 25, 12), COHORT)
    assert hidden == {1, 3} and total_hidden is False


def test_small_parts_that_add_up_to_the_cohort_need_no_more():
    assert withheld_parts(parts(6, 5, 30), COHORT) == ({0, 1}, False)


def test_a_small_total_is_withheld_with_its_parts():
    assert withheld_parts(parts(4, 3), COHORT) == ({0, 1}, True)
    assert withheld_parts(parts(7), COHORT) == ({0}, True)
    assert withheld_parts(parts(0), COHORT) == ({0}, True)


def test_parts_of_nobody_reveal_nothing_by_subtraction():
    assert withheld_parts(parts(0, 0, 25), COHORT) == ({0, 1}, False)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=1, max_size=8))
def test_subtraction_never_reveals_a_small_group(people):
    hidden, total_hidden = withheld_parts(parts(*people), COHORT)
    assert all(i in hidden for i, n in enumerate(people) if n < COHORT)  # every small part is withheld
    if total_hidden:
        return
    assert sum(people) >= COHORT
    revealed = sum(people[i] for i in hidden)  # what total − shown parts gives away
    assert revealed == 0 or revealed >= COHORT


def test_parts_that_share_people_say_how_many_the_whole_rests_on():
    # Rows by kind (sessions, milestones) share beneficiaries: 12 + 11 is not 23 people.
    assert withheld_parts([12, 11], COHORT, total_people=12) == (set(), False)
    assert withheld_parts([6, 5], COHORT, total_people=6) == ({0, 1}, True)
