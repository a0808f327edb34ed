"""The register of data-subject requests (SPEC §2.12, issue #18): a program manager records a
request received, the privacy screen lists the open ones oldest first with the day each answer
is due (one month, GDPR Art. 12(3)) and flags overdue ones; the export answers access requests,
erasure answers every open one, and a request is closed by hand with a note. Each write is one
transaction with its event, and no event holds the reference or the note; company admins get
404 everywhere."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db, transaction, utcnow
from portal.enrollments.models import Participant
from portal.privacy.models import DataSubjectRequest
from portal.privacy.requests import record_request
from portal.privacy.retention import add_months
from tests.conftest import sign_in_client
from tests.helpers import csrf_token
from tests.integration.test_privacy import _erase

TODAY = utcnow().date()


@pytest.fixture
def scene(app, make, tenants):
    """Olena (whose requests these are) and Iryna, beneficiaries of company A's campaign."""
    campaign = make.campaign(tenants["company_a"], max_enrollment=10)
    olena = make.participant(display_name="Olena Requester", email="olena.requester@example.org")
    iryna = make.participant(display_name="Iryna Bystander", email="iryna@example.org")
    make.enrollment(campaign, olena)
    make.enrollment(campaign, iryna)
    with app.app_context():
        ref = db.session.get(Participant, olena.id).ref
    return {"participant_id": olena.id, "other_id": iryna.id, "ref": ref}


def _record(client, participant_id: int, **fields):
    page = f"/privacy/participants/{participant_id}"
    return client.post(f"{page}/requests", data={"csrf_token": csrf_token(client, page), **fields})


def _requests(app) -> list[tuple]:
    with app.app_context():
        return [tuple(r) for r in db.session.execute(sa.select(
            DataSubjectRequest.kind, DataSubjectRequest.received_on, DataSubjectRequest.reference,
            DataSubjectRequest.outcome).order_by(DataSubjectRequest.id)).all()]


def _open_section(client) -> str:
    page = client.get("/privacy/").get_data(as_text=True)
    return page.split('id="requests-title"', 1)[1].split("</section>", 1)[0]


def _events(app, event_type: str) -> list[ActivityEvent]:
    with app.app_context():
        events = list(db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == event_type)
                                         .order_by(ActivityEvent.id)))
        for event in events:
            db.session.expunge(event)
        return events


def _make(app, tenants, participant_id: int, kind: str, days_ago: int, reference: str | None = None) -> int:
    with app.app_context(), transaction():
        return record_request(tenants["pm"], db.session.get(Participant, participant_id), kind=kind,
                              received_on=TODAY - timedelta(days=days_ago), reference=reference).id


def test_a_recorded_request_is_listed_open_oldest_first_with_its_due_day(app, scene, tenants, pm_client):
    pid = scene["participant_id"]
    received = TODAY - timedelta(days=3)
    response = _record(pm_client, pid, kind="rectification", received_on=received.isoformat(), reference="DPO-2026-9")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert _requests(app) == [("rectification", received, "DPO-2026-9", None)]
    _make(app, tenants, scene["other_id"], "objection", days_ago=40)  # received first: listed first, overdue
    listed = _open_section(pm_client)
    rows = re.findall(r'<tr id="request-(\d+)">(.*?)</tr>', listed, re.S)
    assert len(rows) == 2 and "Iryna Bystander" in rows[0][1] and scene["ref"] in rows[1][1]
    assert "overdue" in rows[0][1] and "overdue" not in rows[1][1]
    due = add_months(received, 1)
    assert due.strftime("%-d") in rows[1][1] and "DPO-2026-9" in rows[1][1]
    event = _events(app, "participant.request_recorded")[0]
    assert event.company_id is None and event.subject_id == pid
    assert event.data == {"request_id": event.data["request_id"], "kind": "rectification",
                          "received_on": received.isoformat()}
    assert "DPO-2026-9" not in str(event.data) + (event.subject_label or "")


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"kind": "access", "received_on": ""}, "received_on", "Enter the day the request arrived."),
    ({"kind": "access", "received_on": (TODAY + timedelta(days=1)).isoformat()}, "received_on",
     "A request cannot arrive in the future."),
    ({"kind": "deletion", "received_on": TODAY.isoformat()}, "kind", "Choose access, erasure"),
    ({"kind": "access", "received_on": TODAY.isoformat(), "reference": "from olena.k@example.org"}, "reference",
     "Remove the e-mail address"),
    ({"kind": "access", "received_on": TODAY.isoformat(), "reference": "call back +47 912 34 567"}, "reference",
     "Remove the phone number"),
])
def test_bad_input_is_a_field_error_and_records_nothing(app, scene, pm_client, fields, field, message):
    response = _record(pm_client, scene["participant_id"], **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html and message in html
    assert _requests(app) == [] and _events(app, "participant.request_recorded") == []


def test_exporting_answers_the_open_access_requests_only(app, scene, tenants, pm_client):
    pid = scene["participant_id"]
    access = _make(app, tenants, pid, "access", days_ago=5)
    other = _make(app, tenants, pid, "rectification", days_ago=5)
    page = f"/privacy/participants/{pid}"
    download = pm_client.post(f"{page}/access", data={"csrf_token": csrf_token(pm_client, page), "format": "json"})
    assert download.status_code == 200 and download.mimetype == "application/json"
    held = {(r["kind"], r["outcome"]) for r in download.get_json()["requests"]}  # the register is data held too
    assert held == {("access", "exported"), ("rectification", None)}
    readable = pm_client.post(f"{page}/access", data={"csrf_token": csrf_token(pm_client, page), "format": "page"})
    assert "Answered by the data export" in readable.get_data(as_text=True)
    with app.app_context():
        closed = {r.id: (r.outcome, r.closed_by_id) for r in db.session.scalars(sa.select(DataSubjectRequest))}
    assert closed == {access: ("exported", tenants["pm"].id), other: (None, None)}
    (event,) = _events(app, "participant.request_closed")
    assert event.data == {"request_id": access, "kind": "access", "outcome": "exported"} and event.company_id is None
    listed = _open_section(pm_client)
    assert f'id="request-{other}"' in listed and f'id="request-{access}"' not in listed


def test_erasure_answers_every_open_request_and_a_new_one_is_refused(app, scene, tenants, pm_client):
    pid = scene["participant_id"]
    ids = [_make(app, tenants, pid, kind, days_ago=2) for kind in ("erasure", "objection")]
    assert _erase(pm_client, pid, "ERASE").status_code == 303
    with app.app_context():
        assert {r.id: r.outcome for r in db.session.scalars(sa.select(DataSubjectRequest))} == dict.fromkeys(
            ids, "erased")
    assert "No open requests." in _open_section(pm_client)
    refused = _record(pm_client, pid, kind="access", received_on=TODAY.isoformat())
    assert refused.status_code == 409 and "already erased" in refused.get_data(as_text=True)
    assert len(_requests(app)) == 2


def test_a_request_is_closed_by_hand_with_a_note(app, scene, tenants, pm_client):
    request_id = _make(app, tenants, scene["participant_id"], "rectification", days_ago=10)
    url = f"/privacy/requests/{request_id}/close"
    form = pm_client.get(url)
    assert form.status_code == 200 and "Close the request of" in form.get_data(as_text=True)
    token = csrf_token(pm_client, url)
    for note, message in [("", "Say how the request was answered."),
                          ("Mailed olena@example.org the fix", "Remove the e-mail address")]:
        refused = pm_client.post(url, data={"csrf_token": token, "note": note, "lock_version": "1"})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    stale = pm_client.post(url, data={"csrf_token": token, "note": "Year of birth corrected", "lock_version": "7"})
    assert stale.status_code == 409
    assert _requests(app)[0][3] is None and _events(app, "participant.request_closed") == []
    done = pm_client.post(url, data={"csrf_token": token, "note": "Year of birth corrected", "lock_version": "1"})
    assert done.status_code == 303
    with app.app_context():
        closed = db.session.get(DataSubjectRequest, request_id)
        assert (closed.outcome, closed.outcome_note, closed.closed_by_id) == (
            "by_hand", "Year of birth corrected", tenants["pm"].id)
    (event,) = _events(app, "participant.request_closed")
    assert event.data == {"request_id": request_id, "kind": "rectification", "outcome": "by_hand"}
    again = pm_client.post(url, data={"csrf_token": token, "note": "Again", "lock_version": "2"})
    assert again.status_code == 409 and "already closed" in again.get_data(as_text=True)
    assert "Year of birth corrected" in pm_client.get(f"/privacy/participants/{scene['participant_id']}").get_data(
        as_text=True)


def test_company_admins_get_404_and_change_nothing(app, scene, tenants):
    request_id = _make(app, tenants, scene["participant_id"], "access", days_ago=1)
    admin = sign_in_client(app, tenants["admin_a"])
    token = csrf_token(admin, "/home")
    pid = scene["participant_id"]
    for method, url, data in [
        ("get", f"/privacy/requests/{request_id}/close", None),
        ("post", f"/privacy/requests/{request_id}/close", {"note": "x", "lock_version": "1"}),
        ("post", f"/privacy/participants/{pid}/requests", {"kind": "access", "received_on": TODAY.isoformat()}),
    ]:
        response = getattr(admin, method)(url, data={"csrf_token": token, **(data or {})} if data else None)
        assert response.status_code == 404, (method, url)
    assert _requests(app) == [("access", TODAY - timedelta(days=1), None, None)]
    assert "request_recorded" not in admin.get("/activity/").get_data(as_text=True)
