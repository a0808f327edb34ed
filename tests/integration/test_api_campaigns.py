"""Campaign writes through the JSON API (SPEC §2.4, §4.2): create, update and the lifecycle
moves call the campaign operations the screens call — both roles, tenancy (another
company's campaign is 404, a company admin creates for its own company only, from the
catalog only), scope, If-Match (428/412), Idempotency-Key (replay, 422 on another body),
field errors at their JSON paths, nothing half saved, one activity event per write."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.enrollments.models import Enrollment
from tests.integration.api_support import Bearer, new_token

PROBLEM = "application/problem+json"
SCOPES = ("read", "campaigns:write")
IMPACT_OVERRIDE = {"impact": {"sroiWeights": {"session_completed": 99}}}


@pytest.fixture
def scene(make, tenants):
    program = make.program(template=make.template("mentorship"), name="Mentoring for newcomers")
    private = make.program(template=make.template("mentorship"), visibility="private")
    draft_program = make.program(template=make.template("mentorship"), status="draft")
    a, b = tenants["company_a"], tenants["company_b"]
    campaign = make.campaign(a, program, name="Acme Mentoring", status="draft", max_enrollment=5)
    campaign_b = make.campaign(b, program, name="Borealis Mentoring", max_enrollment=5)
    return {"program": program, "private": private, "draft_program": draft_program, "campaign": campaign,
            "campaign_b": campaign_b, "company_a": a, "company_b": b}


@pytest.fixture
def api(app, tenants):
    clients = {role: Bearer(app, new_token(app, tenants[role], SCOPES)) for role in ("pm", "admin_a", "admin_b")}
    clients["reader"] = Bearer(app, new_token(app, tenants["pm"], ("read", "enrollments:write")))
    return clients


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    return response.json


def _paths(problem) -> set[str]:
    return {e.get("path") for e in problem.get("errors", [])}


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _events(app, campaign_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(ActivityEvent.type).where(
            ActivityEvent.subject_type == "campaigns", ActivityEvent.subject_id == campaign_id)
            .order_by(ActivityEvent.id)))


def _patch(client: Bearer, url, json, etag=None):
    headers = {"Authorization": f"Bearer {client.token}"}
    if etag is not None:
        headers["If-Match"] = etag
    return client.client.patch(url, json=json, headers=headers)


def _new(scene, **kw):
    return {"program_id": scene["program"].id, "name": "Acme Mentoring spring", "start_date": "2026-03-01",
            "end_date": "2026-09-30", "target_enrollment": 10, "max_enrollment": 12, "waitlist_enabled": True,
            "currency": "nok", "budget_allocated": 1_250_000, "seat_price": 100_050, "internal_code": "ACME-42",
            "tags": ["spring", "oslo"], **kw}


# --- create ---------------------------------------------------------------------------------------
def test_a_program_manager_creates_a_draft_for_any_company(app, api, scene):
    body = _new(scene, company_id=scene["company_b"].id, key="borealis-spring",
                config_overrides={"matching": {"maxMenteesPerMentor": 1}})
    created = api["pm"].post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.json
    doc = created.json
    assert doc["status"] == "draft" and doc["company_id"] == scene["company_b"].id and doc["key"] == "borealis-spring"
    # money stays integer minor units with its currency; dates ISO
    assert (doc["budget_allocated"], doc["seat_price"], doc["currency"]) == (1_250_000, 100_050, "NOK")
    assert (doc["start_date"], doc["end_date"]) == ("2026-03-01", "2026-09-30")
    assert doc["config_overrides"] == {"matching": {"maxMenteesPerMentor": 1}}
    assert doc["tags"] == ["spring", "oslo"] and doc["internal_code"] == "ACME-42"
    assert created.headers["Location"].endswith(f"/api/v1/campaigns/{doc['id']}")
    assert created.headers["ETag"] == f'"{doc["version"]}"'
    assert _events(app, doc["id"]) == ["program.campaign.created"]
    with app.app_context():
        stored = db.session.get(Campaign, doc["id"])
        assert (stored.budget_allocated, stored.seat_price, stored.start_date) == (1_250_000, 100_050, date(2026, 3, 1))
    # a program manager names the company: without it there is no campaign
    missing = _problem(api["pm"].post("/api/v1/campaigns", json=_new(scene)), 422)
    assert _paths(missing) == {"$.company_id"}


def test_a_company_admin_creates_for_its_own_company_only(app, api, scene):
    created = api["admin_a"].post("/api/v1/campaigns", json=_new(scene))
    assert created.status_code == 201, created.json
    assert created.json["company_id"] == scene["company_a"].id
    assert _events(app, created.json["id"]) == ["program.campaign.created"]
    # naming its own company is the same; naming another's is a field error that says nothing about it
    assert api["admin_a"].post("/api/v1/campaigns", json=_new(scene, company_id=scene["company_a"].id,
                                                              name="Second")).status_code == 201
    before = _count(app, Campaign)
    other = _problem(api["admin_a"].post("/api/v1/campaigns", json=_new(scene, company_id=scene["company_b"].id)), 422)
    missing = _problem(api["admin_a"].post("/api/v1/campaigns", json=_new(scene, company_id=999_999)), 422)
    assert other["errors"] == missing["errors"] and _paths(other) == {"$.company_id"}
    assert "Borealis" not in str(other)
    assert _count(app, Campaign) == before
    assert _count(app, Campaign, Campaign.company_id == scene["company_b"].id) == 1


@pytest.mark.parametrize("role", ["pm", "admin_a"])
@pytest.mark.parametrize("which", ["private", "draft_program"])
def test_campaigns_start_only_from_the_catalogs_programs(app, api, scene, role, which):
    before = _count(app, Campaign)
    refused = _problem(api[role].post("/api/v1/campaigns", json=_new(scene, program_id=scene[which].id,
                                                                      company_id=scene["company_a"].id)), 422)
    assert _paths(refused) == {"$.program_id"}
    assert _count(app, Campaign) == before


def test_field_errors_name_their_json_paths_and_nothing_is_saved(app, api, scene):
    before, events = _count(app, Campaign), _count(app, ActivityEvent)
    # the operation's rules, all at once, each at its field
    rules = _problem(api["admin_a"].post("/api/v1/campaigns", json=_new(
        scene, name="  ", end_date="2026-01-01", target_enrollment=20, max_enrollment=10, currency="XQQ",
        tags=["x" * 51], key="Not A Key")), 422)
    assert {"$.name", "$.end_date", "$.max_enrollment", "$.currency", "$.tags", "$.key"} <= _paths(rules)
    assert all(e["pointer"].startswith("#/") for e in rules["errors"])
    # the body's shape: pydantic's checks, at their paths
    shape = _problem(api["admin_a"].post("/api/v1/campaigns", json=_new(
        scene, start_date="01.03.2026", seat_price=-1, budget_allocated="12.50", colour="red")), 422)
    assert {"$.start_date", "$.seat_price", "$.budget_allocated", "$.colour"} <= _paths(shape)
    assert _count(app, Campaign) == before and _count(app, ActivityEvent) == events


def test_impact_settings_are_refused_by_the_operations_rule(app, api, scene):
    before = _count(app, Campaign)
    refused = _problem(api["pm"].post("/api/v1/campaigns", json=_new(scene, company_id=scene["company_a"].id,
                                                                      config_overrides=IMPACT_OVERRIDE)), 422)
    assert _paths(refused) == {"$.config_overrides"}
    assert "impact.sroiWeights" in refused["errors"][0]["detail"]
    assert _count(app, Campaign) == before
    # and on update, with the fields sent alongside left as they were
    url = f"/api/v1/campaigns/{scene['campaign'].id}"
    etag = api["pm"].get(url).headers["ETag"]
    refused = _problem(_patch(api["pm"], url, {"name": "Renamed", "config_overrides": IMPACT_OVERRIDE}, etag), 422)
    assert _paths(refused) == {"$.config_overrides"}
    after = api["pm"].get(url)
    assert after.json["name"] == "Acme Mentoring" and after.json["config_overrides"] == {}
    assert after.headers["ETag"] == etag and _events(app, scene["campaign"].id) == []


def test_an_idempotency_key_replays_the_first_answer_and_refuses_another_body(app, api, scene):
    key = str(uuid.uuid4())
    first = api["admin_a"].post("/api/v1/campaigns", json=_new(scene), key=key)
    again = api["admin_a"].post("/api/v1/campaigns", json=_new(scene), key=key)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert _count(app, Campaign, Campaign.name == "Acme Mentoring spring") == 1
    reused = _problem(api["admin_a"].post("/api/v1/campaigns", json=_new(scene, name="Other"), key=key), 422)
    assert reused["type"].endswith("idempotency-key-reused")
    assert _count(app, Campaign, Campaign.name == "Other") == 0
    _problem(api["admin_a"].post("/api/v1/campaigns", json=_new(scene), key=None), 400)


# --- update -------------------------------------------------------------------------------------
def test_update_needs_the_current_etag_and_changes_only_what_is_sent(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign'].id}"
    read = api["admin_a"].get(url)
    etag = read.headers["ETag"]
    _problem(_patch(api["admin_a"], url, {"name": "Renamed"}), 428)
    stale = _problem(_patch(api["admin_a"], url, {"name": "Renamed"}, '"999"'), 412)
    assert "changed since you read it" in stale["detail"]
    assert _events(app, scene["campaign"].id) == []
    changed = _patch(api["admin_a"], url, {"name": "Renamed", "budget_allocated": 50_000, "end_date": "2026-12-31",
                                           "tags": ["a"]}, etag)
    assert changed.status_code == 200, changed.json
    doc = changed.json
    assert (doc["name"], doc["budget_allocated"], doc["end_date"], doc["tags"]) == ("Renamed", 50_000, "2026-12-31",
                                                                                   ["a"])
    assert doc["max_enrollment"] == 5 and doc["currency"] == "EUR"  # not sent: kept
    assert changed.headers["ETag"] != etag and changed.headers["ETag"] == f'"{doc["version"]}"'
    assert _events(app, scene["campaign"].id) == ["program.campaign.updated"]
    # the old ETag is stale now; null clears a field that may be empty
    _problem(_patch(api["admin_a"], url, {"end_date": None}, etag), 412)
    cleared = _patch(api["admin_a"], url, {"end_date": None}, changed.headers["ETag"])
    assert cleared.status_code == 200 and cleared.json["end_date"] is None
    # a field that may not be empty refuses null at its path
    assert _paths(_problem(_patch(api["admin_a"], url, {"waitlist_enabled": None}, cleared.headers["ETag"]),
                           422)) == {"$.waitlist_enabled"}


def test_configuration_is_updated_by_the_configuration_rule(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign'].id}"
    etag = api["pm"].get(url).headers["ETag"]
    changed = _patch(api["pm"], url, {"config_overrides": {"matching": {"maxMenteesPerMentor": 2}}}, etag)
    assert changed.status_code == 200, changed.json
    assert changed.json["config_overrides"] == {"matching": {"maxMenteesPerMentor": 2}}
    assert _events(app, scene["campaign"].id) == ["program.campaign.updated"]
    invalid = _problem(_patch(api["pm"], url, {"config_overrides": {"matching": {"maxMenteesPerMentor": "many"}}},
                              changed.headers["ETag"]), 422)
    assert _paths(invalid) == {"$.config_overrides"}


def test_capacity_rules_hold_and_nothing_is_half_saved(app, api, scene, make):
    campaign = scene["campaign"]
    for _ in range(3):
        make.enrollment(campaign)
    url = f"/api/v1/campaigns/{campaign.id}"
    etag = api["pm"].get(url).headers["ETag"]
    refused = _problem(_patch(api["pm"], url, {"name": "Shrunk", "max_enrollment": 2}, etag), 422)
    assert _paths(refused) == {"$.max_enrollment"} and "3" in refused["errors"][0]["detail"]
    after = api["pm"].get(url)
    assert (after.json["name"], after.json["max_enrollment"]) == ("Acme Mentoring", 5)
    assert after.headers["ETag"] == etag and _events(app, campaign.id) == []


def test_raising_the_cap_promotes_the_waitlist_in_the_same_write(app, api, scene, make):
    campaign = scene["campaign"]
    with app.app_context():
        db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(max_enrollment=1,
                                                                                        waitlist_enabled=True))
        db.session.commit()
    make.enrollment(campaign)
    waiting = make.enrollment(campaign, status="waitlisted", enrolled_at=None, waitlisted_at=utcnow())
    url = f"/api/v1/campaigns/{campaign.id}"
    raised = _patch(api["admin_a"], url, {"max_enrollment": 2}, api["admin_a"].get(url).headers["ETag"])
    assert raised.status_code == 200, raised.json
    assert raised.json["enrolled_count"] == 2 and raised.json["waitlisted_count"] == 0
    with app.app_context():
        assert db.session.get(Enrollment, waiting.id).status == "active"
    # one update; what the promotion itself records (the campaign full again) follows it, as on the screen
    assert _events(app, campaign.id) == ["program.campaign.updated", "program.campaign.capacity_reached"]


# --- lifecycle ----------------------------------------------------------------------------------
def test_lifecycle_moves_need_if_match_and_follow_the_shared_state_machine(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign'].id}"
    _problem(api["admin_a"].post(url + "/start"), 428)
    _problem(api["admin_a"].post(url + "/start", headers={"If-Match": '"999"'}), 412)
    etag = api["admin_a"].get(url).headers["ETag"]
    # a move the state machine does not allow: 409, naming the allowed ones
    refused = _problem(api["admin_a"].post(url + "/pause", headers={"If-Match": etag}), 409)
    assert "active" in refused["detail"]
    key = str(uuid.uuid4())
    started = api["admin_a"].post(url + "/start", headers={"If-Match": etag}, key=key)
    assert started.status_code == 200 and started.json["status"] == "active"
    replay = api["admin_a"].post(url + "/start", headers={"If-Match": etag}, key=key)
    assert replay.json == started.json and replay.headers["Idempotent-Replayed"] == "true"
    paused = api["admin_a"].post(url + "/pause", headers={"If-Match": started.headers["ETag"]})
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    resumed = api["admin_a"].post(url + "/start", headers={"If-Match": paused.headers["ETag"]})
    completed = api["pm"].post(url + "/complete", headers={"If-Match": resumed.headers["ETag"]})
    assert completed.status_code == 200 and completed.json["status"] == "completed"
    archived = api["pm"].post(url + "/archive", headers={"If-Match": completed.headers["ETag"]})
    assert archived.status_code == 200 and archived.json["status"] == "archived"
    assert _events(app, scene["campaign"].id) == ["program.campaign.started", "program.campaign.paused",
                                                  "program.campaign.started", "program.campaign.completed",
                                                  "program.campaign.archived"]
    # an archived campaign does not change
    frozen = _problem(_patch(api["pm"], url, {"name": "Too late"}, archived.headers["ETag"]), 422)
    assert "Archived" in frozen["detail"]


def test_a_campaign_starts_only_while_its_program_is_active(app, api, scene, make):
    campaign = make.campaign(scene["company_a"], scene["draft_program"], status="draft")
    url = f"/api/v1/campaigns/{campaign.id}"
    refused = _problem(api["pm"].post(url + "/start", headers={"If-Match": api["pm"].get(url).headers["ETag"]}), 422)
    assert "program" in refused["detail"].lower()
    assert api["pm"].get(url).json["status"] == "draft" and _events(app, campaign.id) == []


# --- tenancy and scope --------------------------------------------------------------------------
def test_another_companys_campaign_is_404_for_every_write(app, api, scene):
    b = scene["campaign_b"]
    url = f"/api/v1/campaigns/{b.id}"
    etag = api["pm"].get(url).headers["ETag"]
    assert api["admin_a"].get(url).status_code == 404
    answers = [_patch(api["admin_a"], url, {"name": "Taken over"}, etag), _patch(api["admin_a"], url, {"name": "x"})]
    answers += [api["admin_a"].post(f"{url}/{move}", headers={"If-Match": etag})
                for move in ("start", "pause", "complete", "archive")]
    for answer in answers:
        assert _problem(answer, 404)["detail"] == answers[0].json["detail"]
    # a missing campaign answers the same
    assert _problem(_patch(api["admin_a"], "/api/v1/campaigns/999999", {"name": "x"}, etag), 404) == {
        **answers[0].json, "instance": "/api/v1/campaigns/999999"}
    with app.app_context():
        stored = db.session.get(Campaign, b.id)
        assert (stored.name, stored.status, stored.lock_version) == ("Borealis Mentoring", "active", int(etag.strip('"')))
    assert _events(app, b.id) == []


def test_writes_need_the_campaigns_write_scope(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign'].id}"
    etag = api["reader"].get(url).headers["ETag"]
    for response in (api["reader"].post("/api/v1/campaigns", json=_new(scene, company_id=scene["company_a"].id)),
                     _patch(api["reader"], url, {"name": "x"}, etag),
                     api["reader"].post(url + "/start", headers={"If-Match": etag})):
        problem = _problem(response, 403)
        assert problem["type"].endswith("insufficient-scope")
        assert 'scope="campaigns:write"' in response.headers["WWW-Authenticate"]
    assert api["reader"].get(url).json["status"] == "draft"
    assert _events(app, scene["campaign"].id) == []
