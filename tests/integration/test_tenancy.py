"""Another company's objects are 404 (never 403); beneficiaries are pseudonymised."""
import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment
from portal.enrollments.privacy import company_reference
from portal.tenancy import visible
from tests.helpers import without_volatile


@pytest.fixture
def world(make, tenants):
    program = make.program()
    camp_a = make.campaign(tenants["company_a"], program, name="Alpha Language Run")
    camp_b = make.campaign(tenants["company_b"], program, name="CANARY-B Secret Campaign")
    beneficiary = make.participant(display_name="Olena Canary-Shevchenko", email="olena@example.org",
                                   year_of_birth=1990)
    employee_a = make.participant(display_name="Ingrid Employee", company_id=tenants["company_a"].id)
    b_person = make.participant(display_name="CANARY-B Person")
    return {
        "camp_a": camp_a, "camp_b": camp_b,
        "enr_a": make.enrollment(camp_a, beneficiary),
        "enr_a_vol": make.enrollment(camp_a, employee_a, role="volunteer"),
        "enr_b": make.enrollment(camp_b, b_person),
        "beneficiary": beneficiary,
    }


def test_company_admin_gets_404_for_another_companys_campaign_and_enrollment(admin_a_client, world):
    camp_b, enr_b = world["camp_b"], world["enr_b"]
    assert admin_a_client.get(f"/campaigns/{camp_b.id}").status_code == 404
    assert admin_a_client.get(f"/campaigns/{camp_b.id}/enrollments/{enr_b.id}").status_code == 404
    # an own campaign id with someone else's enrollment id is 404 too
    assert admin_a_client.get(f"/campaigns/{world['camp_a'].id}/enrollments/{enr_b.id}").status_code == 404


def test_the_404_for_another_tenant_looks_exactly_like_a_missing_object(admin_a_client, world):
    foreign = admin_a_client.get(f"/campaigns/{world['camp_b'].id}")
    missing = admin_a_client.get("/campaigns/999999")
    assert foreign.status_code == missing.status_code == 404
    # Whole bodies, but for the CSRF tokens each page carries (they hold a timestamp).
    assert without_volatile(foreign.get_data(as_text=True)) == without_volatile(missing.get_data(as_text=True))


def test_own_campaign_is_visible(admin_a_client, world):
    assert admin_a_client.get(f"/campaigns/{world['camp_a'].id}").status_code == 200
    assert admin_a_client.get(f"/campaigns/{world['camp_a'].id}/enrollments/{world['enr_a'].id}").status_code == 200


def test_other_companys_canaries_never_appear_in_lists(admin_a_client, world):
    for path in ("/campaigns/", "/home", f"/campaigns/{world['camp_a'].id}"):
        assert "CANARY-B" not in admin_a_client.get(path).get_data(as_text=True), path


def test_program_manager_sees_every_company(pm_client, world):
    body = pm_client.get("/campaigns/").get_data(as_text=True)
    assert "Alpha Language Run" in body and "CANARY-B Secret Campaign" in body
    assert pm_client.get(f"/campaigns/{world['camp_b'].id}/enrollments/{world['enr_b'].id}").status_code == 200


def test_beneficiaries_are_pseudonymised_for_company_admins(app, admin_a_client, pm_client, world):
    person = world["beneficiary"]
    page = admin_a_client.get(f"/campaigns/{world['camp_a'].id}").get_data(as_text=True)
    with app.app_context():
        reference = company_reference(db.session.get(Company, world["camp_a"].company_id), person.id)
    assert reference in page and "Canary-Shevchenko" not in page
    assert person.ref not in page  # the program team's own reference is not the company's
    assert "Ingrid Employee" in page  # own employee, by name
    detail = admin_a_client.get(f"/campaigns/{world['camp_a'].id}/enrollments/{world['enr_a'].id}").get_data(
        as_text=True)
    assert "olena@example.org" not in detail and "1990" not in detail and "Canary-Shevchenko" not in detail
    pm_page = pm_client.get(f"/campaigns/{world['camp_a'].id}").get_data(as_text=True)
    assert "Olena Canary-Shevchenko" in pm_page


def test_scoping_helper_limits_queries(app, tenants, world):
    with app.app_context():
        admin_a = db.session.get(User, tenants["admin_a"].id)
        names = db.session.scalars(sa.select(Campaign.name).where(visible(Campaign, admin_a))).all()
        assert names == ["Alpha Language Run"]
        enrollments = db.session.scalars(sa.select(Enrollment.id).where(visible(Enrollment, admin_a))).all()
        assert sorted(enrollments) == sorted([world["enr_a"].id, world["enr_a_vol"].id])
        assert db.session.scalars(sa.select(ActivityEvent).where(visible(ActivityEvent, admin_a))).all() == [] or all(
            e.company_id == tenants["company_a"].id
            for e in db.session.scalars(sa.select(ActivityEvent).where(visible(ActivityEvent, admin_a))))


def test_deactivated_user_sees_nothing(app, tenants):
    with app.app_context():
        admin_a = db.session.get(User, tenants["admin_a"].id)
        admin_a.is_enabled = False
        assert str(visible(Campaign, admin_a).compile(compile_kwargs={"literal_binds": True})) in ("false", "0 = 1")
        db.session.rollback()


def test_a_rule_built_once_sees_exactly_what_the_viewer_sees(app, tenants, world):
    """bound_rule (a statement built once, the viewer's company bound when run: the timelines)
    selects the same rows as visible() for every model with a rule, for each kind of viewer."""
    from portal.tenancy import _COMPANY_ADMIN_RULES, bound_rule, viewer_scope

    with app.app_context():
        viewers = [db.session.get(User, tenants[key].id) for key in ("pm", "admin_a", "admin_b")]
        for viewer in viewers:
            scope, params = viewer_scope(viewer)
            for model in _COMPANY_ADMIN_RULES:
                direct = set(db.session.scalars(sa.select(model.id).where(visible(model, viewer))))
                bound = set(db.session.scalars(sa.select(model.id).where(bound_rule(model, scope)), params))
                assert bound == direct, (viewer.email, model.__name__)
        admin_a = viewers[1]
        admin_a.is_enabled = False
        assert viewer_scope(admin_a) == ("none", {})
        db.session.rollback()
