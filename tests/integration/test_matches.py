"""Matches through the test client (SPEC §2.8, §4 "Matches", §5): program managers propose,
confirm and end; the volunteer's limit comes from the campaign's effective configuration;
refusals are 409/422 with nothing saved; another company's campaign is 404; company admins
read their matches with beneficiaries as pseudonyms, and nothing they get depends on who the
beneficiary is; completing or dropping an enrollment ends its matches."""
from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference
from portal.matches.models import Match, MatchLoad
from tests.helpers import csrf_token


@pytest.fixture
def scene(make, tenants):
    """Company A's mentorship campaign (limit 3 by the master template) with two volunteers
    (one an Acme employee) and four beneficiaries; company B's campaign with one of each."""
    program = make.program(template=make.template("mentorship"))
    camp = make.campaign(tenants["company_a"], program, name="Acme Mentoring")
    mentor = make.participant(display_name="Marta Mentor", languages=["uk", "en"], company_id=tenants["company_a"].id)
    other = make.participant(display_name="Nils Volunteer", languages=["no"])
    people = [make.participant(display_name=name, languages=["uk"], year_of_birth=1980 + i, country="NO")
              for i, name in enumerate(["Olena Shevchenko", "Petro Bondar", "Iryna Koval", "Taras Melnyk"])]
    camp_b = make.campaign(tenants["company_b"], program, name="Borealis Mentoring")
    return {
        "campaign": camp, "campaign_b": camp_b,
        "mentor": make.enrollment(camp, mentor, role="volunteer"),
        "other": make.enrollment(camp, other, role="volunteer"),
        "mentees": [make.enrollment(camp, p) for p in people],
        "people": people,
        "b_volunteer": make.enrollment(camp_b, make.participant(display_name="B Vol"), role="volunteer"),
        "b_mentee": make.enrollment(camp_b, make.participant(display_name="B Mentee")),
    }


def url(campaign_id: int, *rest) -> str:
    return "/".join([f"/campaigns/{campaign_id}/matches", *map(str, rest)])


def propose(client, campaign_id: int, volunteer_id, beneficiary_id):
    token = csrf_token(client, url(campaign_id))
    return client.post(url(campaign_id), data={"csrf_token": token, "volunteer_enrollment_id": volunteer_id,
                                               "beneficiary_enrollment_id": beneficiary_id})


def match_of(app, volunteer_id: int, beneficiary_id: int) -> Match | None:
    with app.app_context():
        match = db.session.scalars(sa.select(Match).where(
            Match.volunteer_enrollment_id == volunteer_id, Match.beneficiary_enrollment_id == beneficiary_id)
            .order_by(Match.id.desc())).first()
        if match is not None:
            db.session.expunge(match)
        return match


def confirm(client, match: Match):
    token = csrf_token(client, url(match.campaign_id))
    return client.post(url(match.campaign_id, match.id, "confirm"), data={"csrf_token": token})


def end(client, match: Match, reason: str = "", confirmed: bool = True):
    token = csrf_token(client, url(match.campaign_id))
    data = {"csrf_token": token, "reason": reason}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post(url(match.campaign_id, match.id, "end"), data=data)


def load(app, volunteer_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(MatchLoad.active_matches)
                                 .where(MatchLoad.volunteer_enrollment_id == volunteer_id)) or 0


def snapshot(app) -> tuple:
    with app.app_context():
        return (tuple(db.session.execute(sa.select(Match.id, Match.status, Match.lock_version).order_by(Match.id))),
                tuple(db.session.execute(sa.select(MatchLoad.volunteer_enrollment_id, MatchLoad.active_matches))),
                db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)))


def make_match(app, pm_client, scene, mentee_index: int = 0, volunteer: str = "mentor", *, confirmed: bool = True):
    v, b = scene[volunteer].id, scene["mentees"][mentee_index].id
    assert propose(pm_client, scene["campaign"].id, v, b).status_code == 303
    match = match_of(app, v, b)
    if confirmed:
        assert confirm(pm_client, match).status_code == 303
        match = match_of(app, v, b)
    return match


# --- the life of a match -------------------------------------------------------------------
def test_propose_confirm_end_moves_the_load_and_writes_one_event_each(app, pm_client, scene):
    camp, mentor = scene["campaign"], scene["mentor"]
    match = make_match(app, pm_client, scene, confirmed=False)
    assert match.status == "proposed" and match.proposed_at is not None and match.started_at is None
    assert load(app, mentor.id) == 0

    assert confirm(pm_client, match).status_code == 303
    match = match_of(app, mentor.id, scene["mentees"][0].id)
    assert match.status == "active" and match.started_at is not None
    assert load(app, mentor.id) == 1
    page = pm_client.get(url(camp.id)).get_data(as_text=True)
    assert "1 of 3" in page and "Olena Shevchenko" in page

    assert end(pm_client, match, "Moved abroad").status_code == 303
    match = match_of(app, mentor.id, scene["mentees"][0].id)
    assert (match.status, match.end_reason) == ("ended", "Moved abroad") and match.ended_at is not None
    assert load(app, mentor.id) == 0
    with app.app_context():
        events = db.session.execute(sa.select(ActivityEvent.type, ActivityEvent.company_id, ActivityEvent.data)
                                    .where(ActivityEvent.subject_type == "matches").order_by(ActivityEvent.id)).all()
    assert [e.type for e in events] == ["program.match.proposed", "program.match.confirmed", "program.match.ended"]
    assert all(e.company_id == camp.company_id for e in events)
    assert events[-1].data["reason_given"] is True and "Moved abroad" not in str(events[-1].data)


def test_end_asks_first_without_javascript_and_changes_nothing_until_confirmed(app, pm_client, scene):
    match = make_match(app, pm_client, scene)
    before = snapshot(app)
    response = end(pm_client, match, "Done", confirmed=False)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "End the match of Marta Mentor and Olena Shevchenko?" in body
    assert "gets a free slot" in body and 'name="confirmed" value="yes"' in body
    assert snapshot(app) == before


def test_an_ended_pair_can_be_proposed_again_but_an_open_one_cannot(app, pm_client, scene):
    match = make_match(app, pm_client, scene)
    before = snapshot(app)
    response = propose(pm_client, scene["campaign"].id, scene["mentor"].id, scene["mentees"][0].id)
    assert response.status_code == 409 and "already have a proposed or active match" in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert end(pm_client, match).status_code == 303
    assert propose(pm_client, scene["campaign"].id, scene["mentor"].id, scene["mentees"][0].id).status_code == 303


# --- the limit --------------------------------------------------------------------------------
def test_a_fourth_mentee_is_refused_with_409_and_nothing_changes(app, pm_client, scene):
    for i in range(3):
        make_match(app, pm_client, scene, i)
    fourth = make_match(app, pm_client, scene, 3, confirmed=False)
    before = snapshot(app)
    response = confirm(pm_client, fourth)
    assert response.status_code == 409
    assert "already has 3 of 3 active matches" in response.get_data(as_text=True)
    assert snapshot(app) == before and load(app, scene["mentor"].id) == 3
    # Ending one frees the slot.
    assert end(pm_client, match_of(app, scene["mentor"].id, scene["mentees"][0].id)).status_code == 303
    assert confirm(pm_client, fourth).status_code == 303 and load(app, scene["mentor"].id) == 3


def test_the_limit_is_the_campaigns_effective_setting(app, make, pm_client, scene):
    with app.app_context():
        from portal.campaigns.models import Campaign

        db.session.get(Campaign, scene["campaign"].id).config_overrides = {"matching": {"maxMenteesPerMentor": 1}}
        db.session.commit()
    make_match(app, pm_client, scene, 0)
    second = make_match(app, pm_client, scene, 1, confirmed=False)
    assert confirm(pm_client, second).status_code == 409
    assert "1 of 1" in pm_client.get(url(scene["campaign"].id)).get_data(as_text=True)


def test_a_template_without_the_setting_allows_one_active_match(app, make, tenants, pm_client):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    buddy = make.enrollment(camp, make.participant(), role="volunteer")
    a, b = make.enrollment(camp, make.participant()), make.enrollment(camp, make.participant())
    for mentee in (a, b):
        assert propose(pm_client, camp.id, buddy.id, mentee.id).status_code == 303
    assert confirm(pm_client, match_of(app, buddy.id, a.id)).status_code == 303
    assert confirm(pm_client, match_of(app, buddy.id, b.id)).status_code == 409


# --- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case,status,message", [
    ("other_campaign", 422, "Choose a beneficiary enrolled in this campaign."),
    ("two_volunteers", 422, "That enrollment is a volunteer, not a beneficiary"),
    ("swapped_roles", 422, "That enrollment is a beneficiary, not a volunteer"),
    ("completed_beneficiary", 409, "The beneficiary's enrollment is completed"),
    ("dropped_volunteer", 409, "The volunteer's enrollment is dropped"),
    ("missing", 422, "Choose a volunteer enrolled in this campaign."),
    ("garbage", 422, "Choose a volunteer enrolled in this campaign."),
])
def test_refused_proposals_save_nothing(app, make, pm_client, scene, case, status, message):
    camp = scene["campaign"]
    v, b = scene["mentor"].id, scene["mentees"][0].id
    if case == "other_campaign":
        b = scene["b_mentee"].id
    elif case == "two_volunteers":
        b = scene["other"].id
    elif case == "swapped_roles":
        v, b = scene["mentees"][1].id, scene["mentees"][0].id
    elif case == "completed_beneficiary":
        b = make.enrollment(camp, make.participant(), status="completed", completed_at=scene["mentor"].enrolled_at).id
    elif case == "dropped_volunteer":
        v = make.enrollment(camp, make.participant(), role="volunteer", status="dropped",
                            dropped_at=scene["mentor"].enrolled_at).id
    elif case == "missing":
        v = 999_999
    elif case == "garbage":
        v = "<script>"
    before = snapshot(app)
    response = propose(pm_client, camp.id, v, b)
    assert response.status_code == status
    assert message in html.unescape(response.get_data(as_text=True))
    assert snapshot(app) == before


def test_confirming_when_an_enrollment_has_left_is_refused(app, pm_client, scene):
    match = make_match(app, pm_client, scene, confirmed=False)
    with app.app_context():  # left behind the matches' back (the operations would have ended it)
        db.session.execute(sa.update(Enrollment).where(Enrollment.id == scene["mentees"][0].id)
                           .values(status="dropped", dropped_at=sa.func.current_timestamp()))
        db.session.commit()
    before = snapshot(app)
    assert confirm(pm_client, match).status_code == 409
    assert snapshot(app) == before


def test_moves_from_a_final_state_are_409(app, pm_client, scene):
    match = make_match(app, pm_client, scene)
    assert end(pm_client, match).status_code == 303
    ended = match_of(app, match.volunteer_enrollment_id, match.beneficiary_enrollment_id)
    before = snapshot(app)
    assert confirm(pm_client, ended).status_code == 409
    assert end(pm_client, ended).status_code == 409
    assert snapshot(app) == before


def test_a_stale_version_is_refused(app, pm_client, scene):
    match = make_match(app, pm_client, scene, confirmed=False)
    token = csrf_token(pm_client, url(match.campaign_id))
    response = pm_client.post(url(match.campaign_id, match.id, "confirm"),
                              data={"csrf_token": token, "lock_version": str(match.lock_version + 5)})
    assert response.status_code == 409


# --- tenancy and roles ---------------------------------------------------------------------------
def test_another_companys_campaign_and_matches_are_404(app, pm_client, admin_b_client, scene):
    match = make_match(app, pm_client, scene)
    assert admin_b_client.get(url(scene["campaign"].id)).status_code == 404
    # A match addressed through the wrong campaign does not exist there.
    before = snapshot(app)
    token = csrf_token(pm_client, url(scene["campaign_b"].id))
    assert pm_client.post(url(scene["campaign_b"].id, match.id, "confirm"),
                          data={"csrf_token": token}).status_code == 404
    assert pm_client.post(url(scene["campaign_b"].id, match.id, "end"),
                          data={"csrf_token": token, "confirmed": "yes"}).status_code == 404
    assert snapshot(app) == before


def test_company_admins_read_without_buttons_and_cannot_write(app, pm_client, admin_a_client, tenants, scene):
    match = make_match(app, pm_client, scene)
    make_match(app, pm_client, scene, 1, confirmed=False)
    response = admin_a_client.get(url(scene["campaign"].id))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Marta Mentor" in body  # their own employee
    assert "1 of 3" in body
    for person in scene["people"]:
        assert person.display_name not in body
    assert company_reference(tenants["company_a"], scene["people"][0].id) in body
    assert "Propose" not in body and ">Confirm<" not in body and ">End<" not in body
    assert "Find a partner" not in body
    before = snapshot(app)
    token = csrf_token(admin_a_client, url(scene["campaign"].id))
    for path, data in ((url(scene["campaign"].id), {"volunteer_enrollment_id": scene["mentor"].id,
                                                    "beneficiary_enrollment_id": scene["mentees"][2].id}),
                       (url(scene["campaign"].id, match.id, "end"), {"confirmed": "yes"}),
                       (url(scene["campaign"].id, match.id, "confirm"), {})):
        assert admin_a_client.post(path, data={"csrf_token": token, **data}).status_code == 403
    assert admin_a_client.get(url(scene["campaign"].id), query_string={"beneficiary": scene["mentees"][0].id}) \
        .get_data(as_text=True).count("Suggestions for") == 0
    assert snapshot(app) == before


def test_oracle_nothing_a_company_admin_gets_depends_on_who_the_beneficiary_is(app, pm_client, admin_a_client, scene):
    """Change everything that identifies the beneficiary: the company admin's answers stay
    byte-identical (only the pseudonym, which is keyed on the participant id, names them)."""
    make_match(app, pm_client, scene, 0)
    match = make_match(app, pm_client, scene, 1, confirmed=False)
    assert end(pm_client, match, "Olena's family moved to Bergen").status_code == 303

    def answers() -> list[str]:
        pages = [admin_a_client.get(url(scene["campaign"].id)),
                 admin_a_client.get(url(scene["campaign"].id), query_string={"beneficiary": scene["mentees"][0].id}),
                 admin_a_client.get(url(scene["campaign"].id), headers={"HX-Request": "true"},
                                    query_string={"block": "suggestions", "beneficiary": scene["mentees"][0].id})]
        return [re.sub(r'name="csrf_token"[^>]*>|"X-CSRFToken": "[^"]*"', "", p.get_data(as_text=True)) for p in pages]

    first = answers()
    with app.app_context():
        for n, person in enumerate(scene["people"][:2]):
            p = db.session.get(Participant, person.id)
            p.display_name, p.year_of_birth, p.languages, p.country = "Someone Else", 1931, ["ar", "fr"], "SE"
            p.email, p.external_ref = f"someone{n}@example.org", f"kintell:{n}"
        db.session.commit()
    assert answers() == first
    assert "Bergen" not in "".join(first)


# --- suggestions on the page -----------------------------------------------------------------------
def test_suggestions_list_free_volunteers_with_reasons_and_a_propose_button(app, pm_client, scene):
    camp = scene["campaign"]
    body = pm_client.get(url(camp.id), query_string={"beneficiary": scene["mentees"][0].id}).get_data(as_text=True)
    assert "Suggestions for Olena Shevchenko" in body
    assert "Both speak Ukrainian." in body  # Marta shares Ukrainian; Nils speaks Norwegian only
    assert body.index("Marta Mentor") < body.index("Nils Volunteer", body.index("Suggestions for"))
    assert body.count(">Propose<") == 2
    fragment = pm_client.get(url(camp.id), headers={"HX-Request": "true"},
                             query_string={"block": "suggestions", "beneficiary": scene["mentees"][0].id})
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in text and 'id="suggestions"' in text
    assert "HX-Request" in fragment.headers.get("Vary", "")
    # Once Marta is full (3 of 3) she is no longer suggested; an open partner is not suggested twice.
    for i in range(1, 4):
        make_match(app, pm_client, scene, i)
    body = pm_client.get(url(camp.id), query_string={"beneficiary": scene["mentees"][0].id}).get_data(as_text=True)
    assert body.count(">Propose<") == 1


# --- completing and dropping enrollments ends their matches -----------------------------------------
def _change(client, enrollment: Enrollment, action: str):
    token = csrf_token(client, f"/campaigns/{enrollment.campaign_id}/enrollments/{enrollment.id}")
    return client.post(f"/campaigns/{enrollment.campaign_id}/enrollments/{enrollment.id}/{action}",
                       data={"csrf_token": token, "confirmed": "yes", "reason": "left"})


def test_completing_a_beneficiary_ends_its_matches_and_frees_the_slot(app, pm_client, scene):
    make_match(app, pm_client, scene, 0)
    assert load(app, scene["mentor"].id) == 1
    assert _change(pm_client, scene["mentees"][0], "complete").status_code == 303
    match = match_of(app, scene["mentor"].id, scene["mentees"][0].id)
    assert match.status == "ended" and match.end_reason == "The enrollment was completed."
    assert load(app, scene["mentor"].id) == 0


def test_dropping_a_volunteer_ends_active_and_proposed_matches_in_one_go(app, pm_client, admin_a_client, scene):
    make_match(app, pm_client, scene, 0)
    make_match(app, pm_client, scene, 1, confirmed=False)
    make_match(app, pm_client, scene, 2, "other")
    # The company admin drops its own employee: the matches end with it (no permission needed for that).
    assert _change(admin_a_client, scene["mentor"], "drop").status_code == 303
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Match.beneficiary_enrollment_id, Match.status)).all())
    assert statuses == {scene["mentees"][0].id: "ended", scene["mentees"][1].id: "ended",
                        scene["mentees"][2].id: "active"}
    assert load(app, scene["mentor"].id) == 0 and load(app, scene["other"].id) == 1


def test_bulk_drop_ends_the_matches_of_every_enrollment(app, pm_client, scene):
    make_match(app, pm_client, scene, 0)
    make_match(app, pm_client, scene, 1)
    camp = scene["campaign"]
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    response = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "drop", "confirmed": "yes",
        "enrollment_ids": [scene["mentees"][0].id, scene["mentees"][1].id]})
    assert response.status_code == 303
    with app.app_context():
        assert set(db.session.scalars(sa.select(Match.status))) == {"ended"}
    assert load(app, scene["mentor"].id) == 0


def test_a_refused_drop_leaves_the_matches_alone(app, pm_client, scene):
    make_match(app, pm_client, scene, 0)
    assert _change(pm_client, scene["mentees"][0], "complete").status_code == 303
    before = snapshot(app)
    assert _change(pm_client, scene["mentees"][0], "drop").status_code == 409  # completed is final
    assert snapshot(app) == before
