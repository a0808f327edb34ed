"""CSV import and export through the screens (SPEC §4 "CSV import of enrollments", §7)."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import Company
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.operations import enroll_participant
from portal.enrollments.privacy import company_reference
from portal.jobs.models import StoredFile
from tests.conftest import count_rows
from tests.helpers import csrf_token, export_through_job

CONFIRM = re.compile(r'action="(/campaigns/\d+/import/([A-Za-z0-9_-]{43})/confirm)"')
ERRORS = re.compile(r'href="(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/errors\.csv)"')


@pytest.fixture
def program(make):
    return make.program(group=make.group(age_min=16, age_max=80, languages=["uk", "en"]))


@pytest.fixture
def camp(make, tenants, program):
    return make.campaign(tenants["company_a"], program, name="Alpha Language Run")


def upload(client, campaign_id, content, *, filename="people.csv", headers=None, follow=True):
    """Upload a file; by default follow the dry-run job (inline in the tests) to the page it leads to."""
    token = csrf_token(client, f"/campaigns/{campaign_id}/import")
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(f"/campaigns/{campaign_id}/import", headers=headers or {},
                       data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data", follow_redirects=follow)


def confirm(client, response, *, follow=True):
    match = CONFIRM.search(response.get_data(as_text=True))
    assert match, "no Confirm button"
    token = csrf_token(client, f"/campaigns/{match.group(1).split('/')[2]}/import")
    return client.post(match.group(1), data={"csrf_token": token}, follow_redirects=follow)


def confirm_url(response) -> str:
    html = response.get_data(as_text=True)
    match = re.search(r"/campaigns/\d+/import/([A-Za-z0-9_-]{43})/", html)
    assert match
    return match.group(0) + "confirm"


def people_csv(n, *, start=0, extra="", header="email,display_name,year_of_birth,languages"):
    return header + "\n" + "".join(f"person{i}@example.org,Person {i},1990,uk{extra}\n" for i in range(start, start + n))


def counters(app, campaign_id):
    with app.app_context():
        c = db.session.get(Campaign, campaign_id)
        return c.enrolled_count, c.waitlisted_count


def outcome_rows(response):
    """(row, outcome, reason) for every row of the dry-run table."""
    html = response.get_data(as_text=True)
    return [(int(n), outcome, reason) for n, outcome, reason in re.findall(
        r"<tr>\s*<td[^>]*>(\d+)</td>.*?<span class=\"badge[^\"]*\">([^<]+)</span></td>\s*<td[^>]*>([^<]*)</td>", html, re.S)]


def imported(app):
    return count_rows(app, Enrollment), count_rows(app, Participant)


# --- file-level problems ----------------------------------------------------------
@pytest.mark.parametrize("content,needle", [
    (b"", "The file is empty."),
    ("email,display_name\nolena@example.org,Olena\n".encode("utf-16"), "not UTF-8"),
    (b'email,display_name\n"olena@example.org,Olena\n', "not valid CSV"),
    (b"email,shoe_size,nickname\na@example.org,42,x\n", "Unknown columns &#39;shoe_size&#39;, &#39;nickname&#39;"),
    (b"display_name,role\nOlena,beneficiary\n", "needs an email or an external_ref column"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
])
def test_unreadable_files_get_a_clear_error_and_nothing_is_saved(app, pm_client, camp, content, needle):
    before = imported(app)
    response = upload(pm_client, camp.id, content)
    assert response.status_code == 422
    assert needle in response.get_data(as_text=True)
    assert "Confirm" not in response.get_data(as_text=True)
    assert imported(app) == before


def test_a_missing_file_is_a_field_error(pm_client, camp):
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/import")
    response = pm_client.post(f"/campaigns/{camp.id}/import", data={"csrf_token": token})
    assert response.status_code == 422 and "Choose a CSV file" in response.get_data(as_text=True)


def test_more_rows_than_the_configured_limit_is_refused(app, pm_client, camp):
    app.config["PORTAL_IMPORT_MAX_ROWS"] = 5
    response = upload(pm_client, camp.id, people_csv(6))
    assert response.status_code == 422 and "more than 5 data rows" in response.get_data(as_text=True)


def test_a_file_over_the_size_limit_is_refused(app, pm_client, camp):
    app.config["PORTAL_IMPORT_MAX_BYTES"] = 1024
    response = upload(pm_client, camp.id, people_csv(100))
    assert response.status_code == 422 and "The file is larger than 1 KB." in response.get_data(as_text=True)


def test_the_upload_page_has_the_progress_form(pm_client, camp):
    html = pm_client.get(f"/campaigns/{camp.id}/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and "hx-post=" in html and 'hx-indicator="#import-progress"' in html
    assert "<progress" in html and "/static/import.js" in html and "<script>" not in html
    assert "the header is row 1" not in html  # explained with the dry run


def test_an_htmx_upload_goes_to_the_job_page_which_leads_to_the_dry_run_fragment(pm_client, camp):
    hx = {"HX-Request": "true"}
    response = upload(pm_client, camp.id, people_csv(2), headers=hx, follow=False)
    assert response.status_code == 200 and re.fullmatch(r"/jobs/\d+", response.headers["HX-Redirect"])
    done = pm_client.get(response.headers["HX-Redirect"], headers=hx)  # the job ran (inline in the tests)
    dry_run_url = done.headers["HX-Redirect"]
    assert re.fullmatch(rf"/campaigns/{camp.id}/import/[A-Za-z0-9_-]{{43}}/", dry_run_url)
    fragment = pm_client.get(dry_run_url, headers=hx)
    html = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and html.lstrip().startswith('<div id="import">')
    assert "<html" not in html and "HX-Request" in fragment.headers["Vary"] and CONFIRM.search(html)


# --- row outcomes -----------------------------------------------------------------
def test_bad_rows_are_listed_with_their_row_numbers_and_reasons(app, pm_client, make, camp):
    make.participant(display_name="Gone", email="gone@example.org", is_enabled=False)
    make.participant(display_name="Mail Person", email="mail@example.org")
    make.participant(display_name="Ref Person", external_ref="kintell:7")
    content = ("email,external_ref,display_name,role,year_of_birth,languages,country\n"
               "good@example.org,,Good,,1990,uk,UA\n"         # 2
               "not-an-email,,Bad Mail,,,,\n"                  # 3
               "r@example.org,,Role,mentor,,,\n"               # 4
               "y@example.org,,Year,,19x0,,\n"                 # 5
               "l@example.org,,Lang,,,xx,\n"                   # 6
               "c@example.org,,Country,,,,ZZ\n"                # 7
               "GOOD@example.org,,Again,,,,\n"                 # 8
               "mail@example.org,kintell:7,Both,,,,\n"         # 9
               "gone@example.org,,Gone,,,,\n"                  # 10
               "new@example.org,,,,,,\n")                      # 11
    before = imported(app)
    response = upload(pm_client, camp.id, content)
    assert response.status_code == 422
    rows = {n: (outcome, reason) for n, outcome, reason in outcome_rows(response)}
    assert rows[2][0] == "will enroll"
    assert rows[3][0] == "error" and "email &#39;not-an-email&#39;" in rows[3][1]
    assert "role &#39;mentor&#39; is unknown" in rows[4][1]
    assert "year_of_birth &#39;19x0&#39;" in rows[5][1]
    assert "ISO 639-1" in rows[6][1] and "ISO 3166-1" in rows[7][1]
    assert rows[8] == ("error", "duplicate of row 2 (same email)")
    assert rows[9][0] == "error" and rows[9][1].startswith("ambiguous")
    assert rows[10] == ("error", "participant is deactivated")
    assert rows[11] == ("error", "a new participant needs a display_name")
    html = response.get_data(as_text=True)
    assert "the header is row 1, so the first data row is row 2" in html
    assert "Download errors as CSV" in html and not CONFIRM.search(html)
    assert imported(app) == before


def test_capacity_waitlists_then_refuses_when_there_is_no_waitlist(app, pm_client, make, tenants, program):
    with_waitlist = make.campaign(tenants["company_a"], program, max_enrollment=2, waitlist_enabled=True)
    without = make.campaign(tenants["company_a"], program, max_enrollment=2)
    outcomes = [o for _, o, _ in outcome_rows(upload(pm_client, with_waitlist.id, people_csv(4)))]
    assert outcomes == ["will enroll", "will enroll", "will waitlist", "will waitlist"]
    response = upload(pm_client, without.id, people_csv(4))
    rows = outcome_rows(response)
    assert [o for _, o, _ in rows] == ["will enroll", "will enroll", "error", "error"]
    assert rows[2][2].startswith("campaign full")


def test_counts_add_up_to_the_rows_in_the_file(app, pm_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=3, waitlist_enabled=True)
    old = make.participant(email="person0@example.org")
    make.enrollment(camp, old)
    with app.app_context():
        db.session.execute(sa.update(Campaign).where(Campaign.id == camp.id).values(enrolled_count=1))
        db.session.commit()
    response = upload(pm_client, camp.id, people_csv(6) + "broken,X,,\n")
    html = response.get_data(as_text=True)
    stats = dict((label, int(value.replace(",", ""))) for value, label in re.findall(
        r'stat__value">([\d,]+)</span><span class="stat__label">([^<]+)<', html))
    assert stats == {"will enroll": 2, "will waitlist": 3, "already enrolled": 1, "errors": 1}
    assert sum(stats.values()) == 7


def test_a_campaign_not_accepting_enrollments_makes_every_row_an_error(pm_client, make, tenants, program):
    paused = make.campaign(tenants["company_a"], program, status="paused")
    rows = outcome_rows(upload(pm_client, paused.id, people_csv(3)))
    assert len(rows) == 3
    assert all(o == "error" and r.startswith("campaign is not accepting enrollments (status: campaign paused")
               for _, o, r in rows)


# --- confirm ----------------------------------------------------------------------
def test_a_clean_file_lands_in_one_go_with_one_summary_event(app, pm_client, camp):
    content = people_csv(30, header="email,display_name,year_of_birth,languages,source_id,metadata.starting_cefr",
                         extra=",src,A2")
    dry = upload(pm_client, camp.id, content)
    assert dry.status_code == 200
    events_before = count_rows(app, ActivityEvent)
    response = confirm(pm_client, dry, follow=False)
    assert response.status_code == 303 and re.fullmatch(r"/jobs/\d+", response.headers["Location"])
    done = pm_client.get(response.headers["Location"])
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/campaigns/{camp.id}")
    assert counters(app, camp.id) == (30, 0)
    with app.app_context():
        enrollments = db.session.scalars(sa.select(Enrollment).where(Enrollment.campaign_id == camp.id)).all()
        assert len(enrollments) == 30
        assert {(e.status, e.source, e.source_id, e.lock_version) for e in enrollments} == {("active", "csv", "src", 1)}
        assert enrollments[0].meta == {"starting_cefr": "A2"} and enrollments[0].enrolled_at is not None
        people = db.session.scalars(sa.select(Participant).where(Participant.email.like("person%"))).all()
        assert len({p.ref for p in people}) == 30 and all(p.ref.startswith("P-") for p in people)
        assert people[0].languages == ["uk"] and people[0].is_enabled and people[0].lock_version == 1
        events = db.session.scalars(sa.select(ActivityEvent).order_by(ActivityEvent.id)).all()[events_before:]
        assert [e.type for e in events] == ["program.enrollment.created"]
        assert events[0].data["import"] is True
        assert (events[0].data["rows"], events[0].data["enrolled"], events[0].data["waitlisted"]) == (30, 30, 0)
    page = pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "Imported 30 rows" in page


def test_reaching_the_cap_records_capacity_reached_and_waitlists_the_rest(app, pm_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=3, waitlist_enabled=True)
    confirm(pm_client, upload(pm_client, camp.id, people_csv(5)))
    assert counters(app, camp.id) == (3, 2)
    with app.app_context():
        types = db.session.scalars(sa.select(ActivityEvent.type)).all()
        assert types.count("program.campaign.capacity_reached") == 1
        waitlisted = db.session.scalars(sa.select(Enrollment).where(Enrollment.status == "waitlisted")).all()
        assert all(e.waitlisted_at is not None and e.enrolled_at is None for e in waitlisted)


def newest_token(app) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(StoredFile.token).order_by(StoredFile.id.desc()).limit(1))


def test_reimporting_the_same_file_adds_nothing(app, pm_client, camp):
    content = people_csv(10)
    confirm(pm_client, upload(pm_client, camp.id, content))
    before, events = imported(app), count_rows(app, ActivityEvent)
    again = upload(pm_client, camp.id, content.upper().replace("PERSON ", "Person "))  # e-mails match case-blind
    assert {o for _, o, _ in outcome_rows(again)} == {"already enrolled"}
    assert "nothing to import" in again.get_data(as_text=True)
    assert not CONFIRM.search(again.get_data(as_text=True))
    # Confirming anyway (a stale tab, a replayed POST) is harmless.
    url = f"/campaigns/{camp.id}/import/{newest_token(app)}/confirm"
    response = pm_client.post(url, data={"csrf_token": csrf_token(pm_client, "/home")}, follow_redirects=True)
    assert response.status_code == 200 and "Nothing to import" in response.get_data(as_text=True)
    assert imported(app) == before and count_rows(app, ActivityEvent) == events
    assert counters(app, camp.id) == (10, 0)


def test_ten_thousand_rows_with_one_bad_row_save_nothing_and_list_the_row(app, pm_client, camp):
    lines = [f"bulk{i}@example.org,Bulk {i},1990,uk" for i in range(10_000)]
    lines[5_000] = "bulk5000@example,Bulk 5000,1990,uk"  # no dot in the domain: row 5002
    content = "email,display_name,year_of_birth,languages\n" + "\n".join(lines) + "\n"
    before = imported(app)
    response = upload(pm_client, camp.id, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = [(n, r) for n, o, r in outcome_rows(response) if o == "error"]
    assert [n for n, _ in errors] == [5002]
    assert "9,999" in html and "Showing the first 200 rows and the error rows after them (201 of 10,000)" in html
    assert not CONFIRM.search(html)
    # A forged confirm of the file with errors is refused as well.
    forged = pm_client.post(confirm_url(response), data={"csrf_token": csrf_token(pm_client, "/home")})
    assert forged.status_code == 422
    assert imported(app) == before and counters(app, camp.id) == (0, 0)
    download = pm_client.get(ERRORS.search(html).group(1))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == ["row", "reason", "email", "display_name", "year_of_birth", "languages"]
    assert len(table) == 2 and table[1][0] == "5002" and "email" in table[1][1]
    assert table[1][2:] == ["bulk5000@example", "Bulk 5000", "1990", "uk"]


def test_a_change_between_dry_run_and_confirm_shows_the_new_dry_run_and_commits_nothing(
        app, pm_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=3, waitlist_enabled=True)
    dry = upload(pm_client, camp.id, people_csv(3))
    assert [o for _, o, _ in outcome_rows(dry)] == ["will enroll"] * 3
    someone = make.participant(display_name="Walk-in")
    with app.app_context():
        with transaction():
            enroll_participant(None, camp.id, db.session.get(Participant, someone.id))
    before = imported(app)
    response = confirm(pm_client, dry)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "The campaign changed since your dry run" in html
    assert [o for _, o, _ in outcome_rows(response)] == ["will enroll", "will enroll", "will waitlist"]
    assert imported(app) == before and counters(app, camp.id) == (1, 0)
    # The new dry run is what the next confirm checks against.
    assert confirm(pm_client, response).status_code == 200
    assert counters(app, camp.id) == (3, 1)


def test_a_status_change_between_dry_run_and_confirm_is_caught(app, pm_client, camp):
    dry = upload(pm_client, camp.id, people_csv(2))
    with app.app_context():
        db.session.execute(sa.update(Campaign).where(Campaign.id == camp.id).values(status="paused"))
        db.session.commit()
    response = confirm(pm_client, dry)
    assert response.status_code == 409 and not CONFIRM.search(response.get_data(as_text=True))
    assert count_rows(app, Enrollment) == 0


def test_expired_and_unknown_tokens(app, pm_client, camp):
    dry = upload(pm_client, camp.id, people_csv(2))
    url = confirm_url(dry)
    token = csrf_token(pm_client, "/home")
    bogus = url.replace(url.split("/")[4], "A" * 43)
    assert pm_client.post(bogus, data={"csrf_token": token}).status_code == 404
    assert pm_client.post(f"/campaigns/{camp.id}/import/..%2f..%2fetc/confirm", data={"csrf_token": token}
                          ).status_code == 404
    with app.app_context():  # an hour later
        db.session.execute(sa.update(StoredFile).values(expires_at=datetime.now(UTC)))
        db.session.commit()
    response = pm_client.post(url, data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/campaigns/{camp.id}/import")
    assert count_rows(app, Enrollment) == 0


def test_volunteers_from_the_company_are_uncapped(app, admin_a_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=0)
    make.participant(display_name="Ingrid Employee", email="ingrid@acme.example", company_id=tenants["company_a"].id)
    make.participant(display_name="Other Employee", email="other@borealis.example", company_id=tenants["company_b"].id)
    rows = outcome_rows(upload(admin_a_client, camp.id, "email,role\ningrid@acme.example,volunteer\n"
                                                        "other@borealis.example,volunteer\n"
                                                        "made-up@borealis.example,volunteer\n"))
    # Another company's employee is, for company A, nobody it knows: the row reads like a made-up one.
    assert [(o, r) for _, o, r in rows] == [("will enroll", "existing participant; volunteers are not capped"),
                                            ("error", "a new participant needs a display_name"),
                                            ("error", "a new participant needs a display_name")]


def test_company_admins_do_not_learn_a_stored_age_from_an_eligibility_refusal(app, admin_a_client, pm_client,
                                                                              make, camp):
    make.participant(display_name="Old Person", email="old@example.org", year_of_birth=1930)
    content = "email,role\nold@example.org,beneficiary\nmade-up@example.org,beneficiary\n"
    age = datetime.now(UTC).year - 1930
    admin_rows = outcome_rows(upload(admin_a_client, camp.id, content))
    assert [(o, r) for _, o, r in admin_rows] == [("error", "beneficiaries are enrolled by the program team")] * 2
    assert f"Age {age} is above" in outcome_rows(upload(pm_client, camp.id, content))[0][2]


# --- export -----------------------------------------------------------------------
def read_export_through_job(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_export_writes_the_import_columns_and_neutralises_formulas(app, pm_client, make, camp):
    evil = make.participant(display_name="=HYPERLINK(\"http://evil\",\"x\")", email="evil@example.org",
                            external_ref="@ref", year_of_birth=1990, languages=["uk", "en"], country="UA")
    make.enrollment(camp, evil, source_id="-1+1", meta={"starting_cefr": "A2", "note": "+cmd"})
    make.enrollment(camp, make.participant(display_name="Plain"), meta={"referred_by": "Kari"})
    response = export_through_job(pm_client, camp.id)
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_export_through_job(response)
    assert list(rows[0]) == ["email", "external_ref", "display_name", "role", "year_of_birth", "languages", "country",
                             "source_id", "status", "enrolled_at", "legal_basis", "consent_given_on",
                             "consent_withdrawn_at", "metadata.note", "metadata.referred_by", "metadata.starting_cefr"]
    first = rows[0]
    assert first["display_name"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert first["external_ref"] == "'@ref" and first["source_id"] == "'-1+1" and first["metadata.note"] == "'+cmd"
    assert (first["email"], first["year_of_birth"], first["languages"], first["country"]) == (
        "evil@example.org", "1990", "uk;en", "UA")
    assert first["status"] == "active" and first["enrolled_at"]
    assert rows[1]["metadata.referred_by"] == "Kari" and rows[1]["metadata.starting_cefr"] == ""


def test_an_export_can_be_imported_into_another_campaign(app, pm_client, make, tenants, program, camp):
    confirm(pm_client, upload(pm_client, camp.id, people_csv(3, header="email,display_name,year_of_birth,languages,"
                                                                          "metadata.starting_cefr", extra=",B1")))
    exported = export_through_job(pm_client, camp.id).get_data()
    other = make.campaign(tenants["company_a"], program)
    dry = upload(pm_client, other.id, exported)
    assert [o for _, o, _ in outcome_rows(dry)] == ["will enroll"] * 3
    confirm(pm_client, dry)
    with app.app_context():
        metas = db.session.scalars(sa.select(Enrollment.meta).where(Enrollment.campaign_id == other.id)).all()
        assert metas == [{"starting_cefr": "B1"}] * 3
        assert count_rows(app, Participant) >= 3


def test_company_admin_export_is_pseudonymised_except_own_employees(app, admin_a_client, make, tenants, camp):
    olena = make.participant(display_name="Olena Shevchenko", email="olena@example.org", year_of_birth=1990,
                             external_ref="kintell:8812")
    ingrid = make.participant(display_name="Ingrid Employee", email="ingrid@acme.example",
                              company_id=tenants["company_a"].id)
    make.enrollment(camp, olena)
    make.enrollment(camp, ingrid, role="volunteer")
    rows = read_export_through_job(export_through_job(admin_a_client, camp.id))
    body = export_through_job(admin_a_client, camp.id).get_data(as_text=True)
    beneficiary, volunteer = rows
    with app.app_context():
        expected = company_reference(db.session.get(Company, tenants["company_a"].id), olena.id)
    assert beneficiary["display_name"] == expected != olena.ref
    assert beneficiary["email"] == beneficiary["year_of_birth"] == beneficiary["external_ref"] == ""
    assert beneficiary["languages"] == beneficiary["country"] == beneficiary["source_id"] == ""
    for secret in ("Olena", "olena@example.org", "1990", "kintell:8812", olena.ref):
        assert secret not in body
    assert (volunteer["display_name"], volunteer["email"]) == ("Ingrid Employee", "ingrid@acme.example")


def _by_name(rows):
    return {row["display_name"]: row for row in rows}


def _withdraw(app, pm, enrollment_id):
    """Withdraw the consent of an enrollment through the operation; the moment it stored."""
    from portal.privacy.consent import withdraw_consent

    with app.app_context():
        with transaction():
            withdraw_consent(pm, db.session.get(Enrollment, enrollment_id))
        return db.session.get(Enrollment, enrollment_id).consent_withdrawn_at


def test_export_carries_the_legal_basis_held_now(app, pm_client, make, tenants, camp):
    from portal.privacy.erasure import ERASED_PARTICIPANT, erase_participant

    consent = make.enrollment(camp, make.participant(display_name="Olena Consent", email="olena@example.org"),
                              legal_basis="consent", consent_given_on=date(2026, 3, 4))
    make.enrollment(camp, make.participant(display_name="Amir Interest", email="amir@example.org"),
                    legal_basis="legitimate_interest")
    make.enrollment(camp, make.participant(display_name="Lars Contract", email="lars@example.org"),
                    legal_basis="contract")
    gone = make.enrollment(camp, make.participant(display_name="Taras Withdrew", email="taras@example.org"),
                           legal_basis="consent", consent_given_on=date(2026, 2, 1))
    erased = make.participant(display_name="Iryna Erased", email="iryna@example.org", year_of_birth=1980)
    make.enrollment(camp, erased, legal_basis="consent", consent_given_on=date(2026, 1, 9))
    withdrawn_at = _withdraw(app, tenants["pm"], gone.id)
    with app.app_context():
        with transaction():
            erase_participant(tenants["pm"], db.session.get(Participant, erased.id), confirmation="ERASE")
    body = export_through_job(pm_client, camp.id).get_data(as_text=True)
    rows = _by_name(read_export_through_job(export_through_job(pm_client, camp.id)))
    held = {name: (r["legal_basis"], r["consent_given_on"], r["consent_withdrawn_at"]) for name, r in rows.items()}
    assert held == {
        "Olena Consent": ("consent", "2026-03-04", ""),
        "Amir Interest": ("legitimate_interest", "", ""),
        "Lars Contract": ("contract", "", ""),
        "Taras Withdrew": ("consent", "2026-02-01", withdrawn_at.isoformat()),
        # Erasure keeps the record that processing was lawful, and nothing that names her.
        ERASED_PARTICIPANT: ("consent", "2026-01-09", ""),
    }
    assert datetime.fromisoformat(held["Taras Withdrew"][2]) == withdrawn_at
    assert consent.id and rows["Olena Consent"]["email"] == "olena@example.org"
    assert rows[ERASED_PARTICIPANT]["email"] == rows[ERASED_PARTICIPANT]["year_of_birth"] == ""
    assert "Iryna" not in body and "iryna@example.org" not in body and "1980" not in body


def test_an_exported_legal_basis_is_imported_with_the_row(app, pm_client, make, tenants, program, camp):
    for name, basis, given in (("Olena Consent", "consent", date(2026, 3, 4)),
                               ("Amir Interest", "legitimate_interest", None),
                               ("Lars Contract", "contract", None)):
        make.enrollment(camp, make.participant(display_name=name, email=f"{name.split()[0].lower()}@example.org"),
                        legal_basis=basis, consent_given_on=given)
    exported = export_through_job(pm_client, camp.id).get_data()
    assert b"legal_basis,consent_given_on,consent_withdrawn_at" in exported
    other = make.campaign(tenants["company_a"], program)
    dry = upload(pm_client, other.id, exported)
    assert [(o, r) for _, o, r in outcome_rows(dry)] == [("will enroll", "existing participant")] * 3
    confirm(pm_client, dry)
    with app.app_context():
        stored = db.session.execute(
            sa.select(Participant.display_name, Enrollment.legal_basis, Enrollment.consent_given_on)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .where(Enrollment.campaign_id == other.id).order_by(Enrollment.id)).tuples().all()
    assert stored == [("Olena Consent", "consent", date(2026, 3, 4)), ("Amir Interest", "legitimate_interest", None),
                      ("Lars Contract", "contract", None)]


def test_an_exported_withdrawn_consent_is_not_imported_as_consent(app, pm_client, make, tenants, program, camp):
    gone = make.enrollment(camp, make.participant(display_name="Taras Withdrew", email="taras@example.org"),
                           legal_basis="consent", consent_given_on=date(2026, 2, 1))
    make.enrollment(camp, make.participant(display_name="Olena Consent", email="olena@example.org"),
                    legal_basis="consent", consent_given_on=date(2026, 3, 4))
    _withdraw(app, tenants["pm"], gone.id)
    exported = export_through_job(pm_client, camp.id).get_data(as_text=True)
    other = make.campaign(tenants["company_a"], program)
    outcomes = outcome_rows(upload(pm_client, other.id, exported))
    assert outcomes[0][:2] == (2, "error") and outcomes[0][2].startswith("consent_withdrawn_at: The person withdrew")
    assert outcomes[1][:2] == (3, "will enroll")
    # Under another legal basis (the importer's decision, made in the file) the row is accepted.
    changed = exported.replace(",consent,2026-02-01,", ",legitimate_interest,,")
    assert changed != exported
    assert [o for _, o, _ in outcome_rows(upload(pm_client, other.id, changed))] == ["will enroll"] * 2


def test_company_admin_export_shows_no_beneficiarys_legal_basis(app, admin_a_client, make, tenants, camp):
    olena = make.participant(display_name="Olena Shevchenko", email="olena@example.org")
    gone = make.enrollment(camp, olena, legal_basis="consent", consent_given_on=date(2026, 3, 4))
    make.enrollment(camp, make.participant(display_name="Amir Haddad"), legal_basis="contract")
    ingrid = make.participant(display_name="Ingrid Employee", email="ingrid@acme.example",
                              company_id=tenants["company_a"].id)
    make.enrollment(camp, ingrid, role="volunteer", legal_basis="consent", consent_given_on=date(2026, 5, 6))
    withdrawn_at = _withdraw(app, tenants["pm"], gone.id)
    body = export_through_job(admin_a_client, camp.id).get_data(as_text=True)
    olena_row, amir_row, volunteer = read_export_through_job(export_through_job(admin_a_client, camp.id))
    with app.app_context():
        company = db.session.get(Company, tenants["company_a"].id)
        assert olena_row["display_name"] == company_reference(company, olena.id)
    for hidden in (olena_row, amir_row):  # as before: pseudonym, role, status and date, nothing else
        assert [k for k, v in hidden.items() if v] == ["display_name", "role", "status", "enrolled_at"]
    for secret in ("2026-03-04", withdrawn_at.isoformat(), "contract", "Olena", "Amir"):
        assert secret not in body
    # Her own employee, whom she may import, with the legal basis she would import.
    assert (volunteer["display_name"], volunteer["legal_basis"], volunteer["consent_given_on"]) == (
        "Ingrid Employee", "consent", "2026-05-06")


# --- tenancy ----------------------------------------------------------------------
def test_another_companys_campaign_is_404_for_import_confirm_errors_and_export_through_job(app, admin_a_client, pm_client,
                                                                              make, tenants, program):
    camp_b = make.campaign(tenants["company_b"], program, name="CANARY-B Campaign")
    dry = upload(pm_client, camp_b.id, "email,display_name\nbad,CANARY-B\n")
    token = csrf_token(admin_a_client, "/home")
    errors_url = ERRORS.search(dry.get_data(as_text=True)).group(1)
    assert admin_a_client.get(f"/campaigns/{camp_b.id}/import").status_code == 404
    assert upload_status(admin_a_client, camp_b.id, token) == 404
    assert admin_a_client.post(confirm_url(dry), data={"csrf_token": token}).status_code == 404
    assert admin_a_client.get(errors_url).status_code == 404
    assert admin_a_client.get(errors_url.removesuffix("errors.csv")).status_code == 404
    assert admin_a_client.get(f"/campaigns/{camp_b.id}/import/sample.csv").status_code == 404
    assert export_through_job(admin_a_client, camp_b.id).status_code == 404
    assert count_rows(app, Enrollment) == 0


def upload_status(client, campaign_id, token):
    return client.post(f"/campaigns/{campaign_id}/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(b"email\na@example.org\n"), "a.csv")}
                       ).status_code


def test_a_token_is_useless_to_another_user(app, admin_a_client, pm_client, camp):
    dry = upload(admin_a_client, camp.id, people_csv(2) + "bad,X,,\n")
    html = dry.get_data(as_text=True)
    errors_url = ERRORS.search(html).group(1)
    assert admin_a_client.get(errors_url).status_code == 200
    assert pm_client.get(errors_url).status_code == 404
    assert admin_a_client.get(errors_url.removesuffix("errors.csv")).status_code == 422  # it has an error row
    assert pm_client.get(errors_url.removesuffix("errors.csv"), query_string={"show": "errors"}).status_code == 404
    clean = upload(admin_a_client, camp.id, people_csv(2))
    assert pm_client.post(confirm_url(clean), data={"csrf_token": csrf_token(pm_client, "/home")}).status_code == 404
    assert count_rows(app, Enrollment) == 0
    # ...and useless on another campaign, even for the same user.
    other_url = confirm_url(clean).replace(f"/campaigns/{camp.id}/", "/campaigns/999999/")
    assert admin_a_client.post(other_url, data={"csrf_token": csrf_token(admin_a_client, "/home")}
                               ).status_code == 404


def test_canaries_of_company_b_never_appear_in_company_as_export_through_job(app, admin_a_client, pm_client, make, tenants,
                                                                  program, camp):
    camp_b = make.campaign(tenants["company_b"], program, name="CANARY-B Campaign")
    shared = make.participant(display_name="CANARY-B Shared Person", email="canary-b@example.org")
    make.enrollment(camp_b, make.participant(display_name="CANARY-B Person", email="canary-b-only@example.org"),
                    source_id="CANARY-B-SRC", meta={"canary_b_key": "CANARY-B"})
    make.enrollment(camp_b, shared, meta={"canary_b_key": "CANARY-B"})
    make.enrollment(camp, shared)
    make.enrollment(camp, make.participant(display_name="Visible Alpha", company_id=tenants["company_a"].id),
                    role="volunteer")
    body = export_through_job(admin_a_client, camp.id).get_data(as_text=True)
    assert "Visible Alpha" in body
    assert "CANARY-B" not in body.upper() and "canary" not in body.lower()
    # The program manager sees both campaigns in full, each in its own export.
    assert "CANARY-B Person" in export_through_job(pm_client, camp_b.id).get_data(as_text=True)


# --- the sample file, the errors-only view and the errors file to re-upload ---------------
DRY_RUN = re.compile(r'href="(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/)"')


def stat_figures(response) -> dict[str, str]:
    html = response.get_data(as_text=True)
    return {label: value for value, label in re.findall(
        r'stat__value">([\d,]+)</span><span class="stat__label">([^<]+)<', html)}


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_the_sample_file_fits_the_viewers_role_and_imports_cleanly(app, pm_client, admin_a_client, camp):
    from portal.enrollments.csv.parse import COLUMNS

    pm_sample = pm_client.get(f"/campaigns/{camp.id}/import/sample.csv")
    table = read_csv(pm_sample)
    assert table[0][:len(COLUMNS)] == list(COLUMNS) and table[0][-1].startswith("metadata.")
    assert sorted({row[3] for row in table[1:]}) == ["beneficiary", "volunteer"]
    dry = upload(pm_client, camp.id, pm_sample.get_data())
    assert dry.status_code == 200 and {o for _, o, _ in outcome_rows(dry)} == {"will enroll"}
    assert len(outcome_rows(dry)) == len(table) - 1

    admin_sample = admin_a_client.get(f"/campaigns/{camp.id}/import/sample.csv")
    table = read_csv(admin_sample)
    assert {row[3] for row in table[1:]} == {"volunteer"} and len(table) >= 3
    dry = upload(admin_a_client, camp.id, admin_sample.get_data())
    assert dry.status_code == 200 and {o for _, o, _ in outcome_rows(dry)} == {"will enroll"}
    assert "sample.csv" in admin_a_client.get(f"/campaigns/{camp.id}/import").get_data(as_text=True)
    assert count_rows(app, Enrollment) == 0  # a sample and its dry runs save nothing


def test_errors_only_reshows_the_stored_dry_run_filtered_with_the_same_counts(app, pm_client, camp):
    content = (people_csv(3) + "bad-address,Bad One,1990,uk\n" + people_csv(2, start=10).split("\n", 1)[1]
               + "also-bad,Bad Two,1990,uk\n")
    dry = upload(pm_client, camp.id, content)
    assert dry.status_code == 422
    all_url = DRY_RUN.search(dry.get_data(as_text=True)).group(1)
    assert f'href="{all_url}?show=errors"' in dry.get_data(as_text=True)
    only = pm_client.get(all_url, query_string={"show": "errors"})
    html = only.get_data(as_text=True)
    assert only.status_code == 422 and "Vary" in only.headers
    assert [(n, o) for n, o, _ in outcome_rows(only)] == [(5, "error"), (8, "error")]
    assert "Rows with errors" in html and "Showing the 2 rows with errors only" in html
    assert stat_figures(only) == stat_figures(dry) == {"will enroll": "5", "will waitlist": "0",
                                                         "already enrolled": "0", "errors": "2"}
    assert 'id="rows-errors"' in html and re.search(r'id="rows-errors"[^>]*aria-current="page"', html)
    again = pm_client.get(all_url)
    assert [n for n, _, _ in outcome_rows(again)] == [2, 3, 4, 5, 6, 7, 8]
    assert re.search(r'id="rows-all"[^>]*aria-current="page"', again.get_data(as_text=True))
    # htmx: the same URL answers with the import fragment only
    partial = pm_client.get(all_url, query_string={"show": "errors"}, headers={"HX-Request": "true"})
    assert partial.get_data(as_text=True).lstrip().startswith('<div id="import">')
    assert len(outcome_rows(partial)) == 2 and "HX-Request" in partial.headers["Vary"]
    assert imported(app) == (0, 0)


def test_a_reshown_dry_run_is_the_kept_one_and_a_confirm_checks_it_again(app, pm_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=3, waitlist_enabled=True)
    dry = upload(pm_client, camp.id, people_csv(3))
    url = re.search(r'(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/)confirm', dry.get_data(as_text=True)).group(1)
    make.enrollment(camp, make.participant(year_of_birth=1990, languages=["uk"]))  # a seat taken meanwhile
    reshown = pm_client.get(url)  # shown as kept: a page view never plans 100k rows again
    assert [o for _, o, _ in outcome_rows(reshown)] == ["will enroll"] * 3
    changed = confirm(pm_client, reshown)
    assert changed.status_code == 409 and "The campaign changed since your dry run" in changed.get_data(as_text=True)
    assert [o for _, o, _ in outcome_rows(changed)] == ["will enroll", "will enroll", "will waitlist"]
    assert counters(app, camp.id) == (1, 0)
    confirm(pm_client, changed)  # what it showed is what lands
    assert counters(app, camp.id) == (3, 1)


def test_the_errors_file_carries_every_column_and_uploads_again_once_corrected(app, pm_client, camp):
    header = "metadata.cohort,display_name,languages,EMAIL,year_of_birth,source_id"
    content = (f"{header}\n"
               "spring,Good One,uk,good1@example.org,1990,s-1\n"           # 2
               "spring,Bad Mail,uk;en,bad-mail,1991,=HYPERLINK(\"x\")\n"   # 3: formula in a cell
               "autumn,Good Two,en,good2@example.org,1992,s-3\n"          # 4
               "autumn,Bad Year,uk,bad.year@example.org,19x0,s-4\n")      # 5
    dry = upload(pm_client, camp.id, content, filename="spring intake.csv")
    assert dry.status_code == 422
    download = pm_client.get(ERRORS.search(dry.get_data(as_text=True)).group(1))
    assert 'filename="spring_intake-errors.csv"' in download.headers["Content-Disposition"]
    table = read_csv(download)
    assert table[0] == ["row", "reason", *header.split(",")]
    assert [r[0] for r in table[1:]] == ["3", "5"]
    assert table[1][2:] == ["spring", "Bad Mail", "uk;en", "bad-mail", "1991", "'=HYPERLINK(\"x\")"]  # neutralised
    assert "email 'bad-mail'" in table[1][1] and "year_of_birth '19x0'" in table[2][1]

    # Correct the two rows in the downloaded file and upload it as it is.
    table[1][5], table[2][6] = "bad.mail@example.org", "1993"
    fixed = io.StringIO()
    csv.writer(fixed).writerows(table)
    from portal.enrollments.csv.parse import parse_csv

    reparsed = parse_csv(fixed.getvalue().encode())
    assert reparsed.columns == table[0] and reparsed.meta_keys == ["cohort"]  # the same columns, row/reason ignored
    assert [(r.email, r.source_id, r.meta) for r in reparsed.rows] == [
        ("bad.mail@example.org", '=HYPERLINK("x")', {"cohort": "spring"}),
        ("bad.year@example.org", "s-4", {"cohort": "autumn"})]
    again = upload(pm_client, camp.id, fixed.getvalue(), filename="spring intake-errors.csv")
    assert again.status_code == 200
    assert [(n, o) for n, o, _ in outcome_rows(again)] == [(2, "will enroll"), (3, "will enroll")]
    assert confirm(pm_client, again, follow=False).status_code == 303
    with app.app_context():
        rows = db.session.execute(sa.select(Participant.email, Participant.year_of_birth, Enrollment.meta)
                                  .join(Enrollment).order_by(Participant.email)).all()
    assert rows == [("bad.mail@example.org", 1991, {"cohort": "spring"}),
                    ("bad.year@example.org", 1993, {"cohort": "autumn"})]


def test_an_errors_file_with_errors_again_replaces_its_row_and_reason_columns(pm_client, camp):
    first = upload(pm_client, camp.id, "email,display_name\nnope,Nope\n")
    table = read_csv(pm_client.get(ERRORS.search(first.get_data(as_text=True)).group(1)))
    body = io.StringIO()
    csv.writer(body).writerows(table)  # uploaded again uncorrected: still an error
    second = upload(pm_client, camp.id, body.getvalue())
    again = read_csv(pm_client.get(ERRORS.search(second.get_data(as_text=True)).group(1)))
    assert again[0] == ["row", "reason", "email", "display_name"] and again[1][0] == "2"
    assert again[1][2:] == ["nope", "Nope"]


def test_the_errors_file_keeps_a_row_of_the_wrong_width_as_it_was(pm_client, camp):
    dry = upload(pm_client, camp.id, "email,display_name,languages\na@example.org,A\nb@example.org,B,uk,extra\n")
    table = read_csv(pm_client.get(ERRORS.search(dry.get_data(as_text=True)).group(1)))
    assert table[1][0] == "2" and table[1][2:] == ["a@example.org", "A"] and "2 values" in table[1][1]
    assert table[2][0] == "3" and table[2][2:] == ["b@example.org", "B", "uk", "extra"]


def test_a_semicolon_file_gets_its_errors_file_with_the_same_columns(pm_client, camp):
    dry = upload(pm_client, camp.id, "email;display_name;languages\nbad;Bad;uk\nok@example.org;Ok;uk\n")
    table = read_csv(pm_client.get(ERRORS.search(dry.get_data(as_text=True)).group(1)))
    assert table == [["row", "reason", "email", "display_name", "languages"],
                     ["2", table[1][1], "bad", "Bad", "uk"]]


@pytest.mark.parametrize("status", ["archived", "completed"])
def test_a_closed_campaign_refuses_an_import_before_reading_it(app, pm_client, make, tenants, status):
    camp = make.campaign(tenants["company_a"], status=status)
    response = upload(pm_client, camp.id, "not,a,valid\x00file")
    assert response.status_code == 409
    assert f"This campaign is {status}: it accepts no imports." in response.get_data(as_text=True)
    assert imported(app) == (0, 0)


def test_a_running_jobs_page_shows_rows_done_of_total_and_time_left(app, pm_client, tenants, camp):
    from datetime import timedelta

    from portal.enrollments.csv.tasks import CONFIRM
    from portal.jobs.models import Job

    with app.app_context():
        now = datetime.now(UTC)
        job = Job(kind=CONFIRM, status="running", params={"campaign_id": camp.id, "file_id": 0},
                  phase="Reading the file", done=5_000, total=20_000, attempts=2, created_by_id=tenants["pm"].id,
                  started_at=now - timedelta(seconds=10), heartbeat_at=now, created_at=now - timedelta(seconds=11))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    page = pm_client.get(f"/jobs/{job_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Reading the file…" in html
    assert '<progress max="20000" value="5000"' in html and "5,000 of 20,000 rows (25 %)" in html
    assert re.search(r"about 3\d seconds left", html)  # 10 s for a quarter: ~30 s for the rest
    assert "Attempt 2 of 2" in html and "nothing of it was saved" in html
    fragment = pm_client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="job-status"') and "every 1s" in fragment
