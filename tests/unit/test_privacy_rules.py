"""The pure rules of personal data rights (SPEC §2.12): legal basis, what erasure keeps and
scrubs, the typed confirmation, retention's month arithmetic."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from portal.errors import ValidationFailed
from portal.privacy.consent import clean_legal_basis
from portal.privacy.erasure import (
    ERASED_PARTICIPANT,
    ERASED_TEXT,
    ERASED_VOLUNTEER,
    confirmation_matches,
    erased_name,
    kept_metadata,
    mentions,
    scrub,
)
from portal.privacy.retention import add_months

TODAY = date(2026, 11, 30)


def test_a_missing_basis_is_legitimate_interest_and_carries_no_consent_date():
    assert clean_legal_basis(None, None, today=TODAY) == ("legitimate_interest", None)
    assert clean_legal_basis("contract", date(2026, 1, 1), today=TODAY) == ("contract", None)


@pytest.mark.parametrize("basis,given,field", [
    ("consent", None, "consent_given_on"), ("consent", "2026-01-01", "consent_given_on"),
    ("consent", date(2026, 12, 1), "consent_given_on"), ("gossip", None, "legal_basis"), (7, None, "legal_basis"),
])
def test_bad_legal_basis_input_is_a_field_error(basis, given, field):
    with pytest.raises(ValidationFailed) as refused:
        clean_legal_basis(basis, given, today=TODAY)
    assert field in refused.value.errors


def test_consent_keeps_its_date():
    assert clean_legal_basis("consent", date(2026, 11, 30), today=TODAY) == ("consent", date(2026, 11, 30))


def test_metadata_keeps_figures_and_drops_free_text():
    meta = {"starting_cefr": "a2", "rating": 5, "remote": True, "level": "B1", "referred_by": "Marianne",
            "tags": ["x"], "nested": {"a": 1}, "none": None}
    assert kept_metadata(meta) == {"starting_cefr": "a2", "rating": 5, "remote": True, "level": "B1", "none": None}
    assert kept_metadata("not a dict") == {}


def test_scrub_replaces_mentions_and_personal_keys_keeping_shapes():
    data = {"display_name": {"from": "Olena", "to": "Olena T."}, "email": {"changed": True}, "count": 3,
            "rows": [[2, "OLENA@example.org", "ok"]], "label": "session with olena@example.org", "kind": "session"}
    out = scrub(data, ["olena@example.org", "Olena T."], personal_keys=frozenset({"display_name", "email"}))
    assert out["display_name"] == {"from": ERASED_TEXT, "to": ERASED_TEXT}
    assert out["email"] == ERASED_TEXT
    assert out["rows"] == [[2, ERASED_TEXT, "ok"]] and out["label"] == ERASED_TEXT
    assert out["count"] == 3 and out["kind"] == "session"


def test_short_values_are_scrubbed_only_where_they_are_the_whole_text():
    assert mentions("Al", ["al"]) and not mentions("Also a campaign", ["Al"])
    assert mentions("Notes about Ann-Li", ["ann-li"])


def test_the_typed_confirmation_is_the_reference_or_erase():
    person = SimpleNamespace(ref="P-ABCD234")
    assert confirmation_matches(person, "ERASE") and confirmation_matches(person, " p-abcd234 ")
    assert not any(confirmation_matches(person, t) for t in ("", None, "erase", "P-ABCD23", "P-ABCD2345"))


def test_erased_names():
    assert erased_name(None, {"beneficiary"}) == ERASED_PARTICIPANT
    assert erased_name(None, set()) == ERASED_PARTICIPANT
    assert erased_name(None, {"volunteer"}) == ERASED_VOLUNTEER
    assert erased_name(3, {"beneficiary", "volunteer"}) == ERASED_VOLUNTEER


@pytest.mark.parametrize("day,months,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 11, 30), 2, date(2027, 1, 30)), (date(2026, 5, 15), 24, date(2028, 5, 15)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected
