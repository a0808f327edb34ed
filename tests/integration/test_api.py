"""The JSON API (SPEC §4.2, issue #17): bearer tokens, tenancy and pseudonyms, problem
details, If-Match, Idempotency-Key, keyset cursors, fail-closed filters, rate limits, and the
OpenAPI document against its committed copy."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.api.models import IdempotencyKey
from portal.db import db, utcnow
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference
from portal.tokens.models import ApiToken
from portal.tokens.operations import hash_token
from tests.conftest import sign_in_client
from tests.integration.api_support import ALL_SCOPES, Bearer, new_token

PROBLEM = "application/problem+json"


@pytest.fixture
def scene(make, tenants, language_program):
    """Company A's active campaign with one beneficiary (a real name and e-mail) and one
    employee volunteer; company B's campaign of the same program."""
    a, b = tenants["company_a"], tenants["company_b"]
    campaign_a = make.campaign(a, language_program, max_enrollment=5)
    campaign_b = make.campaign(b, language_program)
    beneficiary = make.participant(display_name="Olena Secret", email="olena.secret@example.org", year_of_birth=1990,
                                   languages=["uk"])
    employee = make.participant(display_name="Erik Employee", email="erik@acme.example", company_id=a.id)
    return {
        "campaign_a": campaign_a, "campaign_b": campaign_b, "beneficiary": beneficiary, "employee": employee,
        "beneficiary_enrollment": make.enrollment(campaign_a, beneficiary),
        "volunteer_enrollment": make.enrollment(campaign_a, employee, role="volunteer"),
    }


@pytest.fixture
def api(app, tenants):
    """Bearer clients per role with every scope."""
    return {role: Bearer(app, new_token(app, tenants[role], ALL_SCOPES)) for role in ("pm", "admin_a", "admin_b")}


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.json
    assert body["status"] == status and body["type"] and body["title"] and body["detail"]
    return body


# --- tokens -------------------------------------------------------------------------------
def test_a_token_is_stored_only_as_its_hash_and_acts_as_its_user(app, tenants):
    text = new_token(app, tenants["admin_a"], ["read"])
    assert re.fullmatch(r"ipp_[A-Za-z0-9_-]{43}", text)
    with app.app_context():
        token = db.session.scalars(sa.select(ApiToken)).one()
        assert token.token_hash == hash_token(text) and text not in json.dumps(
            {c.name: str(getattr(token, c.key)) for c in ApiToken.__table__.columns})
        assert text.startswith(token.prefix) and len(token.prefix) == 12
        assert token.last_used_at is None
    me = Bearer(app, text).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json["user_id"] == tenants["admin_a"].id and me.json["company_id"] == tenants["company_a"].id
    assert me.json["scopes"] == ["read"]
    with app.app_context():
        assert db.session.scalars(sa.select(ApiToken)).one().last_used_at is not None


@pytest.mark.parametrize("spoil", ["expired", "revoked", "deactivated", "unknown", "cookie"])
def test_expired_revoked_deactivated_unknown_tokens_and_cookies_are_401(app, tenants, spoil):
    text = new_token(app, tenants["admin_a"], ["read"])
    with app.app_context():
        token = db.session.scalars(sa.select(ApiToken)).one()
        if spoil == "expired":
            token.expires_at = utcnow() - timedelta(seconds=1)
        elif spoil == "revoked":
            token.revoked_at = utcnow()
        elif spoil == "deactivated":
            token.user.is_enabled = False
        db.session.commit()
    if spoil == "unknown":
        text = "ipp_" + "A" * 43
    if spoil == "cookie":  # a signed-in browser session is not accepted on the API
        response = sign_in_client(app, tenants["admin_a"]).get("/api/v1/me")
    else:
        response = Bearer(app, text).get("/api/v1/me")
    _problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_without_the_scope_is_403_and_changes_nothing(app, tenants, scene):
    client = Bearer(app, new_token(app, tenants["pm"], ["read"]))
    response = client.post(f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments",
                           json={"participant": {"display_name": "New Person"}})
    body = _problem(response, 403)
    assert body["type"].endswith("insufficient-scope")
    assert 'scope="enrollments:write"' in response.headers["WWW-Authenticate"]
    writer = Bearer(app, new_token(app, tenants["pm"], ["enrollments:write"]))
    _problem(writer.get("/api/v1/campaigns"), 403)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                                 .where(Participant.display_name == "New Person")) == 0


def test_company_admins_get_403_where_the_screens_refuse_them(api):
    for url in ("/api/v1/templates", "/api/v1/programs"):
        _problem(api["admin_a"].get(url), 403)
        assert api["pm"].get(url).status_code == 200


# --- tenancy and pseudonyms ---------------------------------------------------------------------
def test_another_companys_campaign_and_enrollments_are_404(api, scene):
    a_id = scene["campaign_a"].id
    for url in (f"/api/v1/campaigns/{a_id}", f"/api/v1/campaigns/{a_id}/enrollments",
                f"/api/v1/campaigns/{a_id}/enrollments/{scene['beneficiary_enrollment'].id}"):
        body = _problem(api["admin_b"].get(url), 404)
        missing = _problem(api["admin_b"].get(url.replace(str(a_id), "999999", 1)), 404)
        assert body["detail"] == missing["detail"]
    listed = api["admin_b"].get("/api/v1/campaigns").json["items"]
    assert [c["id"] for c in listed] == [scene["campaign_b"].id]
    assert api["admin_b"].get(f"/api/v1/campaigns?company_id={scene['campaign_a'].company_id}").json["items"] == []
    move = api["admin_b"].post(f"/api/v1/campaigns/{a_id}/enrollments/{scene['beneficiary_enrollment'].id}/complete",
                               headers={"If-Match": '"1"'})
    _problem(move, 404)


def test_company_admins_see_beneficiaries_only_as_their_pseudonym(app, api, scene, tenants):
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    response = api["admin_a"].get(url)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    for secret in ("Olena", "olena.secret", "1990"):
        assert secret not in text
    rows = {e["role"]: e for e in response.json["items"]}
    with app.app_context():
        from portal.auth.models import Company

        expected = company_reference(db.session.get(Company, tenants["company_a"].id), scene["beneficiary"].id)
    assert rows["beneficiary"]["participant"] == {
        "reference": expected, "pseudonymised": True, "id": None, "display_name": None, "email": None,
        "external_ref": None, "company_id": None}
    assert rows["volunteer"]["participant"]["display_name"] == "Erik Employee"  # their own employee, by name
    one = api["admin_a"].get(f"{url}/{scene['beneficiary_enrollment'].id}")
    assert one.json["participant"]["reference"] == expected and "Olena" not in one.get_data(as_text=True)
    pm_rows = {e["role"]: e for e in api["pm"].get(url).json["items"]}
    assert pm_rows["beneficiary"]["participant"]["display_name"] == "Olena Secret"


def test_a_company_admin_enrolls_only_its_own_employees_as_volunteers(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    refused = api["admin_a"].post(url, json={"role": "beneficiary", "participant": {"display_name": "Someone"}})
    body = _problem(refused, 422)
    assert body["errors"][0]["pointer"] == "#/role"
    foreign = api["admin_a"].post(url, json={"role": "volunteer", "participant_id": scene["beneficiary"].id})
    body = _problem(foreign, 422)
    assert body["errors"] == [{"detail": "No participant with this id among yours.", "pointer": "#/participant_id",
                               "path": "$.participant_id"}]
    made = api["admin_a"].post(url, json={"role": "volunteer", "participant": {
        "display_name": "Nina New", "email": "nina@acme.example"}})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.json["participant"]["display_name"] == "Nina New" and made.json["status"] == "active"
    assert made.headers["Location"].endswith(f"/enrollments/{made.json['id']}")


# --- problem details --------------------------------------------------------------------------
def test_filters_fail_closed(api, scene):
    for url, where in (("/api/v1/campaigns?status=running", "status"), ("/api/v1/campaigns?stauts=active", "stauts"),
                       (f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments?role=mentor", "role"),
                       ("/api/v1/catalog?country=XX", "country"), ("/api/v1/catalog?language=zz", "language"),
                       ("/api/v1/catalog?category=cooking", "category"), ("/api/v1/templates?status=live", "status"),
                       ("/api/v1/campaigns?limit=0", "limit"), ("/api/v1/campaigns?program_id=abc", "program_id")):
        body = _problem(api["pm"].get(url), 422)
        assert [e["parameter"] for e in body["errors"]] == [where], url
    repeated = _problem(api["pm"].get("/api/v1/campaigns?status=active&status=draft"), 422)
    assert repeated["errors"] == [{"detail": "Given more than once.", "parameter": "status"}]
    assert api["pm"].get("/api/v1/catalog?country=no&language=UK").status_code == 200


def test_bad_bodies_are_problems_with_json_paths(api, scene):
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    typed = _problem(api["pm"].post(url, json={"participant": {"display_name": 5, "languages": ["uk", 7]}}), 422)
    assert {(e["pointer"], e["path"]) for e in typed["errors"]} == {
        ("#/participant/display_name", "$.participant.display_name"),
        ("#/participant/languages/1", "$.participant.languages[1]")}
    ruled = _problem(api["pm"].post(url, json={"participant": {"display_name": "X Y", "email": "not-an-email",
                                                                "year_of_birth": 1800}}), 422)
    assert {e["pointer"] for e in ruled["errors"]} == {"#/participant/email", "#/participant/year_of_birth"}
    both = _problem(api["pm"].post(url, json={"participant_id": 1, "participant": {"display_name": "Z"}}), 422)
    assert both["errors"][0]["pointer"] == "#"
    extra = _problem(api["pm"].post(url, json={"participant_id": 1, "sneaky": True}), 422)
    assert extra["errors"][0]["path"] == "$.sneaky"
    _problem(api["pm"].post(url, data="{not json", headers={"Content-Type": "application/json"}), 400)
    _problem(api["pm"].post(url, data="display_name=x", headers={"Content-Type": "application/x-www-form-urlencoded"}),
             415)
    _problem(api["pm"].post(url, data="[" * 100_000, headers={"Content-Type": "application/json"}), 400)
    _problem(api["pm"].post(url, data="x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"}), 413)
    nul = _problem(api["pm"].post(url, json={"participant": {"display_name": "a\x00b"}}), 422)
    assert nul["errors"][0]["path"] == "$.participant.display_name"
    _problem(api["pm"].get("/api/v1/campaigns?status=a%00"), 400)
    _problem(api["pm"].get("/api/v1/no-such-thing"), 404)
    _problem(api["pm"].client.delete("/api/v1/campaigns", headers={"Authorization": f"Bearer {api['pm'].token}"}), 405)


def test_a_refused_enrollment_names_its_rule_and_saves_nothing(app, api, make, tenants, language_program):
    full = make.campaign(tenants["company_a"], language_program, max_enrollment=0)
    before = _count(app, Enrollment)
    body = _problem(api["pm"].post(f"/api/v1/campaigns/{full.id}/enrollments",
                                   json={"participant": {"display_name": "Late Comer", "year_of_birth": 1990,
                                                         "languages": ["uk"]}}), 409)
    assert "full" in body["detail"]
    assert _count(app, Enrollment) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- If-Match -----------------------------------------------------------------------------------
def test_transitions_need_if_match_428_without_412_when_stale(app, api, scene):
    base = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments/{scene['beneficiary_enrollment'].id}"
    read = api["pm"].get(base)
    etag = read.headers["ETag"]
    assert etag == f'"{read.json["version"]}"'
    body = _problem(api["pm"].post(f"{base}/complete"), 428)
    assert body["errors"] == [{"detail": 'Required: the resource\'s ETag, e.g. "3".', "header": "If-Match"}]
    _problem(api["pm"].post(f"{base}/complete", headers={"If-Match": "*"}), 428)
    stale = _problem(api["pm"].post(f"{base}/complete", headers={"If-Match": '"999"'}), 412)
    assert "changed" in stale["detail"]
    with app.app_context():
        assert db.session.get(Enrollment, scene["beneficiary_enrollment"].id).status == "active"
    done = api["pm"].post(f"{base}/complete", headers={"If-Match": etag})
    assert done.status_code == 200 and done.json["status"] == "completed"
    assert done.headers["ETag"] != etag and done.headers["ETag"] == f'"{done.json["version"]}"'
    _problem(api["pm"].post(f"{base}/drop", json={"reason": "moved"}, headers={"If-Match": etag}), 412)
    refused = _problem(api["pm"].post(f"{base}/drop", headers={"If-Match": done.headers["ETag"]}), 409)
    assert "Allowed from completed" in refused["detail"]


def test_drop_frees_the_seat_through_the_operation(app, api, scene):
    base = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments/{scene['beneficiary_enrollment'].id}"
    etag = api["admin_a"].get(base).headers["ETag"]
    dropped = api["pm"].post(f"{base}/drop", json={"reason": "Moved away"}, headers={"If-Match": etag})
    assert dropped.status_code == 200 and dropped.json["status"] == "dropped"
    assert dropped.json["drop_reason"] == "Moved away"
    with app.app_context():
        from portal.campaigns.models import Campaign

        assert db.session.get(Campaign, scene["campaign_a"].id).enrolled_count == 0
        events = db.session.scalars(sa.text("SELECT type FROM activity_events WHERE subject_id = :id "
                                            "AND subject_type = 'enrollments'"),
                                    {"id": scene["beneficiary_enrollment"].id}).all()
        assert "program.enrollment.dropped" in events


# --- Idempotency-Key -----------------------------------------------------------------------------
def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    payload = {"participant": {"display_name": "Ivan Once", "email": "ivan@example.org", "year_of_birth": 1985,
                               "languages": ["uk"]}}
    first = api["pm"].post(url, json=payload, key="key-1")
    assert first.status_code == 201
    again = Bearer(app, api["pm"].token).post(url, json=dict(reversed(list(payload.items()))), key="key-1")
    assert again.status_code == 201 and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)
                                 .where(Participant.email == "ivan@example.org")) == 1
        stored = db.session.scalars(sa.select(IdempotencyKey).where(IdempotencyKey.key == "key-1")).one()
        assert stored.status_code == 201 and stored.expires_at - stored.created_at == timedelta(hours=24)
    other = _problem(api["pm"].post(url, json={"participant": {"display_name": "Someone Else"}}, key="key-1"), 422)
    assert other["type"].endswith("idempotency-key-reused")
    missing = _problem(api["pm"].post(url, json=payload, key=None), 400)
    assert missing["errors"] == [{"detail": "Required.", "header": "Idempotency-Key"}]
    # Keys belong to their user: another user's same key is a new request.
    other_user = api["admin_a"].post(url, json={"role": "volunteer", "participant": {"display_name": "Vera V"}},
                                     key="key-1")
    assert other_user.status_code == 201 and "Idempotent-Replayed" not in other_user.headers


def test_an_expired_key_may_be_used_again(app, api, scene):
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    assert api["pm"].post(url, json={"role": "volunteer", "participant": {"display_name": "Anna A"}},
                           key="k").status_code == 201
    with app.app_context():
        stored = db.session.scalars(sa.select(IdempotencyKey)).one()
        stored.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    reused = api["pm"].post(url, json={"role": "volunteer", "participant": {"display_name": "Berit B"}},
                           key="k")
    assert reused.status_code == 201 and reused.json["participant"]["display_name"] == "Berit B"


def test_the_sweep_deletes_only_expired_keys(app, api, scene, runner):
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    api["pm"].post(url, json={"role": "volunteer", "participant": {"display_name": "Kept K"}}, key="fresh")
    api["pm"].post(url, json={"role": "volunteer", "participant": {"display_name": "Gone G"}}, key="old")
    with app.app_context():
        old = db.session.scalars(sa.select(IdempotencyKey).where(IdempotencyKey.key == "old")).one()
        old.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    result = runner.invoke(args=["api", "sweep"])
    assert result.exit_code == 0 and "Deleted 1" in result.output
    with app.app_context():
        assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["fresh"]


# --- lists ------------------------------------------------------------------------------------------
def test_keyset_cursors_walk_every_row_once(api, make, tenants, language_program):
    made = {make.campaign(tenants["company_a"], language_program).id for _ in range(5)}
    seen, url, pages = [], "/api/v1/campaigns?limit=2", 0
    while url:
        response = api["admin_a"].get(url)
        assert response.status_code == 200
        seen += [c["id"] for c in response.json["items"]]
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor:
            assert response.headers["Link"].endswith('>; rel="next"') and f"cursor={cursor}" in response.headers["Link"]
        url = f"/api/v1/campaigns?limit=2&cursor={cursor}" if cursor else None
    assert len(seen) == len(set(seen)) and set(seen) == made and pages == 3
    assert seen == sorted(seen, reverse=True)
    _problem(api["admin_a"].get("/api/v1/campaigns?cursor=bm90LWEtY3Vyc29y"), 422)


def test_reads_of_templates_programs_and_catalog(api, language_program, scene):
    templates = api["pm"].get("/api/v1/templates?status=active")
    assert templates.status_code == 200 and templates.json["items"]
    one = api["pm"].get(f"/api/v1/templates/{templates.json['items'][0]['id']}")
    assert "config_schema" in one.json
    program = api["pm"].get(f"/api/v1/programs/{language_program.id}")
    assert program.status_code == 200 and program.json["template"]["key"]
    catalog = api["admin_a"].get("/api/v1/catalog")
    card = next(c for c in catalog.json["items"] if c["id"] == language_program.id)
    assert card["own_campaigns"] == 1 and card["enrolled_text"] == "fewer than 10"
    assert "description" not in card["group"] and "age_min" not in json.dumps(card)


# --- rate limit ---------------------------------------------------------------------------------------
def test_the_per_token_rate_limit_answers_429_with_ratelimit_headers(app, tenants):
    app.config["PORTAL_API_RATE_LIMIT"] = "3 per minute"
    one, other = (Bearer(app, new_token(app, tenants["pm"], ["read"], name=n)) for n in ("one", "two"))
    answers = [one.get("/api/v1/me") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["RateLimit-Policy"] == '"per-token";q=3;w=60'
    assert answers[0].headers["RateLimit"].startswith('"per-token";r=2;t=')
    assert answers[2].headers["RateLimit-Remaining"] == "0"
    body = _problem(answers[3], 429)
    assert int(answers[3].headers["Retry-After"]) >= 1 and "3 requests" in body["detail"]
    assert other.get("/api/v1/me").status_code == 200  # each token has its own budget


def test_the_rate_limit_is_counted_in_the_shared_store(database_url, redis_url):
    import redis

    from portal import create_app
    from tests.integration.api_support import Bearer

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI=redis_url,
                     PORTAL_API_RATE_LIMIT="2 per minute")
    with app.app_context():
        from portal.auth.models import User as UserModel
        from portal.tokens.operations import create_token

        user = UserModel(email="redis-rate@example.org", name="R", role="program_manager", password_hash="x")
        db.session.add(user)
        db.session.flush()
        token, text = create_token(None, user, name="r", scopes=["read"], expires_days=1)
        db.session.commit()
        token_id, user_id = token.id, user.id
    try:
        client = Bearer(app, text)
        assert [client.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
        assert any(b"api-token" in key for key in redis.Redis.from_url(redis_url).keys("*"))
    finally:
        with app.app_context():
            db.session.execute(sa.delete(ApiToken).where(ApiToken.id == token_id))
            db.session.execute(sa.text("DELETE FROM activity_events WHERE actor_id = :id"), {"id": user_id})
            db.session.execute(sa.delete(UserModel).where(UserModel.id == user_id))
            db.session.commit()
            db.engine.dispose()


# --- the OpenAPI document --------------------------------------------------------------------------------
def test_the_committed_openapi_document_matches_the_code(app):
    from portal.api.spec import COMMITTED_SPEC, document, dump

    generated = dump(document(app))
    assert COMMITTED_SPEC.read_text() == generated, "the API contract changed: run `flask api spec` and commit it"


def test_the_openapi_document_is_served_and_well_formed(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    assert all(path.startswith("/api/v1/") for path in spec["paths"])
    names = spec["components"]["schemas"]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", name) for name in names)
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
    assert refs <= set(names)
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert op["security"] and op["responses"]["401"], (method, path)
            if method == "post":
                assert any(p["name"] == "Idempotency-Key" and p["required"] for p in op["parameters"])
    reference = client.get("/api/v1/docs")
    assert reference.status_code == 200 and "Enroll a participant" in reference.get_data(as_text=True)
    assert "cdn" not in reference.get_data(as_text=True).lower()
