"""The activity feed through the JSON API (SPEC §2.7, §4.2): the events the token's user may
see (a company admin its company's), oldest first, paged by an ``after`` cursor that only
moves forward; each told as the activity log tells it to that user — pseudonyms for
beneficiaries, never the raw data — and fail-closed parameters."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db
from tests.integration.api_support import Bearer, new_token

PROBLEM = "application/problem+json"
SCOPES = ("read", "enrollments:write")


@pytest.fixture
def feed_app(app):
    app.config["PORTAL_API_EVENTS_SETTLE_SECONDS"] = 0  # serve events at once (the default waits 2 s)
    return app


@pytest.fixture
def scene(make, tenants, language_program):
    return {"campaign_a": make.campaign(tenants["company_a"], language_program, max_enrollment=10),
            "campaign_b": make.campaign(tenants["company_b"], language_program, max_enrollment=10)}


@pytest.fixture
def api(feed_app, tenants):
    return {role: Bearer(feed_app, new_token(feed_app, tenants[role], SCOPES)) for role in ("pm", "admin_a",
                                                                                            "admin_b")}


def _enroll(api, role, campaign, name, email=None, enroll_as="beneficiary"):
    person = {"display_name": name, "year_of_birth": 1990, "languages": ["uk"], **({"email": email} if email else {})}
    response = api[role].post(f"/api/v1/campaigns/{campaign.id}/enrollments",
                              json={"role": enroll_as, "participant": person})
    assert response.status_code == 201, response.json
    return response.json


def _walk(client, query=""):
    items, cursor, calls = [], None, 0
    while True:
        response = client.get(f"/api/v1/events?limit=2{query}" + (f"&after={cursor}" if cursor else ""))
        assert response.status_code == 200, response.json
        calls += 1
        if not response.json["items"]:
            assert response.json["next_cursor"] == cursor  # nothing new: the cursor stays
            return items, cursor, calls
        items += response.json["items"]
        cursor = response.json["next_cursor"]


def test_each_user_reads_the_events_it_may_see_once_in_order(app, api, scene):
    _enroll(api, "pm", scene["campaign_a"], "Olena Secret", "olena.secret@example.org")
    _enroll(api, "pm", scene["campaign_b"], "Borys Other")
    _enroll(api, "admin_a", scene["campaign_a"], "Ann Employee", enroll_as="volunteer")
    pm_items, _, _ = _walk(api["pm"])
    a_items, cursor, _ = _walk(api["admin_a"])
    b_items, _, _ = _walk(api["admin_b"])
    with app.app_context():
        every = db.session.scalars(sa.select(ActivityEvent.id).order_by(ActivityEvent.created_at,
                                                                        ActivityEvent.id)).all()
        company_a = set(db.session.scalars(sa.select(ActivityEvent.id).where(
            ActivityEvent.company_id == a_items[0]["company_id"])))
    assert [e["id"] for e in pm_items] == list(every)
    assert {e["id"] for e in a_items} == company_a and a_items
    assert {e["company_id"] for e in a_items} == {a_items[0]["company_id"]}
    assert not {e["id"] for e in b_items} & company_a
    assert [e["id"] for e in a_items] == sorted(e["id"] for e in a_items)
    # A connector keeps the cursor: the next call brings only what happened since.
    _enroll(api, "admin_a", scene["campaign_a"], "Bo Employee", enroll_as="volunteer")
    newer = api["admin_a"].get(f"/api/v1/events?after={cursor}").json
    assert [e["type"] for e in newer["items"]] == ["participant.created", "program.enrollment.created"]
    assert not {e["id"] for e in newer["items"]} & {e["id"] for e in a_items}


def test_company_admins_read_beneficiaries_as_pseudonyms_and_never_the_raw_data(app, api, scene):
    _enroll(api, "pm", scene["campaign_a"], "Olena Secret", "olena.secret@example.org")
    pm = api["pm"].get("/api/v1/events?type=program.enrollment").json["items"]
    assert any("Olena Secret" in e["summary"] for e in pm)
    admin = api["admin_a"].get("/api/v1/events").json
    text = json.dumps(admin)
    assert admin["items"] and "Olena" not in text and "olena.secret" not in text
    enrolled = next(e for e in admin["items"] if e["type"] == "program.enrollment.created")
    assert enrolled["summary"] and enrolled["kind"] == "Enrollment created"
    assert set(enrolled) == {"id", "type", "kind", "occurred_at", "company_id", "subject_type", "subject_id",
                             "summary", "changes", "screen_url"}


def test_type_since_and_the_settle_window(app, api, scene):
    _enroll(api, "pm", scene["campaign_a"], "Olena Secret")
    only = api["pm"].get("/api/v1/events?type=program.enrollment.created").json["items"]
    assert only and {e["type"] for e in only} == {"program.enrollment.created"}
    assert api["pm"].get("/api/v1/events?type=program.campaign.archived").json == {"items": [], "next_cursor": None}
    assert api["pm"].get("/api/v1/events?since=2999-01-01T00:00:00Z").json["items"] == []
    assert api["pm"].get("/api/v1/events?since=2000-01-01T00:00:00").json["items"]
    app.config["PORTAL_API_EVENTS_SETTLE_SECONDS"] = 3600  # events younger than an hour are not served yet
    assert api["pm"].get("/api/v1/events").json == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(("query", "parameter"), [
    ("after=bm90LWEtY3Vyc29y", "after"), ("after=%%%", "after"), ("limit=0", "limit"), ("limit=501", "limit"),
    ("type=program.%25", "type"), ("type=A", "type"), ("since=yesterday", "since"), ("company=1", "company"),
])
def test_bad_parameters_are_422_naming_the_parameter(api, query, parameter):
    response = api["pm"].get(f"/api/v1/events?{query}")
    assert response.status_code == 422 and response.mimetype == PROBLEM, response.json
    assert [e["parameter"] for e in response.json["errors"]] == [parameter]


def test_the_feed_needs_a_token_with_read(app, tenants, feed_app):
    assert feed_app.test_client().get("/api/v1/events").status_code == 401
    writer = Bearer(feed_app, new_token(feed_app, tenants["pm"], ["enrollments:write"], name="w"))
    assert writer.get("/api/v1/events").status_code == 403
