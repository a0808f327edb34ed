import pytest

from portal.beneficiaries.privacy import privacy_problems


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
