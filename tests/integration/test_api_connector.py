"""The example connector (examples/connector.py, stdlib only) against a live server: it
enrolls a participant and records a session; running it again (same keys: replayed) and
once more with new keys (as after 24 hours: the enrollment is found again, the session's
source_id is already recorded) adds nothing."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from portal import create_app
from portal.db import db
from portal.deliveries.models import Delivery
from portal.enrollments.models import Enrollment, Participant
from tests.conftest import REPO_ROOT, migrate_to_head
from tests.factories import Factory
from tests.integration.api_support import new_token

CONNECTOR = REPO_ROOT / "examples" / "connector.py"


@dataclass
class Live:
    url: str
    app: object
    token: str
    campaign_id: int


@pytest.fixture
def live(fresh_database_url) -> Iterator[Live]:
    """A server on its own database (committed data, as in production), in a thread."""
    database = fresh_database_url("connector")
    migrate_to_head(database)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database)
    make = Factory(app)
    pm = make.user(role="program_manager", name="Connector PM")
    program = make.program(template=make.template("language"), visibility="public",
                           group=make.group(age_min=18, age_max=65, languages=["uk", "en"]))
    campaign = make.campaign(make.company(name="Acme"), program, max_enrollment=10)
    token = new_token(app, pm, ["read", "enrollments:write", "deliveries:write"], name="Kintell")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="connector-live-server", daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app, token, campaign.id)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _run(live: Live, *extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(CONNECTOR), "--base-url", live.url, "--campaign", str(live.campaign_id),
         "--name", "Olena Kovalenko", "--email", "olena.k@example.org", "--external-ref", "kintell-4711",
         "--year-of-birth", "1990", "--languages", "uk,en", "--session-id", "kintell-session-99",
         "--source", "kintell", "--minutes", "60", "--attendance", "present", *extra],
        env={"PORTAL_TOKEN": live.token, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _counts(live: Live) -> tuple[int, int, int]:
    with live.app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model)) for model in
                     (Participant, Enrollment, Delivery))


def test_the_connector_enrolls_and_records_once_however_often_it_runs(live):
    first = _run(live)
    assert first["enrollment"] == "created" and first["delivery"] == "recorded"
    assert _counts(live) == (1, 1, 1)
    second = _run(live)
    assert second == {**first, "enrollment": "replayed", "delivery": "replayed"}
    third = _run(live, "--fresh-keys")
    assert third == {**first, "enrollment": "existing", "delivery": "already recorded"}
    assert _counts(live) == (1, 1, 1)
    with live.app.app_context():
        delivery = db.session.scalars(sa.select(Delivery)).one()
        assert (delivery.source, delivery.source_id, delivery.duration_minutes) == ("kintell", "kintell-session-99", 60)


def test_the_connector_reports_a_refusal_as_the_problem_document(live):
    done = subprocess.run([sys.executable, str(CONNECTOR), "--base-url", live.url, "--campaign", "999999",
                           "--name", "X Y", "--external-ref", "x", "--session-id", "s"],
                          env={"PORTAL_TOKEN": live.token, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert json.loads(done.stderr)["error"] == 404
