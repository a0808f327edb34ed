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
