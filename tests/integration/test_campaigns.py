"""SPEC §2.4 through the campaign screens: create, edit capacity (a raised cap reaching the
waitlist), lifecycle, configuration layer. Enrolling through them: test_enrollment_rules.py."""
import re

import sqlalchemy as sa

from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from tests.helpers import browser_form, csrf_token


def fill(form, values):
    """Set fields as a person typing would (MultiDict.update would append instead)."""
    for name, value in values.items():
        form[name] = value


def _campaign(app, campaign_id):
    with app.app_context():
        c = db.session.get(Campaign, campaign_id)
        db.session.expunge(c)
        return c


def test_company_admin_starts_a_campaign_for_their_company_as_draft(app, admin_a_client, tenants, language_program):
    url = f"/campaigns/new?program={language_program.id}"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
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


def test_company_admin_cannot_create_for_another_company(app, admin_a_client, tenants, language_program):
    url = f"/campaigns/new?program={language_program.id}"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
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


def test_invalid_campaign_fields_are_field_errors(app, admin_a_client, language_program):
    url = f"/campaigns/new?program={language_program.id}"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    fill(form, {"name": "Bad", "start_date": "2026-02-01", "end_date": "2026-01-01", "max_enrollment": "5",
                 "target_enrollment": "10", "currency": "XYZ", "cfg.session.defaultDurationMinutes": "500"})
    response = admin_a_client.post(url, data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for text in ("on or after the start date", "at least the target", "not an ISO 4217", "maximum of 120"):
        assert text in body, text


def test_lowering_the_cap_below_seats_taken_is_refused_with_the_count(app, admin_a_client, make, tenants,
                                                                      language_program):
    camp = make.campaign(tenants["company_a"], language_program, max_enrollment=5)
    for _ in range(3):
        make.enrollment(camp)
    url = f"/campaigns/{camp.id}/edit"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    form["max_enrollment"] = "2"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 422 and "Seats already taken (active + completed beneficiaries): 3" in response.get_data(as_text=True)
    assert _campaign(app, camp.id).max_enrollment == 5


def test_raising_the_cap_promotes_waitlisted_oldest_first(app, admin_a_client, make, tenants, language_program):
    from portal.db import transaction
    from portal.enrollments.operations import enroll_participant

    camp = make.campaign(tenants["company_a"], language_program, max_enrollment=1, waitlist_enabled=True)
    people = [make.participant(year_of_birth=1990, languages=["uk"]) for _ in range(3)]
    with app.app_context():
        for p in people:
            with transaction():
                enroll_participant(None, camp.id, db.session.get(Participant, p.id))
    url = f"/campaigns/{camp.id}/edit"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    form["max_enrollment"] = "2"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 303
    page = admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "1 waitlisted participant promoted" in page
    with app.app_context():
        statuses = dict(db.session.execute(sa.select(Enrollment.participant_id, Enrollment.status)).all())
    assert [statuses[p.id] for p in people] == ["active", "active", "waitlisted"]


def test_stale_campaign_edit_is_refused(app, admin_a_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    url = f"/campaigns/{camp.id}/edit"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    form["name"] = "First"
    assert admin_a_client.post(url, data=form).status_code == 303
    form["name"] = "Second"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 409 and "Someone else changed" in response.get_data(as_text=True)
    assert _campaign(app, camp.id).name == "First"


def test_other_companys_campaign_screens_are_404(admin_a_client, make, tenants, language_program):
    camp_b = make.campaign(tenants["company_b"], language_program)
    token = csrf_token(admin_a_client, "/home")
    for path in (f"/campaigns/{camp_b.id}", f"/campaigns/{camp_b.id}/edit", f"/campaigns/{camp_b.id}/config",
                 f"/campaigns/{camp_b.id}/enroll"):
        assert admin_a_client.get(path).status_code == 404, path
    for path in (f"/campaigns/{camp_b.id}/status", f"/campaigns/{camp_b.id}/enroll",
                 f"/campaigns/{camp_b.id}/enrollments/bulk"):
        assert admin_a_client.post(path, data={"csrf_token": token}).status_code == 404, path


def test_campaign_lifecycle_and_dashboard(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program, status="draft", max_enrollment=10, target_enrollment=8)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    pm_client.post(f"/campaigns/{camp.id}/status", data={"csrf_token": token, "target": "active"})
    assert _campaign(app, camp.id).status == "active"
    refused = pm_client.post(f"/campaigns/{camp.id}/status", data={"csrf_token": token, "target": "draft"})
    assert refused.status_code == 409  # a refusal says so, with the page and its message
    assert "Cannot move from active to draft" in refused.get_data(as_text=True)
    page = pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert 'role="img"' in page and "seats used" in page


def test_a_forged_value_for_a_locked_setting_is_refused_at_its_path(app, admin_a_client, make, tenants):
    """Locked settings are rendered disabled; a value posted anyway is a 422 naming the path."""
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    url = f"/campaigns/{camp.id}/config"
    html = admin_a_client.get(url).get_data(as_text=True)
    assert re.search(r'name="cfg\.safety\.minAge"[^>]*disabled', html)  # a browser never sends it
    form = browser_form(html)
    for name in ("cfg.safety.minAge", "cfg.safety.requireCodeOfConduct"):
        form.poplist(name)
    assert admin_a_client.post(url, data=form).status_code == 303
    form["cfg.safety.minAge"] = "13"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 422
    assert "locked by the template" in response.get_data(as_text=True)
    assert _campaign(app, camp.id).config_overrides == {}


def test_the_campaign_page_shows_the_configuration_as_saved_in_the_readers_language(app, admin_a_client, make, tenants):
    """The read-only configuration on the campaign page is rendered once per version of the
    settings and language (campaigns.views.config_preview): a save shows at once, and a
    Norwegian reader never gets the English rendering."""
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))

    def preview(headers=None):
        html = admin_a_client.get(f"/campaigns/{camp.id}", headers=headers or {}).get_data(as_text=True)
        return html[html.index('id="config-title"'):]

    before = preview()
    assert "set in campaign" not in before
    url = f"/campaigns/{camp.id}/config"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    for name in ("cfg.safety.minAge", "cfg.safety.requireCodeOfConduct"):
        form.poplist(name)
    form["cfg.session.defaultDurationMinutes"] = "75"
    assert admin_a_client.post(url, data=form).status_code == 303
    after = preview()
    assert "set in campaign" in after and re.search(r">\s*75\s*<", after), after[:3000]
    norwegian = preview({"Accept-Language": "nb"})
    assert "set in campaign" not in norwegian and re.search(r">\s*75\s*<", norwegian)
    assert preview() == after  # rendered again from what was kept: the same


def test_an_archived_campaigns_configuration_cannot_change(app, admin_a_client, make, tenants):
    """An archived campaign is a record: its settings page shows them read-only with the
    reason and no Save, and a save posted anyway is refused like its other fields (422, the
    reason shown), nothing saved and nothing logged."""
    from portal.activity.models import ActivityEvent

    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    url = f"/campaigns/{camp.id}/config"
    editable = browser_form(admin_a_client.get(url).get_data(as_text=True))
    with app.app_context():
        stored = db.session.get(Campaign, camp.id)
        stored.status = "archived"
        db.session.commit()
        events = db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent))
        version = stored.lock_version
    html = admin_a_client.get(url).get_data(as_text=True)
    assert "Archived campaigns cannot change." in html and "Save configuration" not in html
    assert "cfg-form--readonly" in html and 'name="cfg.session.defaultDurationMinutes"' not in html
    for name in ("cfg.safety.minAge", "cfg.safety.requireCodeOfConduct"):
        editable.poplist(name)
    editable["cfg.session.defaultDurationMinutes"] = "75"
    editable["lock_version"] = str(version)
    response = admin_a_client.post(url, data=editable)
    assert response.status_code == 422
    assert "Archived campaigns cannot change." in response.get_data(as_text=True)
    assert _campaign(app, camp.id).config_overrides == {}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)) == events
