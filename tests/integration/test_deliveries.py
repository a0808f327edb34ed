"""Deliveries through the test client and the operations (SPEC §2.9, §5): program managers
record, correct and void on the enrollment page; company admins record only for their own
volunteers and never see notes; every bad input is a clear message at its field (422) or a
conflict (409) with nothing saved; another company's enrollment is 404; the activity event
is written in the delivery's own transaction; a match session writes both deliveries."""
from __future__ import annotations

import html
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.deliveries.models import Delivery, EnrollmentProgress
from portal.enrollments.models import Enrollment
from portal.errors import DomainError, StaleEdit, ValidationFailed
from portal.matches.models import Match
from tests.helpers import csrf_token

TODAY = utcnow().date()


@pytest.fixture
def scene(make, tenants):
    """Company A's mentorship campaign: a beneficiary enrolled 30 days ago, an Acme employee
    volunteering, a dropped beneficiary; company B's campaign with one beneficiary."""
    program = make.program(template=make.template("mentorship"))
    camp = make.campaign(tenants["company_a"], program, name="Acme Mentoring")
    started = utcnow() - timedelta(days=30)
    mentee = make.enrollment(camp, make.participant(display_name="Olena Shevchenko"), enrolled_at=started)
    mentor = make.enrollment(camp, make.participant(display_name="Marta Mentor", company_id=tenants["company_a"].id),
                             role="volunteer", enrolled_at=started)
    dropped = make.enrollment(camp, make.participant(display_name="Petro Bondar"), status="dropped",
                              enrolled_at=started, dropped_at=utcnow())
    camp_b = make.campaign(tenants["company_b"], program, name="Borealis Mentoring")
    return {"campaign": camp, "mentee": mentee, "mentor": mentor, "dropped": dropped, "campaign_b": camp_b,
            "b_mentee": make.enrollment(camp_b, make.participant(display_name="B Mentee"), enrolled_at=started)}


def page(enrollment: Enrollment) -> str:
    return f"/campaigns/{enrollment.campaign_id}/enrollments/{enrollment.id}"


def record(client, enrollment: Enrollment, token: str | None = None, headers=None, **fields):
    data = {"kind": "session_completed", "occurred_on": TODAY.isoformat(), "quantity": "1", **fields}
    data["csrf_token"] = token or csrf_token(client, "/home")
    return client.post(page(enrollment) + "/deliveries", data=data, headers=headers or {})


def counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(m))
                     for m in (Delivery, EnrollmentProgress, ActivityEvent))


def deliveries_of(app, enrollment_id: int) -> list[Delivery]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Delivery).where(Delivery.enrollment_id == enrollment_id)
                                       .order_by(Delivery.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def counter(app, enrollment_id: int, kind: str = "session_completed") -> tuple[int, Decimal, date | None]:
    with app.app_context():
        row = db.session.get(EnrollmentProgress, (enrollment_id, kind))
        return (0, Decimal(0), None) if row is None else (row.deliveries, Decimal(row.counted_quantity), row.last_on)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- recording -------------------------------------------------------------------------------
def test_a_program_manager_records_a_session_and_sees_it_counted(app, pm_client, scene):
    before = counts(app)
    response = record(pm_client, scene["mentee"], attendance="present", duration_minutes="60", note="Went well")
    assert response.status_code == 303
    [delivery] = deliveries_of(app, scene["mentee"].id)
    assert (delivery.kind, delivery.occurred_on, delivery.quantity, delivery.attendance, delivery.duration_minutes,
            delivery.source, delivery.note) == ("session_completed", TODAY, Decimal(1), "present", 60, "manual",
                                                "Went well")
    assert counter(app, scene["mentee"].id) == (1, Decimal(1), TODAY)
    assert counts(app) == (before[0] + 1, before[1] + 1, before[2] + 1)
    with app.app_context():
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "program.delivery.recorded")
                                   ).one()
        assert (event.subject_type, event.subject_id, event.company_id) == ("deliveries", delivery.id,
                                                                            scene["campaign"].company_id)
        assert "Went well" not in str(event.data) and "Olena" not in event.subject_label
    body = text_of(pm_client.get(page(scene["mentee"])))
    assert "Record a delivery" in body and "Session completed" in body and "1 delivery" in body
    assert "Went well" in body


def test_an_htmx_record_answers_the_section_alone(app, pm_client, scene):
    token = csrf_token(pm_client, page(scene["mentee"]))
    response = record(pm_client, scene["mentee"], token=token, headers={"HX-Request": "true"}, quantity="2.5",
                      kind="mentor_referral")
    assert response.status_code == 200
    body = text_of(response)
    assert body.lstrip().startswith("{#") is False and 'id="deliveries"' in body and "<html" not in body
    assert "Mentor referral × 2.5" in body
    assert counter(app, scene["mentee"].id, "mentor_referral") == (1, Decimal("2.5"), TODAY)
    refused = record(pm_client, scene["mentee"], token=token, headers={"HX-Request": "true"}, kind="nope")
    assert refused.status_code == 422 and "<html" not in refused.get_data(as_text=True)


BAD_INPUTS = [
    ({"kind": "teleportation"}, "kind", "Choose a kind this program records: Session completed (session_completed), "
                                        "Goal achieved (goal_achieved), Mentee employed (mentee_employed), "
                                        "Mentor referral (mentor_referral)."),
    ({"kind": "milestone_reached"}, "kind", "Choose a kind this program records"),
    ({"occurred_on": (TODAY + timedelta(days=1)).isoformat()}, "occurred_on", "The date is in the future"),
    ({"occurred_on": (TODAY - timedelta(days=31)).isoformat()}, "occurred_on", "before the enrollment started"),
    ({"occurred_on": ""}, "occurred_on", "Enter the date it happened."),
    ({"kind": "goal_achieved", "attendance": "present"}, "attendance", "Attendance is taken for sessions only"),
    ({"attendance": "maybe"}, "attendance", "Choose present, excused or unexcused."),
    ({"note": "Reach her at olena@example.org"}, "note", "Remove the e-mail address"),
    ({"note": "Call +47 912 34 567 after six"}, "note", "Remove the phone number"),
    ({"quantity": "-1"}, "quantity", "Enter zero or more."),
    ({"quantity": "1.2345"}, "quantity", "at most 3 decimal places"),
    ({"quantity": "NaN"}, "quantity", "Enter a plain number"),
    ({"duration_minutes": "-5"}, "duration_minutes", "Enter whole minutes"),
]


@pytest.mark.parametrize("fields,field,message", BAD_INPUTS, ids=[f"{f}:{m[:20]}" for _, f, m in BAD_INPUTS])
def test_bad_input_is_a_field_error_and_saves_nothing(app, pm_client, scene, fields, field, message):
    before = counts(app)
    response = record(pm_client, scene["mentee"], **fields)
    assert response.status_code == 422
    body = text_of(response)
    assert message in body
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert counts(app) == before


def test_a_dropped_enrollment_takes_no_delivery(app, pm_client, scene):
    before = counts(app)
    response = record(pm_client, scene["dropped"])
    assert response.status_code == 409
    assert "The enrollment is dropped" in text_of(response)
    assert counts(app) == before
    # htmx swaps no 409: it is sent to the page again, where the refusal is the message.
    refused = record(pm_client, scene["dropped"], headers={"HX-Request": "true"})
    assert refused.status_code == 200 and refused.headers["HX-Redirect"] == page(scene["dropped"])
    assert "Nothing recorded: The enrollment is dropped" in text_of(pm_client.get(page(scene["dropped"])))
    assert counts(app) == before


def test_another_companys_enrollment_is_not_found(app, admin_b_client, admin_a_client, scene):
    before = counts(app)
    assert record(admin_b_client, scene["mentor"]).status_code == 404
    # Company A's admin naming B's enrollment under its own campaign, or B's campaign: 404 too.
    assert admin_a_client.post(f"/campaigns/{scene['campaign'].id}/enrollments/{scene['b_mentee'].id}/deliveries",
                               data={"csrf_token": csrf_token(admin_a_client, "/home"), "kind": "session_completed",
                                     "occurred_on": TODAY.isoformat()}).status_code == 404
    assert record(admin_a_client, scene["b_mentee"]).status_code == 404
    assert counts(app) == before


def test_a_company_admin_records_for_its_volunteer_only_and_never_sees_notes(app, admin_a_client, pm_client, scene):
    before = counts(app)
    refused = record(admin_a_client, scene["mentee"])
    assert refused.status_code == 422
    assert str(ops.BENEFICIARY_DELIVERIES_BY_PROGRAM_TEAM) in text_of(refused)
    assert counts(app) == before
    with_note = record(admin_a_client, scene["mentor"], note="Fine")
    assert with_note.status_code == 422 and str(ops.NOTES_BY_PROGRAM_TEAM) in text_of(with_note)
    assert counts(app) == before
    assert record(admin_a_client, scene["mentor"], attendance="present").status_code == 303
    assert counter(app, scene["mentor"].id) == (1, Decimal(1), TODAY)
    # The program team's note stays theirs; the admin's pages never show it.
    assert record(pm_client, scene["mentor"], kind="mentor_referral", note="Private remark").status_code == 303
    assert record(pm_client, scene["mentee"], note="About the mentee").status_code == 303
    for enrollment in (scene["mentor"], scene["mentee"]):
        body = text_of(admin_a_client.get(page(enrollment)))
        assert "Private remark" not in body and "About the mentee" not in body and 'name="note"' not in body
        assert "Olena" not in body
    assert "Record a delivery" not in text_of(admin_a_client.get(page(scene["mentee"])))
    # Correcting or voiding a beneficiary's delivery is the program team's too.
    mentee_delivery = deliveries_of(app, scene["mentee"].id)[0]
    correct_url = f"{page(scene['mentee'])}/deliveries/{mentee_delivery.id}/correct"
    assert admin_a_client.get(correct_url).status_code == 303
    before = counts(app)
    refused = admin_a_client.post(f"{page(scene['mentee'])}/deliveries/{mentee_delivery.id}/void",
                                  data={"csrf_token": csrf_token(admin_a_client, "/home"), "confirmed": "yes"})
    assert refused.status_code == 422 and str(ops.BENEFICIARY_DELIVERIES_BY_PROGRAM_TEAM) in text_of(refused)
    assert counts(app) == before
    # The activity log reads the events without the note, for both.
    for client in (pm_client, admin_a_client):
        log = text_of(client.get("/activity/"))
        assert "Delivery recorded" in log and "Private remark" not in log and "About the mentee" not in log


def test_late_entries_for_recently_completed_enrollments_and_paused_campaigns(app, make, pm_client, scene, tenants):
    camp = scene["campaign"]
    recent = make.enrollment(camp, make.participant(), status="completed", enrolled_at=utcnow() - timedelta(days=200),
                             completed_at=utcnow() - timedelta(days=89))
    old = make.enrollment(camp, make.participant(), status="completed", enrolled_at=utcnow() - timedelta(days=200),
                          completed_at=utcnow() - timedelta(days=91))
    assert record(pm_client, recent).status_code == 303
    refused = record(pm_client, old)
    assert refused.status_code == 409 and "more than 90 days ago" in text_of(refused)
    paused = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")), status="paused")
    buddy = make.enrollment(paused, make.participant(), enrolled_at=utcnow() - timedelta(days=3))
    assert record(pm_client, buddy, kind="event_attended").status_code == 303
    ended = make.campaign(tenants["company_a"], make.program(), status="completed")
    gone = make.enrollment(ended, make.participant(), enrolled_at=utcnow() - timedelta(days=3))
    refused = record(pm_client, gone)
    assert refused.status_code == 409 and "The campaign is completed" in text_of(refused)


def test_only_present_sessions_count(app, pm_client, scene):
    for attendance in ("present", "excused", "unexcused", "present"):
        assert record(pm_client, scene["mentee"], attendance=attendance).status_code == 303
    assert len(deliveries_of(app, scene["mentee"].id)) == 4
    assert counter(app, scene["mentee"].id) == (2, Decimal(2), TODAY)


# --- operations: source ids, transactions ------------------------------------------------------
def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def test_a_resent_source_id_adds_nothing_and_a_changed_one_is_refused(app, scene, tenants):
    with app.app_context():
        pm = _user(tenants["pm"].id)
        with transaction():
            first = ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id), kind="session_completed",
                                        occurred_on=TODAY, attendance="present", source="kintell", source_id="K-1",
                                        meta={"rating": 5})
        first_id = first.id
        events = db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent))
        with transaction():
            again = ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id), kind="session_completed",
                                        occurred_on=TODAY, attendance="present", source="kintell", source_id="K-1",
                                        meta={"rating": 5})
        assert again.id == first_id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)) == events
        with pytest.raises(ops.DuplicateSourceId) as refused, transaction():
            ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id), kind="session_completed",
                                occurred_on=TODAY, attendance="excused", source="kintell", source_id="K-1")
        assert refused.value.status_code == 409 and "K-1" in refused.value.message
        # The same id from another source is another delivery.
        with transaction():
            other = ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id), kind="session_completed",
                                        occurred_on=TODAY, source="csv", source_id="K-1")
        assert other.id != first_id
    assert counter(app, scene["mentee"].id) == (2, Decimal(2), TODAY)


def test_the_event_is_written_in_the_deliverys_transaction(app, scene, tenants):
    before = counts(app)
    with app.app_context():
        pm = _user(tenants["pm"].id)
        with pytest.raises(RuntimeError), transaction():
            ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id), kind="session_completed",
                                occurred_on=TODAY)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)
                                     .where(ActivityEvent.type == "program.delivery.recorded")) == 1
            raise RuntimeError("fails after the operation, before the commit")
    assert counts(app) == before


# --- correcting and voiding --------------------------------------------------------------------
def _correct_url(delivery: Delivery, enrollment: Enrollment) -> str:
    return f"{page(enrollment)}/deliveries/{delivery.id}/correct"


def test_a_correction_moves_the_counters_and_a_stale_one_is_refused(app, pm_client, scene):
    assert record(pm_client, scene["mentee"], attendance="present").status_code == 303
    [delivery] = deliveries_of(app, scene["mentee"].id)
    url = _correct_url(delivery, scene["mentee"])
    form = pm_client.get(url)
    assert form.status_code == 200 and 'name="lock_version"' in form.get_data(as_text=True)
    token = csrf_token(pm_client, url)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    fields = {"csrf_token": token, "kind": "session_completed", "occurred_on": yesterday, "quantity": "2",
              "attendance": "present", "lock_version": str(delivery.lock_version)}
    assert pm_client.post(url, data=fields).status_code == 303
    assert counter(app, scene["mentee"].id) == (1, Decimal(2), TODAY - timedelta(days=1))
    before = counts(app)
    stale = pm_client.post(url, data={**fields, "quantity": "5"})  # the version the user saw is old now
    assert stale.status_code == 409
    assert "Someone else changed this delivery" in text_of(stale)
    assert counter(app, scene["mentee"].id) == (1, Decimal(2), TODAY - timedelta(days=1))
    assert counts(app) == before
    # Excused no longer counts.
    current = deliveries_of(app, scene["mentee"].id)[0]
    assert pm_client.post(url, data={**fields, "attendance": "excused",
                                     "lock_version": str(current.lock_version)}).status_code == 303
    assert counter(app, scene["mentee"].id)[0] == 0
    bad = pm_client.post(url, data={**fields, "kind": "goal_achieved", "attendance": "present",
                                    "lock_version": str(current.lock_version + 1)})
    assert bad.status_code == 422 and "Attendance is taken for sessions only" in text_of(bad)


def test_a_stale_correction_through_the_operation_says_so(app, scene, tenants):
    with app.app_context():
        pm = _user(tenants["pm"].id)
        with transaction():
            delivery = ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id),
                                           kind="session_completed", occurred_on=TODAY)
        with pytest.raises(StaleEdit) as stale, transaction():
            ops.correct_delivery(pm, db.session.get(Delivery, delivery.id), expected_version=0, quantity=3)
        assert "Someone else changed this delivery" in stale.value.message and stale.value.status_code == 409


def test_voiding_asks_first_then_keeps_the_delivery_out_of_every_count(app, pm_client, scene):
    assert record(pm_client, scene["mentee"], attendance="present").status_code == 303
    assert record(pm_client, scene["mentee"], attendance="present",
                  occurred_on=(TODAY - timedelta(days=2)).isoformat()).status_code == 303
    newest = deliveries_of(app, scene["mentee"].id)[0]
    url = f"{page(scene['mentee'])}/deliveries/{newest.id}/void"
    token = csrf_token(pm_client, page(scene["mentee"]))
    before = counts(app)
    asked = pm_client.post(url, data={"csrf_token": token, "lock_version": newest.lock_version, "reason": "Typo"})
    assert asked.status_code == 200 and "Void this delivery" in text_of(asked)
    assert counts(app) == before
    done = pm_client.post(url, data={"csrf_token": token, "lock_version": newest.lock_version, "reason": "Typo",
                                     "confirmed": "yes"})
    assert done.status_code == 303
    kept = deliveries_of(app, scene["mentee"].id)
    assert len(kept) == 2 and kept[0].voided_at is not None and kept[0].void_reason == "Typo"
    assert counter(app, scene["mentee"].id) == (1, Decimal(1), TODAY - timedelta(days=2))
    again = pm_client.post(url, data={"csrf_token": token, "lock_version": kept[0].lock_version, "confirmed": "yes"})
    assert again.status_code == 409 and "already void" in text_of(again)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)
                                 .where(ActivityEvent.type == "program.delivery.voided")) == 1
    body = text_of(pm_client.get(page(scene["mentee"])))
    assert "void" in body and "1 delivery" in body


# --- matches -----------------------------------------------------------------------------------
def test_a_match_session_is_one_delivery_on_each_enrollment(app, scene, tenants, make):
    with app.app_context():
        match = Match(campaign_id=scene["campaign"].id, volunteer_enrollment_id=scene["mentor"].id,
                      beneficiary_enrollment_id=scene["mentee"].id, status="active", started_at=utcnow())
        db.session.add(match)
        db.session.commit()
        match_id = match.id
        pm = _user(tenants["pm"].id)
        with transaction():
            delivery = ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id),
                                           kind="session_completed", occurred_on=TODAY, attendance="present",
                                           match_id=match_id, partner_attendance="unexcused")
        delivery_id = delivery.id
    [mentee_side] = deliveries_of(app, scene["mentee"].id)
    [mentor_side] = deliveries_of(app, scene["mentor"].id)
    assert mentee_side.counterpart_id == mentor_side.id and mentor_side.counterpart_id == mentee_side.id
    assert (mentee_side.match_id, mentor_side.match_id) == (match_id, match_id)
    assert (mentee_side.attendance, mentor_side.attendance) == ("present", "unexcused")
    assert counter(app, scene["mentee"].id)[0] == 1 and counter(app, scene["mentor"].id)[0] == 0
    with app.app_context():
        pm = _user(tenants["pm"].id)
        with transaction():
            ops.correct_delivery(pm, db.session.get(Delivery, delivery_id), expected_version=None,
                                 occurred_on=TODAY - timedelta(days=1))
        assert db.session.get(Delivery, mentor_side.id).occurred_on == TODAY - timedelta(days=1)
        with transaction():
            ops.void_delivery(pm, db.session.get(Delivery, delivery_id), reason="Did not happen")
        assert db.session.get(Delivery, mentor_side.id).voided_at is not None
        # A match that is not this enrollment's is refused at its field.
        with pytest.raises(DomainError) as refused, transaction():
            ops.record_delivery(pm, db.session.get(Enrollment, scene["b_mentee"].id), kind="session_completed",
                                occurred_on=TODAY, match_id=match_id)
        assert refused.value.field == "match_id"
    assert counter(app, scene["mentee"].id)[0] == 0


def test_operations_refuse_unknown_kinds_naming_the_allowed_ones(app, scene, tenants):
    with app.app_context():
        pm = _user(tenants["pm"].id)
        with pytest.raises(ValidationFailed) as refused, transaction():
            ops.record_delivery(pm, db.session.get(Enrollment, scene["mentee"].id), kind="cefr_level_advanced",
                                occurred_on=TODAY)
        assert "kind" in refused.value.errors
        assert "Mentee employed (mentee_employed)" in refused.value.errors["kind"][0]


# --- the match picker on the form ------------------------------------------------------------
def add_match(app, scene, status: str = "active") -> int:
    with app.app_context():
        match = Match(campaign_id=scene["campaign"].id, volunteer_enrollment_id=scene["mentor"].id,
                      beneficiary_enrollment_id=scene["mentee"].id, status=status,
                      started_at=utcnow() if status == "active" else None)
        db.session.add(match)
        db.session.commit()
        return match.id


def test_the_form_offers_the_active_matches_and_a_session_for_one_writes_both(app, pm_client, scene):
    assert 'name="match_id"' not in text_of(pm_client.get(page(scene["mentee"])))  # no match: no picker
    match_id = add_match(app, scene)
    body = text_of(pm_client.get(page(scene["mentee"])))
    assert f'<option value="{match_id}">With Marta Mentor</option>' in body  # labelled with the partner
    assert f'<option value="{match_id}">With Olena Shevchenko</option>' in text_of(pm_client.get(page(scene["mentor"])))
    before = counts(app)
    response = record(pm_client, scene["mentee"], attendance="present", match_id=str(match_id))
    assert response.status_code == 303
    [mine], [theirs] = deliveries_of(app, scene["mentee"].id), deliveries_of(app, scene["mentor"].id)
    assert (mine.match_id, theirs.match_id, mine.counterpart_id, theirs.counterpart_id) == (
        match_id, match_id, theirs.id, mine.id)
    assert theirs.attendance == "present" and counts(app)[0] == before[0] + 2
    with app.app_context():
        assert db.session.get(Enrollment, scene["mentor"].id).last_counted_delivery_on == TODAY


def test_a_session_without_a_match_stays_on_one_enrollment(app, pm_client, scene):
    add_match(app, scene)
    assert record(pm_client, scene["mentee"], attendance="present", match_id="").status_code == 303
    assert len(deliveries_of(app, scene["mentee"].id)) == 1 and deliveries_of(app, scene["mentor"].id) == []


@pytest.mark.parametrize("value", ["999999", "abc", "-1"])
def test_a_match_that_is_not_this_enrollments_is_refused_at_the_picker(app, pm_client, scene, make, tenants, value):
    add_match(app, scene)
    before = counts(app)
    response = record(pm_client, scene["mentee"], attendance="present", match_id=value)
    assert response.status_code == 422
    assert "Choose one of this enrollment's matches." in text_of(response)
    assert counts(app) == before


def test_a_proposed_match_is_not_offered_and_is_refused(app, pm_client, scene):
    match_id = add_match(app, scene, status="proposed")
    assert 'name="match_id"' not in text_of(pm_client.get(page(scene["mentee"])))
    before = counts(app)
    assert record(pm_client, scene["mentee"], attendance="present", match_id=str(match_id)).status_code == 409
    assert counts(app) == before


def test_a_company_admin_sees_the_partner_only_as_a_pseudonym_and_no_picker(app, admin_a_client, scene, tenants):
    """Company admins record their volunteers' own deliveries; a match session writes the
    beneficiary's too, so it is the program team's: the form offers no picker, says so
    naming the partner by the company's pseudonym, and a forged post saves nothing."""
    from portal.auth.models import Company
    from portal.enrollments.privacy import company_reference

    match_id = add_match(app, scene)
    body = text_of(admin_a_client.get(page(scene["mentor"])))
    with app.app_context():
        alias = company_reference(db.session.get(Company, tenants["company_a"].id), scene["mentee"].participant_id)
    assert 'name="match_id"' not in body and "Olena" not in body
    assert f"Sessions with {alias} (a match) are recorded by the program team." in body
    before = counts(app)
    forged = record(admin_a_client, scene["mentor"], attendance="present", match_id=str(match_id))
    assert forged.status_code == 422 and "Olena" not in text_of(forged)
    assert counts(app) == before


# --- language programs: the current level --------------------------------------------------------
@pytest.fixture
def language(make, tenants):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("language")))
    learner = make.enrollment(camp, make.participant(display_name="Lina Learner"),
                              enrolled_at=utcnow() - timedelta(days=60), meta={"starting_cefr": "A2"})
    return camp, learner


def level_line(client, enrollment) -> str:
    body = text_of(client.get(page(enrollment)))
    start = body.index('data-testid="cefr-level"')
    return " ".join(body[start:body.index("</p>", start)].split())


def test_a_language_enrollment_shows_its_level_and_sessions_toward_the_next(app, pm_client, admin_a_client, language,
                                                                             tenants):
    camp, learner = language
    pm = tenants["pm"].id

    def deliver(days_ago: int, **fields):
        with app.app_context(), transaction():
            ops.record_delivery(db.session.get(User, pm), db.session.get(Enrollment, learner.id),
                                occurred_on=TODAY - timedelta(days=days_ago), **fields)

    line = level_line(pm_client, learner)
    assert "<strong>A2</strong>" in line and "0 of 30 sessions toward B1" in line  # progressionThresholds.B1
    deliver(20, kind="session_completed", attendance="present", quantity=4)
    deliver(19, kind="session_completed", attendance="excused", quantity=5)  # does not count
    assert "4 of 30 sessions toward B1" in level_line(pm_client, learner)
    deliver(10, kind="cefr_level_advanced", meta={"level": "B1"})
    deliver(5, kind="session_completed", attendance="present", quantity=3)
    line = level_line(pm_client, learner)
    assert "<strong>B1</strong>" in line and "3 of 35 sessions toward B2" in line  # only those since B1
    assert "3 of 35 sessions toward B2" in level_line(admin_a_client, learner)  # the company sees progress
    with app.app_context(), transaction():  # a level delivery naming none raises by one step; void it again
        advanced = ops.record_delivery(db.session.get(User, pm), db.session.get(Enrollment, learner.id),
                                       kind="cefr_level_advanced", occurred_on=TODAY - timedelta(days=2)).id
    assert "<strong>B2</strong>" in level_line(pm_client, learner)
    with app.app_context(), transaction():
        ops.void_delivery(db.session.get(User, pm), db.session.get(Delivery, advanced), reason="Wrong learner")
    assert "3 of 35 sessions toward B2" in level_line(pm_client, learner)


def test_other_programs_show_no_level(app, pm_client, scene):
    assert 'data-testid="cefr-level"' not in text_of(pm_client.get(page(scene["mentee"])))
