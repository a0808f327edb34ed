"""The pure parts of the CSV import (portal.enrollments.csv): parsing every row with plain code, and planning
outcomes (matching, duplicates, eligibility, capacity) without a database."""
from types import SimpleNamespace

import pytest

from portal.csv_files import csv_line, neutralise
from portal.csv_import.plan import state_fingerprint
from portal.enrollments.csv.parse import ImportFileError, parse_csv
from portal.enrollments.csv.plan import (
    ALREADY,
    ENROLL,
    ERROR,
    OUTCOMES,
    WAITLIST,
    CampaignState,
    ImportPlan,
    KnownParticipant,
    plan_rows,
)


def parse(text: str, **kw):
    return parse_csv(text.encode("utf-8"), **kw)


def state(**kw):
    base = dict(campaign_id=1, company_id=10, status="active", program_status="active", template_status="active",
                enrolled_count=0, waitlisted_count=0, max_enrollment=None, waitlist_enabled=False, seat_price=None,
                budget_allocated=None)
    base.update(kw)
    return CampaignState(**base)


def group(**kw):
    base = dict(age_min=None, age_max=None, languages=["uk", "en"], language_requirement="any")
    base.update(kw)
    return SimpleNamespace(**base)


def person(pid, email=None, ref=None, enabled=True, company_id=None, year=None, langs=()):
    return KnownParticipant(pid, email, ref, enabled, company_id, year, list(langs))


def plan(text, *, st=None, grp=None, people=(), enrolled=None):
    parsed = parse(text)
    by_email = {p.email: p for p in people if p.email}
    by_ref = {p.external_ref: p for p in people if p.external_ref}
    rows = plan_rows(parsed.rows, state=st or state(), group=grp or group(), by_email=by_email, by_ref=by_ref,
                     enrollment_status=enrolled or {}, today_year=2026)
    return ImportPlan(rows, st or state(), parsed.sha256)


# --- file-level checks ------------------------------------------------------------
@pytest.mark.parametrize("data,needle", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    ("email,display_name\nolena@example.org,Olena\n".encode("utf-16"), "not UTF-8"),
    (b"email,display_name\n\"olena@example.org,Olena\n", "not valid CSV"),
    (b"email,display_name\n", "no data rows"),
    (b"email,nickname,shoe_size\na@example.org,x,42\n", "'nickname', 'shoe_size'"),
    (b"display_name,role\nOlena,beneficiary\n", "email or an external_ref"),
    (b"email,email\na@example.org,b@example.org\n", "twice"),
    (b"email,,display_name\na@example.org,,A\n", "no name"),
    (b"email,metadata.\na@example.org,x\n", "metadata key"),
    (b"email\x00,display_name\n", "NUL"),
])
def test_file_level_problems_are_clear_errors(data, needle):
    with pytest.raises(ImportFileError) as exc:
        parse_csv(data)
    assert needle in exc.value.message


def test_too_many_rows_is_a_file_error():
    text = "email\n" + "".join(f"p{i}@example.org\n" for i in range(6))
    assert len(parse(text, max_rows=6).rows) == 6
    with pytest.raises(ImportFileError, match="more than 5 data rows"):
        parse(text, max_rows=5)


def test_a_utf8_bom_and_crlf_line_ends_are_accepted():
    parsed = parse_csv("\ufeffemail,display_name\r\nOLENA@Example.org,Олена\r\n".encode())
    assert parsed.rows[0].email == "olena@example.org"
    assert parsed.rows[0].display_name == "Олена"
    assert parsed.columns == ["email", "display_name"]


def test_semicolon_separated_files_from_excel_are_read():
    parsed = parse('email;display_name;languages\na@example.org;A;"uk;en"\n')
    assert parsed.rows[0].languages == ["uk", "en"]


def test_header_names_are_case_insensitive_and_export_columns_are_ignored():
    parsed = parse("Email,Display_Name,status,enrolled_at\na@example.org,A,active,2026-01-01\n")
    assert parsed.rows[0].display_name == "A" and not parsed.rows[0].problems


# --- row parsing ------------------------------------------------------------------
def test_every_column_is_parsed():
    parsed = parse("email,external_ref,display_name,role,year_of_birth,languages,country,source_id,"
                   "metadata.starting_cefr,metadata.referred_by\n"
                   " Olena@Example.org ,kintell:1,Olena,Volunteer,1990,UK; en;uk,no,src-1,A2,\n")
    row = parsed.rows[0]
    assert (row.email, row.external_ref, row.display_name, row.role) == ("olena@example.org", "kintell:1", "Olena",
                                                                          "volunteer")
    assert (row.year_of_birth, row.languages, row.country, row.source_id) == (1990, ["uk", "en"], "NO", "src-1")
    assert row.meta == {"starting_cefr": "A2"}  # empty metadata cells are left out
    assert parsed.meta_keys == ["starting_cefr", "referred_by"]
    assert row.role == "volunteer" and not row.problems


def test_role_defaults_to_beneficiary():
    assert parse("email\na@example.org\n").rows[0].role == "beneficiary"


@pytest.mark.parametrize("cells,needle", [
    ("not-an-email,,A,,,,", "email 'not-an-email'"),
    ("a@example.org,,A,mentor,,,", "role 'mentor' is unknown"),
    ("a@example.org,,A,,19x0,,", "year_of_birth '19x0'"),
    ("a@example.org,,A,,1850,,", "year_of_birth '1850'"),
    ("a@example.org,,A,,2999,,", "year_of_birth '2999'"),
    ("a@example.org,,A,,,xx;en,", "'xx' is not an ISO 639-1"),
    ("a@example.org,,A,,,,ZZ", "'ZZ' is not an ISO 3166-1"),
    (",,A,,,,", "no email or external_ref"),
    ("a@example.org,," + "x" * 256 + ",,,,", "display_name is longer than 255"),
    ("a@example.org,,A", "the row has 3 values but the header has 7 columns"),
])
def test_row_problems_are_collected_with_a_reason(cells, needle):
    parsed = parse("email,external_ref,display_name,role,year_of_birth,languages,country\n" + cells + "\n")
    assert any(needle in p for p in parsed.rows[0].problems), parsed.rows[0].problems


def test_row_numbers_are_spreadsheet_rows_and_blank_lines_are_skipped():
    parsed = parse("email\na@example.org\n\n,\nb@example.org\n\"c@example.org\"\n")
    assert [r.number for r in parsed.rows] == [2, 5, 6]


def test_our_export_escape_is_undone_on_import():
    parsed = parse("email,display_name,metadata.note\na@example.org,'=SUM(A1),'-5\n")
    assert parsed.rows[0].display_name == "=SUM(A1)" and parsed.rows[0].meta == {"note": "-5"}


# --- planning ---------------------------------------------------------------------
def test_new_participants_need_a_display_name():
    p = plan("email,display_name\na@example.org,A\nb@example.org,\n")
    assert [(r.outcome, r.reason) for r in p.rows] == [(ENROLL, "new participant"),
                                                       (ERROR, "a new participant needs a display_name")]


def test_existing_participants_match_by_email_then_external_ref():
    olena = person(1, "olena@example.org", "k:1")
    p = plan("email,external_ref\nOLENA@example.org,\n,k:1\n", people=[olena])
    assert p.rows[0].participant_id == 1
    assert p.rows[1].outcome == ERROR and "duplicate of row 2 (same participant)" in p.rows[1].reason


def test_duplicates_inside_the_file_are_errors_naming_the_first_row():
    p = plan("email,external_ref,display_name\na@example.org,r1,A\nA@example.org,r2,A\nb@example.org,r1,B\n")
    assert p.rows[0].outcome == ENROLL
    assert p.rows[1].reason == "duplicate of row 2 (same email)"
    assert p.rows[2].reason == "duplicate of row 2 (same external_ref)"


def test_email_and_external_ref_of_two_different_people_is_ambiguous_never_a_fan_out():
    p = plan("email,external_ref\na@example.org,k:2\n", people=[person(1, "a@example.org"), person(2, None, "k:2")])
    assert p.rows[0].outcome == ERROR and p.rows[0].reason.startswith("ambiguous")
    assert p.rows[0].participant_id is None


def test_conflicting_identity_is_an_error():
    p = plan("email,external_ref\na@example.org,k:9\n", people=[person(1, "a@example.org", "k:1")])
    assert p.rows[0].outcome == ERROR and p.rows[0].reason.startswith("conflict")


def test_a_deactivated_participant_is_an_error_not_a_silent_link():
    p = plan("email\na@example.org\n", people=[person(1, "a@example.org", enabled=False)])
    assert (p.rows[0].outcome, p.rows[0].reason) == (ERROR, "participant is deactivated")


def test_already_enrolled_is_an_outcome_not_an_error():
    p = plan("email\na@example.org\n", people=[person(1, "a@example.org")], enrolled={1: "dropped"})
    assert (p.rows[0].outcome, p.rows[0].reason) == (ALREADY, "already in this campaign (dropped)")
    assert not p.has_errors


def test_volunteers_are_uncapped_but_must_not_belong_to_another_company():
    people = [person(1, "own@example.org", company_id=10), person(2, "other@example.org", company_id=99)]
    p = plan("email,role\nown@example.org,volunteer\nother@example.org,volunteer\n", st=state(max_enrollment=0),
             people=people)
    assert [r.outcome for r in p.rows] == [ENROLL, ERROR]
    assert p.rows[1].reason == "volunteer belongs to another company"


def test_beneficiaries_are_checked_for_eligibility_with_the_shared_rule():
    p = plan("email,display_name,year_of_birth,languages\na@example.org,A,2015,uk\nb@example.org,B,1990,ar\n",
             grp=group(age_min=18, language_requirement="B1"))
    assert p.rows[0].outcome == ERROR and "below the group's minimum" in p.rows[0].reason
    assert p.rows[1].outcome == ERROR and "No shared working language" in p.rows[1].reason


def test_capacity_is_simulated_in_file_order_then_waitlist():
    text = "email,display_name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(5))
    p = plan(text, st=state(max_enrollment=3, enrolled_count=1, waitlist_enabled=True))
    assert [r.outcome for r in p.rows] == [ENROLL, ENROLL, WAITLIST, WAITLIST, WAITLIST]


def test_capacity_without_waitlist_is_campaign_full():
    text = "email,display_name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(3))
    p = plan(text, st=state(max_enrollment=2))
    assert [r.outcome for r in p.rows] == [ENROLL, ENROLL, ERROR]
    assert p.rows[2].reason.startswith("campaign full")


def test_the_budget_limits_seats_like_the_cap():
    text = "email,display_name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(3))
    p = plan(text, st=state(seat_price=100, budget_allocated=250, waitlist_enabled=True))
    assert [r.outcome for r in p.rows] == [ENROLL, ENROLL, WAITLIST]


@pytest.mark.parametrize("kw", [dict(status="paused"), dict(program_status="completed"),
                                dict(template_status="archived")])
def test_a_campaign_not_accepting_enrollments_makes_every_row_an_error(kw):
    p = plan("email,display_name\na@example.org,A\nb@example.org,B\n", people=[person(1, "b@example.org")],
             enrolled={1: "active"}, st=state(**kw))
    assert all(r.outcome == ERROR and r.reason.startswith("campaign is not accepting enrollments") for r in p.rows)


def test_counts_per_outcome_add_up_to_the_rows():
    people = [person(1, "old@example.org"), person(2, "gone@example.org", enabled=False)]
    text = ("email,display_name,role\nold@example.org,,\ngone@example.org,,\nnew@example.org,N,\nbad,X,\n"
            "v@example.org,V,volunteer\nw@example.org,W,\n")
    p = plan(text, st=state(max_enrollment=1, waitlist_enabled=True), people=people, enrolled={1: "active"})
    counts = p.counts
    assert set(counts) == set(OUTCOMES)
    assert counts == {ENROLL: 2, WAITLIST: 1, ALREADY: 1, ERROR: 2}
    assert sum(counts.values()) == p.total == 6


def test_the_digest_changes_when_an_outcome_does():
    text = "email,display_name\na@example.org,A\nb@example.org,B\n"
    free, full = plan(text, st=state(max_enrollment=5, waitlist_enabled=True)), \
        plan(text, st=state(max_enrollment=1, waitlist_enabled=True))
    assert free.digest == plan(text, st=state(max_enrollment=5, waitlist_enabled=True)).digest
    assert free.digest != full.digest
    assert state_fingerprint(state()) != state_fingerprint(state(enrolled_count=1))


def test_shown_rows_are_the_first_ones_plus_every_later_error():
    text = "email,display_name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(300)) + "bad,X\n"
    p = plan(text)
    shown = p.shown_rows(200)
    assert len(shown) == 201 and shown[-1].number == 302 and shown[-1].outcome == ERROR


# --- export cells -----------------------------------------------------------------
@pytest.mark.parametrize("value,expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM", "'@SUM"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Olena", "Olena"), (None, ""), (1990, "1990"),
])
def test_formula_like_cells_get_an_apostrophe(value, expected):
    assert neutralise(value) == expected


def test_csv_lines_quote_separators():
    assert csv_line(["a,b", "=1", "x\"y"]) == '"a,b",\'=1,"x""y"\r\n'


def test_bulk_refs_use_the_participant_ref_alphabet():
    from portal.enrollments.models import _REF_ALPHABET, new_participant_ref

    # _fresh_refs maps random bytes onto the alphabet with "& 31": it must have exactly 32 characters.
    assert len(_REF_ALPHABET) == 32 == len(set(_REF_ALPHABET))
    assert new_participant_ref().startswith("P-") and len(new_participant_ref()) == 9


@pytest.mark.parametrize("raw", [
    "Olena.Shevchenko@Example.ORG", "o'brien+tag@example.org", "a..b@example.org", ".a@example.org", "a.@example.org",
    "x" * 64 + "@example.org", "x" * 65 + "@example.org", "\"quoted local\"@example.org", "a@b@example.org",
    "ünïcode@example.org", "a b@example.org", "@example.org", "a@", "a@localhost", "a@example", "a@-bad.org",
    "a@xn--80ak6aa92e.com", "a@пример.рф", "y" * 60 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 63 + ".org",
    "a@EXAMPLE.org", "a@example.org.", "a@sub.example.org",
])
def test_the_file_email_normalizer_agrees_with_normalize_email(raw):
    from portal.auth.operations import normalize_email
    from portal.enrollments.csv.parse import EmailNormalizer
    from portal.errors import DomainError

    def outcome(fn):
        try:
            return fn(raw)
        except DomainError:
            return "refused"

    normalizer = EmailNormalizer()
    domain = raw.rpartition("@")[2]
    try:  # warm the domain cache with an ordinary address on the same domain
        normalizer("warm@" + domain)
    except DomainError:
        pass
    assert outcome(normalizer) == outcome(normalize_email)
