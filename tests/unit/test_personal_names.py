"""Issue 13, item 15: a person's name in a group's free text is caught as a warning (never a
refusal), by one pure rule in portal.beneficiaries.privacy."""
from __future__ import annotations

import pytest

from portal.beneficiaries.operations import privacy_errors, privacy_warnings
from portal.beneficiaries.privacy import personal_name_warnings, personal_names
from tests.helpers import deadline


@pytest.mark.parametrize(("text", "names"), [
    ("Olena K.", ["Olena K."]),
    ("Support for Olena K. and her children", ["Olena K."]),
    ("Maria Hansen", ["Maria Hansen"]),
    ("Contact Maria Hansen on Mondays", ["Maria Hansen"]),
    ("Lars Kristiansen coordinates", ["Lars Kristiansen"]),  # a surname shape, any given name
    ("Hodan Warsame", ["Hodan Warsame"]),  # a known given name
    ("O. Kovalenko", ["O. Kovalenko"]),  # an initial and a surname
    ("Mr Hansen and Dr. Petrenko", ["Mr Hansen", "Dr. Petrenko"]),  # titles
    ("Ivan Petrenko and Anna Kowalska", ["Ivan Petrenko", "Anna Kowalska"]),
    ("Ольга Б.", ["Ольга Б."]),  # any script
])
def test_names_of_people_are_found(text, names):
    assert personal_names(text) == names


@pytest.mark.parametrize("text", [
    "Ukrainian Refugees", "Ukrainian refugees in Norway, 2026 cohort", "Oslo Municipality", "Red Cross",
    "Red Cross volunteers in Bergen", "Young Ukrainian Women", "Women in Tech Bergen", "Refugees in Sofia Municipality",
    "Group A. Women over 50", "Level B. learners", "Plan B.", "NGO Helse Vest", "Jobcenter Essen", "Chisinau Moldova",
    "Newcomers from Kharkiv and Lviv", "Maria, Hansen",  # a comma: not one name
    "Maria\nHansen",  # a line break: not one name
    "Saint Maria Hospital", "", None,
])
def test_plausible_non_names_stay_quiet(text):
    assert personal_names(text) == []
    assert personal_name_warnings(text) == []


def test_the_warning_names_the_phrase_and_gives_the_reason():
    [message] = personal_name_warnings("Newcomers helped by Olena K.")
    assert "“Olena K.”" in message and "person's name" in message and "population" in message
    [several] = personal_name_warnings("Maria Hansen and Olena K.")
    assert "“Maria Hansen”, “Olena K.”" in several and "people's names" in several


def test_a_name_is_a_warning_for_each_free_text_field_not_a_refusal():
    texts = {"name": "Olena K. group", "description": "Helped by Maria Hansen.", "tags": ["ukraine", "Lars Olsen"]}
    assert privacy_errors(**texts) == {}  # nothing refused...
    warnings = privacy_warnings(**texts)  # ...but each field is warned about
    assert set(warnings) == {"name", "description", "tags"}
    assert "“Olena K.”" in warnings["name"][0] and "“Maria Hansen”" in warnings["description"][0]
    assert "“Lars Olsen”" in warnings["tags"][0]
    assert privacy_warnings(name="Ukrainian refugees in Norway", description="Red Cross partners",
                            tags=["Oslo Municipality"]) == {}


def test_tags_are_not_read_across_each_other():
    assert privacy_warnings(tags=["Maria", "Hansen"]) == {}


def test_long_capitalised_text_never_hangs_the_check():
    """A guard against catastrophic backtracking (a hang), not a speed assertion."""
    text = "Red Cross Oslo Municipality " * 175  # just under the description limit, all capitalised
    with deadline(10):
        assert personal_names(text) == []
        assert personal_names(text[:-1] + " Olena K.") == ["Olena K."]
    assert personal_names("x" * 6000) == []  # over the limit: refused elsewhere, not read here
