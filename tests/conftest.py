"""Test harness.

* ``--db=sqlite`` (default) or ``--db=postgresql`` picks the database every test runs
  on; ``make test`` runs the suite on both. PostgreSQL is a throwaway server started
  for the session. In CI (CI=true) missing PostgreSQL binaries fail the run.
* Each test gets its own app whose session joins an outer transaction that is rolled
  back afterwards (savepoints inside), so code that commits leaves nothing behind.
* Don't make client requests while an app context is pushed: use ``app_ctx()`` for
  direct database work between requests.
* Tests marked ``postgres`` need the PostgreSQL server: they are skipped under ``--db=sqlite``
  and run in ``make test``'s PostgreSQL pass.
* ``redis_url`` is an empty database on a throwaway ``redis-server`` (the rate-limit store
  several instances share); missing redis-server skips those tests, or fails them in CI.

Parallel runs (pytest-xdist, ``make test`` passes ``-n``): every worker is a separate
pytest session, so each session-scoped fixture below runs once per worker and nothing
is shared between workers: SQLite files live under the worker's own basetemp
(``tmp_path_factory``), each worker starts its own throwaway PostgreSQL server (own
directory, own free port), and the browser tests' live server binds port 0. A new
throwaway service follows ``pg_server`` as ``redis_server`` does: a session fixture that
starts one server for this worker on a free port and directory named with ``worker_label()``.
``--dist loadfile`` (pyproject's addopts) keeps each test module on one worker, in order,
so module-scoped fixtures are built once and tests may rely on their module's order.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from portal import create_app
from portal.db import db
from tests.factories import Factory
from tests.support.pgserver import ThrowawayPostgres, find_pg_bin


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default=os.environ.get("PORTAL_TEST_DB", "sqlite"), choices=["sqlite", "postgresql"],
                     help="database backend for the suite")


# --- parallel runs (pytest-xdist) ----------------------------------------------------
def worker_label() -> str:
    """This pytest-xdist worker's id ("gw0", "gw1", ...), or "main" in a run without workers."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def run_tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder shared by all workers of this run (the workers' basetemps are in
    it), for files workers coordinate through; the session's own basetemp without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--db") == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs with --db=postgresql (make test's second pass)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--db")


# --- throwaway servers: one per worker (see the module docstring) --------------------
@pytest.fixture(scope="session")
def pg_server(db_backend: str) -> Iterator[ThrowawayPostgres | None]:
    if db_backend != "postgresql":
        yield None
        return
    pg_bin = find_pg_bin()
    if pg_bin is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL binaries are missing in CI; .ci/run must install them")
        pytest.skip("PostgreSQL binaries not found (set PORTAL_PG_BIN)")
    server = ThrowawayPostgres(pg_bin, label=worker_label()).start()
    yield server
    server.stop()


class ThrowawayRedis:
    """A redis-server for one test session: 127.0.0.1 on a free port, nothing written to
    disk (``--save '' --appendonly no``), its directory under the run's temporary folder.
    Like PostgreSQL, a port another process took first means a retry on a new one."""

    START_ATTEMPTS = 5

    def __init__(self, binary: str, base: Path):
        self.binary, self.base = binary, base
        self.port = 0
        self.process: subprocess.Popen | None = None

    def start(self) -> ThrowawayRedis:
        self.base.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, self.START_ATTEMPTS + 1):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
            log = self.base / "redis.log"
            log.unlink(missing_ok=True)
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.base), "--logfile", str(log), "--daemonize", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._ready():
                return self
            self.process.kill()
            self.process.wait(timeout=10)
            text = log.read_text(errors="replace") if log.exists() else ""
            if attempt == self.START_ATTEMPTS or "Address already in use" not in text:
                raise RuntimeError(f"redis-server did not start on port {self.port}:\n{text[-2000:]}")
        raise AssertionError("unreachable")

    def _ready(self, timeout: float = 10) -> bool:
        import redis

        end = time.monotonic() + timeout
        while time.monotonic() < end and self.process.poll() is None:
            try:
                with redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1) as client:
                    if client.ping():
                        return True
            except redis.exceptions.RedisError:
                time.sleep(0.05)
        return False

    def url(self, db_number: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db_number}"

    def flush(self, db_number: int = 0) -> None:
        import redis

        with redis.Redis(host="127.0.0.1", port=self.port, db=db_number) as client:
            client.flushdb()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: redis exits at once (nothing to save)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def find_redis_server() -> str | None:
    """PORTAL_REDIS_SERVER, else redis-server on the PATH or Debian's; None when not runnable."""
    for candidate in (os.environ.get("PORTAL_REDIS_SERVER"), shutil.which("redis-server"), "/usr/bin/redis-server"):
        if candidate:
            return candidate if os.access(candidate, os.X_OK) else None
    return None


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThrowawayRedis]:
    binary = find_redis_server()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing in CI; .ci/system-deps must install it")
        pytest.skip("redis-server not found (apt-get install redis-server, or set PORTAL_REDIS_SERVER)")
    server = ThrowawayRedis(binary, run_tmp_dir(tmp_path_factory) / f"redis-{worker_label()}").start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: ThrowawayRedis) -> str:
    """An empty Redis database on this worker's throwaway server."""
    redis_server.flush()
    return redis_server.url()


# --- databases -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def fresh_database_url(db_backend: str, pg_server: ThrowawayPostgres | None, tmp_path_factory: pytest.TempPathFactory):
    """A factory of empty databases on the chosen backend (migration tests, concurrency tests)."""
    made: list[str] = []

    def make(label: str = "db") -> str:
        name = f"{label}_{uuid.uuid4().hex[:8]}"
        if pg_server is not None:
            made.append(name)
            return pg_server.create_database(name)
        return f"sqlite:///{tmp_path_factory.mktemp(label) / (name + '.db')}"

    yield make
    for name in made:
        assert pg_server is not None
        pg_server.drop_database(name)


def migrate_to_head(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(fresh_database_url) -> str:
    """The suite's shared database, built by running the migrations."""
    url = fresh_database_url("suite")
    migrate_to_head(url)
    return url


def _testing_config_fingerprint() -> tuple:
    """What the testing configuration class says now (a test may patch it before its app is built)."""
    from portal.config import TestingConfig

    return tuple((name, repr(getattr(TestingConfig, name))) for name in dir(TestingConfig) if name.isupper())


_BASE_FINGERPRINT = _testing_config_fingerprint()  # before any test has patched anything


@pytest.fixture(scope="session")
def shared_apps(database_url: str) -> Iterator[dict[tuple, Flask]]:
    """The suite's apps, one per testing configuration (in practice one per worker): building
    an app compiles its ~800 URL rules (60–100 ms), and thousands of tests each built one."""
    apps: dict[tuple, Flask] = {}
    yield apps
    for built in apps.values():
        with built.app_context():
            db.engine.dispose()


@pytest.fixture
def app(request: pytest.FixtureRequest, shared_apps: dict[tuple, Flask], database_url: str) -> Iterator[Flask]:
    """The test's app, its database session inside an outer transaction rolled back after the
    test; the shared app's configuration is put back and its rate-limit counts cleared, so no
    test sees another's. A test that patched TestingConfig (see proxied_app) or is marked
    ``own_app`` (it adds routes, which a served app no longer accepts) gets an app of its own."""
    from portal.extensions import limiter

    fingerprint = _testing_config_fingerprint()
    own = fingerprint != _BASE_FINGERPRINT or request.node.get_closest_marker("own_app") is not None
    if own:
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    else:
        if fingerprint not in shared_apps:
            shared_apps[fingerprint] = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
        app = shared_apps[fingerprint]
        # The process-wide limiter holds the switch and store of the last app created here (a
        # module's own app may have turned it off): configure it for this one again (no new hooks).
        limiter.init_app(app)
    config = dict(app.config)
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        db.session.remove()
        db.session.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.session.configure(bind=None, join_transaction_mode="conditional_savepoint")
            outer.rollback()
            connection.close()
            limiter.reset()
            if own:
                db.engine.dispose()
        app.config.clear()
        app.config.update(config)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Invokes the app's CLI commands (``runner.invoke(args=[...])``) in the test's transaction."""
    return app.test_cli_runner()


@pytest.fixture
def make(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def app_ctx(app: Flask):
    """``with app_ctx():`` for direct database work between requests."""

    @contextmanager
    def ctx():
        with app.app_context():
            yield db.session

    return ctx


def sign_in_client(app: Flask, user) -> FlaskClient:
    """A test client whose session cookie carries ``user`` (what a real sign-in sets)."""
    client = app.test_client()
    from portal.auth.sessions import start_session

    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_token}"
        session["_fresh"] = True
        start_session(session)
    return client


@pytest.fixture
def tenants(make: Factory):
    """Two companies, each with an admin, and a program manager."""
    a = make.company(name="Acme Corp")
    b = make.company(name="Borealis AS")
    return {
        "company_a": a,
        "company_b": b,
        "pm": make.user(role="program_manager", name="Pat Manager"),
        "admin_a": make.user(role="company_admin", company=a, name="Ann Admin"),
        "admin_b": make.user(role="company_admin", company=b, name="Bo Admin"),
    }


@pytest.fixture
def pm_client(app: Flask, tenants) -> FlaskClient:
    return sign_in_client(app, tenants["pm"])


@pytest.fixture
def admin_a_client(app: Flask, tenants) -> FlaskClient:
    return sign_in_client(app, tenants["admin_a"])


@pytest.fixture
def admin_b_client(app: Flask, tenants) -> FlaskClient:
    return sign_in_client(app, tenants["admin_b"])


def count_rows(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


REPO_ROOT = Path(__file__).resolve().parent.parent
