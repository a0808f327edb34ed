"""The participant field rules (portal.enrollments.participant_fields), and the three paths
that read a participant's fields — the participant form, the operation and the CSV import —
accepting and refusing the same years of birth and languages."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal import create_app
from portal.enrollments.csv.parse import parse_csv
from portal.enrollments.forms import ParticipantForm
from portal.enrollments.operations import clean_participant_fields
from portal.enrollments.participant_fields import (
    FieldProblem,
    clean_country,
    clean_display_name,
    clean_email,
    clean_external_ref,
    clean_languages,
    clean_year_of_birth,
    parse_languages,
    year_of_birth_bounds,
)
from portal.errors import ValidationFailed

THIS_YEAR = datetime.now(UTC).year


# --- the rules --------------------------------------------------------------------
def test_a_display_name_has_1_to_255_characters_once_stripped():
    assert clean_display_name("  Olena  ") == "Olena"
    assert clean_display_name("x" * 255) == "x" * 255
    for bad in ("", "   ", None, "x" * 256):
        with pytest.raises(FieldProblem, match="Enter a name of 1 to 255 characters"):
            clean_display_name(bad)


def test_an_email_is_normalised_and_blank_is_none():
    assert clean_email(" Olena@Example.ORG ") == "olena@example.org"
    assert clean_email("") is None and clean_email(None) is None
    with pytest.raises(FieldProblem):
        clean_email("not-an-email")


def test_a_year_of_birth_runs_from_1900_to_this_year():
    assert year_of_birth_bounds() == (1900, THIS_YEAR)
    assert clean_year_of_birth(1900) == 1900 and clean_year_of_birth(THIS_YEAR) == THIS_YEAR
    assert clean_year_of_birth(" 1990 ") == 1990
    assert clean_year_of_birth(None) is None and clean_year_of_birth("  ") is None
    for bad in (1899, THIS_YEAR + 1, 2100, "19x0", "1990.0", True):
        with pytest.raises(FieldProblem, match="Enter a year between 1900 and this year"):
            clean_year_of_birth(bad)
    assert clean_year_of_birth(2030, today_year=2030) == 2030


@pytest.mark.parametrize("text,codes", [
    ("uk;en", ["uk", "en"]),
    ("uk, en", ["uk", "en"]),
    ("UK; en;uk", ["uk", "en"]),
    ("Ukrainian, English", ["uk", "en"]),
    ("uk,,;en ;", ["uk", "en"]),
    (["UK", "en", "uk"], ["uk", "en"]),
    ("", []),
    (None, []),
    ("uk, klingon", ["uk", "klingon"]),  # kept, for clean_languages to name
])
def test_languages_are_read_the_same_way_from_any_text(text, codes):
    assert parse_languages(text) == codes


def test_languages_must_be_iso_639_1_codes_and_each_unknown_one_is_named():
    assert clean_languages("uk; English") == ["uk", "en"]
    with pytest.raises(FieldProblem) as exc:
        clean_languages("xx, uk, klingon")
    assert exc.value.messages == ["'xx' is not an ISO 639-1 language code.",
                                  "'klingon' is not an ISO 639-1 language code."]


def test_a_country_is_an_iso_3166_alpha_2_code_in_any_case():
    assert clean_country(" no ") == "NO" and clean_country("") is None
    with pytest.raises(FieldProblem, match="'ZZ' is not an ISO 3166-1"):
        clean_country("zz")


def test_an_external_reference_has_at_most_100_characters():
    assert clean_external_ref(" kintell:8812 ") == "kintell:8812" and clean_external_ref("") is None
    with pytest.raises(FieldProblem, match="at most 100"):
        clean_external_ref("x" * 101)


def test_the_operation_reports_every_field_problem_at_once():
    with pytest.raises(ValidationFailed) as exc:
        clean_participant_fields({"display_name": "", "year_of_birth": 1800, "languages": ["xx"], "country": "ZZ"})
    assert set(exc.value.errors) == {"display_name", "year_of_birth", "languages", "country"}


# --- form, operation and CSV agree ----------------------------------------------------
@pytest.fixture(scope="module")
def flask_app():
    return create_app("testing")


def form_path(app, *, year: str = "", langs: str = "") -> tuple[bool, object, bool, object]:
    """The participant form as the edit screen runs it: the form checks the year; its
    languages go on, parsed, to the operation (update_participant → clean_participant_fields)."""
    data = {"display_name": "A", "year_of_birth": year, "languages": langs}
    with app.test_request_context(method="POST", data=data):
        form = ParticipantForm(meta={"csrf": False}, companies=[])
        form.validate()
        year_ok, year_value = not form.year_of_birth.errors, form.year_of_birth.data
        parsed_languages = form.values()["languages"]
    langs_ok, langs_value = _operation_field({"display_name": "A", "languages": parsed_languages}, "languages")
    return year_ok, year_value, langs_ok, langs_value


def _operation_field(values: dict, name: str) -> tuple[bool, object]:
    try:
        return True, clean_participant_fields(values)[name]
    except ValidationFailed as exc:
        return name not in exc.errors, None


def operation_path(*, year: str = "", langs: str = "") -> tuple[bool, object, bool, object]:
    return (*_operation_field({"display_name": "A", "year_of_birth": year}, "year_of_birth"),
            *_operation_field({"display_name": "A", "languages": langs}, "languages"))


def csv_path(*, year: str = "", langs: str = "") -> tuple[bool, object, bool, object]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([["external_ref", "display_name", "year_of_birth", "languages"], ["r-1", "A", year, langs]])
    row = parse_csv(buffer.getvalue().encode()).rows[0]
    year_ok = not any(p.startswith("year_of_birth") for p in row.problems)
    langs_ok = not any(p.startswith("languages") for p in row.problems)
    return year_ok, row.year_of_birth if year_ok else None, langs_ok, row.languages if langs_ok else None


def agree(app, *, year: str = "", langs: str = "") -> tuple[bool, bool]:
    form = form_path(app, year=year, langs=langs)
    if not form[0]:
        form = (False, None, *form[2:])  # a refused field's value is not used
    operation, from_csv = operation_path(year=year, langs=langs), csv_path(year=year, langs=langs)
    assert form == operation == from_csv, (year, langs)
    return form[0], form[2]


@pytest.mark.parametrize("year,accepted", [
    ("1899", False), ("1900", True), ("1990", True), (str(THIS_YEAR), True), (str(THIS_YEAR + 1), False),
    ("2100", False), ("19x0", False), ("soon", False), ("-5", False), ("1990.0", False), ("+1990", True),
    (" 1990 ", True), ("", True), ("１９９０", True),
])
def test_the_form_the_operation_and_the_csv_take_the_same_years(flask_app, year, accepted):
    assert agree(flask_app, year=year)[0] is accepted


@pytest.mark.parametrize("langs,accepted", [
    ("uk;en", True), ("uk, en", True), ("UK; en;uk", True), ("Ukrainian, English", True), ("", True),
    (";", True), ("uk, klingon", False), ("xx", False), ("english;xx", False),
])
def test_the_form_the_operation_and_the_csv_take_the_same_languages(flask_app, langs, accepted):
    assert agree(flask_app, langs=langs)[1] is accepted


@settings(max_examples=40, deadline=None)
@given(year=st.integers(1850, 2150).map(str) | st.text(alphabet="0123456789x+- ", max_size=6),
       langs=st.lists(st.sampled_from(["uk", "EN", "en", "English", "Ukrainian", "xx", "klingon", " ", ""]),
                      max_size=4).flatmap(lambda parts: st.sampled_from([";", ",", "; ", ", "]).map(
                          lambda sep: sep.join(parts))))
def test_any_year_and_languages_text_gets_one_answer_on_every_path(flask_app, year, langs):
    agree(flask_app, year=year, langs=langs)


def test_the_form_shows_this_year_as_the_inputs_maximum(flask_app):
    with flask_app.test_request_context():
        html = ParticipantForm(meta={"csrf": False}, companies=[]).year_of_birth()
    assert 'min="1900"' in html and f'max="{THIS_YEAR}"' in html
