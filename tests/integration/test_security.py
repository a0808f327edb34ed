"""SPEC §5: security headers everywhere, CSRF on every state change, cookies, secrets."""
import pytest

from portal import create_app
from tests.helpers import csrf_token

REQUIRED_CSP = ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'",
                "script-src 'self'"]


def assert_security_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    for directive in REQUIRED_CSP:
        assert directive in csp, f"{directive!r} missing from CSP {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def boom_app(app):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("deliberate failure")

    return app


@pytest.mark.own_app
def test_headers_on_pages_fragments_and_error_pages(boom_app, pm_client, client):
    assert_security_headers(client.get("/sign-in"))
    assert_security_headers(pm_client.get("/home"))
    fragment = pm_client.get("/admin/?role=company_admin", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert_security_headers(fragment)
    not_found = pm_client.get("/no-such-page")
    assert not_found.status_code == 404
    assert_security_headers(not_found)
    failure = pm_client.get("/boom-for-test")
    assert failure.status_code == 500 and "Something went wrong" in failure.get_data(as_text=True)
    assert_security_headers(failure)
    assert_security_headers(client.get("/healthz"))
    with client.get("/static/app.css") as static:
        assert_security_headers(static)


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/sign-in").headers
    secure = client.get("/sign-in", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_post_without_csrf_token_is_refused(pm_client, app):
    response = pm_client.post("/admin/companies/new", data={"name": "No Token Inc"})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert_security_headers(response)


def test_htmx_post_with_the_token_in_the_header_succeeds(pm_client):
    token = csrf_token(pm_client, "/home")
    response = pm_client.post("/admin/companies/new", data={"name": "Header Token Inc"},
                              headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and "HX-Redirect" in response.headers


def test_sign_out_is_post_only(pm_client):
    assert pm_client.get("/sign-out").status_code == 405
    assert pm_client.get("/home").status_code == 200  # still signed in


def test_page_carries_the_csrf_header_for_htmx_and_htmx_config(pm_client):
    body = pm_client.get("/home").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    assert '"allowEval": false' in body and '"includeIndicatorStyles": false' in body
    assert "<script>" not in body and " style=" not in body  # nothing inline under the CSP


def test_session_cookie_flags_in_development(client, tenants):
    from tests.factories import TEST_PASSWORD
    from tests.helpers import sign_in

    response = sign_in(client, tenants["pm"].email, TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    import importlib

    import portal.config

    importlib.reload(portal.config)
    try:
        app = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="y" * 64)
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    finally:
        importlib.reload(portal.config)


@pytest.mark.parametrize("secret", ["", "dev", "development-only-secret-key", "changeme"])
def test_production_refuses_a_missing_or_default_secret_key(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY=secret)


def test_healthz_reports_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database():
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite:////nonexistent-dir/x.db")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_nul_characters_are_refused_at_the_door(pm_client):
    response = pm_client.get("/programs/?q=a%00b")
    assert response.status_code == 400 and "NUL character" in response.get_data(as_text=True)
    assert_security_headers(response)


# --- secrets -----------------------------------------------------------------------
@pytest.mark.parametrize("secret", ["a" * 31, "testing-secret-key-not-for-production", "  CHANGEME  ",
                                    "short but not a default"])
def test_production_refuses_a_short_or_known_secret_key(secret):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY=secret)


def test_production_accepts_a_long_random_secret_key():
    import secrets

    assert create_app("production", SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY=secrets.token_hex(16))


# --- database connections -------------------------------------------------------
def test_postgresql_connections_are_tested_before_use_sqlite_ones_need_not():
    from portal.db import db

    pg = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://portal@127.0.0.1:1/portal")
    with pg.app_context():
        assert db.engine.pool._pre_ping is True
    tuned = create_app("testing", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://portal@127.0.0.1:1/portal",
                       SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 3})
    assert tuned.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 3, "pool_pre_ping": True}
    assert "pool_pre_ping" not in create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://").config[
        "SQLALCHEMY_ENGINE_OPTIONS"]


def test_first_request_after_a_database_restart_succeeds(db_backend, database_url):
    """The server ending a pooled connection (a restart, a failover, an idle-connection reaper)
    must not cost the next request: pool_pre_ping swaps the dead connection for a new one."""
    if db_backend != "postgresql":
        pytest.skip("SQLite has no server to restart")
    import psycopg
    import sqlalchemy as sa

    from portal.db import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    client = app.test_client()
    try:
        with app.app_context():
            pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
            db.session.remove()  # back to the pool, where it dies
        with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]
        response = client.get("/healthz")
        assert response.status_code == 200, response.json
    finally:
        with app.app_context():
            db.engine.dispose()


# --- error pages without a database ---------------------------------------------
@pytest.fixture
def app_without_database(db_backend):
    """The app pointed at a database that cannot be reached."""
    url = ("postgresql+psycopg://portal@127.0.0.1:1/portal?connect_timeout=2" if db_backend == "postgresql"
           else "sqlite:////nonexistent-dir/portal.db")
    return create_app("testing", SQLALCHEMY_DATABASE_URI=url)


def signed_in_cookie(app, user_id=1, token="some-session-token"):
    from portal.auth.sessions import start_session

    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user_id}:{token}"
        start_session(session)
    return client


def assert_plain_error_page(response, status, text):
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:500]
    assert text in body and "<html" in body
    assert "Traceback" not in body and "OperationalError" not in body and "sqlite" not in body.lower()
    assert_security_headers(response)


def test_pages_of_a_signed_in_user_get_a_503_page_when_the_database_is_down(app_without_database):
    client = signed_in_cookie(app_without_database)
    response = client.get("/home")
    assert_plain_error_page(response, 503, "Temporarily unavailable")
    assert response.headers["Retry-After"]
    fragment = client.get("/campaigns/", headers={"HX-Request": "true"})
    assert_plain_error_page(fragment, 503, "Temporarily unavailable")


def test_error_pages_render_when_the_database_is_down(app_without_database):
    signed_in = signed_in_cookie(app_without_database)
    anonymous = app_without_database.test_client()
    assert_plain_error_page(signed_in.get("/no-such-page"), 404, "Not found")
    assert_plain_error_page(anonymous.get("/no-such-page"), 404, "Not found")
    assert_plain_error_page(signed_in.get("/sign-out"), 405, "Not allowed")
    assert_plain_error_page(signed_in.post("/sign-out"), 400, "CSRF")
    token = csrf_token(anonymous, "/sign-in")  # the sign-in form itself needs no database
    signing_in = anonymous.post("/sign-in", data={"csrf_token": token, "email": "pat@acme.example",
                                                  "password": "a password"})
    assert_plain_error_page(signing_in, 503, "Temporarily unavailable")


@pytest.mark.own_app
def test_an_unexpected_error_after_the_connection_died_still_renders_the_500_page(app, tenants, monkeypatch):
    """The request fails, and then so does every database call the error page could make."""
    import sqlalchemy as sa

    from portal.db import db
    from tests.conftest import sign_in_client

    @app.get("/boom-after-outage-for-test")
    def boom():
        def unreachable(*args, **kwargs):
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

        monkeypatch.setattr(db.session, "rollback", unreachable)
        monkeypatch.setattr(db.session, "execute", unreachable)
        monkeypatch.setattr(db.session, "get", unreachable)
        raise RuntimeError("deliberate failure")

    client = sign_in_client(app, tenants["pm"])
    assert_plain_error_page(client.get("/boom-after-outage-for-test"), 500, "Something went wrong")


def test_every_error_status_carries_the_security_headers(app, client, tenants, pm_client, admin_a_client):
    from tests.conftest import sign_in_client

    user = tenants["admin_a"]
    token = csrf_token(pm_client, f"/admin/users/{user.id}")
    responses = {
        400: pm_client.post("/admin/companies/new", data={"name": "No Token Inc"}),
        401: client.get("/campaigns/", headers={"HX-Request": "true"}),
        403: admin_a_client.get("/admin/"),
        404: pm_client.get("/admin/users/2147483647"),
        405: pm_client.get("/sign-out"),
        409: pm_client.post(f"/admin/users/{user.id}/deactivate",
                            data={"csrf_token": token, "lock_version": user.lock_version - 1}),
        422: client.post("/sign-in", data={"csrf_token": csrf_token(client, "/sign-in"), "email": "x@y.example",
                                           "password": "wrong"}),
    }
    app.config["MAX_CONTENT_LENGTH"] = 64
    responses[413] = sign_in_client(app, tenants["pm"]).post("/admin/companies/new", data={"name": "x" * 200})
    app.config["SIGNIN_RATE_LIMIT"] = "1 per minute"
    app.config["MAX_CONTENT_LENGTH"] = None
    limited = app.test_client()
    for _ in range(2):
        responses[429] = limited.post("/sign-in", data={"csrf_token": csrf_token(limited, "/sign-in"),
                                                        "email": "x@y.example", "password": "wrong"})
    for status, response in responses.items():
        assert response.status_code == status, (status, response.get_data(as_text=True)[:300])
        assert_security_headers(response)
