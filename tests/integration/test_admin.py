"""Program managers manage companies and users; every change is an activity event."""
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import Company, User
from portal.db import db
from tests.helpers import csrf_token


def _events(app, event_type):
    with app.app_context():
        return db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == event_type)).all()


def test_create_company_generates_a_key_and_an_event(app, pm_client):
    token = csrf_token(pm_client, "/admin/companies/new")
    response = pm_client.post("/admin/companies/new", data={"csrf_token": token, "name": "Nordlys Energi AS",
                                                            "country": "NO", "industry": "Energy"})
    assert response.status_code == 303
    with app.app_context():
        company = db.session.scalars(sa.select(Company).where(Company.name == "Nordlys Energi AS")).one()
        assert company.key == "nordlys-energi-as"
    assert [e.subject_id for e in _events(app, "company.created")] == [company.id]


def test_duplicate_company_name_is_a_field_error_and_nothing_is_saved(app, pm_client, tenants):
    token = csrf_token(pm_client, "/admin/companies/new")
    response = pm_client.post("/admin/companies/new", data={"csrf_token": token, "name": "acme corp"})
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Company)) == 2


def test_invalid_country_is_refused(pm_client):
    token = csrf_token(pm_client, "/admin/companies/new")
    response = pm_client.post("/admin/companies/new", data={"csrf_token": token, "name": "X", "country": "XX"})
    assert response.status_code == 422


def test_create_company_admin_requires_a_company(app, pm_client):
    token = csrf_token(pm_client, "/admin/users/new")
    response = pm_client.post("/admin/users/new", data={
        "csrf_token": token, "email": "new@example.org", "name": "New Admin", "role": "company_admin",
        "company_id": "", "password": "long enough password"})
    assert response.status_code == 422
    assert "Company admins belong to a company" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).where(User.email == "new@example.org")) is None


def test_create_user_with_short_password_shows_the_error_next_to_the_field(pm_client, tenants):
    token = csrf_token(pm_client, "/admin/users/new")
    response = pm_client.post("/admin/users/new", data={
        "csrf_token": token, "email": "x@example.org", "name": "X", "role": "company_admin",
        "company_id": str(tenants["company_a"].id), "password": "short"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="password-error"' in body and "at least 10 characters" in body


def test_create_user_normalises_email_and_writes_event(app, pm_client, tenants):
    token = csrf_token(pm_client, "/admin/users/new")
    response = pm_client.post("/admin/users/new", data={
        "csrf_token": token, "email": "New.Admin@Example.ORG", "name": "New Admin", "role": "company_admin",
        "company_id": str(tenants["company_a"].id), "password": "long enough password"})
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == "new.admin@example.org")).one()
        assert user.company_id == tenants["company_a"].id and user.password_hash.startswith("$argon2id$")
    events = _events(app, "user.created")
    assert events[-1].company_id == tenants["company_a"].id


def test_duplicate_email_is_refused_case_insensitively(pm_client, tenants):
    token = csrf_token(pm_client, "/admin/users/new")
    response = pm_client.post("/admin/users/new", data={
        "csrf_token": token, "email": tenants["pm"].email.upper(), "name": "Dup", "role": "program_manager",
        "company_id": "", "password": "long enough password"})
    assert response.status_code == 422
    assert "already exists" in response.get_data(as_text=True)


def test_htmx_form_error_returns_only_the_form_fragment_with_422(pm_client):
    token = csrf_token(pm_client, "/admin/companies/new")
    response = pm_client.post("/admin/companies/new", data={"name": ""},
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert body.lstrip().startswith("<form") and "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_success_redirects_with_hx_redirect(pm_client):
    token = csrf_token(pm_client, "/admin/companies/new")
    response = pm_client.post("/admin/companies/new", data={"name": "Via Htmx"},
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].endswith("/admin/")


def test_deactivate_and_reactivate_write_events(app, pm_client, tenants):
    user = tenants["admin_b"]
    token = csrf_token(pm_client, f"/admin/users/{user.id}")
    pm_client.post(f"/admin/users/{user.id}/deactivate", data={"csrf_token": token, "lock_version": user.lock_version})
    with app.app_context():
        version = db.session.get(User, user.id).lock_version
    pm_client.post(f"/admin/users/{user.id}/reactivate", data={"csrf_token": token, "lock_version": version})
    assert [e.subject_id for e in _events(app, "user.deactivated")] == [user.id]
    assert [e.subject_id for e in _events(app, "user.reactivated")] == [user.id]
    assert _events(app, "user.deactivated")[0].company_id == tenants["company_b"].id


def test_a_program_manager_cannot_deactivate_themselves(app, pm_client, tenants):
    pm = tenants["pm"]
    token = csrf_token(pm_client, f"/admin/users/{pm.id}")
    response = pm_client.post(f"/admin/users/{pm.id}/deactivate", data={"csrf_token": token,
                                                                       "lock_version": pm.lock_version})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(User, pm.id).is_enabled


def test_users_list_filters_by_role_through_the_url(pm_client, tenants):
    body = pm_client.get("/admin/?role=company_admin").get_data(as_text=True)
    assert "Ann Admin" in body and "Pat Manager" not in body.split('id="users-table"')[1]
