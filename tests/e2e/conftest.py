"""Browser tests: a live server on its own committed SQLite database, Chromium from
Debian (or PORTAL_CHROMIUM), and helpers to sign in through the form and to save
screenshots for humans to look at.

The live server is not the rolled-back transaction harness of ``tests/conftest.py``:
the browser talks to a real server thread whose requests commit, so it gets a fresh
database file of its own, migrated and seeded through the real operations.
"""
from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Locator, Page, expect
from werkzeug.serving import make_server

from portal import create_app
from tests.conftest import run_tmp_dir

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parent.parent
SCREENSHOTS = REPO_ROOT / "screenshots"  # git-ignored

PASSWORD = "e2e-password-123"
# Not ".test": the operations validate addresses with email-validator, which refuses
# special-use domains (test, local, invalid...). ".example" is reserved and accepted.
PM_EMAIL = "pm@e2e.example"
PM_NAME = "Pat Manager"
ADMIN_EMAIL = "admin@acme.example"
ADMIN_NAME = "Ann Admin"
COMPANY_NAME = "Acme Corp"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Under pytest-xdist two workers, each with its own Chromium and live server, share the
# cores: an expectation waits up to 10 s instead of Playwright's 5 s before it fails.
EXPECT_TIMEOUT_MS = 10_000
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def _after_load(action: Callable[..., Any]) -> Callable[..., Any]:
    def act(self: Locator, *args: Any, **kwargs: Any) -> Any:
        self.page.wait_for_load_state()  # at once when the page has loaded already
        return action(self, *args, **kwargs)

    return act


# A person acts on a page they can see; a test can act a few milliseconds after the HTML
# arrives, before htmx (a deferred script) has bound its attributes, and then a filter sends
# nothing or an hx-confirm link navigates without asking. Every action on an element first
# waits for the page's load event, so the tests use the page as it is once loaded.
for _name in ("click", "dblclick", "fill", "press", "select_option", "check", "uncheck", "set_checked"):
    setattr(Locator, _name, _after_load(getattr(Locator, _name)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The hook sees the whole session's items: mark only those collected from this folder.
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# --- the live server -----------------------------------------------------------------
@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask


def _build_database(url: str) -> None:
    """Migrate an empty database to head and seed the demo users through the operations."""
    from flask_migrate import upgrade

    from portal.auth.models import COMPANY_ADMIN, PROGRAM_MANAGER
    from portal.auth.operations import create_company, create_user
    from portal.db import db, transaction

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        with transaction():  # actor=None: the seed/CLI path
            create_user(None, email=PM_EMAIL, name=PM_NAME, role=PROGRAM_MANAGER, password=PASSWORD)
            acme = create_company(None, name=COMPANY_NAME, country="NO", industry="Manufacturing")
            create_user(None, email=ADMIN_EMAIL, name=ADMIN_NAME, role=COMPANY_ADMIN, password=PASSWORD,
                        company_id=acme.id)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from portal.db import db

    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'portal-e2e.db'}"
    _build_database(url)
    # Rate limiting stays on (a test checks it). Only failed sign-ins count, 10 a minute
    # per IP; the rate-limit test resets the limiter before and after itself.
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    password: str = PASSWORD


@dataclass(frozen=True)
class DemoAccounts:
    """What the live server was seeded with."""

    pm: Account
    admin: Account
    company_name: str


@pytest.fixture(scope="session")
def accounts() -> DemoAccounts:
    return DemoAccounts(pm=Account(PM_EMAIL, PM_NAME), admin=Account(ADMIN_EMAIL, ADMIN_NAME),
                        company_name=COMPANY_NAME)


# --- pytest-playwright overrides -------------------------------------------------------
@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


def chromium_executable() -> str | None:
    """PORTAL_CHROMIUM, else Debian's Chromium, else None (Playwright's own browser)."""
    configured = os.environ.get("PORTAL_CHROMIUM")
    if configured:
        return configured
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    args = {**browser_type_launch_args, "args": list(CHROMIUM_ARGS)}
    executable = chromium_executable()
    if executable:
        args["executable_path"] = executable
    return args


# --- helpers ---------------------------------------------------------------------------
HOME_HEADING = re.compile(r"^Welcome, ")


@pytest.fixture
def sign_in() -> Callable[..., None]:
    """``sign_in(page, email, password=PASSWORD)``: through the form, until the home page shows."""

    def _sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
        page.goto("/sign-in")
        page.get_by_label("E-mail", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1, name=HOME_HEADING)).to_be_visible()

    return _sign_in


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: a full-page PNG in screenshots/ for humans to look at.
    Parallel workers write into the same folder, so a name belongs to one test: a second
    test that takes it fails instead of overwriting the first one's picture."""
    claims = run_tmp_dir(tmp_path_factory) / "screenshot-names"

    def _shoot(page: Page, name: str) -> Path:
        claims.mkdir(parents=True, exist_ok=True)
        claim = claims / name
        try:
            with claim.open("x") as fh:
                fh.write(request.node.nodeid)
        except FileExistsError:
            owner = claim.read_text()
            if owner != request.node.nodeid:
                pytest.fail(f"screenshot name {name!r} is already taken by {owner}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    return _shoot
