
import pytest

from portal.beneficiaries.privacy import privacy_problems
from tests.helpers import deadline


@pytest.mark.parametrize("text", [
    "Contact olena.k@example.org for details",
    "Anna (anna+groups@mail.co.uk)",
])
def test_email_addresses_are_refused(text):
    assert any("e-mail" in p for p in privacy_problems(text))


@pytest.mark.parametrize("text", ["Call +47 912 34 567", "ring 0047 91234567", "tel. 912 34 567 or later",
                                  "(555) 123-4567 after six", "+380501234567"])
def test_phone_numbers_are_refused(text):
    assert any("phone" in p or "identity" in p for p in privacy_problems(text))


@pytest.mark.parametrize("text", ["born 12.03.1990", "DOB 1990-03-12", "birthday 3/12/1988", "born 12 March 1990"])
def test_full_dates_are_refused_as_possible_dates_of_birth(text):
    assert any("date" in p for p in privacy_problems(text))


@pytest.mark.parametrize("text", ["id 01019012345", "fnr 010190 12345", "SSN 123-45-6789", "ref 123456789"])
def test_national_id_like_digit_runs_are_refused(text):
    assert any("identity" in p for p in privacy_problems(text))


@pytest.mark.parametrize("text", [
    "2026 cohort", "Ukrainian refugees in Norway, ages 18-30", "Women in tech, Oslo", "B1 level, 3 sessions a week",
    "Spring 2025/26 intake", "Up to 250 learners", "Q1 2026", "Group 12, district 4", "March 2026 intake",
    "SDG 4 and 10", "",
])
def test_ordinary_text_with_numbers_is_accepted(text):
    assert privacy_problems(text) == []


def test_small_cohorts_are_suppressed():
    from portal.beneficiaries.privacy import cohort_figure

    assert cohort_figure(9, 10) == "fewer than 10"
    assert cohort_figure(0, 10) == "fewer than 10"
    assert cohort_figure(None, 10) == "fewer than 10"
    assert cohort_figure(10, 10) == "10"
    assert cohort_figure(1234, 5) == "1,234"


# --------------------------------------------------------------------------- linear time, length first


def adversarial(unit: str, length: int) -> str:
    return (unit * (length // len(unit) + 1))[:length]


# Each made the old backtracking patterns rescan the rest of the text from every position.
ADVERSARIAL_UNITS = ["1-", "1.", "1 ", "12-", "+1", "00", "a.", "a@", "a@a.", "_", "1", "a@a-", "١-"]


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_a_5000_character_adversarial_text_is_checked_quickly(unit):
    with deadline(2):
        privacy_problems(adversarial(unit, 5000))
        privacy_problems(adversarial(unit, 4998) + "@a")


@pytest.mark.parametrize("unit", ["1-", "a.", "_", "a@a-", "12-"])
def test_the_rules_run_in_linear_time(unit):
    """200,000 characters through every rule: seconds of work for a linear scan would be
    hours for the quadratic scans the rules used to make."""
    text = adversarial(unit, 200_000) + "@a"
    with deadline(5):
        privacy_problems(text, max_length=len(text))


@pytest.mark.parametrize(("field", "limit"), [("name", 255), ("description", 5000)])
def test_length_is_checked_before_any_pattern(field, limit):
    from portal.beneficiaries.operations import privacy_errors

    hostile = adversarial("_", 1_000_000) + "@a"
    with deadline(2):
        errors = privacy_errors(**{field: hostile})
    assert errors == {field: [f"Too long to check for personal data: use at most {limit:,} characters."]}
    assert privacy_errors(**{field: "x" * limit}) == {}


def test_each_tag_is_checked_against_the_tag_limit():
    from portal.beneficiaries.operations import privacy_errors

    with deadline(2):
        errors = privacy_errors(tags=["fine", adversarial("1-", 100_000)])
    assert errors == {"tags": ["Too long to check for personal data: use at most 50 characters."]}
    assert privacy_errors(tags=["refugees", "call +47 912 34 567"])["tags"][0].startswith("Remove the phone")


def test_a_long_description_through_the_group_rules_is_refused_promptly():
    from portal.beneficiaries.operations import group_field_errors

    fields = {"name": "Newcomers", "description": adversarial("a.", 500_000), "group_type": "refugees",
              "country": "NO", "region": None, "city": None, "languages": [], "language_requirement": "any",
              "eligible_categories": ["mentorship"], "age_min": None, "age_max": None, "active_from": None,
              "active_until": None, "tags": []}
    with deadline(2):
        errors = group_field_errors(fields)
    assert set(errors) == {"description"}


@pytest.mark.parametrize(("text", "word"), [
    ("id ١٠١٠١٩٠١٢٣٤٥", "identity"),  # Arabic-Indic digits are digits too
    ("ring +47\u00a0912\u00a034\u00a0567", "phone"),  # so are no-break spaces between them
    ("skriv til åse.øvrebø@eksempel.no", "e-mail"),
    ("born 12.03.1990", "date"),
])
def test_unicode_digits_spaces_and_letters_are_still_caught(text, word):
    assert any(word in p for p in privacy_problems(text))
