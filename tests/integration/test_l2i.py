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
from portal.l2i.operations import (
    SHARE_MESSAGE,
    SHARE_RANGE,
    TARGET_REFUSED,
    allocate,
    create_subscription,
    percent_to_bp,
    remove_allocation,
    update_allocation,
)
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
    ok = admin_a_client.post(url, data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.45"})
    assert ok.status_code == 303  # 0.45 %: shares are typed as percentages
    with app.app_context():
        assert db.session.scalars(sa.select(L2IAllocation.amount)).one() == 5850  # 1 300 000 × 0.0045
    too_much = admin_a_client.post(url, data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "100"})
    assert too_much.status_code == 422 and "is left to allocate" in too_much.get_data(as_text=True)
    bad = admin_a_client.post(url, data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "0.001"})
    assert bad.status_code == 422 and "at most two decimals" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(L2ISubscription, subscription.id).allocated_bp == 45


def test_remaining_share_updates_live(admin_a_client, subscription):
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    body = admin_a_client.post(f"/l2i/{subscription.id}/remaining", data={"csrf_token": token, "share": "25"},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "100.00 % left" in body and "75.00 %" in body and "NOK 3,250.00" in body
    body = admin_a_client.post(f"/l2i/{subscription.id}/remaining", data={"csrf_token": token, "share": "150"},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "at most 100 %" in body


def test_another_companys_subscription_is_404_and_campaign_targets_are_own_only(app, admin_b_client, make,
                                                                                 tenants, subscription):
    assert admin_b_client.get(f"/l2i/{subscription.id}").status_code == 404
    token = csrf_token(admin_b_client, "/l2i/")
    assert admin_b_client.post(f"/l2i/{subscription.id}/allocations",
                               data={"csrf_token": token, "share": "10"}).status_code == 404
    assert "L2I-250" not in admin_b_client.get("/l2i/").get_data(as_text=True)


def test_company_admin_cannot_allocate_to_another_companys_campaign(app, admin_a_client, make, tenants,
                                                                    subscription):
    camp_b = make.campaign(tenants["company_b"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp_b.id}", "share": "10"})
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
            # share=: a fraction, the notation code such as the seed uses (0.5 = 50 %)
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
                        data={"csrf_token": token, "target": f"campaign:{camp.id}", "share": "10"})
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
    assert field_errors(response.get_data(as_text=True), "share") == [SHARE_MESSAGE]
    live = admin_a_client.post(f"/l2i/{subscription.id}/remaining", data={"csrf_token": token, "share": text},
                               headers={"HX-Request": "true"})
    assert live.status_code == 200 and "between 0 and 100" in live.get_data(as_text=True)
    with app.app_context(), pytest.raises(DomainError, match="between 0 and 100"), transaction():
        allocate(None, subscription.id, percent=text, period_start=subscription.period_start,
                 period_end=subscription.period_end, campaign=camp.id)
    assert allocation_count(app) == 0


def test_a_share_of_zero_is_refused_by_the_rule_not_taken_as_missing(admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": "0"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "share") == [SHARE_RANGE]


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
                                       data={"csrf_token": token, "target": target, "share": "10"})
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
                                       data={"csrf_token": token, "target": target, "share": "10"})
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
                allocate(None, subscription.id, percent="10", period_start=subscription.period_start,
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
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": "10",
        "period_start": sub.period_start.isoformat(), "period_end": sub.period_end.isoformat()})
    assert response.status_code == 422 and message in html.unescape(response.get_data(as_text=True))
    with app.app_context(), pytest.raises(DomainError, match="takes no new allocations"), transaction():
        allocate(None, sub.id, percent="10", period_start=sub.period_start, period_end=sub.period_end,
                 campaign=camp.id)
    assert allocation_count(app) == 0


# --- shares in percent ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,bp", [("45", 4500), ("45.5", 4550), ("0.45", 45), ("0.01", 1), ("100", 10_000),
                                     ("12.25 %", 1225), (" 7% ", 700), ("+3.10", 310), ("5.", 500)])
def test_shares_are_typed_as_percentages_and_stored_as_basis_points(app, admin_a_client, make, tenants, subscription,
                                                                    text, bp):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": text})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(sa.select(L2IAllocation.share_bp)).one() == bp
    page = html.unescape(admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True))
    assert f"{bp / 100:.2f} %" in page


@pytest.mark.parametrize("text,message", [("0", SHARE_RANGE), ("-5", SHARE_RANGE), ("100.01", SHARE_RANGE),
                                          ("250", SHARE_RANGE), ("12.345", "Use at most two decimals"),
                                          ("45%%", SHARE_MESSAGE), ("%", SHARE_MESSAGE), ("1,5", SHARE_MESSAGE)])
def test_percent_outside_the_rule_is_refused_at_the_field(app, admin_a_client, make, tenants, subscription,
                                                          text, message):
    camp = make.campaign(tenants["company_a"])
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(f"/l2i/{subscription.id}/allocations", data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": text})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert any(str(message) in e for e in field_errors(body, "share")), field_errors(body, "share")
    assert f'value="{html.escape(text)}"' in body  # what the user typed stays in the field
    assert allocation_count(app) == 0


def test_percent_rule_and_the_fraction_notation_are_one_rule():
    assert percent_to_bp("45.5") == 4550 and percent_to_bp(Decimal("100")) == 10_000
    from portal.l2i.operations import share_to_bp
    for fraction, percent in (("0.455", "45.5"), ("0.0001", "0.01"), ("1", "100")):
        assert share_to_bp(fraction) == percent_to_bp(percent)


# --- edit and remove ----------------------------------------------------------------------------------------------
def make_allocation(app, subscription, campaign_id, percent="45") -> int:
    with app.app_context():
        with transaction():
            allocation = allocate(None, subscription.id, percent=percent, period_start=subscription.period_start,
                                  period_end=subscription.period_end, campaign=campaign_id)
        return allocation.id


def stored_shares(app, subscription_id) -> tuple[int, list[int]]:
    """The subscription's allocated_bp and its allocations' shares (the first must be the sum of the second)."""
    with app.app_context():
        allocated = db.session.get(L2ISubscription, subscription_id).allocated_bp
        shares = db.session.scalars(sa.select(L2IAllocation.share_bp)
                                    .where(L2IAllocation.subscription_id == subscription_id)
                                    .order_by(L2IAllocation.id)).all()
    return allocated, list(shares)


def events_of(app, event_type):
    from portal.activity.models import ActivityEvent
    with app.app_context():
        return [e.data for e in db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == event_type)
                                                    .order_by(ActivityEvent.id))]


def edit_data(token, camp_id, share, version="1", **extra):
    return {"csrf_token": token, "target": f"campaign:{camp_id}", "share": share, "lock_version": version, **extra}


def test_the_subscription_page_lists_allocations_with_edit_and_remove(admin_a_client, app, make, tenants,
                                                                       subscription):
    camp = make.campaign(tenants["company_a"], name="Mentoring Oslo")
    alloc_id = make_allocation(app, subscription, camp.id, "45.5")
    page = html.unescape(admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True))
    assert "45.50 %" in page and "54.50 %" in page  # share, and what is left
    edit_url = f"/l2i/{subscription.id}/allocations/{alloc_id}/edit"
    remove_url = f"/l2i/{subscription.id}/allocations/{alloc_id}/remove"
    assert f'href="{edit_url}"' in page
    assert f'href="{remove_url}" hx-post="{remove_url}"' in page  # no JS: the confirmation page; htmx: posts
    assert 'hx-confirm="Remove this allocation of 45.50 % (Campaign: Mentoring Oslo)?"' in page
    assert '{"lock_version": "1"}' in page


def test_editing_moves_the_difference_and_writes_what_changed(app, admin_a_client, make, tenants, subscription):
    camp, other = make.campaign(tenants["company_a"]), make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    url = f"/l2i/{subscription.id}/allocations/{alloc_id}/edit"
    page = admin_a_client.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'value="45.00"' in body and f'<option selected value="campaign:{camp.id}">' in body
    token = csrf_token(admin_a_client, url)
    response = admin_a_client.post(url, data=edit_data(token, other.id, "60.5", period_start=f"{THIS_YEAR}-02-01",
                                                       period_end=f"{THIS_YEAR}-11-30"))
    assert response.status_code == 303, field_errors(response.get_data(as_text=True), "share")
    with app.app_context():
        a = db.session.get(L2IAllocation, alloc_id)
        assert (a.share_bp, a.amount, a.campaign_id, a.period_start, a.lock_version) == (
            6050, 786_500, other.id, date(THIS_YEAR, 2, 1), 2)
    assert stored_shares(app, subscription.id) == (6050, [6050])
    [changed] = events_of(app, "l2i.allocation.updated")
    assert changed["share_bp"] == {"from": 4500, "to": 6050} and changed["campaign_id"]["to"] == other.id
    assert changed["subscription_id"] == subscription.id
    # lowering frees the difference
    token = csrf_token(admin_a_client, url)
    assert admin_a_client.post(url, data=edit_data(token, other.id, "10", version="2")).status_code == 303
    assert stored_shares(app, subscription.id) == (1000, [1000])
    page = admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True)
    assert "L2I allocation updated" in page and "Allocation saved: 10.00 %" in html.unescape(page)


def test_an_edit_never_takes_the_subscription_above_100_percent(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    make_allocation(app, subscription, camp.id, "60")
    second = make_allocation(app, subscription, camp.id, "30")
    url = f"/l2i/{subscription.id}/allocations/{second}/edit"
    token = csrf_token(admin_a_client, url)
    response = admin_a_client.post(url, data=edit_data(token, camp.id, "40.01"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_errors(body, "share") == ["Only 40.00 % of this subscription is left for this allocation."]
    assert 'value="40.01"' in body  # kept as typed
    assert stored_shares(app, subscription.id) == (9000, [6000, 3000])
    assert admin_a_client.post(url, data=edit_data(token, camp.id, "40")).status_code == 303
    assert stored_shares(app, subscription.id) == (10_000, [6000, 4000])
    with app.app_context(), pytest.raises(DomainError, match="left for this allocation"), transaction():
        update_allocation(None, second, expected_version=None, percent="40.01", campaign=camp.id,
                          period_start=subscription.period_start, period_end=subscription.period_end)


def test_edit_errors_come_back_at_the_field_as_a_fragment_for_htmx(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    url = f"/l2i/{subscription.id}/allocations/{alloc_id}/edit"
    token = csrf_token(admin_a_client, url)
    response = admin_a_client.post(url, data=edit_data(token, camp.id, "abc", period_start=f"{THIS_YEAR - 1}-01-01"),
                                   headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body and 'id="allocation-form"' in body
    assert field_errors(body, "share") == [SHARE_MESSAGE] and 'value="abc"' in body
    response = admin_a_client.post(url, data=edit_data(token, camp.id, "20", period_start=f"{THIS_YEAR - 1}-01-01"))
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True), "period_start") == [
        "The allocation period must lie inside the subscription's period."]
    assert stored_shares(app, subscription.id) == (4500, [4500])


def test_a_stale_edit_or_removal_is_refused_with_409(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    edit_url = f"/l2i/{subscription.id}/allocations/{alloc_id}/edit"
    token = csrf_token(admin_a_client, edit_url)  # the user opens the form at version 1 ...
    with app.app_context():  # ... and someone else saves meanwhile
        with transaction():
            update_allocation(None, alloc_id, expected_version=1, percent="50", campaign=camp.id,
                              period_start=subscription.period_start, period_end=subscription.period_end)
    response = admin_a_client.post(edit_url, data=edit_data(token, camp.id, "20", version="1"))
    assert response.status_code == 409 and "Someone else changed this allocation" in response.get_data(as_text=True)
    remove_url = f"/l2i/{subscription.id}/allocations/{alloc_id}/remove"
    response = admin_a_client.post(remove_url, data={"csrf_token": token, "lock_version": "1"})
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 409 and "Someone else changed this allocation" in body
    assert "Remove this allocation of 50.00 %?" in body and 'value="2"' in body  # confirm what it is now
    assert stored_shares(app, subscription.id) == (5000, [5000])
    with app.app_context(), pytest.raises(DomainError) as stale, transaction():
        remove_allocation(None, alloc_id, expected_version=1)
    assert stale.value.status_code == 409


def test_removing_asks_first_then_frees_the_share_and_keeps_the_history(app, admin_a_client, make, tenants,
                                                                       subscription):
    camp = make.campaign(tenants["company_a"], name="Mentoring Oslo")
    keep = make_allocation(app, subscription, camp.id, "20")
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    url = f"/l2i/{subscription.id}/allocations/{alloc_id}/remove"
    page = admin_a_client.get(url)
    body = html.unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "Remove this allocation of 45.00 %?" in body
    assert f'<form method="post" novalidate action="{url}">' in body and ">Remove allocation</button>" in body
    assert stored_shares(app, subscription.id) == (6500, [2000, 4500])  # GET removes nothing
    missing_version = admin_a_client.post(url, data={"csrf_token": csrf_token(admin_a_client, url)})
    assert missing_version.status_code == 422 and stored_shares(app, subscription.id)[0] == 6500
    response = admin_a_client.post(url, data={"csrf_token": csrf_token(admin_a_client, url), "lock_version": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/l2i/{subscription.id}")
    assert stored_shares(app, subscription.id) == (2000, [2000])
    [removed] = events_of(app, "l2i.allocation.removed")
    assert (removed["subscription_id"], removed["share_bp"], removed["campaign_id"]) == (subscription.id, 4500, camp.id)
    detail = html.unescape(admin_a_client.get(f"/l2i/{subscription.id}").get_data(as_text=True))
    assert "Removed the allocation of 45.00 % to Mentoring Oslo" in detail
    assert "L2I allocation removed" in detail and detail.count("L2I allocation created") == 2  # history kept
    assert admin_a_client.get(url).status_code == 404
    assert keep


def test_htmx_removal_posts_straight_from_the_list_and_redirects(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    url = f"/l2i/{subscription.id}/allocations/{alloc_id}/remove"
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    response = admin_a_client.post(url, data={"lock_version": "1"},
                                   headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(f"/l2i/{subscription.id}")
    assert stored_shares(app, subscription.id) == (0, [])


def test_another_companys_allocation_is_404_and_untouched(app, admin_a_client, admin_b_client, make, tenants,
                                                          subscription):
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    own_sub = make_subscription(app, tenants["company_b"])
    token = csrf_token(admin_b_client, "/l2i/")
    for url in (f"/l2i/{subscription.id}/allocations/{alloc_id}/edit",
                f"/l2i/{subscription.id}/allocations/{alloc_id}/remove",
                f"/l2i/{own_sub.id}/allocations/{alloc_id}/edit",  # B's own subscription in the URL changes nothing
                f"/l2i/{own_sub.id}/allocations/{alloc_id}/remove"):
        assert admin_b_client.get(url).status_code == 404, url
        assert admin_b_client.post(url, data=edit_data(token, camp.id, "1")).status_code == 404, url
    assert admin_b_client.post(f"/l2i/{subscription.id}/remaining?allocation={alloc_id}",
                               data={"csrf_token": token, "share": "5"}).status_code == 404
    # the right allocation under the wrong subscription, and made-up ids, are 404 for its own company too
    other_sub = make_subscription(app, tenants["company_a"])
    for url in (f"/l2i/{other_sub.id}/allocations/{alloc_id}/edit", f"/l2i/{subscription.id}/allocations/2147483000/edit",
                f"/l2i/{subscription.id}/allocations/99999999999999/remove"):
        assert admin_a_client.get(url).status_code == 404, url
    assert stored_shares(app, subscription.id) == (4500, [4500])
    assert events_of(app, "l2i.allocation.updated") == events_of(app, "l2i.allocation.removed") == []


def test_program_managers_edit_and_remove_too(app, pm_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    url = f"/l2i/{subscription.id}/allocations/{alloc_id}/edit"
    token = csrf_token(pm_client, url)
    assert pm_client.post(url, data=edit_data(token, camp.id, "50")).status_code == 303
    assert pm_client.post(f"/l2i/{subscription.id}/allocations/{alloc_id}/remove",
                          data={"csrf_token": token, "lock_version": "2"}).status_code == 303
    assert stored_shares(app, subscription.id) == (0, [])


def test_an_unchanged_target_is_kept_but_a_new_one_must_be_allowed(app, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    with app.app_context():
        with transaction():
            db.session.get(Campaign, camp.id).status = "archived"  # no longer a choice for new allocations
    other_company = make.campaign(tenants["company_b"])
    with app.app_context():
        with transaction():
            update_allocation(None, alloc_id, expected_version=1, percent="30", campaign=camp.id,
                              period_start=subscription.period_start, period_end=subscription.period_end)
        for target in ({"campaign": other_company.id}, {"campaign": camp.id, "program": 1}, {}):
            with pytest.raises(DomainError) as refused, transaction():
                update_allocation(None, alloc_id, expected_version=None, percent="30",
                                  period_start=subscription.period_start, period_end=subscription.period_end,
                                  **target)
            assert (refused.value.message, refused.value.field) == (TARGET_REFUSED, "target")
    assert stored_shares(app, subscription.id) == (3000, [3000])


def test_the_edit_page_keeps_an_archived_target_as_an_option(app, admin_a_client, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"], name="Old campaign")
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    with app.app_context():
        with transaction():
            db.session.get(Campaign, camp.id).status = "archived"
    url = f"/l2i/{subscription.id}/allocations/{alloc_id}/edit"
    body = admin_a_client.get(url).get_data(as_text=True)
    assert f'<option selected value="campaign:{camp.id}">Campaign · Old campaign</option>' in body
    token = csrf_token(admin_a_client, url)
    assert admin_a_client.post(url, data=edit_data(token, camp.id, "50")).status_code == 303


@pytest.mark.parametrize("status,period", [("canceled", None), ("active", (date(2020, 1, 1), date(2020, 12, 31)))])
def test_a_closed_subscriptions_allocations_are_frozen(app, admin_a_client, make, tenants, status, period):
    sub = make_subscription(app, tenants["company_a"], **({"period": period} if period else {}))
    camp = make.campaign(tenants["company_a"])
    alloc_id = make_allocation(app, sub, camp.id, "45") if period is None else None
    if period is not None:  # a past period takes no allocation through the operation: write the row
        with app.app_context():
            with transaction():
                a = L2IAllocation(subscription_id=sub.id, campaign_id=camp.id, share_bp=4500, amount=585_000,
                                  period_start=period[0], period_end=period[1])
                db.session.add(a)
                db.session.get(L2ISubscription, sub.id).allocated_bp = 4500
            alloc_id = a.id
    else:
        with app.app_context():
            with transaction():
                db.session.get(L2ISubscription, sub.id).status = status
    page = admin_a_client.get(f"/l2i/{sub.id}").get_data(as_text=True)
    assert "/edit" not in page and "/remove" not in page
    token = csrf_token(admin_a_client, "/l2i/")
    for url, data in ((f"/l2i/{sub.id}/allocations/{alloc_id}/edit", edit_data(token, camp.id, "10")),
                      (f"/l2i/{sub.id}/allocations/{alloc_id}/remove", {"csrf_token": token, "lock_version": "1"})):
        assert "can no longer be changed" in html.unescape(admin_a_client.get(url).get_data(as_text=True))
        response = admin_a_client.post(url, data=data)
        assert response.status_code == 422, url
        assert "its allocations can no longer be changed" in html.unescape(response.get_data(as_text=True))
    assert stored_shares(app, sub.id) == (4500, [4500])


def test_the_live_indicator_on_the_edit_form_counts_the_allocations_own_share(app, admin_a_client, make, tenants,
                                                                             subscription):
    camp = make.campaign(tenants["company_a"])
    make_allocation(app, subscription, camp.id, "30")
    alloc_id = make_allocation(app, subscription, camp.id, "45")
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    live = f"/l2i/{subscription.id}/remaining?allocation={alloc_id}"
    body = admin_a_client.post(live, data={"csrf_token": token, "share": "60"},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "25.00 % left" in body and "after this change: <strong>10.00 %</strong>" in body
    body = admin_a_client.post(live, data={"csrf_token": token, "share": "70.01"},
                               headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "more than is left" in body


def test_every_change_keeps_the_counter_equal_to_the_sum_of_the_shares(app, make, tenants, subscription):
    camp = make.campaign(tenants["company_a"])
    ids = [make_allocation(app, subscription, camp.id, p) for p in ("10", "20.5", "30.25")]
    kw = {"campaign": camp.id, "period_start": subscription.period_start, "period_end": subscription.period_end}
    steps = [lambda: update_allocation(None, ids[0], expected_version=None, percent="49.25", **kw),
             lambda: remove_allocation(None, ids[1], expected_version=None),
             lambda: allocate(None, subscription.id, percent="20.5", **kw),
             lambda: update_allocation(None, ids[2], expected_version=None, percent="0.01", **kw)]
    with app.app_context():
        for step in steps:
            with transaction():
                step()
            allocated, shares = stored_shares(app, subscription.id)
            assert allocated == sum(shares) <= 10_000
    assert stored_shares(app, subscription.id) == (6976, [4925, 1, 2050])
