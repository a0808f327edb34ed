"""Configuration read from the environment.

PORTAL_ENV picks the class: ``development`` (make run), ``testing`` (the suite) or
``production`` (the default, so a forgotten variable errs on the safe side).
"""
from __future__ import annotations

import os

# Secrets that must never reach production: the development and testing defaults and friends.
KNOWN_WEAK_SECRETS = frozenset({
    "", "dev", "changeme", "secret", "development-only-secret-key", "testing-secret-key-not-for-production",
})
# A shorter key can be guessed offline from one signed cookie.
MIN_SECRET_KEY_BYTES = 32


def secret_key_problem(secret_key: str | bytes | None) -> str | None:
    """Why ``secret_key`` must not sign production cookies, or None when it may."""
    raw = secret_key.encode() if isinstance(secret_key, str) else (secret_key or b"")
    if raw.strip().lower() in {s.encode() for s in KNOWN_WEAK_SECRETS}:
        return "SECRET_KEY is missing or a known default."
    if len(raw) < MIN_SECRET_KEY_BYTES:
        return f"SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes."
    return None


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite:///portal.db")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False

    # Sessions and CSRF (SPEC §5): cookies HttpOnly, SameSite=Lax, Secure outside development.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    WTF_CSRF_TIME_LIMIT = None  # a form left open over lunch still saves
    WTF_CSRF_SSL_STRICT = True

    RATELIMIT_STORAGE_URI = os.environ.get("PORTAL_RATELIMIT_STORAGE_URI", "memory://")
    # "10 per minute" means any 60 seconds: a fixed window would let 10 failures at :59 and 10
    # more at :01 through (and made the eleventh-attempt test flaky when a minute turned mid-run).
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    SIGNIN_RATE_LIMIT = os.environ.get("PORTAL_SIGNIN_RATE_LIMIT", "10 per minute")
    # Per account too (keyed by the normalized e-mail), so rotating addresses cannot brute-force one account.
    SIGNIN_ACCOUNT_RATE_LIMIT = os.environ.get("PORTAL_SIGNIN_ACCOUNT_RATE_LIMIT", "10 per 15 minutes")
    # Proxy hops in front of the app whose X-Forwarded-For/-Proto are trusted (0: the headers are ignored).
    TRUSTED_PROXIES = _int("PORTAL_TRUSTED_PROXIES", 0)
    # A signed-in session ends after this long without a request, and this long after signing in at most.
    SESSION_IDLE_MINUTES = _int("PORTAL_SESSION_IDLE_MINUTES", 8 * 60)
    SESSION_MAX_HOURS = _int("PORTAL_SESSION_MAX_HOURS", 7 * 24)

    PORTAL_MIN_COHORT = _int("PORTAL_MIN_COHORT", 10)
    PORTAL_PAGE_SIZE = _int("PORTAL_PAGE_SIZE", 50)
    PORTAL_CATALOG_PAGE_SIZE = _int("PORTAL_CATALOG_PAGE_SIZE", 24)
    # CSV imports: row and size limits (uploads wait between dry run and confirm in the database).
    PORTAL_IMPORT_MAX_ROWS = _int("PORTAL_IMPORT_MAX_ROWS", 200_000)
    PORTAL_IMPORT_MAX_BYTES = _int("PORTAL_IMPORT_MAX_BYTES", 64 * 1024 * 1024)
    MAX_CONTENT_LENGTH = _int("PORTAL_IMPORT_MAX_BYTES", 64 * 1024 * 1024) + 1024 * 1024
    # The catalog's country/language filter options are shared by every user: reuse them briefly.
    PORTAL_CATALOG_CHOICES_TTL = _int("PORTAL_CATALOG_CHOICES_TTL", 60)
    # Background jobs (SPEC §6): "procrastinate" (PostgreSQL), "database" (SQLite) or "inline"
    # (in the request: the tests); empty picks by database. A job whose worker sent no heartbeat
    # for PORTAL_JOBS_STALL_SECONDS is run again (or failed when its attempts are used up).
    PORTAL_JOBS = os.environ.get("PORTAL_JOBS", "")
    PORTAL_JOBS_STALL_SECONDS = _int("PORTAL_JOBS_STALL_SECONDS", 60)
    # Finished webhook deliveries (and their attempts) are deleted this many days after they ended.
    PORTAL_WEBHOOK_KEEP_DAYS = _int("PORTAL_WEBHOOK_KEEP_DAYS", 30)
    # A worker thread inside the web process (make run: no worker to start, nothing to install).
    PORTAL_JOBS_EMBEDDED_WORKER = os.environ.get("PORTAL_JOBS_EMBEDDED_WORKER", "0") == "1"
    SQLITE_BUSY_TIMEOUT_MS = _int("PORTAL_SQLITE_BUSY_TIMEOUT_MS", 30_000)
    # Work each worker does once at start instead of on its first requests (every template
    # compiled, ORM mappers configured, reference lists read); compiled templates are kept in
    # instance/jinja-cache ("0" turns that off, a path puts it elsewhere).
    PORTAL_WARM_START = os.environ.get("PORTAL_WARM_START", "1") == "1"
    PORTAL_TEMPLATE_BYTECODE_CACHE: bool | str = {"1": True, "0": False}.get(
        os.environ.get("PORTAL_TEMPLATE_BYTECODE_CACHE", "1"), os.environ.get("PORTAL_TEMPLATE_BYTECODE_CACHE", "1"))
    FORCE_HTTPS = os.environ.get("PORTAL_FORCE_HTTPS", "0") == "1"


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-secret-key"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_SSL_STRICT = False
    PORTAL_JOBS_EMBEDDED_WORKER = os.environ.get("PORTAL_JOBS_EMBEDDED_WORKER", "1") == "1"


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_ENABLED = True
    PORTAL_CATALOG_CHOICES_TTL = 0  # tests create programs and look at the catalog at once
    PORTAL_JOBS = os.environ.get("PORTAL_TEST_JOBS", "inline")  # the harness's transaction is never committed
    PORTAL_WARM_START = False  # an app per test renders a few screens: warming all of them would cost more
    PORTAL_JOBS_EMBEDDED_WORKER = False
    # Accept-Language: qps-ploc shows every translated string wrapped in ⟦ ⟧ (portal/i18n.py):
    # the untranslated-text scan's pseudo-locale.
    PORTAL_PSEUDO_LOCALE = True


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}


def config_for(env_name: str | None) -> type[Config]:
    env_name = env_name or os.environ.get("PORTAL_ENV", "production")
    try:
        return CONFIGS[env_name]
    except KeyError:
        raise RuntimeError(f"PORTAL_ENV must be one of {sorted(CONFIGS)}, not {env_name!r}") from None
