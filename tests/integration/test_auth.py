"""Sign-in, sign-out, session invalidation, rate limiting, roles."""
import pytest
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


# --- e-mail look-alikes (normalize_email: NFKC + lowercase) -----------------------
def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_signing_in_with_a_look_alike_address_signs_in_the_same_user(client, tenants):
    pm = tenants["pm"]
    response = sign_in(client, fullwidth(pm.email.upper()), TEST_PASSWORD)
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["_user_id"].split(":")[0] == str(pm.id)


def test_a_look_alike_address_cannot_create_a_second_user(app, pm_client, tenants):
    admin = tenants["admin_a"]
    local, _, domain = admin.email.partition("@")
    for look_alike in (fullwidth(admin.email), f"{fullwidth(local)}@{domain}", admin.email.upper()):
        response = pm_client.post("/admin/users/new", data={
            "csrf_token": csrf_token(pm_client, "/admin/users/new"), "email": look_alike, "name": "Impostor",
            "role": "company_admin", "company_id": tenants["company_a"].id, "password": "a long enough password"})
        assert response.status_code == 422, look_alike
        assert "already exists" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.name == "Impostor")) == 0


def test_a_ligature_address_is_stored_in_its_plain_form(app, pm_client, tenants):
    response = pm_client.post("/admin/users/new", data={
        "csrf_token": csrf_token(pm_client, "/admin/users/new"), "email": "ﬁnance@ACME.example", "name": "Fin",
        "role": "company_admin", "company_id": tenants["company_a"].id, "password": "a long enough password"})
    assert response.status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(sa.select(User.email).where(User.name == "Fin")) == "finance@acme.example"
    assert sign_in(app.test_client(), "finance@acme.example", "a long enough password").status_code == 302


# --- sign-in limits behind proxies ------------------------------------------------
@pytest.fixture
def proxied_app(monkeypatch, request):
    """The test app behind one trusted proxy (PORTAL_TRUSTED_PROXIES=1). Request it before any
    fixture that builds the app (tenants, clients), so the setting is in place when it is built."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from portal.config import TestingConfig

    monkeypatch.setattr(TestingConfig, "TRUSTED_PROXIES", 1)
    app = request.getfixturevalue("app")
    assert isinstance(app.wsgi_app, ProxyFix), "proxied_app must be requested before app"
    return app


def attempts(client, email, password, addresses):
    """One sign-in attempt from each address (as the X-Forwarded-For a proxy appends); the statuses."""
    token = csrf_token(client, "/sign-in")
    return [client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password},
                        headers={"X-Forwarded-For": address}).status_code for address in addresses]


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client):
    """Otherwise a client could dodge the per-address limit by inventing a new address each time."""
    statuses = [attempts(client, f"nobody{i}@example.org", "wrong", [f"198.51.100.{i}"])[0] for i in range(11)]
    assert statuses == [422] * 10 + [429]


def test_behind_a_trusted_proxy_the_per_address_limit_sees_each_real_client(proxied_app, client):
    different_clients = [attempts(client, f"nobody{i}@example.org", "wrong", [f"198.51.100.{i}"])[0]
                         for i in range(12)]
    assert different_clients == [422] * 12
    # One client spoofing what precedes the proxy's own entry is still one client.
    spoofing = [attempts(client, f"someone{i}@example.org", "wrong", [f"10.0.0.{i}, 203.0.113.7"])[0]
                for i in range(11)]
    assert spoofing == [422] * 10 + [429]


def add_whoami(app):
    from flask import request

    app.add_url_rule("/whoami-for-test", "whoami_for_test", lambda: f"{request.remote_addr} {request.scheme}")


def test_behind_a_trusted_proxy_client_address_and_scheme_come_from_the_proxy(proxied_app, client):
    add_whoami(proxied_app)
    forwarded = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7", "X-Forwarded-Proto": "https"}
    assert client.get("/whoami-for-test", headers=forwarded).get_data(as_text=True) == "203.0.113.7 https"
    assert client.get("/whoami-for-test").get_data(as_text=True) == "127.0.0.1 http"


@pytest.mark.own_app
def test_without_trusted_proxies_forwarded_headers_are_ignored(app, client):
    add_whoami(app)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    assert client.get("/whoami-for-test", headers=forwarded).get_data(as_text=True) == "127.0.0.1 http"


def test_one_account_is_throttled_whatever_the_attackers_address(proxied_app, client, tenants):
    pm = tenants["pm"]
    spellings = [pm.email, pm.email.upper(), fullwidth(pm.email)]  # one account, one budget
    statuses = [attempts(client, spellings[i % 3], f"wrong {i}", [f"198.51.100.{i}"])[0] for i in range(11)]
    assert statuses == [422] * 10 + [429]
    # now even the owner, with the right password from a fresh address, waits
    assert attempts(proxied_app.test_client(), pm.email, TEST_PASSWORD, ["192.0.2.1"]) == [429]
    # other accounts are unaffected
    assert attempts(proxied_app.test_client(), tenants["admin_a"].email, TEST_PASSWORD, ["192.0.2.2"]) == [302]


def test_a_throttled_unknown_account_looks_like_a_throttled_existing_one(proxied_app, tenants):
    import re

    def throttled(email: str, network: str) -> tuple[int, str]:
        client = proxied_app.test_client()
        token = csrf_token(client, "/sign-in")
        for i in range(11):
            response = client.post("/sign-in", data={"csrf_token": token, "email": email, "password": "wrong"},
                                   headers={"X-Forwarded-For": f"{network}.{i}"})
        return response.status_code, re.sub(r'"X-CSRFToken": "[^"]+"|name="csrf_token" value="[^"]+"', "", response.get_data(as_text=True))

    existing = throttled(tenants["pm"].email, "198.51.100")
    unknown = throttled("nobody-at-all@example.org", "203.0.113")
    assert existing[0] == 429 and existing == unknown
