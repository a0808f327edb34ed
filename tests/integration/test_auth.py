"""Sign-in, sign-out, session invalidation, rate limiting, roles."""
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.auth.passwords import hash_password, verify_password
from portal.db import db
from tests.conftest import sign_in_client
from tests.factories import TEST_PASSWORD
from tests.helpers import csrf_token, sign_in


def test_passwords_are_hashed_with_argon2id():
    hashed = hash_password("a long enough password")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long enough password")
    assert not verify_password(hashed, "a wrong password")
    assert not verify_password(None, "anything")


def test_sign_in_with_right_password_lands_on_home_and_writes_an_event(app, client, tenants):
    response = sign_in(client, tenants["pm"].email, TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")
    home = client.get("/home")
    assert home.status_code == 200 and "Welcome, Pat" in home.get_data(as_text=True)
    with app.app_context():
        types = db.session.scalars(sa.select(ActivityEvent.type).where(ActivityEvent.actor_id == tenants["pm"].id)).all()
    assert "user.signed_in" in types


def test_wrong_password_is_a_clear_error_and_not_signed_in(client, tenants):
    response = sign_in(client, tenants["pm"].email, "not the password")
    assert response.status_code == 422
    assert "do not match an active account" in response.get_data(as_text=True)
    assert client.get("/home").status_code == 302


def test_unknown_email_gets_the_same_message(client):
    response = sign_in(client, "nobody@example.org", "whatever password")
    assert response.status_code == 422
    assert "do not match an active account" in response.get_data(as_text=True)


def test_eleventh_rapid_failed_sign_in_is_refused_with_429(client, tenants):
    statuses = [sign_in(client, tenants["pm"].email, f"wrong {i}").status_code for i in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    refused = sign_in(client, tenants["pm"].email, TEST_PASSWORD)  # even the right password, for now
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)


def test_successful_sign_ins_do_not_count_toward_the_limit(client, tenants):
    for _ in range(12):
        assert sign_in(client, tenants["pm"].email, TEST_PASSWORD).status_code == 302
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})


def test_replayed_cookie_after_sign_out_is_rejected(client, tenants):
    sign_in(client, tenants["pm"].email, TEST_PASSWORD)
    old_cookie = client.get_cookie("session").value
    response = client.post("/sign-out", data={"csrf_token": csrf_token(client, "/home")})
    assert response.status_code == 302
    client.set_cookie("session", old_cookie)  # an attacker replays the copy
    assert client.get("/home").status_code == 302  # back to sign-in


def test_deactivating_a_user_ends_their_open_session(app, tenants, pm_client):
    admin_client = sign_in_client(app, tenants["admin_a"])
    assert admin_client.get("/home").status_code == 200
    user = tenants["admin_a"]
    token = csrf_token(pm_client, f"/admin/users/{user.id}")
    response = pm_client.post(f"/admin/users/{user.id}/deactivate",
                              data={"csrf_token": token, "lock_version": user.lock_version})
    assert response.status_code in (302, 303)
    assert admin_client.get("/home").status_code == 302
    # and they cannot sign in again
    assert sign_in(app.test_client(), user.email, TEST_PASSWORD).status_code == 422


def test_password_reset_ends_sessions_and_the_new_password_works(app, tenants, pm_client):
    user = tenants["admin_a"]
    admin_client = sign_in_client(app, user)
    token = csrf_token(pm_client, f"/admin/users/{user.id}")
    response = pm_client.post(f"/admin/users/{user.id}/password",
                              data={"csrf_token": token, "lock_version": user.lock_version,
                                    "password": "a brand new password"})
    assert response.status_code in (302, 303)
    assert admin_client.get("/home").status_code == 302
    assert sign_in(app.test_client(), user.email, "a brand new password").status_code == 302


def test_stale_deactivation_is_refused(app, tenants, pm_client):
    user = tenants["admin_a"]
    token = csrf_token(pm_client, f"/admin/users/{user.id}")
    response = pm_client.post(f"/admin/users/{user.id}/deactivate",
                              data={"csrf_token": token, "lock_version": user.lock_version - 1})
    assert response.status_code == 409
    assert "Someone else changed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).is_enabled


def test_open_redirect_through_next_is_ignored(client, tenants):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in?next=https://evil.example/", data={
        "csrf_token": token, "email": tenants["pm"].email, "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/home")


def test_next_within_the_site_is_followed(client, tenants):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in?next=/campaigns/", data={
        "csrf_token": token, "email": tenants["pm"].email, "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/campaigns/")


def test_anonymous_page_request_redirects_and_htmx_request_gets_401_with_hx_redirect(client):
    assert client.get("/home").status_code == 302
    response = client.get("/campaigns/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/sign-in")


def test_navigation_shows_only_what_the_role_may_use(pm_client, admin_a_client):
    pm_home = pm_client.get("/home").get_data(as_text=True)
    admin_home = admin_a_client.get("/home").get_data(as_text=True)
    assert "Users &amp; companies" in pm_home
    assert "Users &amp; companies" not in admin_home
    assert "Campaigns" in admin_home


def test_company_admin_cannot_use_the_users_screens(admin_a_client, tenants):
    assert admin_a_client.get("/admin/").status_code == 403
    assert admin_a_client.get(f"/admin/users/{tenants['pm'].id}").status_code == 403
    token = csrf_token(admin_a_client, "/home")
    assert admin_a_client.post("/admin/companies/new", data={"csrf_token": token, "name": "Evil"}).status_code == 403
