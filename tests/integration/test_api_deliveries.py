"""Deliveries through the JSON API (SPEC §2.9, §4.2): one at a time through the delivery
operation (a re-sent source_id adds nothing), listed per enrollment (keyset, pseudonymised
for company admins), corrected and voided with If-Match, and batches of up to 10,000 with a
dry run, all or nothing, every refused item named by its JSON pointer — tenancy, scopes,
idempotency and bad input on both databases."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.api.models import IdempotencyKey
from portal.db import db, utcnow
from portal.deliveries.models import Delivery, EnrollmentProgress
from tests.integration.api_support import Bearer, new_token

PROBLEM = "application/problem+json"
TODAY = utcnow().date()
SCOPES = ("read", "deliveries:write")


@pytest.fixture
def scene(make, tenants):
    """Company A's mentorship campaign: a beneficiary with a real name, an Acme employee
    volunteering, a Borealis employee volunteering (enrolled by the program team); company
    B's campaign with its own volunteer."""
    program = make.program(template=make.template("mentorship"))
    a, b = tenants["company_a"], tenants["company_b"]
    campaign = make.campaign(a, program, name="Acme Mentoring")
    started = utcnow() - timedelta(days=30)
    beneficiary = make.enrollment(campaign, make.participant(display_name="Olena Secret",
                                                             email="olena.secret@example.org"), enrolled_at=started)
    volunteer = make.enrollment(campaign, make.participant(display_name="Marta Mentor", company_id=a.id),
                                role="volunteer", enrolled_at=started)
    foreign = make.enrollment(campaign, make.participant(display_name="Bjorn Borealis", company_id=b.id),
                              role="volunteer", enrolled_at=started)
    campaign_b = make.campaign(b, program, name="Borealis Mentoring")
    b_volunteer = make.enrollment(campaign_b, make.participant(display_name="Bo Volunteer", company_id=b.id),
                                  role="volunteer", enrolled_at=started)
    return {"campaign": campaign, "beneficiary": beneficiary, "volunteer": volunteer, "foreign": foreign,
            "campaign_b": campaign_b, "b_volunteer": b_volunteer}


@pytest.fixture
def api(app, tenants):
    return {role: Bearer(app, new_token(app, tenants[role], SCOPES)) for role in ("pm", "admin_a", "admin_b")}


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.json


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _session(**extra):
    return {"kind": "session_completed", "occurred_on": TODAY.isoformat(), "attendance": "present", **extra}


def _url(enrollment, suffix=""):
    return f"/api/v1/enrollments/{enrollment.id}/deliveries{suffix}"


# --- recording one --------------------------------------------------------------------------
def test_a_recorded_delivery_goes_through_the_operation_and_a_resent_source_id_adds_nothing(app, api, scene):
    url = _url(scene["beneficiary"])
    first = api["pm"].post(url, json=_session(source_id="kintell-1", duration_minutes=60, metadata={"rating": 5},
                                              note="Went well"))
    assert first.status_code == 201, first.json
    body = first.json
    assert body["kind"] == "session_completed" and body["source"] == "api" and body["source_id"] == "kintell-1"
    assert body["quantity"] == "1" and body["counts"] and body["metadata"] == {"rating": 5}
    assert body["note"] == "Went well" and first.headers["ETag"] == f'"{body["version"]}"'
    assert first.headers["Location"].endswith(f"/deliveries/{body['id']}")
    with app.app_context():
        progress = db.session.get(EnrollmentProgress, (scene["beneficiary"].id, "session_completed"))
        assert progress.deliveries == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent).where(
            ActivityEvent.type == "program.delivery.recorded")) == 1
    # Re-sent with a new key: the operation answers the one already recorded; nothing is added.
    again = api["pm"].post(url, json=_session(source_id="kintell-1", duration_minutes=60, metadata={"rating": 5},
                                              note="Went well"))
    assert again.status_code == 200 and again.json["id"] == body["id"]
    assert _count(app, Delivery) == 1
    # The same source id with other details is refused, at its field.
    other = _problem(api["pm"].post(url, json=_session(source_id="kintell-1", occurred_on=(
        TODAY - timedelta(days=1)).isoformat())), 409)
    assert other["errors"][0]["pointer"] == "#/source_id" and "kintell-1" in other["detail"]
    assert _count(app, Delivery) == 1


def test_an_idempotency_key_replays_the_first_answer(app, api, scene):
    url = _url(scene["volunteer"])
    first = api["admin_a"].post(url, json=_session(), key="one")
    assert first.status_code == 201
    replay = api["admin_a"].post(url, json=_session(), key="one")
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true" and replay.json == first.json
    assert _count(app, Delivery) == 1
    _problem(api["admin_a"].post(url, json=_session(quantity="2"), key="one"), 422)
    _problem(api["admin_a"].post(url, json=_session(), key=None), 400)


def test_company_admins_record_only_for_their_own_volunteers_and_never_write_notes(app, api, scene):
    ok = api["admin_a"].post(_url(scene["volunteer"]), json=_session(source_id="hr-1", metadata={"level": "B1"}))
    assert ok.status_code == 201 and ok.json["note"] is None
    refused = _problem(api["admin_a"].post(_url(scene["beneficiary"]), json=_session()), 422)
    assert refused["detail"] == "Deliveries for beneficiaries are recorded by the program team."
    foreign = _problem(api["admin_a"].post(_url(scene["foreign"]), json=_session()), 422)
    assert foreign["detail"] == refused["detail"]  # someone else's employee: the same words
    note = _problem(api["admin_a"].post(_url(scene["volunteer"]), json=_session(note="Call him")), 422)
    assert note["errors"][0]["pointer"] == "#/note"
    pair = _problem(api["admin_a"].post(_url(scene["volunteer"]), json=_session(match_id=1)), 422)
    assert pair["errors"][0]["pointer"] == "#/match_id"
    assert _count(app, Delivery) == 1


def test_another_companys_enrollment_is_404_like_a_missing_one(app, api, scene):
    for url in (_url(scene["volunteer"]), _url(scene["volunteer"], "/1"), "/api/v1/enrollments/999999/deliveries"):
        missing = _problem(api["admin_b"].get(url), 404)
        assert missing["detail"] == "There is nothing here, or it is not yours to see."
    _problem(api["admin_b"].post(_url(scene["volunteer"]), json=_session()), 404)
    _problem(api["admin_b"].post(f"/api/v1/campaigns/{scene['campaign'].id}/deliveries/batch",
                                 json={"items": [{"enrollment_id": scene["volunteer"].id, **_session()}]}), 404)
    assert _count(app, Delivery) == 0


def test_scopes(app, tenants, scene):
    reader = Bearer(app, new_token(app, tenants["pm"], ["read"]))
    body = _problem(reader.post(_url(scene["beneficiary"]), json=_session()), 403)
    assert body["type"].endswith("insufficient-scope") and "deliveries:write" in body["detail"]
    _problem(reader.post(f"/api/v1/campaigns/{scene['campaign'].id}/deliveries/batch",
                         json={"items": [{"enrollment_id": scene["beneficiary"].id, **_session()}]}), 403)
    writer = Bearer(app, new_token(app, tenants["pm"], ["deliveries:write"], name="w"))
    _problem(writer.get(_url(scene["beneficiary"])), 403)  # listing needs read
    assert _count(app, Delivery) == 0


@pytest.mark.parametrize(("payload", "pointer"), [
    ({"occurred_on": (TODAY + timedelta(days=1)).isoformat()}, "#/occurred_on"),
    ({"occurred_on": 1700000000}, "#/occurred_on"),
    ({"occurred_on": "30.11.2026"}, "#/occurred_on"),
    ({"kind": "cooking_class"}, "#/kind"),
    ({"kind": 7}, "#/kind"),
    ({"quantity": "-1"}, "#/quantity"),
    ({"quantity": "1.23456"}, "#/quantity"),
    ({"quantity": "NaN"}, "#/quantity"),
    ({"duration_minutes": 100000}, "#/duration_minutes"),
    ({"attendance": "late"}, "#/attendance"),
    ({"occurred_time": "25:99"}, "#/occurred_time"),
    ({"metadata": [1, 2]}, "#/metadata"),
    ({"metadata": {"x": "y" * 3000}}, "#/metadata"),
    ({"note": "mail me at a@b.example"}, "#/note"),
    ({"source_id": "x" * 101}, "#/source_id"),
    ({"source": "csv"}, "#/source"),
    ({"sneaky": True}, "#/sneaky"),
])
def test_bad_input_is_a_problem_at_its_field_and_saves_nothing(app, api, scene, payload, pointer):
    body = _problem(api["pm"].post(_url(scene["beneficiary"]), json=_session(**payload)), 422)
    assert pointer in [e.get("pointer") for e in body["errors"]], body
    assert _count(app, Delivery) == 0


def test_a_dropped_enrollment_takes_no_delivery(app, api, make, scene):
    dropped = make.enrollment(scene["campaign"], make.participant(), status="dropped",
                              enrolled_at=utcnow() - timedelta(days=3), dropped_at=utcnow())
    body = _problem(api["pm"].post(_url(dropped), json=_session()), 409)
    assert "dropped" in body["detail"]


# --- listing ---------------------------------------------------------------------------------
def test_the_list_pages_by_cursor_and_pseudonymises_for_company_admins(app, api, scene):
    for i in range(5):
        assert api["pm"].post(_url(scene["beneficiary"]), json=_session(
            source_id=f"s-{i}", note="Private note", metadata={"topic": "Olena's CV"})).status_code == 201
    seen, url = [], _url(scene["beneficiary"], "?limit=2")
    while url:
        page = api["admin_a"].get(url)
        assert page.status_code == 200
        seen += page.json["items"]
        url = _url(scene["beneficiary"], f"?limit=2&cursor={page.json['next_cursor']}") \
            if page.json["next_cursor"] else None
    assert len(seen) == 5 and len({d["id"] for d in seen}) == 5
    assert [d["id"] for d in seen] == sorted((d["id"] for d in seen), reverse=True)
    text = json.dumps(seen)
    assert "Private note" not in text and "Olena" not in text and "s-1" not in text
    assert all(d["source_id"] is None and d["metadata"] is None and d["note"] is None for d in seen)
    pm = api["pm"].get(_url(scene["beneficiary"], "?kind=session_completed")).json["items"]
    assert len(pm) == 5 and pm[0]["note"] == "Private note" and pm[0]["source_id"].startswith("s-")
    assert api["pm"].get(_url(scene["beneficiary"], "?kind=goal_achieved")).json["items"] == []
    for bad in ("?kind=Bad%20Kind", "?limit=0", "?cursor=bm9wZQ", "?colour=red"):
        _problem(api["pm"].get(_url(scene["beneficiary"], bad)), 422)


# --- correcting and voiding --------------------------------------------------------------------
def test_a_correction_needs_if_match_and_moves_the_counters(app, api, scene):
    made = api["pm"].post(_url(scene["beneficiary"]), json=_session(quantity="1")).json
    url = _url(scene["beneficiary"], f"/{made['id']}")
    client = api["pm"].client
    auth = {"Authorization": f"Bearer {api['pm'].token}"}
    _problem(client.patch(url, json={"quantity": "2"}, headers=auth), 428)
    stale = _problem(client.patch(url, json={"quantity": "2"}, headers={**auth, "If-Match": '"99"'}), 412)
    assert "changed" in stale["detail"]
    etag = api["pm"].get(url).headers["ETag"]
    bad = _problem(client.patch(url, json={"occurred_on": (TODAY + timedelta(days=3)).isoformat()},
                                headers={**auth, "If-Match": etag}), 422)
    assert bad["errors"][0]["pointer"] == "#/occurred_on"
    done = client.patch(url, json={"quantity": "2.5", "attendance": "excused"}, headers={**auth, "If-Match": etag})
    assert done.status_code == 200 and done.json["quantity"] == "2.5" and done.json["attendance"] == "excused"
    assert done.json["counts"] is False and done.headers["ETag"] != etag
    with app.app_context():
        progress = db.session.get(EnrollmentProgress, (scene["beneficiary"].id, "session_completed"))
        assert progress.deliveries == 0
    # a company admin may not correct a beneficiary's delivery: the operation's words, nothing changed
    refused = _problem(api["admin_a"].client.patch(url, json={"quantity": "3"}, headers={
        "Authorization": f"Bearer {api['admin_a'].token}", "If-Match": done.headers["ETag"]}), 422)
    assert refused["detail"] == "Deliveries for beneficiaries are recorded by the program team."
    assert api["pm"].get(url).json["quantity"] == "2.5"


def test_void_needs_if_match_and_a_void_delivery_is_not_corrected(app, api, scene):
    made = api["admin_a"].post(_url(scene["volunteer"]), json=_session()).json
    url = _url(scene["volunteer"], f"/{made['id']}")
    _problem(api["admin_a"].post(url + "/void", json={"reason": "typo"}), 428)
    _problem(api["admin_a"].post(url + "/void", json={"reason": "typo"}, headers={"If-Match": '"7"'}), 412)
    etag = api["admin_a"].get(url).headers["ETag"]
    voided = api["admin_a"].post(url + "/void", json={"reason": "typo"}, headers={"If-Match": etag})
    assert voided.status_code == 200 and voided.json["voided_at"] and voided.json["counts"] is False
    assert voided.json["void_reason"] is None  # the reason is the program team's to read
    assert api["pm"].get(url).json["void_reason"] == "typo"
    again = _problem(api["admin_a"].post(url + "/void", headers={"If-Match": voided.headers["ETag"]}), 409)
    assert "already void" in again["detail"]
    patch = api["admin_a"].client.patch(url, json={"quantity": "2"}, headers={
        "Authorization": f"Bearer {api['admin_a'].token}", "If-Match": voided.headers["ETag"]})
    assert _problem(patch, 409)["detail"].startswith("This delivery was voided")


# --- batches -----------------------------------------------------------------------------------------
def _batch_url(campaign):
    return f"/api/v1/campaigns/{campaign.id}/deliveries/batch"


def test_a_dry_run_saves_nothing_and_confirming_records_all_in_one_event(app, api, scene):
    items = [{"enrollment_id": scene["beneficiary"].id, **_session(source_id=f"b-{i}")} for i in range(3)]
    items.append({"enrollment_id": scene["volunteer"].id, "kind": "mentor_referral",
                  "occurred_on": TODAY.isoformat(), "source_id": "v-1"})
    before = (_count(app, Delivery), _count(app, ActivityEvent), _count(app, IdempotencyKey))
    dry = api["pm"].post(_batch_url(scene["campaign"]), json={"dry_run": True, "items": items})
    assert dry.status_code == 200, dry.json
    assert dry.json == {"dry_run": True, "items": 4, "recorded": 4, "already_recorded": 0,
                        "already_recorded_items": [], "deliveries": 4, "attendance": {"present": 3, "none": 1},
                        "milestones_reached": dry.json["milestones_reached"]}
    assert (_count(app, Delivery), _count(app, ActivityEvent), _count(app, IdempotencyKey)) == before
    done = api["pm"].post(_batch_url(scene["campaign"]), json={"items": items}, key="batch-1")
    assert done.status_code == 200 and done.json["dry_run"] is False and done.json["recorded"] == 4
    replay = api["pm"].post(_batch_url(scene["campaign"]), json={"items": items}, key="batch-1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == done.json
    assert done.json["milestones_reached"] == dry.json["milestones_reached"]
    assert _count(app, Delivery) == 4
    with app.app_context():
        events = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "program.delivery.recorded"))
        assert [e.data["source"] for e in events] == ["api"]
    # Sent again (a new key): every item was recorded already, nothing is added.
    again = api["pm"].post(_batch_url(scene["campaign"]), json={"items": items})
    assert again.json["recorded"] == 0 and again.json["already_recorded_items"] == [0, 1, 2, 3]
    assert _count(app, Delivery) == 4


def test_a_batch_with_refused_items_names_each_by_pointer_and_saves_nothing(app, api, scene):
    good = {"enrollment_id": scene["beneficiary"].id, **_session()}
    items = [good, {**good, "occurred_on": (TODAY + timedelta(days=2)).isoformat()},
             {**good, "enrollment_id": scene["b_volunteer"].id}, good, {**good, "kind": "nope", "quantity": "-2"}]
    for dry_run in (True, False):
        body = _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"dry_run": dry_run, "items": items}), 422)
        assert "3 items could not be recorded, so nothing was saved" in body["detail"]
        assert sorted(e["pointer"] for e in body["errors"]) == [
            "#/items/1/occurred_on", "#/items/2", "#/items/4/kind", "#/items/4/quantity"]
        assert next(e for e in body["errors"] if e["pointer"] == "#/items/2")["path"] == "$.items[2]"
    typed = _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"items": [
        good, {**good, "occurred_on": "yesterday"}]}), 422)
    assert typed["errors"][0]["pointer"] == "#/items/1/occurred_on"
    duplicate = _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"items": [
        {**good, "source_id": "x"}, {**good, "source_id": "x"}]}), 409)
    assert [e["pointer"] for e in duplicate["errors"]] == ["#/items/1/source_id"]
    assert _count(app, Delivery) == 0 and _count(app, IdempotencyKey) == 0


@pytest.mark.parametrize("language", ["en", "nb", "uk"])
def test_a_company_admins_refused_items_all_read_alike(app, api, scene, language):
    """A real beneficiary's enrollment, another company's, another company's volunteer and a
    made-up id are refused in the same words, in every language (the API matches the refusals
    to reword while they are text in the reader's language)."""
    mine = {"enrollment_id": scene["volunteer"].id, **_session()}
    items = [mine, {**mine, "enrollment_id": scene["beneficiary"].id}, {**mine, "enrollment_id": scene["foreign"].id},
             {**mine, "enrollment_id": scene["b_volunteer"].id}, {**mine, "enrollment_id": 2_000_000_000}]
    body = _problem(api["admin_a"].post(_batch_url(scene["campaign"]), json={"items": items},
                                        headers={"Accept-Language": language}), 422)
    details = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert sorted(details) == ["#/items/1", "#/items/2", "#/items/3", "#/items/4"]
    assert len(set(details.values())) == 1
    assert ("your volunteers" in next(iter(details.values()))) == (language == "en")
    assert _count(app, Delivery) == 0
    ok = api["admin_a"].post(_batch_url(scene["campaign"]), json={"items": [mine]})
    assert ok.status_code == 200 and ok.json["recorded"] == 1


def test_a_batch_has_at_most_10000_items_and_a_bounded_body(app, api, scene):
    item = {"enrollment_id": scene["beneficiary"].id, "kind": "session_completed", "occurred_on": TODAY.isoformat()}
    too_many = _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"items": [item] * 10_001}), 422)
    assert too_many["errors"][0]["pointer"] == "#/items" and "at most 10,000 items" in too_many["errors"][0]["detail"]
    assert "10,001" in too_many["errors"][0]["detail"]
    _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"items": []}), 422)
    _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"dry_run": "maybe", "items": [item]}), 422)
    app.config["PORTAL_API_MAX_BATCH_BYTES"] = 2000
    _problem(api["pm"].post(_batch_url(scene["campaign"]), json={"items": [item] * 40}), 413)
    assert _count(app, Delivery) == 0


def test_a_batch_of_10000_items_is_accepted(app, api, scene):
    """The limit itself: ten thousand items (different source ids) in one dry run."""
    items = [{"enrollment_id": scene["beneficiary"].id, "kind": "session_completed",
              "occurred_on": TODAY.isoformat(), "source_id": f"n-{i}"} for i in range(10_000)]
    dry = api["pm"].post(_batch_url(scene["campaign"]), json={"dry_run": True, "items": items})
    assert dry.status_code == 200, dry.get_data(as_text=True)[:500]
    assert dry.json["recorded"] == 10_000 and _count(app, Delivery) == 0
