"""Reading a delivery file (SPEC §2.9): the header's columns, every cell's string turned into
the typed value the delivery rules take, and a clear row message naming the column when it
does not parse. No database: plain functions."""
from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from portal.deliveries.csv.parse import ImportFileError, check_header, parse_csv, parse_date, parse_time
from portal.deliveries.csv.plan import derived_source_id
from portal.deliveries.operations import DeliveryValues

HEADER = "participant,kind,occurred_on,occurred_time,quantity,duration_minutes,attendance,source_id,metadata.rating"


def rows(*lines: str, header: str = HEADER):
    return parse_csv((header + "\n" + "\n".join(lines) + "\n").encode()).rows


def test_a_full_row_becomes_typed_values():
    (row,) = rows("olena@example.org,session_completed,2026-03-14,14:30,1.5,60,Present,s-1,5")
    assert (row.number, row.participant, row.kind) == (2, "olena@example.org", "session_completed")
    assert row.occurred_on == date(2026, 3, 14) and row.occurred_time == time(14, 30)
    assert row.quantity == Decimal("1.5") and row.duration_minutes == 60
    assert row.attendance == "present" and row.source_id == "s-1"
    assert row.meta == {"rating": 5} and row.problems == []


def test_optional_cells_may_stay_empty():
    (row,) = rows("P-ABCDEFG,goal_achieved,2026-03-14,,,,,,")
    assert row.occurred_time is None and row.quantity is None and row.duration_minutes is None
    assert row.attendance is None and row.source_id is None and row.meta == {} and row.problems == []


@pytest.mark.parametrize("cells,message", [
    ("a@x.org,session_completed,14/03/2026,,,,,,", "occurred_on '14/03/2026' is not a date written as YYYY-MM-DD"),
    ("a@x.org,session_completed,2026-3-14,,,,,,", "occurred_on '2026-3-14' is not a date written as YYYY-MM-DD"),
    ("a@x.org,session_completed,2026-02-30,,,,,,", "occurred_on '2026-02-30' is not a date"),
    ("a@x.org,session_completed,2026-03-14,25:00,,,,,", "occurred_time '25:00' is not a time such as 14:30"),
    ("a@x.org,session_completed,2026-03-14,2pm,,,,,", "occurred_time '2pm' is not a time"),
    ("a@x.org,session_completed,2026-03-14,,lots,,,,", "quantity 'lots' is not a number such as 1 or 2.5"),
    ("a@x.org,session_completed,2026-03-14,,NaN,,,,", "quantity 'NaN' is not a number"),
    ("a@x.org,session_completed,2026-03-14,,,1h,,,", "duration_minutes '1h' is not a whole number of minutes"),
    ("a@x.org,session_completed,2026-03-14,,,-5,,,", "duration_minutes '-5' is not a whole number of minutes"),
    (",session_completed,2026-03-14,,,,,,", "no participant"),
    ("a@x.org,,2026-03-14,,,,,,", "no kind"),
    ("a@x.org,session_completed,,,,,,,", "no occurred_on"),
    ("a@x.org,session_completed,2026-03-14", "the row has 3 values but the header has 9 columns"),
    ("a@x.org,session_completed,2026-03-14,,,,," + "x" * 101 + ",", "source_id is longer than 100 characters"),
])
def test_a_cell_that_does_not_parse_is_a_row_problem_naming_its_column(cells, message):
    (row,) = rows(cells)
    assert any(message in problem for problem in row.problems), row.problems


def test_every_problem_of_a_row_is_listed():
    (row,) = rows("a@x.org,session_completed,yesterday,noon,many,long,,,")
    assert len(row.problems) == 4


def test_rows_are_numbered_as_a_spreadsheet_shows_them():
    parsed = rows("a@x.org,k,2026-03-14,,,,,,", "", "b@x.org,k,2026-03-14,,,,,,")
    assert [r.number for r in parsed] == [2, 4]


def test_metadata_whole_numbers_become_numbers_and_other_text_stays_text():
    header = "participant,kind,occurred_on,metadata.rating,metadata.level,metadata.code"
    (row,) = rows("a@x.org,k,2026-03-14,5,B1,007", header=header)
    assert row.meta == {"rating": 5, "level": "B1", "code": "007"}


def test_formula_guards_from_our_exports_are_taken_off():
    (row,) = rows("'-mentor@x.org,k,2026-03-14,,,,,,")
    assert row.participant == "-mentor@x.org"


@pytest.mark.parametrize("content,needle", [
    (b"participant,kind,shoe_size\n", "Unknown column 'shoe_size'"),
    (b"participant,kind\n", "needs the column occurred_on"),
    (b"kind,occurred_on\n", "needs the column participant"),
    (b"participant,kind,occurred_on,Kind\n", "names the column 'Kind' twice"),
    (b"participant,kind,occurred_on,metadata.\n", "name the metadata key"),
    (b"", "The file is empty."),
])
def test_bad_headers_are_refused_before_any_job(content, needle):
    with pytest.raises(ImportFileError) as exc:
        check_header(content)
    assert needle in exc.value.message


def test_the_errors_files_own_columns_are_ignored_so_it_can_be_uploaded_again():
    parsed = parse_csv(b"row,reason,participant,kind,occurred_on\n2,bad,a@x.org,k,2026-03-14\n")
    assert parsed.rows[0].participant == "a@x.org" and parsed.rows[0].problems == []


def test_a_semicolon_file_from_excel_reads_the_same():
    (row,) = parse_csv(b"participant;kind;occurred_on;quantity\na@x.org;k;2026-03-14;2\n").rows
    assert row.quantity == Decimal(2) and row.problems == []


def test_dates_and_times_are_strict():
    assert parse_date("2026-03-14") == date(2026, 3, 14) and parse_time("09:05:30") == time(9, 5, 30)
    for bad in ("20260314", "2026-03-14T00:00", " 2026-03-14"):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_a_derived_source_id_depends_on_the_content_only():
    values = DeliveryValues("session_completed", date(2026, 3, 14), None, Decimal("1.000"), 60, "present", None,
                            {"rating": 5})
    same = DeliveryValues("session_completed", date(2026, 3, 14), None, Decimal("1.000"), 60, "present", None,
                          {"rating": 5})
    other = DeliveryValues("session_completed", date(2026, 3, 15), None, Decimal("1.000"), 60, "present", None,
                           {"rating": 5})
    assert derived_source_id(7, values) == derived_source_id(7, same)
    assert derived_source_id(7, values) != derived_source_id(7, other) != derived_source_id(8, values)
    assert derived_source_id(7, values).startswith("csv-") and len(derived_source_id(7, values)) <= 100
