"""A campaign's impact through the JSON API (SPEC §2.11, §4.2): the impact page's figures —
points with the why rows, the volunteers' score, SROI with band, outcome rows and investment —
from the same query, with small cells withheld for company admins exactly as the page
withholds them (checked against the page itself), nobody named, other companies 404."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.enrollments.models import Enrollment
from tests.conftest import sign_in_client
from tests.integration.api_support import Bearer, new_token

PROBLEM = "application/problem+json"
TODAY = utcnow().date()


def _record(app, enrollment_id: int, kind: str, **kw) -> None:
    with app.app_context(), transaction():
        ops.record_delivery(None, db.session.get(Enrollment, enrollment_id), kind=kind, occurred_on=TODAY, **kw)


def _scene(app, make, tenants, *, beneficiaries: int, employed: int = 1, valued: bool = True):
    valuation = make.valuation_set(currency="EUR", name="Demo outcomes", entries=[
        {"outcome": "session_completed", "proxy_minor": 5_000, "deadweight": 10, "source_text": "Tutor hour"},
        {"outcome": "mentee_employed", "proxy_minor": 2_000_000, "attribution": 50, "duration_years": 3,
         "drop_off": 20, "source_text": "A year's benefits saved"}])
    program = make.program(template=make.template("mentorship"), valuation_set_id=valuation.id if valued else None)
    campaign = make.campaign(tenants["company_a"], program, currency="EUR", budget_allocated=1_000_000)
    people = [make.enrollment(campaign, make.participant(display_name=f"Secret Name {i}",
                                                         email=f"secret{i}@example.org"),
                              enrolled_at=utcnow() - timedelta(days=3)) for i in range(beneficiaries)]
    for i, e in enumerate(people):
        _record(app, e.id, "session_completed", attendance="present")
        if i < employed:
            _record(app, e.id, "mentee_employed")
    return campaign


@pytest.fixture
def api(app, tenants):
    return {role: Bearer(app, new_token(app, tenants[role], ["read"])) for role in ("pm", "admin_a", "admin_b")}


def _url(campaign):
    return f"/api/v1/campaigns/{campaign.id}/impact"


def test_a_program_manager_gets_points_sroi_and_the_why(app, make, tenants, api):
    campaign = _scene(app, make, tenants, beneficiaries=12)
    response = api["pm"].get(_url(campaign))
    assert response.status_code == 200, response.json
    body = response.json
    assert body["min_cohort"] is None and body["as_of"] == TODAY.isoformat()
    points = body["points"]
    # 12 sessions × 10 + 12 "first session" milestones × 25 + 1 employed × 500 = 920 points (the page's figure)
    assert points["total"] == "920.0" and not points["withheld"] and points["decay"] == "0.95"
    employed = next(r for r in points["rows"] if r["kind"] == "mentee_employed")
    assert employed == {"kind": "mentee_employed", "label": employed["label"], "withheld": False, "events": 1,
                        "weight": "500", "layer": "template", "points": "500.0"}
    sroi = body["sroi"]
    assert sroi["available"] and sroi["ratio"] == "2.34" and sroi["sentence"] == \
        "EUR 2.34 of social value per EUR 1 invested"
    assert sroi["present_value_minor"] == 2_342_409 and len(sroi["band"]) == 2
    assert sroi["valuation_set"]["name"] == "Demo outcomes" and sroi["valuation_set"]["discount_rate"] == "3.5"
    assert sroi["investment"] == {"currency": "EUR", "budget_minor": 1_000_000, "l2i": [], "total_minor": 1_000_000}
    sessions = next(o for o in sroi["outcomes"] if o["outcome"] == "session_completed")
    assert sessions["quantity"] == "12" and sessions["deadweight"] == "10" and sessions["source_text"] == "Tutor hour"
    assert "Secret Name" not in response.get_data(as_text=True)


def _withheld_on_page(page: str) -> set[str]:
    """The labels of the points rows the impact page shows as withheld."""
    return set(re.findall(r"<td>([^<]+)</td>\s*<td colspan=\"4\" class=\"muted withheld\">", page))


def test_a_company_admin_gets_exactly_what_the_page_shows(app, make, tenants, api):
    campaign = _scene(app, make, tenants, beneficiaries=12)
    body = api["admin_a"].get(_url(campaign)).json
    page = sign_in_client(app, tenants["admin_a"]).get(f"/campaigns/{campaign.id}/impact").get_data(as_text=True)
    points = body["points"]
    assert body["min_cohort"] == app.config["PORTAL_MIN_COHORT"]
    withheld = {r["label"] for r in points["rows"] if r["withheld"]}
    assert withheld and withheld == _withheld_on_page(page)
    for row in points["rows"]:
        if row["withheld"]:
            assert row["events"] is None and row["points"] is None and row["weight"] is None
    assert points["total_withheld"] == ("The total is withheld" in page)
    assert (points["total"] is None) == points["total_withheld"]
    assert "500.0" not in json.dumps(body)
    sroi = body["sroi"]
    assert sroi["withheld"] == ("Social return on investment withheld" in page)
    if sroi["withheld"]:
        assert sroi["outcomes"] == [] and sroi["ratio"] is None and sroi["investment"] is None
    else:
        employed = next(o for o in sroi["outcomes"] if o["outcome"] == "mentee_employed")
        assert employed["withheld"] and employed["quantity"] is None and employed["present_value_minor"] is None
    text = json.dumps(body)
    assert "Secret" not in text and "secret" not in text


def test_a_small_campaign_withholds_points_and_sroi_from_a_company_admin(app, make, tenants, api):
    campaign = _scene(app, make, tenants, beneficiaries=3)
    body = api["admin_a"].get(_url(campaign)).json
    assert body["points"]["withheld"] and body["points"]["rows"] == [] and body["points"]["total"] is None
    assert body["points"]["reason"] == "not enough participants to report"
    sroi = body["sroi"]
    assert sroi["withheld"] and sroi["ratio"] is None and sroi["outcomes"] == [] and sroi["investment"] is None
    assert sroi["band"] is None and sroi["present_value_minor"] is None
    assert api["pm"].get(_url(campaign)).json["sroi"]["ratio"] is not None


def test_no_valuation_set_means_points_only(app, make, tenants, api):
    campaign = _scene(app, make, tenants, beneficiaries=2, valued=False)
    sroi = api["pm"].get(_url(campaign)).json["sroi"]
    assert sroi["available"] is False and "no valuation set" in sroi["refusal"] and sroi["ratio"] is None


def test_another_companys_campaign_is_404_and_reading_needs_the_read_scope(app, make, tenants, api):
    campaign = _scene(app, make, tenants, beneficiaries=1)
    body = api["admin_b"].get(_url(campaign))
    assert body.status_code == 404 and body.mimetype == PROBLEM
    assert api["pm"].get("/api/v1/campaigns/999999/impact").status_code == 404
    writer = Bearer(app, new_token(app, tenants["admin_a"], ["deliveries:write"], name="w"))
    assert writer.get(_url(campaign)).status_code == 403
    unknown = api["pm"].get(_url(campaign) + "?as_of=2020-01-01")  # a period it does not take: 422, not today's
    assert unknown.status_code == 422 and unknown.json["errors"][0]["parameter"] == "as_of"
