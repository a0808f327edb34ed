"""The activity log filters by type, subject, company, actor and date through the URL."""
from portal.db import db, transaction


def _events(app, make, tenants):
    from portal.auth.operations import create_company
    from portal.models import User

    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        with transaction():
            create_company(pm, name="CANARY-PM-ONLY Company")
    camp_a = make.campaign(tenants["company_a"], name="Alpha Run")
    camp_b = make.campaign(tenants["company_b"], name="CANARY-B Run")
    from portal.activity.operations import record_event
    from portal.campaigns.models import Campaign

    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        with transaction():
            record_event("program.campaign.started", actor=pm, subject=db.session.get(Campaign, camp_a.id),
                         company_id=tenants["company_a"].id)
            record_event("program.campaign.paused", actor=pm, subject=db.session.get(Campaign, camp_b.id),
                         company_id=tenants["company_b"].id)
    return camp_a, camp_b


def test_program_manager_filters_by_type_company_and_subject(app, make, tenants, pm_client):
    camp_a, camp_b = _events(app, make, tenants)
    body = pm_client.get("/activity/?type=program.campaign").get_data(as_text=True).split('id="activity-results"')[1]
    assert "Alpha Run" in body and "CANARY-B Run" in body and "CANARY-PM-ONLY" not in body
    body = pm_client.get(f"/activity/?company={tenants['company_b'].id}").get_data(as_text=True)
    assert "CANARY-B Run" in body and "Alpha Run" not in body
    body = pm_client.get(f"/activity/?subject_type=campaigns&subject_id={camp_a.id}").get_data(as_text=True)
    assert "Alpha Run" in body and "CANARY-B Run" not in body
    body = pm_client.get("/activity/?since=2999-01-01").get_data(as_text=True)
    assert "No activity matches" in body
    fragment = pm_client.get("/activity/?type=company", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="activity-results"') and "CANARY-PM-ONLY" in fragment


def test_company_admin_sees_only_their_company(app, make, tenants, admin_a_client):
    _events(app, make, tenants)
    body = admin_a_client.get("/activity/").get_data(as_text=True)
    assert "Alpha Run" in body and "CANARY-B" not in body and "CANARY-PM-ONLY" not in body
    # the company filter is ignored for company admins: they cannot widen their view
    body = admin_a_client.get(f"/activity/?company={tenants['company_b'].id}").get_data(as_text=True)
    assert "CANARY-B" not in body


def test_bad_filter_values_are_ignored_not_errors(pm_client):
    response = pm_client.get("/activity/?since=yesterday&subject_type=nope&company=abc&after=%%%")
    assert response.status_code == 200
