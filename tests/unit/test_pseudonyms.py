"""Per-company pseudonyms (SPEC §2.5) and rounded shared figures (SPEC §2.11): pure rules."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.disclosure import rounded_count
from portal.enrollments.pseudonyms import ALPHABET, new_pseudonym_key, participant_id_for, pseudonym

KEY_A, KEY_B = "a" * 64, "b" * 64


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=2**35 - 1))
def test_a_reference_leads_back_to_its_participant_with_the_same_key_only(participant_id):
    ref = pseudonym(KEY_A, participant_id)
    assert ref.startswith("P-") and len(ref) == 9 and set(ref[2:]) <= set(ALPHABET)
    assert participant_id_for(KEY_A, ref) == participant_id
    assert participant_id_for(KEY_A, ref.lower()) == participant_id  # typed in lower case, with spaces
    assert participant_id_for(KEY_A, f"  {ref[2:]} ") == participant_id


def test_two_companies_see_unrelated_references():
    ids = range(1, 2001)
    a = [pseudonym(KEY_A, i) for i in ids]
    b = [pseudonym(KEY_B, i) for i in ids]
    assert len(set(a)) == len(a)  # a permutation: no two people share a reference
    assert sum(x == y for x, y in zip(a, b, strict=True)) == 0
    # consecutive ids do not give look-alike references (no counter showing through)
    assert sum(x[:5] == y[:5] for x, y in zip(a, a[1:], strict=False)) < 5
    # B's reference decoded with A's key points at somebody else (or nobody)
    assert all(participant_id_for(KEY_A, ref) != i for i, ref in zip(ids, b, strict=True))


def test_references_are_stable_and_keys_are_random():
    assert pseudonym(KEY_A, 42) == pseudonym(KEY_A, 42)
    assert new_pseudonym_key() != new_pseudonym_key() and len(new_pseudonym_key()) == 64


@pytest.mark.parametrize("text", ["", "P-", "P-ABC", "P-ABCDEFGH", "P-ABCDEF0", "P-ABCDEF1", "Olena", "%_", "P-ABCDEFO"])
def test_malformed_references_are_nobody(text):
    assert participant_id_for(KEY_A, text) is None


@pytest.mark.parametrize("count,shown", [(None, "fewer than 10"), (0, "fewer than 10"), (9, "fewer than 10"),
                                         (10, "about 10"), (14, "about 10"), (15, "about 20"), (24, "about 20"),
                                         (1234, "about 1,230"), (1235, "about 1,240")])
def test_shared_figures_are_rounded_to_ten_and_suppressed_below_the_cohort(count, shown):
    assert rounded_count(count, 10) == shown
