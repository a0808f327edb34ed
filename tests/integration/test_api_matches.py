"""Matches through the JSON API (SPEC §2.8, §4.2): program managers propose, confirm and end
through the match operations (If-Match, Idempotency-Key, the volunteer's limit); company
admins read their own campaigns' matches with the beneficiary as their pseudonym and no end
reason, and may not make matches; another company's campaign or match is 404."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import db, utcnow
from portal.enrollments.privacy import company_reference
from portal.matches.models import Match, MatchLoad
from tests.integration.api_support import Bearer, new_token

PROBLEM = "application/problem+json"
SCOPES = ("read", "matches:write")


@pytest.fixture
def scene(make, tenants):
    program = make.program(template=make.template("mentorship"))
    a, b = tenants["company_a"], tenants["company_b"]
    campaign = make.campaign(a, program, name="Acme Mentoring", config_overrides={"matching": {"maxMenteesPerMentor": 1}})
    started = utcnow() - timedelta(days=10)
    mentee = make.enrollment(campaign, make.participant(display_name="Olena Secret", email="olena@example.org",
                                                        languages=["uk"]), enrolled_at=started)
    mentee2 = make.enrollment(campaign, make.participant(display_name="Iryna Hidden"), enrolled_at=started)
    mentor = make.enrollment(campaign, make.participant(display_name="Marta Mentor", company_id=a.id),
                             role="volunteer", enrolled_at=started)
    campaign_b = make.campaign(b, program)
    b_mentee = make.enrollment(campaign_b, make.participant(display_name="B Mentee"), enrolled_at=started)
    return {"campaign": campaign, "mentee": mentee, "mentee2": mentee2, "mentor": mentor, "campaign_b": campaign_b,
            "b_mentee": b_mentee, "company_a": a}


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


def _base(scene):
    return f"/api/v1/campaigns/{scene['campaign'].id}/matches"


def _propose(api, scene, mentee="mentee", **kw):
    return api["pm"].post(_base(scene), json={"volunteer_enrollment_id": scene["mentor"].id,
                                              "beneficiary_enrollment_id": scene[mentee].id}, **kw)


def test_propose_confirm_and_end_through_the_operations(app, api, scene):
    proposed = _propose(api, scene)
    assert proposed.status_code == 201, proposed.json
    match = proposed.json
    assert match["status"] == "proposed" and match["beneficiary"]["participant"]["display_name"] == "Olena Secret"
    url = f"{_base(scene)}/{match['id']}"
    assert proposed.headers["Location"].endswith(url)
    _problem(api["pm"].post(url + "/confirm"), 428)
    _problem(api["pm"].post(url + "/confirm", headers={"If-Match": '"42"'}), 412)
    confirmed = api["pm"].post(url + "/confirm", headers={"If-Match": proposed.headers["ETag"]})
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active" and confirmed.json["started_at"]
    with app.app_context():
        assert db.session.get(MatchLoad, scene["mentor"].id).active_matches == 1
    # the volunteer's limit (1 here) holds: a second pair proposes, but does not confirm
    second = _propose(api, scene, "mentee2").json
    full = _problem(api["pm"].post(f"{_base(scene)}/{second['id']}/confirm",
                                   headers={"If-Match": f'"{second["version"]}"'}), 409)
    assert "1 of 1 active match" in full["detail"]
    again = _problem(api["pm"].post(url + "/confirm", headers={"If-Match": confirmed.headers["ETag"]}), 409)
    assert "Cannot move from active to active" in again["detail"]
    ended = api["pm"].post(url + "/end", json={"reason": "Olena moved to Bergen"},
                           headers={"If-Match": confirmed.headers["ETag"]})
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    assert ended.json["end_reason"] == "Olena moved to Bergen"
    with app.app_context():
        assert db.session.get(MatchLoad, scene["mentor"].id).active_matches == 0
        types = db.session.scalars(sa.text("SELECT type FROM activity_events WHERE subject_type = 'matches' "
                                           "ORDER BY id")).all()
        assert types == ["program.match.proposed", "program.match.confirmed", "program.match.proposed",
                         "program.match.ended"]


def test_company_admins_read_pseudonymised_matches_and_may_not_make_them(app, api, scene):
    made = _propose(api, scene).json
    etag = f'"{made["version"]}"'
    api["pm"].post(f"{_base(scene)}/{made['id']}/end", json={"reason": "Olena's private reason"},
                   headers={"If-Match": etag})
    listed = api["admin_a"].get(_base(scene))
    assert listed.status_code == 200 and len(listed.json["items"]) == 1
    item = listed.json["items"][0]
    with app.app_context():
        from portal.auth.models import Company

        company = db.session.get(Company, scene["company_a"].id)
        mentee_participant = scene["mentee"].participant_id
        expected = company_reference(company, mentee_participant)
    assert item["beneficiary"]["participant"] == {"reference": expected, "pseudonymised": True, "id": None,
                                                  "display_name": None, "email": None, "external_ref": None,
                                                  "company_id": None}
    assert item["volunteer"]["participant"]["display_name"] == "Marta Mentor"  # the company's own employee
    assert item["end_reason"] is None
    text = json.dumps(listed.json)
    assert "Olena" not in text and "olena@" not in text and "private" not in text
    one = api["admin_a"].get(f"{_base(scene)}/{made['id']}")
    assert one.status_code == 200 and "Olena" not in one.get_data(as_text=True)
    before = _count(app, Match)
    refused = _problem(api["admin_a"].post(_base(scene), json={"volunteer_enrollment_id": scene["mentor"].id,
                                                               "beneficiary_enrollment_id": scene["mentee2"].id}), 403)
    assert refused["detail"] == "Matches are made by the program team."
    assert _count(app, Match) == before


def test_another_companys_campaign_and_match_are_404(app, api, scene):
    made = _propose(api, scene).json
    for url in (_base(scene), f"{_base(scene)}/{made['id']}", "/api/v1/campaigns/999999/matches"):
        _problem(api["admin_b"].get(url), 404)
    _problem(api["admin_b"].post(f"{_base(scene)}/{made['id']}/end", headers={"If-Match": '"1"'}), 404)
    # a match of campaign A asked for under campaign B's URL is not found either
    _problem(api["pm"].get(f"/api/v1/campaigns/{scene['campaign_b'].id}/matches/{made['id']}"), 404)
    with app.app_context():
        assert db.session.get(Match, made["id"]).status == "proposed"


def test_refused_proposals_name_their_field_and_foreign_ids_read_like_missing_ones(app, api, scene):
    wrong_role = _problem(api["pm"].post(_base(scene), json={"volunteer_enrollment_id": scene["mentee"].id,
                                                             "beneficiary_enrollment_id": scene["mentee2"].id}), 422)
    assert wrong_role["errors"][0]["pointer"] == "#/volunteer_enrollment_id"
    foreign = _problem(api["pm"].post(_base(scene), json={"volunteer_enrollment_id": scene["mentor"].id,
                                                          "beneficiary_enrollment_id": scene["b_mentee"].id}), 422)
    missing = _problem(api["pm"].post(_base(scene), json={"volunteer_enrollment_id": scene["mentor"].id,
                                                          "beneficiary_enrollment_id": 2_000_000_000}), 422)
    assert foreign["detail"] == missing["detail"] == "Choose a beneficiary enrolled in this campaign."
    assert missing["errors"][0]["pointer"] == "#/beneficiary_enrollment_id"
    made = _propose(api, scene)
    assert made.status_code == 201
    twice = _problem(_propose(api, scene), 409)
    assert "already have a proposed or active match" in twice["detail"]
    for body, pointer in (({"volunteer_enrollment_id": "abc", "beneficiary_enrollment_id": 1},
                           "#/volunteer_enrollment_id"),
                          ({"volunteer_enrollment_id": 0, "beneficiary_enrollment_id": 1}, "#/volunteer_enrollment_id"),
                          ({"volunteer_enrollment_id": 1}, "#/beneficiary_enrollment_id"),
                          ({"volunteer_enrollment_id": 1, "beneficiary_enrollment_id": 2, "x": 1}, "#/x")):
        bad = _problem(api["pm"].post(_base(scene), json=body), 422)
        assert bad["errors"][0]["pointer"] == pointer
    long = _problem(api["pm"].post(f"{_base(scene)}/{made.json['id']}/end", json={"reason": "x" * 501},
                                   headers={"If-Match": made.headers["ETag"]}), 422)
    assert long["errors"][0]["pointer"] == "#/reason"
    assert _count(app, Match) == 1


def test_idempotent_proposal_and_scopes(app, api, tenants, scene):
    first = _propose(api, scene, key="pair-1")
    replay = _propose(api, scene, key="pair-1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == first.json
    assert _count(app, Match) == 1
    reader = Bearer(app, new_token(app, tenants["pm"], ["read", "enrollments:write", "campaigns:write"], name="r"))
    body = _problem(reader.post(_base(scene), json={"volunteer_enrollment_id": scene["mentor"].id,
                                                    "beneficiary_enrollment_id": scene["mentee2"].id}), 403)
    assert "matches:write" in body["detail"]
    listed = reader.get(_base(scene) + "?status=proposed")
    assert listed.status_code == 200 and [m["id"] for m in listed.json["items"]] == [first.json["id"]]
    assert reader.get(_base(scene) + "?status=active").json["items"] == []
    _problem(reader.get(_base(scene) + "?status=paused"), 422)


def test_matches_page_by_cursor(app, api, make, scene):
    mentors = [make.enrollment(scene["campaign"], make.participant(company_id=scene["company_a"].id),
                               role="volunteer", enrolled_at=utcnow() - timedelta(days=1)) for _ in range(4)]
    for mentor in mentors:
        assert api["pm"].post(_base(scene), json={"volunteer_enrollment_id": mentor.id,
                                                  "beneficiary_enrollment_id": scene["mentee"].id}).status_code == 201
    seen, url = [], _base(scene) + "?limit=3"
    while url:
        page = api["admin_a"].get(url).json
        seen += [m["id"] for m in page["items"]]
        url = f"{_base(scene)}?limit=3&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert len(seen) == 4 and seen == sorted(seen, reverse=True)
