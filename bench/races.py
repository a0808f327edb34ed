"""The cap race (SPEC §2.5, §7): 200 concurrent enrollment requests through a live HTTP
server at a campaign capped at 50, on SQLite and (when its binaries are found) on a
throwaway PostgreSQL. Reports the wall time of the 200 attempts and the rows stored
over the cap (the target is 0)."""
from __future__ import annotations

import logging
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Report

ATTEMPTS, CAP, CLIENTS = 200, 50, 32


def _post(url: str) -> int:
    request = urllib.request.Request(url, data=b"", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def cap_race(url: str) -> tuple[float, int, dict[int, int]]:
    """Migrate ``url``, race 200 requests at a cap of 50; (wall ms, over-cap rows, status counts)."""
    from werkzeug.serving import make_server

    from portal import create_app
    from portal.db import db, transaction
    from portal.enrollments.models import Enrollment, Participant
    from tests.conftest import migrate_to_head
    from tests.factories import Factory
    from tests.integration.test_concurrency import mount_race_endpoint

    migrate_to_head(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False,
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 10, "max_overflow": CLIENTS + 10, "pool_timeout": 60})
    mount_race_endpoint(app)
    make = Factory(app)
    campaign = make.campaign(make.company(name="Race Bench AS"), max_enrollment=CAP, target_enrollment=CAP)
    with app.app_context():
        with transaction():
            db.session.execute(sa.insert(Participant),
                               [{"display_name": f"Bench racer {i}", "languages": ["uk"]} for i in range(ATTEMPTS)])
        people = db.session.scalars(sa.select(Participant.id).order_by(Participant.id)).all()
        db.session.remove()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not 200 access-log lines
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="bench-race-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/__race/campaigns/{campaign.id}/participants"
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            codes = list(pool.map(_post, [f"{base}/{pid}" for pid in people]))
        wall_ms = (time.perf_counter() - started) * 1000
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
    with app.app_context():
        seats = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.campaign_id == campaign.id, Enrollment.role == "beneficiary",
            Enrollment.status.in_(("active", "completed"))))
        db.session.remove()
        db.engine.dispose()
    counts = {code: codes.count(code) for code in sorted(set(codes))}
    return wall_ms, max(0, seats - CAP), counts


def run(report: Report) -> None:
    from tests.support.pgserver import ThrowawayPostgres, find_pg_bin

    sqlite_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-race-')) / 'race.db'}"
    wall, over, counts = cap_race(sqlite_url)
    print(f"cap race on SQLite: {counts}")
    report.add("cap race: 200 attempts, SQLite", wall, None)
    report.add("cap race: over-cap rows, SQLite", over, 0, unit="rows")

    pg_bin = find_pg_bin()
    if pg_bin is None:
        print("cap race on PostgreSQL skipped: no PostgreSQL binaries (set PORTAL_PG_BIN)")
        return
    server = ThrowawayPostgres(pg_bin).start()
    try:
        wall, over, counts = cap_race(server.create_database("bench_race"))
        print(f"cap race on PostgreSQL: {counts}")
        report.add("cap race: 200 attempts, PostgreSQL", wall, None)
        report.add("cap race: over-cap rows, PostgreSQL", over, 0, unit="rows")
    finally:
        server.stop()


if __name__ == "__main__":
    bench_report = Report()
    run(bench_report)
    bench_report.print_and_save()
