"""Webhooks through the database and HTTP: fan-out in the event's transaction, the job that
sends, retries and giving up, signatures a real receiver checks, and the screens."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.campaigns.models import Campaign
from portal.db import db, transaction, utcnow
from portal.enrollments.models import Enrollment
from portal.enrollments.operations import complete_enrollment
from portal.jobs.models import Job
from portal.jobs.runner import run_job
from portal.webhooks import addresses
from portal.webhooks.delivery import attempt, sweep_due
from portal.webhooks.fanout import DELIVER_KIND
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.webhooks.signing import verify
from tests.conftest import sign_in_client
from tests.helpers import csrf_token, webhook_endpoint
from tests.webhook_receiver import running_receiver

ENROLLMENT_TYPES = ["program.enrollment.completed", "program.enrollment.dropped"]


def _endpoint(app, url="http://127.0.0.1:9/hook", types=ENROLLMENT_TYPES, company_id=None, enabled=True):
    """An endpoint made by the operation (a program manager of its own); returns (id, secret)."""
    return webhook_endpoint(app, types, url=url, company_id=company_id, enabled=enabled)


def _deliveries(app, **where):
    with app.app_context():
        stmt = sa.select(WebhookDelivery).order_by(WebhookDelivery.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(WebhookDelivery, key) == value)
        rows = list(db.session.scalars(stmt))
        for row in rows:
            db.session.expunge(row)
        return rows


@pytest.fixture
def enrollment(make, tenants):
    campaign = make.campaign(tenants["company_a"], max_enrollment=10)
    return make.enrollment(campaign, make.participant(display_name="Olena Kovalenko", email="olena@example.org"))


def _record(app, enrollment, event_type="program.enrollment.completed", fail=False):
    with app.app_context():
        try:
            with transaction():
                e = db.session.get(Enrollment, enrollment.id)
                event = record_event(event_type, actor=None, subject=e, company_id=e.campaign.company_id,
                                     data={"campaign_id": e.campaign_id, "reason": "Olena Kovalenko moved"},
                                     label="Olena Kovalenko")
                db.session.flush()
                event_id = event.id
                if fail:
                    raise RuntimeError("the change fails after its event")
        except RuntimeError:
            return None
        return event_id


# --- fan-out -----------------------------------------------------------------------------------
def test_an_event_writes_one_delivery_per_subscribed_endpoint_in_its_transaction(app, enrollment, tenants):
    a, _ = _endpoint(app)
    b, _ = _endpoint(app, types=["program.enrollment.completed"], company_id=tenants["company_a"].id)
    _endpoint(app, types=["program.campaign.created"])  # another type
    _endpoint(app, company_id=tenants["company_b"].id)  # another company
    _endpoint(app, enabled=False)  # disabled
    event_id = _record(app, enrollment)
    rows = _deliveries(app, event_id=event_id)
    assert sorted(r.endpoint_id for r in rows) == sorted([a, b])
    assert len({r.message_id for r in rows}) == 2
    with app.app_context():  # the transaction also recorded the job that sends them
        jobs = list(db.session.scalars(sa.select(Job).where(Job.kind == DELIVER_KIND)))
        assert [sorted(j.params["delivery_ids"]) for j in jobs] == [sorted(r.id for r in rows)]
        assert jobs[0].created_by_id is None  # nobody's job page shows it
    payload = rows[0].payload
    assert payload["type"] == "program.enrollment.completed" and payload["id"] == event_id
    assert payload["data"]["subject"] == {"type": "enrollments", "id": enrollment.id}
    assert payload["data"]["campaign_id"] == enrollment.campaign_id
    assert "Olena" not in json.dumps(payload), "a beneficiary's name must not leave the portal"


def test_a_rolled_back_change_writes_no_delivery_and_no_job(app, enrollment):
    _endpoint(app)
    assert _record(app, enrollment, fail=True) is None
    assert _deliveries(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == DELIVER_KIND)) == 0


def test_a_real_operation_fans_out_once(app, enrollment, tenants):
    endpoint_id, _ = _endpoint(app)
    with app.app_context():
        with transaction():
            complete_enrollment(None, db.session.get(Enrollment, enrollment.id))
    rows = _deliveries(app)
    assert [(r.endpoint_id, r.event_type) for r in rows] == [(endpoint_id, "program.enrollment.completed")]


# --- sending ---------------------------------------------------------------------------------
def test_the_job_posts_a_correctly_signed_message_to_the_receiver(app, enrollment):
    with running_receiver() as receiver:
        endpoint_id, secret = _endpoint(app, url=receiver.url)
        _record(app, enrollment)
        with app.app_context():
            job_id = db.session.scalar(sa.select(Job.id).where(Job.kind == DELIVER_KIND))
            run_job(job_id)
            assert db.session.get(Job, job_id).status == "succeeded"
        assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    assert headers["content-type"] == "application/json"
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]+=*", headers["webhook-signature"])
    message = verify(secret, body, headers)
    assert message["type"] == "program.enrollment.completed"
    (delivery,) = _deliveries(app)
    assert headers["webhook-id"] == delivery.message_id
    assert (delivery.status, delivery.attempts, delivery.delivered_at is not None) == ("delivered", 1, True)
    with app.app_context():
        (logged,) = db.session.scalars(sa.select(WebhookAttempt))
        assert (logged.status_code, logged.outcome, logged.error) == (204, "delivered", None)


def test_a_failing_receiver_is_retried_on_schedule_then_the_delivery_fails(app, enrollment):
    with running_receiver(status=500) as receiver:
        _endpoint(app, url=receiver.url)
        _record(app, enrollment)
        (delivery,) = _deliveries(app)
        with app.app_context():
            assert attempt(delivery.id, first=True) == "retrying"
            assert attempt(delivery.id, first=True) is None  # the first attempt is made once
            assert sweep_due() == 0  # not due yet
            row = db.session.get(WebhookDelivery, delivery.id)
            first_wait = row.next_attempt_at - row.last_attempt_at
            assert timedelta(seconds=29) < first_wait <= timedelta(seconds=31)
            # Time passes: move the delivery's clock back instead of waiting.
            attempts = 1
            while row.status == "pending":
                shift = row.next_attempt_at - utcnow() + timedelta(seconds=1)
                row.created_at, row.next_attempt_at = row.created_at - shift, row.next_attempt_at - shift
                db.session.commit()
                assert sweep_due() == 1
                attempts += 1
                db.session.expire_all()
                row = db.session.get(WebhookDelivery, delivery.id)
            assert row.status == "failed" and attempts == 13
            assert "Gave up after 13 attempts" in row.failed_reason and "500" in row.failed_reason
            log = list(db.session.scalars(sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id)
                                          .order_by(WebhookAttempt.number)))
            assert [a.outcome for a in log] == ["retrying"] * 12 + ["failed"]
            assert all(a.status_code == 500 for a in log)
        assert len(receiver.received) == 13
        assert len({h["webhook-id"] for h, _ in receiver.received}) == 1  # one message, retried


def test_a_refused_connection_is_logged_with_its_reason(app, enrollment):
    _endpoint(app, url="http://127.0.0.1:9/nothing-listens")
    _record(app, enrollment)
    (delivery,) = _deliveries(app)
    with app.app_context():
        assert attempt(delivery.id, first=True) == "retrying"
        (logged,) = db.session.scalars(sa.select(WebhookAttempt))
        assert logged.status_code is None and "refused" in logged.error


def test_a_redirect_is_not_followed(app, enrollment):
    with running_receiver(status=302) as receiver:
        _endpoint(app, url=receiver.url)
        _record(app, enrollment)
        (delivery,) = _deliveries(app)
        with app.app_context():
            assert attempt(delivery.id, first=True) == "retrying"
            (logged,) = db.session.scalars(sa.select(WebhookAttempt))
            assert logged.status_code == 302 and "redirect" in logged.error
        assert len(receiver.received) == 1


def test_at_send_time_a_url_that_now_resolves_privately_is_not_contacted(app, enrollment, monkeypatch):
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    _endpoint(app, url="https://hooks.example.com/portal")
    _record(app, enrollment)
    (delivery,) = _deliveries(app)
    # DNS rebinding: the name now answers with the cloud metadata address.
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["169.254.169.254"])
    with app.app_context():
        assert attempt(delivery.id, first=True) == "retrying"
        (logged,) = db.session.scalars(sa.select(WebhookAttempt))
        assert "public addresses only" in logged.error


# --- screens ---------------------------------------------------------------------------------
def test_a_program_manager_registers_an_endpoint_sees_the_secret_once_and_sends_a_test(app, tenants):
    client = sign_in_client(app, tenants["pm"])
    with running_receiver() as receiver:
        token = csrf_token(client, "/webhooks/new")
        response = client.post("/webhooks/new", data={
            "csrf_token": token, "url": receiver.url, "description": "BI connector",
            "event_types": ["program.campaign.created", "program.enrollment.created"], "company_id": ""})
        assert response.status_code == 201
        html = response.get_data(as_text=True)
        secret = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', html).group(1)
        assert response.headers["Cache-Control"] == "no-store"
        with app.app_context():
            endpoint = db.session.scalars(sa.select(WebhookEndpoint)).one()
            assert endpoint.event_types == ["program.campaign.created", "program.enrollment.created"]
        listing = client.get("/webhooks/").get_data(as_text=True)
        detail = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
        assert "BI connector" in listing and secret not in listing and secret not in detail
        assert "Nothing sent yet" in detail

        response = client.post(f"/webhooks/{endpoint.id}/test", data={"csrf_token": token})
        assert response.status_code == 303
        assert len(receiver.received) == 1
        headers, body = receiver.received[0]
        assert verify(secret, body, headers)["type"] == "webhook.test"
    detail = client.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "webhook.test" in detail and "204" in detail and " ms" in detail and "delivered" in detail


def test_a_bad_url_is_a_field_error_and_nothing_is_saved(app, tenants, monkeypatch):
    app.config["PORTAL_WEBHOOKS_ALLOW_PRIVATE"] = False
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["10.0.0.8"])
    client = sign_in_client(app, tenants["pm"])
    token = csrf_token(client, "/webhooks/new")
    for url, message in [("https://internal.example.com/hook", "public addresses only"),
                         ("http://hooks.example.com/hook", "HTTPS only"),
                         ("https://169.254.169.254/latest", "public addresses only")]:
        response = client.post("/webhooks/new", data={"csrf_token": token, "url": url,
                                                      "event_types": ["program.campaign.created"]})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), response.get_data(as_text=True)[-6000:]
    response = client.post("/webhooks/new", data={"csrf_token": token, "url": "https://internal.example.com/",
                                                  "event_types": ["nope"], "company_id": "999999"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) == 0


def test_company_admins_are_refused_every_webhook_screen(app, tenants):
    endpoint_id, _ = _endpoint(app)
    client = sign_in_client(app, tenants["admin_a"])
    token = csrf_token(client, "/home")
    assert b"/webhooks/" not in client.get("/home").data  # no navigation entry
    for url in ("/webhooks/", "/webhooks/new", f"/webhooks/{endpoint_id}", f"/webhooks/{endpoint_id}/edit"):
        assert client.get(url).status_code == 403
    for url in (f"/webhooks/{endpoint_id}/test", f"/webhooks/{endpoint_id}/delete", f"/webhooks/{endpoint_id}/rotate"):
        assert client.post(url, data={"csrf_token": token, "confirmed": "yes"}).status_code == 403
    assert _deliveries(app) == []
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id) is not None


def test_edit_refuses_a_stale_save_and_disabling_stops_the_fan_out(app, tenants, enrollment):
    endpoint_id, _ = _endpoint(app)
    client = sign_in_client(app, tenants["pm"])
    token = csrf_token(client, f"/webhooks/{endpoint_id}/edit")
    form = {"csrf_token": token, "url": "http://127.0.0.1:9/other", "description": "Renamed",
            "event_types": ENROLLMENT_TYPES, "company_id": "", "enabled": "y", "lock_version": "1"}
    assert client.post(f"/webhooks/{endpoint_id}/edit", data=form).status_code == 303
    stale = client.post(f"/webhooks/{endpoint_id}/edit", data={**form, "description": "Again"})
    assert stale.status_code == 409 and "Someone else changed" in stale.get_data(as_text=True)
    assert client.post(f"/webhooks/{endpoint_id}/enabled", data={"csrf_token": token, "enabled": "no"}).status_code == 303
    _record(app, enrollment)
    assert _deliveries(app) == []
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert (endpoint.description, endpoint.enabled) == ("Renamed", False)
    refused = client.post(f"/webhooks/{endpoint_id}/test", data={"csrf_token": token})
    assert refused.status_code == 422 and "disabled" in refused.get_data(as_text=True)


def test_rotating_signs_with_both_secrets_and_delete_asks_first(app, tenants, enrollment):
    with running_receiver() as receiver:
        endpoint_id, old = _endpoint(app, url=receiver.url)
        client = sign_in_client(app, tenants["pm"])
        token = csrf_token(client, f"/webhooks/{endpoint_id}")
        asked = client.post(f"/webhooks/{endpoint_id}/rotate", data={"csrf_token": token})
        assert asked.status_code == 200 and "Rotate the secret" in asked.get_data(as_text=True)
        rotated = client.post(f"/webhooks/{endpoint_id}/rotate", data={"csrf_token": token, "confirmed": "yes"})
        new = re.search(r'value="(whsec_[A-Za-z0-9+/=]+)"', rotated.get_data(as_text=True)).group(1)
        assert new != old
        client.post(f"/webhooks/{endpoint_id}/test", data={"csrf_token": token})
        headers, body = receiver.received[-1]
        assert verify(old, body, headers) and verify(new, body, headers)

    asked = client.post(f"/webhooks/{endpoint_id}/delete", data={"csrf_token": token})
    assert asked.status_code == 200 and "Delete the endpoint" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id) is not None
    deleted = client.post(f"/webhooks/{endpoint_id}/delete", data={"csrf_token": token, "confirmed": "yes"})
    assert deleted.status_code == 303
    assert client.get(f"/webhooks/{endpoint_id}").status_code == 404
    assert _deliveries(app) == []
    with app.app_context():  # each change left its event, without the secret
        events = list(db.session.execute(sa.text(
            "SELECT type, data FROM activity_events WHERE type LIKE 'webhook.endpoint.%' ORDER BY id")))
        assert [t for t, _ in events] == ["webhook.endpoint.created", "webhook.endpoint.secret_rotated",
                                          "webhook.endpoint.deleted"]
        assert all(old not in str(d) and new not in str(d) for _, d in events)
    log = client.get("/activity/")
    assert log.status_code == 200 and "Webhook endpoint secret rotated" in log.get_data(as_text=True)


def test_the_delivery_log_shows_attempts_with_code_duration_and_error(app, tenants, enrollment):
    endpoint_id, _ = _endpoint(app)
    _record(app, enrollment)
    (delivery,) = _deliveries(app)
    with app.app_context():
        attempt(delivery.id, first=True)
    client = sign_in_client(app, tenants["pm"])
    html = client.get(f"/webhooks/{endpoint_id}").get_data(as_text=True)
    assert "program.enrollment.completed" in html and delivery.message_id in html
    assert "The connection was refused." in html and "retrying" in html
    assert "Olena" not in html
    listing = client.get("/webhooks/").get_data(as_text=True)
    assert "pending" in listing  # the endpoint's last delivery waits for its retry


def test_the_webhooks_list_is_in_the_program_managers_navigation(app, tenants):
    client = sign_in_client(app, tenants["pm"])
    assert 'href="/webhooks/"' in client.get("/home").get_data(as_text=True)


def test_campaign_events_from_a_company_filter(app, tenants, make):
    endpoint_id, _ = _endpoint(app, types=["program.campaign.paused"], company_id=tenants["company_b"].id)
    campaign_a = make.campaign(tenants["company_a"])
    campaign_b = make.campaign(tenants["company_b"])
    from portal.campaigns.operations import transition_campaign

    with app.app_context():
        with transaction():
            transition_campaign(None, db.session.get(Campaign, campaign_a.id), "paused")
        with transaction():
            transition_campaign(None, db.session.get(Campaign, campaign_b.id), "paused")
    rows = _deliveries(app)
    assert [(r.endpoint_id, r.payload["data"]["subject"]["id"]) for r in rows] == [(endpoint_id, campaign_b.id)]
    assert rows[0].payload["data"]["from"] == "active" and rows[0].payload["data"]["to"] == "paused"


def test_on_a_real_queue_one_waiting_job_sends_every_first_attempt(app, enrollment):
    """Outside the inline harness a transaction that finds a send job still queued records
    no other: that job takes every delivery waiting for its first attempt."""
    app.config["PORTAL_JOBS"] = "database"
    with running_receiver() as receiver:
        _endpoint(app, url=receiver.url)
        for _ in range(3):
            _record(app, enrollment)
        with app.app_context():
            jobs = list(db.session.scalars(sa.select(Job.id).where(Job.kind == DELIVER_KIND)))
            assert len(jobs) == 1
            run_job(jobs[0])
            assert db.session.get(Job, jobs[0]).result == {"delivered": 3}
        assert len(receiver.received) == 3
    assert {d.status for d in _deliveries(app)} == {"delivered"}


# --- keeping time ------------------------------------------------------------------------------
def test_finished_deliveries_are_deleted_with_their_attempts_after_their_keeping_time(app, enrollment):
    """PORTAL_WEBHOOK_KEEP_DAYS after a delivery ended (delivered, or failed for good), the
    daily step deletes it and its attempts; a pending one stays however old, and one that
    ended within the keeping time stays."""
    from portal.webhooks.delivery import prune_finished

    _endpoint(app)
    ids = [_deliveries(app, event_id=_record(app, enrollment))[0].id for _ in range(5)]
    today = utcnow().date()
    keep = app.config["PORTAL_WEBHOOK_KEEP_DAYS"]
    long_ago = utcnow() - timedelta(days=keep + 2)
    lately = utcnow() - timedelta(days=keep - 2)
    with app.app_context(), transaction():
        shapes = [("delivered", long_ago), ("failed", long_ago), ("pending", long_ago), ("delivered", lately),
                  ("failed", lately)]
        for delivery_id, (status, when) in zip(ids, shapes, strict=True):
            row = db.session.get(WebhookDelivery, delivery_id)
            row.status, row.created_at, row.last_attempt_at = status, when, when
            row.delivered_at = when if status == "delivered" else None
            db.session.add(WebhookAttempt(delivery_id=delivery_id, number=1, outcome="retrying", attempted_at=when,
                                          duration_ms=5))
    with app.app_context():
        assert prune_finished(today) == 2
        assert prune_finished(today) == 0  # nothing twice
        left = set(db.session.scalars(sa.select(WebhookDelivery.id).where(WebhookDelivery.id.in_(ids))))
        assert left == set(ids[2:])
        attempts = set(db.session.scalars(sa.select(WebhookAttempt.delivery_id).where(
            WebhookAttempt.delivery_id.in_(ids))))
        assert attempts == set(ids[2:])
