"""SPEC §2.6 through the screens: subscriptions, allocations, the 100 % ceiling, money."""
from datetime import date

import pytest
import sqlalchemy as sa

from portal.db import db, transaction
from portal.l2i.models import L2IAllocation, L2ISubscription
from portal.l2i.operations import create_subscription
from portal.models import Company
from tests.helpers import csrf_token


@pytest.fixture
def subscription(app, tenants):
    with app.app_context():
        with transaction():
            sub = create_subscription(None, company=db.session.get(Company, tenants["company_a"].id), sku="L2I-250",
                                      annual_price=1_300_000, currency="NOK", period_start=date(2026, 1, 1),
                                      period_end=date(2026, 12, 31))
        db.session.refresh(sub)
        db.session.expunge(sub)
    return sub


def test_program_manager_records_a_subscription(app, pm_client, tenants):
    token = csrf_token(pm_client, "/l2i/new")
    response = pm_client.post("/l2i/new", data={"csrf_token": token, "company_id": tenants["company_b"].id,
                                                "sku": "L2I-500", "annual_price": "9999.99", "currency": "eur",
                                                "period_start": "2026-01-01", "period_end": "2026-12-31",
                                                "status": "active"})
    assert response.status_code == 303
    with app.app_context():
        sub = db.session.scalars(sa.select(L2ISubscription)).one()
        assert (sub.learners, sub.annual_price, sub.currency) == (500, 999_999, "EUR")


def test_company_admin_allocates_with_exact_amounts_and_never_above_100_percent(app, admin_a_client, make, tenants,
                                                                                 subscription):
    camp = make.campaign(tenants["company_a"])
    url = f"/l2i/{subscription.id}/allocations"
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    ok = admin_a_client.post(url, data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.0045"})
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(L2IAllocation.amount)).one() == 5850  # 1 300 000 × 0.0045
    too_much = admin_a_client.post(url, data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "1"})
    assert too_much.status_code == 422 and "is left to allocate" in too_much.get_data(as_text=True)
    bad = admin_a_client.post(url, data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.00001"})
    assert bad.status_code == 422 and "four decimals" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(L2ISubscription, subscription.id).allocated_bp == 45


def test_remaining_share_updates_live(admin_a_client, subscription):
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    body = admin_a_client.post(f"/l2i/{subscription.id}/remaining", data={"csrf_token": token, "share": "0.25"},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "100.00 % left" in body and "75.00 %" in body and "3,250.00 NOK" in body
    body = admin_a_client.post(f"/l2i/{subscription.id}/remaining", data={"csrf_token": token, "share": "1.5"},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "at most 1" in body


def test_another_companys_subscription_is_404_and_campaign_targets_are_own_only(app, admin_b_client, make,
                                                                                 tenants, subscription):
    assert admin_b_client.get(f"/l2i/{subscription.id}").status_code == 404
    token = csrf_token(admin_b_client, "/l2i/")
    assert admin_b_client.post(f"/l2i/{subscription.id}/allocations",
                               data={"csrf_token": token, "share": "0.1"}).status_code == 404
    assert "L2I-250" not in admin_b_client.get("/l2i/").get_data(as_text=True)


def test_company_admin_cannot_allocate_to_another_companys_campaign(app, admin_a_client, make, tenants,
                                                                    subscription):
    camp_b = make.campaign(tenants["company_b"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp_b.id}", "share": "0.1"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(L2IAllocation)) == 0


def test_learners_served_count_beneficiaries_in_the_period(app, pm_client, make, tenants, subscription):
    from portal.l2i.operations import allocate
    from portal.models import Campaign

    camp = make.campaign(tenants["company_a"])
    for _ in range(3):
        make.enrollment(camp)
    make.enrollment(camp, role="volunteer")
    with app.app_context():
        with transaction():
            allocate(None, subscription.id, share="0.5", period_start=date(2026, 1, 1),
                     period_end=date(2026, 12, 31), campaign=db.session.get(Campaign, camp.id))
    body = pm_client.get(f"/l2i/{subscription.id}").get_data(as_text=True)
    assert "Learners served so far" in body
    served = body.split("Learners served so far")[0].rsplit('stat__value">', 1)[1].split("<")[0]
    expected = 3 if date.today().year == 2026 else 0
    assert served == str(expected)


def test_the_subscription_timeline_shows_its_allocations(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    admin_a_client.post(f"/l2i/{subscription.id}/allocations",
                        data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.1"})
    page = admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True)
    assert "L2I allocation created" in page and "L2I subscription created" in page
