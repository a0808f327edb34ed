"""A campaign's impact through the screens (SPEC §2.11): points and SROI with the "why this
number" tables for program managers; small cells withheld with the reason for company
admins and no total that gives them away; other companies get 404; a currency mismatch is
refused, never converted."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.enrollments.models import Enrollment
from portal.l2i.models import L2IAllocation, L2ISubscription

TODAY = utcnow().date()
WITHHELD = "not enough participants to report"


def _record(app, enrollment_id: int, kind: str, **kw) -> None:
    with app.app_context(), transaction():
        ops.record_delivery(None, db.session.get(Enrollment, enrollment_id), kind=kind, occurred_on=TODAY, **kw)


def _scene(app, make, tenants, *, beneficiaries: int, currency: str = "EUR", employed: int = 1):
    valuation = make.valuation_set(currency="EUR", name="Demo outcomes", entries=[
        {"outcome": "session_completed", "proxy_minor": 5_000, "deadweight": 10, "source_text": "Tutor hour"},
        {"outcome": "mentee_employed", "proxy_minor": 2_000_000, "attribution": 50, "duration_years": 3,
         "drop_off": 20, "source_text": "A year's benefits saved"}])
    program = make.program(template=make.template("mentorship"), valuation_set_id=valuation.id)
    campaign = make.campaign(tenants["company_a"], program, currency=currency, budget_allocated=1_000_000)
    people = [make.enrollment(campaign, make.participant(display_name=f"Secret Name {i}"),
                              enrolled_at=utcnow() - timedelta(days=3)) for i in range(beneficiaries)]
    for i, e in enumerate(people):
        _record(app, e.id, "session_completed", attendance="present")
        if i < employed:
            _record(app, e.id, "mentee_employed")
    return campaign, people, valuation


@pytest.fixture
def big(app, make, tenants):
    return _scene(app, make, tenants, beneficiaries=12)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_a_program_manager_sees_points_sroi_and_why(app, pm_client, big):
    campaign, people, _ = big
    page = _text(pm_client.get(f"/campaigns/{campaign.id}/impact"))
    # 12 sessions × 10 + 12 "first session" milestones × 25 + 1 employed × 500 = 920 points
    assert "920.0 points" in page and "a score, not money" in page
    assert re.search(r"Mentee employed</td> <td><a href=\"[^\"]+outcome=delivery:mentee_employed\">1</a></td> "
                     r"<td>500</td> <td><span class=\"provenance provenance--template\">template</span>", page)
    # SROI: sessions 12 × 5 000 × 0.9 / 1.035 = 52 173.913…; employed 1 × 2 000 000 × 0.5 = 1 000 000 over 3
    # years with 20 % drop-off: 966 183.57 + 746 808.56 + 577 243.34 (1 000 000/1.035 + 800 000/1.071225
    # + 640 000/1.108717875) = 2 290 235.47; PV = 2 342 409.38, investment 1 000 000 → 2.34
    assert "EUR 2.34 of social value per EUR 1 invested" in page
    assert "EUR 23,424.09" in page
    assert "Sensitivity band" in page
    evidence = _text(pm_client.get(f"/campaigns/{campaign.id}/impact/evidence?outcome=delivery:session_completed"))
    assert "Secret Name 0" in evidence and evidence.count("<tr>") >= 12
    detail = _text(pm_client.get(f"/campaigns/{campaign.id}"))
    assert "920.0 points" in detail and "Why these numbers" in detail


def test_a_company_admin_never_sees_a_small_cell_nor_the_people_behind(app, admin_a_client, big):
    campaign, people, _ = big
    response = admin_a_client.get(f"/campaigns/{campaign.id}/impact")
    assert response.status_code == 200
    page = _text(response)
    assert WITHHELD in page
    # the one employed mentee: its row is withheld, and so is the next smallest, so the total cannot reveal it
    assert not re.search(r"Mentee employed</td> <td><a", page)
    assert "500.0" not in page
    assert "Secret Name" not in page
    evidence = admin_a_client.get(f"/campaigns/{campaign.id}/impact/evidence?outcome=delivery:mentee_employed")
    assert evidence.status_code == 200 and WITHHELD in _text(evidence) and "Secret Name" not in _text(evidence)
    sessions = _text(admin_a_client.get(f"/campaigns/{campaign.id}/impact/evidence?outcome=delivery:session_completed"))
    assert "Secret Name" not in sessions and "P-" not in sessions.split("<main", 1)[-1].split("Date", 1)[0]


def test_a_small_campaign_withholds_points_and_sroi_from_a_company_admin(app, make, tenants, admin_a_client,
                                                                         pm_client):
    campaign, _, _ = _scene(app, make, tenants, beneficiaries=3)
    page = _text(admin_a_client.get(f"/campaigns/{campaign.id}/impact"))
    assert "Impact points withheld: not enough participants to report" in page
    assert "Social return on investment withheld: not enough participants to report" in page
    assert "points</strong>" not in page and "of social value" not in page
    assert "of social value" in _text(pm_client.get(f"/campaigns/{campaign.id}/impact"))


def test_another_company_gets_404(admin_b_client, big):
    campaign, _, _ = big
    for url in (f"/campaigns/{campaign.id}/impact",
                f"/campaigns/{campaign.id}/impact/evidence?outcome=delivery:session_completed"):
        assert admin_b_client.get(url).status_code == 404


def test_a_currency_mismatch_is_refused_never_converted(app, make, tenants, pm_client):
    campaign, _, _ = _scene(app, make, tenants, beneficiaries=2, currency="NOK")
    page = _text(pm_client.get(f"/campaigns/{campaign.id}/impact"))
    assert "never converted" in page and "of social value" not in page


def test_investment_counts_the_budget_and_the_l2i_allocations(app, pm_client, big):
    campaign, _, _ = big
    with app.app_context(), transaction():
        sub = L2ISubscription(company_id=campaign.company_id, sku="L2I-250", learners=250, annual_price=2_000_000,
                              currency="EUR", period_start=date(2026, 1, 1), period_end=date(2026, 12, 31),
                              allocated_bp=5000)
        db.session.add(sub)
        db.session.flush()
        db.session.add(L2IAllocation(subscription_id=sub.id, campaign_id=campaign.id, share_bp=5000, amount=1_000_000,
                                     period_start=sub.period_start, period_end=sub.period_end))
    page = _text(pm_client.get(f"/campaigns/{campaign.id}/impact"))
    assert "EUR 20,000.00" in page  # 10 000.00 budget + 10 000.00 of L2I
    assert "EUR 1.17 of social value per EUR 1 invested" in page  # 2 342 409.38 / 2 000 000


def test_no_valuation_set_means_points_only(app, make, tenants, pm_client):
    program = make.program(template=make.template("language"))
    campaign = make.campaign(tenants["company_a"], program)
    page = _text(pm_client.get(f"/campaigns/{campaign.id}/impact"))
    assert "pins no valuation set" in page and "Nothing counted yet" in page


def test_unknown_evidence_is_404(pm_client, big):
    campaign, _, _ = big
    assert pm_client.get(f"/campaigns/{campaign.id}/impact/evidence").status_code == 303  # to the impact page
    for outcome in ("nope", "delivery:", "delivery:Bad Kind", "x:y"):
        assert pm_client.get(f"/campaigns/{campaign.id}/impact/evidence?outcome={outcome}").status_code == 404
    assert pm_client.get(f"/campaigns/{campaign.id}/impact/evidence?outcome=delivery:session_completed"
                         "&after=garbage").status_code == 200
