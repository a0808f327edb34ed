"""SPEC §2.4/§2.5 through the campaign screens: create, edit capacity, lifecycle,
configuration layer, enrolling with an inline outlook, complete/drop (single and bulk)."""
import re

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from tests.helpers import csrf_token
from tests.integration.test_programs import _browser_form


def fill(form, values):
    """Set fields as a person typing would (MultiDict.update would append instead)."""
    for name, value in values.items():
        form[name] = value


def _campaign(app, campaign_id):
    with app.app_context():
        c = db.session.get(Campaign, campaign_id)
        db.session.expunge(c)
        return c


@pytest.fixture
def program(make):
    return make.program(template=make.template("language"), visibility="public",
                        group=make.group(age_min=18, age_max=65, language_requirement="beginner",
                                         languages=["uk", "en"]))


def test_company_admin_starts_a_campaign_for_their_company_as_draft(app, admin_a_client, tenants, program):
    url = f"/campaigns/new?program={program.id}"
    form = _browser_form(admin_a_client.get(url).get_data(as_text=True))
    fill(form, {"name": "Acme Language Q1", "start_date": "2026-01-15", "max_enrollment": "20",
                 "target_enrollment": "15", "currency": "NOK", "budget_allocated": "1000.50", "seat_price": "50.25",
                 "cfg.session.minSessionsPerWeek": "3"})
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[-800:]
    with app.app_context():
        c = db.session.scalars(sa.select(Campaign).where(Campaign.name == "Acme Language Q1")).one()
        assert (c.company_id, c.status, c.budget_allocated, c.seat_price) == (tenants["company_a"].id, "draft",
                                                                              100050, 5025)
        assert c.config_overrides == {"session": {"minSessionsPerWeek": 3}}


def test_company_admin_cannot_create_for_another_company(app, admin_a_client, tenants, program):
    url = f"/campaigns/new?program={program.id}"
    form = _browser_form(admin_a_client.get(url).get_data(as_text=True))
    fill(form, {"name": "Sneaky", "start_date": "2026-01-15", "currency": "EUR",
                 "company_id": str(tenants["company_b"].id)})
    admin_a_client.post(url, data=form)
    with app.app_context():  # the tampered company is ignored: a company admin's campaign is their company's
        owners = set(db.session.scalars(sa.select(Campaign.company_id)))
    assert tenants["company_b"].id not in owners


def test_campaigns_start_only_for_active_public_programs(admin_a_client, make):
    draft = make.program(status="draft")
    private = make.program(visibility="private")
    assert admin_a_client.get(f"/campaigns/new?program={draft.id}").status_code == 404
    assert admin_a_client.get(f"/campaigns/new?program={private.id}").status_code == 404


def test_invalid_campaign_fields_are_field_errors(app, admin_a_client, program):
    url = f"/campaigns/new?program={program.id}"
    form = _browser_form(admin_a_client.get(url).get_data(as_text=True))
    fill(form, {"name": "Bad", "start_date": "2026-02-01", "end_date": "2026-01-01", "max_enrollment": "5",
                 "target_enrollment": "10", "currency": "XYZ", "cfg.session.defaultDurationMinutes": "500"})
    response = admin_a_client.post(url, data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for text in ("on or after the start date", "at least the target", "not an ISO 4217", "maximum of 120"):
        assert text in body, text


def test_lowering_the_cap_below_seats_taken_is_refused_with_the_count(app, admin_a_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=5)
    for _ in range(3):
        make.enrollment(camp)
    with app.app_context():
        db.session.execute(sa.update(Campaign).where(Campaign.id == camp.id).values(enrolled_count=3))
        db.session.commit()
    url = f"/campaigns/{camp.id}/edit"
    form = _browser_form(admin_a_client.get(url).get_data(as_text=True))
    form["max_enrollment"] = "2"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 422 and "3 seats are already taken" in response.get_data(as_text=True)
    assert _campaign(app, camp.id).max_enrollment == 5


def test_raising_the_cap_promotes_waitlisted_oldest_first(app, admin_a_client, make, tenants, program):
    from portal.db import transaction
    from portal.enrollments.operations import enroll_participant

    camp = make.campaign(tenants["company_a"], program, max_enrollment=1, waitlist_enabled=True)
    people = [make.participant(year_of_birth=1990, languages=["uk"]) for _ in range(3)]
    with app.app_context():
        for p in people:
            with transaction():
                enroll_participant(None, camp.id, db.session.get(Participant, p.id))
    url = f"/campaigns/{camp.id}/edit"
    form = _browser_form(admin_a_client.get(url).get_data(as_text=True))
    form["max_enrollment"] = "2"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 303
    page = admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "1 waitlisted participant(s) promoted" in page
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Enrollment.participant_id, Enrollment.status)).all())
    assert [statuses[p.id] for p in people] == ["active", "active", "waitlisted"]


def test_stale_campaign_edit_is_refused(app, admin_a_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program)
    url = f"/campaigns/{camp.id}/edit"
    form = _browser_form(admin_a_client.get(url).get_data(as_text=True))
    form["name"] = "First"
    assert admin_a_client.post(url, data=form).status_code == 303
    form["name"] = "Second"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 409 and "Someone else changed" in response.get_data(as_text=True)
    assert _campaign(app, camp.id).name == "First"


def test_enroll_shows_the_outlook_then_enrolls_and_writes_events(app, pm_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, max_enrollment=10)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enroll")
    check = pm_client.post(f"/campaigns/{camp.id}/enroll/check", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena", "year_of_birth": "2015",
        "languages": "uk"})
    assert "Cannot enroll" in check.get_data(as_text=True) and "below the group" in check.get_data(as_text=True)
    check = pm_client.post(f"/campaigns/{camp.id}/enroll/check", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena", "year_of_birth": "1990",
        "languages": "uk"})
    assert "Will be enrolled" in check.get_data(as_text=True)
    response = pm_client.post(f"/campaigns/{camp.id}/enroll", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena K", "email": "olena.k@example.org",
        "year_of_birth": "1990", "languages": "uk, en"})
    assert response.status_code == 303
    # the same form again (a double submit) creates nothing new
    again = pm_client.post(f"/campaigns/{camp.id}/enroll", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena K", "email": "OLENA.K@example.org",
        "year_of_birth": "1990", "languages": "uk, en"})
    assert again.status_code == 409 and "already enrolled" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(
            ActivityEvent.type == "program.enrollment.created", ActivityEvent.company_id == tenants["company_a"].id)) == 1
        # Program managers enroll beneficiaries into the NGO's own records, never a company's.
        assert db.session.scalar(sa.select(Participant.company_id)) is None
        assert db.session.get(Campaign, camp.id).enrolled_count == 1


def test_ineligible_enrollment_is_refused_with_the_reason_and_nothing_saved(app, pm_client, make, tenants,
                                                                            program):
    camp = make.campaign(tenants["company_a"], program)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enroll")
    response = pm_client.post(f"/campaigns/{camp.id}/enroll", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Amal", "year_of_birth": "1990",
        "languages": "ar"})
    assert response.status_code == 422 and "No shared working language" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0


def test_drop_promotes_and_bulk_complete(app, admin_a_client, make, tenants, program):
    from portal.db import transaction
    from portal.enrollments.operations import enroll_participant

    camp = make.campaign(tenants["company_a"], program, max_enrollment=2, waitlist_enabled=True)
    people = [make.participant(year_of_birth=1990, languages=["uk"]) for _ in range(3)]
    with app.app_context():
        ids = []
        for p in people:
            with transaction():
                ids.append(enroll_participant(None, camp.id, db.session.get(Participant, p.id)).id)
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}")
    response = admin_a_client.post(f"/campaigns/{camp.id}/enrollments/{ids[0]}/drop",
                                   data={"csrf_token": token, "reason": "moved"})
    assert response.status_code == 303
    page = admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "1 waitlisted participant(s) promoted" in page
    response = admin_a_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "complete", "enrollment_ids": [str(ids[1]), str(ids[2])]})
    assert response.status_code == 303
    with app.app_context():
        statuses = [db.session.get(Enrollment, i).status for i in ids]
        assert statuses == ["dropped", "completed", "completed"]
        assert db.session.get(Campaign, camp.id).enrolled_count == 2


def test_bulk_with_a_final_enrollment_changes_nothing(app, admin_a_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program)
    done = make.enrollment(camp, status="completed", completed_at=__import__("portal.db").db.utcnow())
    open_one = make.enrollment(camp)
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}")
    admin_a_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "drop", "enrollment_ids": [str(done.id), str(open_one.id)]})
    with app.app_context():
        assert db.session.get(Enrollment, open_one.id).status == "active"


def test_other_companys_campaign_screens_are_404(admin_a_client, make, tenants, program):
    camp_b = make.campaign(tenants["company_b"], program)
    token = csrf_token(admin_a_client, "/home")
    for path in (f"/campaigns/{camp_b.id}", f"/campaigns/{camp_b.id}/edit", f"/campaigns/{camp_b.id}/config",
                 f"/campaigns/{camp_b.id}/enroll"):
        assert admin_a_client.get(path).status_code == 404, path
    for path in (f"/campaigns/{camp_b.id}/status", f"/campaigns/{camp_b.id}/enroll",
                 f"/campaigns/{camp_b.id}/enrollments/bulk"):
        assert admin_a_client.post(path, data={"csrf_token": token}).status_code == 404, path


def test_campaign_lifecycle_and_dashboard(app, pm_client, make, tenants, program):
    camp = make.campaign(tenants["company_a"], program, status="draft", max_enrollment=10, target_enrollment=8)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    pm_client.post(f"/campaigns/{camp.id}/status", data={"csrf_token": token, "target": "active"})
    assert _campaign(app, camp.id).status == "active"
    pm_client.post(f"/campaigns/{camp.id}/status", data={"csrf_token": token, "target": "draft"})
    page = pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "Cannot move from active to draft" in page
    assert 'role="img"' in page and "seats used" in page


def test_a_forged_value_for_a_locked_setting_is_refused_at_its_path(app, admin_a_client, make, tenants):
    """Locked settings are rendered disabled; a value posted anyway is a 422 naming the path."""
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    url = f"/campaigns/{camp.id}/config"
    html = admin_a_client.get(url).get_data(as_text=True)
    assert re.search(r'name="cfg\.safety\.minAge"[^>]*disabled', html)  # a browser never sends it
    form = _browser_form(html)
    for name in ("cfg.safety.minAge", "cfg.safety.requireCodeOfConduct"):
        form.poplist(name)
    assert admin_a_client.post(url, data=form).status_code == 303
    form["cfg.safety.minAge"] = "13"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 422
    assert "locked by the template" in response.get_data(as_text=True)
    assert _campaign(app, camp.id).config_overrides == {}
