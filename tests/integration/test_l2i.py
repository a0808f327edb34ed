"""SPEC §2.6 through the screens: subscriptions, allocations, the 100 % ceiling, money."""
import html
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.db import db, transaction, utcnow
from portal.errors import DomainError
from portal.forms import parse_decimal
from portal.l2i.models import L2IAllocation, L2ISubscription
from portal.l2i.operations import TARGET_REFUSED, allocate, create_subscription
from portal.models import Campaign, Company, Program
from tests.helpers import csrf_token

THIS_YEAR = utcnow().year  # a subscription whose period has ended takes no allocation: keep the fixture current


def make_subscription(app, company, *, status="active", period=(date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31))):
    with app.app_context():
        with transaction():
            sub = create_subscription(None, company=db.session.get(Company, company.id), sku="L2I-250",
                                      annual_price=1_300_000, currency="NOK", period_start=period[0],
                                      period_end=period[1], status=status)
        db.session.refresh(sub)
        db.session.expunge(sub)
    return sub


@pytest.fixture
def subscription(app, tenants):
    return make_subscription(app, tenants["company_a"])


def field_errors(body: str, field_id: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'<p class="field__error" id="{field_id}-error">([^<]*)</p>', body)]


def allocation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(L2IAllocation))


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
    camp = make.campaign(tenants["company_a"])
    for _ in range(3):
        make.enrollment(camp)
    make.enrollment(camp, role="volunteer")
    with app.app_context():
        with transaction():
            allocate(None, subscription.id, share="0.5", period_start=subscription.period_start,
                     period_end=subscription.period_end, campaign=db.session.get(Campaign, camp.id))
    body = pm_client.get(f"/l2i/{subscription.id}").get_data(as_text=True)
    assert "Learners served so far" in body
    served = body.split("Learners served so far")[0].rsplit('stat__value">', 1)[1].split("<")[0]
    assert served == "3"


def test_the_subscription_timeline_shows_its_allocations(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    admin_a_client.post(f"/l2i/{subscription.id}/allocations",
                        data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.1"})
    page = admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True)
    assert "L2I allocation created" in page and "L2I subscription created" in page


# --- decimal input: one rule (portal.forms.parse_decimal) for every decimal field ---------------------------
TRICKS = ["NaN", "nan", "sNaN", "-sNaN", "Infinity", "-Infinity", "inf", "1e-999999", "1e999999", "1E+2", "0.1e1",
          "0x1", "1_0", "½", "١", "1" * 40]


@pytest.mark.parametrize("text", ["1", "0.25", " 12.50 ", ".5", "5.", "-3", "+0.0045"])
def test_parse_decimal_takes_plain_decimals(text):
    assert parse_decimal(text) == Decimal(text.strip())


@pytest.mark.parametrize("value", TRICKS + ["", "1,5", "1.2.3", Decimal("NaN"), Decimal("-Infinity"),
                                            Decimal("1e-999999"), None, 1.5, True])
def test_parse_decimal_refuses_everything_else(value):
    with pytest.raises(ValueError):
        parse_decimal(value)


@pytest.mark.parametrize("text", TRICKS)
def test_money_fields_refuse_nan_infinity_and_exponents_at_the_field(app, pm_client, tenants, text):
    token = csrf_token(pm_client, "/l2i/new")
    response = pm_client.post("/l2i/new", data={"csrf_token": token, "company_id": tenants["company_b"].id,
                                                "sku": "L2I-500", "annual_price": text, "currency": "EUR",
                                                "period_start": f"{THIS_YEAR}-01-01",
                                                "period_end": f"{THIS_YEAR}-12-31", "status": "active"})
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "annual_price")
    assert errors and ("plain number" in errors[0] or "too long" in errors[0]), errors
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(L2ISubscription)) == 0


@pytest.mark.parametrize("text,message", [("12.345", "at most 2 decimal places"), ("-1", "from 0 to"),
                                          ("", "Enter the price.")])
def test_money_fields_refuse_extra_decimals_and_negatives(app, pm_client, tenants, text, message):
    token = csrf_token(pm_client, "/l2i/new")
    response = pm_client.post("/l2i/new", data={"csrf_token": token, "company_id": tenants["company_b"].id,
                                                "sku": "L2I-500", "annual_price": text, "currency": "EUR",
                                                "period_start": f"{THIS_YEAR}-01-01",
                                                "period_end": f"{THIS_YEAR}-12-31", "status": "active"})
    assert response.status_code == 422
    assert any(message in e for e in field_errors(response.get_data(as_text=True), "annual_price"))


def test_a_free_bundle_has_price_zero_not_a_missing_price(app, pm_client, tenants):
    token = csrf_token(pm_client, "/l2i/new")
    response = pm_client.post("/l2i/new", data={"csrf_token": token, "company_id": tenants["company_b"].id,
                                                "sku": "L2I-500", "annual_price": "0", "currency": "EUR",
                                                "period_start": f"{THIS_YEAR}-01-01",
                                                "period_end": f"{THIS_YEAR}-12-31", "status": "active"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(L2ISubscription.annual_price)).one() == 0


@pytest.mark.parametrize("text", TRICKS)
def test_the_share_refuses_nan_infinity_and_exponents_everywhere(app, admin_a_client, make, tenants, subscription,
                                                                 text):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": text})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "share") == [
        "Enter the share as a decimal between 0 and 1 (e.g. 0.25)."]
    live = admin_a_client.post(f"/l2i/{subscription.id}/remaining", data={"csrf_token": token, "share": text},
                               headers={"HX-Request": "true"})
    assert live.status_code == 200 and "between 0 and 1" in live.get_data(as_text=True)
    with app.app_context(), pytest.raises(DomainError, match="between 0 and 1"), transaction():
        allocate(None, subscription.id, share=text, period_start=subscription.period_start,
                 period_end=subscription.period_end, campaign=camp.id)
    assert allocation_count(app) == 0


def test_a_share_of_zero_is_refused_by_the_rule_not_taken_as_missing(admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": "0"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "share") == ["The share must be more than 0 and at most 1."]


# --- allocation targets: own campaigns and the programs the company may see, one message for the rest --------
def test_targets_are_own_campaigns_and_the_programs_the_company_sees(app, admin_a_client, make, tenants,
                                                                      subscription):
    own_private = make.program(visibility="private", name="Own private program")
    own_campaign = make.campaign(tenants["company_a"], own_private, name="Own campaign")
    catalog = make.program(name="Catalog program")  # active, public, no campaign of company A
    make.campaign(tenants["company_b"], make.program(visibility="private", name="B private program"),
                  name="B campaign")
    make.program(status="draft", name="Draft program")
    page = admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="(?:campaign|program):\d+"[^>]*>([^<]+)</option>', page)
    assert {"Campaign · Own campaign", "Program · Own private program", "Program · Catalog program"} <= set(options)
    assert not any(o.endswith(("B campaign", "B private program", "Draft program")) for o in options)
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    for target in (f"campaign:{own_campaign.id}", f"program:{own_private.id}", f"program:{catalog.id}"):
        response = admin_a_client.post(f"/l2i/{subscription.id}/allocations",
                                       data={"csrf_token": token, "target": target, "share": "0.1"})
        assert response.status_code == 303, target
    assert allocation_count(app) == 3


def test_every_refused_target_gets_the_same_answer_as_a_missing_one(app, admin_a_client, make, tenants,
                                                                     subscription):
    other_campaign = make.campaign(tenants["company_b"])
    private = make.program(visibility="private")  # no campaign of company A runs it
    draft = make.program(status="draft")
    archived_own = make.campaign(tenants["company_a"], status="archived")
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    targets = {"missing campaign": "campaign:2147483000", "missing program": "program:2147483000",
               "another company's campaign": f"campaign:{other_campaign.id}", "private program": f"program:{private.id}",
               "draft program": f"program:{draft.id}", "archived own campaign": f"campaign:{archived_own.id}",
               "out of range": "campaign:99999999999999", "malformed": "campaign:abc", "no kind": f"{private.id}",
               "empty": ""}
    answers = {}
    for label, target in targets.items():
        response = admin_a_client.post(f"/l2i/{subscription.id}/allocations",
                                       data={"csrf_token": token, "target": target, "share": "0.1"})
        answers[label] = (response.status_code, field_errors(response.get_data(as_text=True), "target"))
    assert all(answer == (422, [TARGET_REFUSED]) for answer in answers.values()), answers
    assert allocation_count(app) == 0


def test_the_target_rule_lives_in_the_operation(app, make, tenants, subscription):
    """Seed, CLI and any future API call the operation: it refuses what the form would."""
    other_campaign = make.campaign(tenants["company_b"])
    private = make.program(visibility="private")
    with app.app_context():
        for target in ({"campaign": db.session.get(Campaign, other_campaign.id)},
                       {"program": db.session.get(Program, private.id)}, {"campaign": 2_147_483_000}, {}):
            with pytest.raises(DomainError) as refused, transaction():
                allocate(None, subscription.id, share="0.1", period_start=subscription.period_start,
                         period_end=subscription.period_end, **target)
            assert (refused.value.message, refused.value.field, refused.value.status_code) == (
                TARGET_REFUSED, "target", 422)
    assert allocation_count(app) == 0


# --- closed subscriptions take no new allocation ---------------------------------------------------------------
@pytest.mark.parametrize("status,period,message", [
    ("canceled", None, "This subscription is canceled: it takes no new allocations."),
    ("expired", None, "This subscription is expired: it takes no new allocations."),
    ("active", (date(2020, 1, 1), date(2020, 12, 31)),
     "This subscription's period ended on 2020-12-31: it takes no new allocations."),
])
def test_a_closed_subscription_takes_no_new_allocation(app, admin_a_client, make, tenants, status, period, message):
    kwargs = {"period": period} if period else {}
    sub = make_subscription(app, tenants["company_a"], status=status, **kwargs)
    camp = make.campaign(tenants["company_a"])
    page = admin_a_client.get(f"/l2i/{sub.id}").get_data(as_text=True)
    assert message in html.unescape(page) and ">Allocate</button>" not in page
    token = csrf_token(admin_a_client, "/l2i/")
    response = admin_a_client.post(f"/l2i/{sub.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.1",
        "period_start": sub.period_start.isoformat(), "period_end": sub.period_end.isoformat()})
    assert response.status_code == 422 and message in html.unescape(response.get_data(as_text=True))
    with app.app_context(), pytest.raises(DomainError, match="takes no new allocations"), transaction():
        allocate(None, sub.id, share="0.1", period_start=sub.period_start, period_end=sub.period_end,
                 campaign=camp.id)
    assert allocation_count(app) == 0
