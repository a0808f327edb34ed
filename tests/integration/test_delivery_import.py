"""Delivery CSV import through the screens (SPEC §2.9 with §4's dry run → confirm → one
transaction): every bad input is an error row with its number and reason and nothing is
saved; a confirm lands every row with one summary event and the counters moved; a campaign
that changed between dry run and confirm saves nothing and shows the new dry run; the same
file again adds nothing; a company admin's row about anyone but its own volunteers reads
exactly like a row about nobody (SPEC §2.5)."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.deliveries.csv.plan import not_your_volunteer
from portal.deliveries.models import Delivery, EnrollmentMilestone, EnrollmentProgress
from portal.enrollments.models import Enrollment
from portal.enrollments.operations import drop_enrollment
from portal.enrollments.privacy import company_reference
from portal.jobs.models import StoredFile
from tests.conftest import count_rows
from tests.helpers import csrf_token

TODAY = utcnow().date()
DAY = [(TODAY - timedelta(days=n)).isoformat() for n in range(10)]
HEADER = "participant,kind,occurred_on,occurred_time,quantity,duration_minutes,attendance,source_id,metadata.rating"
CONFIRM = re.compile(r'action="(/campaigns/\d+/deliveries/import/[A-Za-z0-9_-]{43}/confirm)"')
ERRORS = re.compile(r'href="(/campaigns/\d+/deliveries/import/[A-Za-z0-9_-]{43}/errors\.csv)"')


@pytest.fixture
def scene(make, tenants):
    """Company A's mentorship campaign: a beneficiary (e-mail, external_ref), an Acme
    employee volunteering, a dropped beneficiary, two people sharing an external_ref (a
    beneficiary and an Acme employee: refs are unique per owner only); company B's employee."""
    a = tenants["company_a"]
    camp = make.campaign(a, make.program(template=make.template("mentorship")), name="Acme Mentoring")
    started = utcnow() - timedelta(days=30)
    olena = make.participant(display_name="Olena Shevchenko", email="olena@example.org", external_ref="kintell:1")
    marta = make.participant(display_name="Marta Mentor", email="marta@acme.example", external_ref="acme:7",
                             company_id=a.id)
    petro = make.participant(display_name="Petro Bondar", email="petro@example.org")
    twin_b = make.participant(display_name="Shared Ref Beneficiary", external_ref="dup:1")
    twin_e = make.participant(display_name="Shared Ref Employee", external_ref="dup:1", company_id=a.id)
    mentee = make.enrollment(camp, olena, enrolled_at=started)
    mentor = make.enrollment(camp, marta, role="volunteer", enrolled_at=started)
    dropped = make.enrollment(camp, petro, status="dropped", enrolled_at=started, dropped_at=utcnow())
    make.enrollment(camp, twin_b, enrolled_at=started)
    make.enrollment(camp, twin_e, role="volunteer", enrolled_at=started)
    bob = make.participant(display_name="Bob Borealis", email="bob@borealis.example",
                           company_id=tenants["company_b"].id)
    return {"campaign": camp, "company": a, "mentee": mentee, "mentor": mentor, "dropped": dropped,
            "olena": olena, "bob": bob}


def url(camp) -> str:
    return f"/campaigns/{camp.id}/deliveries/import"


def upload(client, camp, content, *, headers=None, follow=True):
    token = csrf_token(client, url(camp))
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(url(camp), headers=headers or {},
                       data={"csrf_token": token, "file": (io.BytesIO(data), "deliveries.csv")},
                       content_type="multipart/form-data", follow_redirects=follow)


def confirm(client, response, *, follow=True):
    match = CONFIRM.search(response.get_data(as_text=True))
    assert match, "no Confirm button"
    token = csrf_token(client, match.group(1).rsplit("/", 3)[0])
    return client.post(match.group(1), data={"csrf_token": token}, follow_redirects=follow)


def outcome_rows(response) -> dict[int, tuple[str, str]]:
    """Row number → (outcome, reason) for every row of the dry-run table."""
    text = response.get_data(as_text=True)
    return {int(n): (outcome, html.unescape(reason)) for n, outcome, reason in re.findall(
        r"<tr>\s*<td[^>]*>(\d+)</td>.*?<span class=\"badge[^\"]*\">([^<]+)</span></td>\s*<td[^>]*>([^<]*)</td>", text, re.S)}


def file_of(*lines: str) -> str:
    return HEADER + "\n" + "\n".join(lines) + "\n"


def stored(app):
    with app.app_context():
        return (count_rows(app, Delivery), count_rows(app, EnrollmentProgress),
                db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)
                                  .where(ActivityEvent.type.like("program.delivery.%"))))


def record_existing(app, enrollment, **fields):
    with app.app_context(), transaction():
        e = db.session.get(Enrollment, enrollment.id)
        ops.record_delivery(None, e, **{"kind": "session_completed", "occurred_on": TODAY - timedelta(days=5),
                                        "attendance": "present", "source": "csv", **fields})


# --- the dry run ------------------------------------------------------------------
def test_every_bad_input_is_an_error_row_with_its_reason_and_nothing_is_saved(app, pm_client, scene):
    camp = scene["campaign"]
    record_existing(app, scene["mentee"], source_id="old-1", quantity="1")
    record_existing(app, scene["mentee"], source_id="old-2", quantity="1")
    before = stored(app)
    response = upload(pm_client, camp, file_of(
        f"olena@example.org,session_completed,{DAY[1]},14:30,1,60,present,s-1,5",      # 2 will record
        f"marta@acme.example,goal_achieved,{DAY[2]},,,,,,",                            # 3 will record (derived id)
        f"olena@example.org,dance_class,{DAY[1]},,,,,s-3,",                            # 4 unknown kind
        f"olena@example.org,session_completed,{(TODAY + timedelta(days=1)).isoformat()},,,,present,s-4,",  # 5 future
        "olena@example.org,session_completed,14/03/2026,,,,present,s-5,",            # 6 bad date format
        f"olena@example.org,goal_achieved,{DAY[1]},,,,present,s-6,",                   # 7 attendance, not a session
        f"petro@example.org,session_completed,{DAY[1]},,,,present,s-7,",               # 8 dropped enrollment
        f"nobody@example.org,session_completed,{DAY[1]},,,,present,s-8,",              # 9 unknown participant
        f"dup:1,session_completed,{DAY[1]},,,,present,s-9,",                           # 10 ambiguous
        f"kintell:1,session_completed,{DAY[3]},,,,present,s-1,",                       # 11 duplicate source id in file
        f"olena@example.org,session_completed,{DAY[5]},,2,,present,old-1,",            # 12 same id, other content
        f"OLENA@Example.org,session_completed,{DAY[5]},,1,,present,old-2,",            # 13 already recorded
        f"bob@borealis.example,session_completed,{DAY[1]},,,,present,s-12,",           # 14 not in this campaign
        f"olena@example.org,session_completed,{DAY[1]},,-1,,present,s-13,",            # 15 negative quantity
    ))
    assert response.status_code == 422
    rows = outcome_rows(response)
    assert len(rows) == 14
    outcome = {n: o for n, (o, _) in rows.items()}
    reason = {n: r for n, (_, r) in rows.items()}
    assert outcome[2] == outcome[3] == "will record"
    assert outcome[13] == "already recorded"
    assert {n for n, o in outcome.items() if o == "error"} == {4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15}
    assert reason[4].startswith("kind: Choose a kind this program records") and "session_completed" in reason[4]
    assert reason[5].startswith("occurred_on: The date is in the future")
    assert reason[6] == "occurred_on '14/03/2026' is not a date written as YYYY-MM-DD (e.g. 2026-03-14)"
    assert reason[7].startswith("attendance: Attendance is taken for sessions only")
    assert reason[8].startswith("The enrollment is dropped")
    assert reason[9] == "no participant of this campaign matches “nobody@example.org”"
    assert reason[10].startswith("ambiguous: “dup:1” matches 2 participants")
    assert reason[11] == "duplicate of row 2 (same source_id “s-1”)"
    assert "Source id “old-1” (csv) was already recorded for this enrollment with different details" in reason[12]
    assert reason[14] == "no participant of this campaign matches “bob@borealis.example”"
    assert reason[15] == "quantity: Enter zero or more."
    page = response.get_data(as_text=True)
    for count, label in ((2, "will record"), (1, "already recorded"), (11, "errors")):
        assert re.search(rf'stat__value">{count}</span><span class="stat__label">{label}<', page), label
    assert not CONFIRM.search(page) and "11 rows cannot be recorded" in page
    assert stored(app) == before

    errors = pm_client.get(ERRORS.search(page).group(1))
    assert errors.status_code == 200 and errors.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(errors.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][:3] == ["row", "reason", "participant"]
    assert [int(line[0]) for line in lines[1:]] == [4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]
    assert lines[1][1] == reason[4] and lines[1][2] == "olena@example.org"


def test_a_participant_is_named_by_participant_ref_or_the_sponsors_pseudonym(app, pm_client, scene):
    camp = scene["campaign"]
    with app.app_context():
        pseudonym = company_reference(scene["company"], scene["olena"].id)
        ref = scene["olena"].ref
    response = upload(pm_client, camp, file_of(f"{ref},goal_achieved,{DAY[1]},,,,,r-1,",
                                               f"{pseudonym.lower()},goal_achieved,{DAY[2]},,,,,r-2,",
                                               f"kintell:1,goal_achieved,{DAY[3]},,,,,r-3,"))
    assert response.status_code == 200
    assert {o for o, _ in outcome_rows(response).values()} == {"will record"}
    confirm(pm_client, response)
    with app.app_context():
        assert set(db.session.scalars(sa.select(Delivery.enrollment_id))) == {scene["mentee"].id}


def table_cells(response) -> dict[int, list[str]]:
    """Row number → the text of every cell of that row of the dry-run table."""
    body = response.get_data(as_text=True).split('class="table dry-run-table"', 1)[1].split("</table>", 1)[0]
    return {int(cells[0]): cells for cells in (
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)) if cells}


def test_the_dry_run_table_shows_each_kind_by_its_label_and_the_files_keep_the_key(app, pm_client, scene):
    response = upload(pm_client, scene["campaign"], file_of(
        f"olena@example.org,session_completed,{DAY[1]},,,,present,k-1,",
        f"marta@acme.example,goal_achieved,{DAY[2]},,,,,k-2,",
        f"olena@example.org,dance_class,{DAY[1]},,,,,k-3,"))  # not a kind of this program: an error row
    assert response.status_code == 422
    kinds = {number: cells[2] for number, cells in table_cells(response).items()}
    assert kinds == {2: "Session completed", 3: "Goal achieved", 4: "Dance class"}
    table = response.get_data(as_text=True).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert ">session_completed</td>" not in table and ">goal_achieved</td>" not in table
    errors = pm_client.get(ERRORS.search(response.get_data(as_text=True)).group(1))
    (header, row) = list(csv.reader(io.StringIO(errors.get_data(as_text=True).lstrip("\ufeff"))))
    assert row[header.index("kind")] == "dance_class"  # the file as uploaded, keys and all


# --- the confirm ------------------------------------------------------------------
def test_a_confirm_records_every_row_with_one_summary_event_and_moves_the_counters(app, pm_client, scene):
    camp, mentee, mentor = scene["campaign"], scene["mentee"], scene["mentor"]
    content = file_of(f"olena@example.org,session_completed,{DAY[3]},10:00,1,60,present,a-1,5",
                      f"kintell:1,session_completed,{DAY[2]},,1,45,present,,",
                      f"olena@example.org,session_completed,{DAY[1]},,1,,excused,a-3,",
                      f"marta@acme.example,mentor_referral,{DAY[1]},,2.5,,,a-4,")
    dry = upload(pm_client, camp, content)
    assert dry.status_code == 200 and "Confirm: record 4 deliveries" in dry.get_data(as_text=True)
    done = confirm(pm_client, dry)
    assert done.status_code == 200
    assert "Imported 4 rows: 4 deliveries recorded, 0 already recorded (1 milestone reached)." in \
        done.get_data(as_text=True)
    with app.app_context():
        deliveries = list(db.session.scalars(sa.select(Delivery).order_by(Delivery.occurred_on)))
        assert len(deliveries) == 4 and {d.source for d in deliveries} == {"csv"}
        first = next(d for d in deliveries if d.source_id == "a-1")
        assert first.meta == {"rating": 5} and first.duration_minutes == 60 and str(first.occurred_time) == "10:00:00"
        derived = next(d for d in deliveries if d.source_id.startswith("csv-"))
        assert derived.enrollment_id == mentee.id
        sessions = db.session.get(EnrollmentProgress, (mentee.id, "session_completed"))
        assert sessions.deliveries == 2 and sessions.last_on.isoformat() == DAY[2]  # the excused one does not count
        referral = db.session.get(EnrollmentProgress, (mentor.id, "mentor_referral"))
        assert referral.deliveries == 1 and str(referral.counted_quantity).startswith("2.5")
        assert db.session.get(EnrollmentMilestone, (mentee.id, "first_session")) is not None
        events = list(db.session.scalars(sa.select(ActivityEvent).where(
            ActivityEvent.type == "program.delivery.recorded")))
        assert len(events) == 1
        assert events[0].data["batch"] is True and events[0].data["source"] == "csv"
        assert (events[0].data["rows"], events[0].data["recorded"]) == (4, 4)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0  # the upload is gone


def test_importing_the_same_file_again_adds_nothing(app, pm_client, scene):
    camp = scene["campaign"]
    content = file_of(f"olena@example.org,session_completed,{DAY[3]},,,,present,,",
                      f"marta@acme.example,goal_achieved,{DAY[2]},,,,,b-2,")
    confirm(pm_client, upload(pm_client, camp, content))
    after_first = stored(app)
    assert after_first[0] == 2
    again = upload(pm_client, camp, content)
    assert again.status_code == 200
    assert {o for o, _ in outcome_rows(again).values()} == {"already recorded"}
    page = again.get_data(as_text=True)
    assert not CONFIRM.search(page) and "Every row is already recorded" in page
    assert stored(app) == after_first


def test_a_campaign_that_changed_since_the_dry_run_saves_nothing_and_shows_the_new_dry_run(app, pm_client, scene):
    camp = scene["campaign"]
    dry = upload(pm_client, camp, file_of(f"olena@example.org,session_completed,{DAY[1]},,,,present,c-1,",
                                          f"marta@acme.example,goal_achieved,{DAY[1]},,,,,c-2,"))
    assert dry.status_code == 200
    before = stored(app)
    with app.app_context(), transaction():  # meanwhile, the mentee drops out
        drop_enrollment(None, db.session.get(Enrollment, scene["mentee"].id), "moved away")
    response = confirm(pm_client, dry)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "The campaign changed since your dry run" in page
    rows = outcome_rows(response)
    assert rows[2][0] == "error" and rows[2][1].startswith("The enrollment is dropped")
    assert rows[3][0] == "will record"
    assert stored(app) == before


def test_a_confirm_of_a_file_with_errors_is_refused(app, pm_client, scene):
    dry = upload(pm_client, scene["campaign"], file_of(f"nobody@example.org,goal_achieved,{DAY[1]},,,,,,"))
    assert dry.status_code == 422
    token = re.search(r"/deliveries/import/([A-Za-z0-9_-]{43})/", dry.get_data(as_text=True)).group(1)
    path = f"{url(scene['campaign'])}/{token}/confirm"
    response = pm_client.post(path, data={"csrf_token": csrf_token(pm_client, url(scene["campaign"]))})
    assert response.status_code == 422 and stored(app)[0] == 0


# --- company admins ---------------------------------------------------------------
def test_a_company_admins_row_about_anyone_but_its_volunteers_reads_like_a_row_about_nobody(
        app, admin_a_client, scene):
    camp = scene["campaign"]
    with app.app_context():
        pseudonym = company_reference(scene["company"], scene["olena"].id)
    outsiders = ["olena@example.org",  # a beneficiary of this very campaign
                 "kintell:1",  # …by external_ref
                 pseudonym,  # …by the pseudonym the company sees
                 "bob@borealis.example",  # another company's employee
                 "nobody@example.org",  # nobody at all
                 "made-up:99"]
    lines = [f"marta@acme.example,goal_achieved,{DAY[1]},,,,,v-0,"]
    lines += [f"{who},goal_achieved,{DAY[1]},,,,,v-{n},"[:200] for n, who in enumerate(outsiders, start=1)]
    response = upload(admin_a_client, camp, file_of(*lines))
    assert response.status_code == 422
    rows = outcome_rows(response)
    assert rows[2] == ("will record", "new delivery")
    for number, who in enumerate(outsiders, start=3):
        assert rows[number] == ("error", not_your_volunteer(who)), who
    page = response.get_data(as_text=True)
    assert "Olena" not in page and "Bob Borealis" not in page


def test_a_company_admin_records_for_its_own_volunteer(app, admin_a_client, scene):
    dry = upload(admin_a_client, scene["campaign"], file_of(f"acme:7,goal_achieved,{DAY[1]},,,,,w-1,"))
    assert dry.status_code == 200
    confirm(admin_a_client, dry)
    with app.app_context():
        (delivery,) = db.session.scalars(sa.select(Delivery))
        assert delivery.enrollment_id == scene["mentor"].id


def test_another_companys_campaign_and_upload_are_404(app, pm_client, admin_b_client, scene):
    camp = scene["campaign"]
    assert admin_b_client.get(url(camp)).status_code == 404
    dry = upload(pm_client, camp, file_of(f"olena@example.org,goal_achieved,{DAY[1]},,,,,x-1,"))
    dry_run_path = re.search(r"/campaigns/\d+/deliveries/import/[A-Za-z0-9_-]{43}/", dry.get_data(as_text=True))
    assert admin_b_client.get(dry_run_path.group(0)).status_code == 404


# --- file-level problems and screens ------------------------------------------------
@pytest.mark.parametrize("content,needle", [
    (b"", "The file is empty."),
    (b"participant,kind\nolena@example.org,goal_achieved\n", "needs the column occurred_on"),
    (b"participant,kind,occurred_on,note\n", "Unknown column &#39;note&#39;"),
    ("participant,kind,occurred_on\n".encode("utf-16"), "not UTF-8"),
])
def test_unreadable_files_are_refused_at_the_upload(app, pm_client, scene, content, needle):
    response = upload(pm_client, scene["campaign"], content)
    assert response.status_code == 422 and needle in response.get_data(as_text=True)
    assert stored(app)[0] == 0


def test_a_closed_campaign_refuses_an_upload(app, pm_client, make, tenants, scene):
    with app.app_context(), transaction():
        db.session.get(type(scene["campaign"]), scene["campaign"].id).status = "completed"
    response = upload(pm_client, scene["campaign"], file_of(f"olena@example.org,goal_achieved,{DAY[1]},,,,,,"))
    assert response.status_code == 409 and "records no more deliveries" in response.get_data(as_text=True)


def test_the_sample_file_is_a_correct_file(app, pm_client, scene):
    sample = pm_client.get(f"{url(scene['campaign'])}/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    dry = upload(pm_client, scene["campaign"], sample.get_data())
    assert dry.status_code == 200
    assert {o for o, _ in outcome_rows(dry).values()} == {"will record"}


def test_an_htmx_upload_goes_to_the_job_page_which_leads_to_the_dry_run_fragment(pm_client, scene):
    hx = {"HX-Request": "true"}
    camp = scene["campaign"]
    response = upload(pm_client, camp, file_of(f"olena@example.org,goal_achieved,{DAY[1]},,,,,h-1,"),
                      headers=hx, follow=False)
    assert response.status_code == 200 and re.fullmatch(r"/jobs/\d+", response.headers["HX-Redirect"])
    done = pm_client.get(response.headers["HX-Redirect"], headers=hx)
    fragment = pm_client.get(done.headers["HX-Redirect"], headers=hx)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and text.lstrip().startswith('<div id="import">') and "<html" not in text
    assert CONFIRM.search(text)
