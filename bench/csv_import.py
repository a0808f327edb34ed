"""CSV import of 100,000 new participants, end to end through the import views and their
jobs (upload → dry run → confirm in one transaction), beside a bare Core insert of the same
number of participant rows. SQLite always; PostgreSQL when its binaries are present."""
from __future__ import annotations

import io
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.harness import Report

ROWS = 100_000
TARGET_MS = 10_000


def make_csv(rows: int = ROWS) -> bytes:
    lines = ["email,external_ref,display_name,role,year_of_birth,languages,country,source_id,metadata.starting_cefr"]
    lines += [f"bench{i}@example.org,bench:{i},Bench Person {i},beneficiary,{1960 + i % 40},uk;en,UA,row-{i},A2"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _app(url: str):
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
    return app


def _scene(app) -> int:
    """A company, program and active, uncapped campaign; returns the campaign id."""
    from tests.factories import Factory

    make = Factory(app)
    program = make.program(template=make.template(), group=make.group(age_min=16, age_max=80))
    return make.campaign(make.company(name="Bench Company"), program, name="Bench Campaign",
                         start_date=date(2026, 1, 1)).id


def time_import(url: str, data: bytes, folder: Path) -> float:
    """Milliseconds for upload → dry run → confirm of ``data`` through the views and the job
    functions (jobs inline, Flask's test client; no gunicorn yet — issue #14's HTTP bench)."""
    import re

    import sqlalchemy as sa
    from werkzeug.test import EnvironBuilder

    from portal.campaigns.models import Campaign
    from portal.db import db
    from portal.enrollments.models import Enrollment
    from tests.conftest import sign_in_client
    from tests.factories import Factory

    app = _app(url)
    campaign_id = _scene(app)
    client = sign_in_client(app, Factory(app).user(role="program_manager", name="Bench PM"))
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/home").get_data(as_text=True)).group(1)
    start = time.perf_counter()
    builder = EnvironBuilder(path=f"/campaigns/{campaign_id}/import", method="POST",
                             data={"csrf_token": csrf, "file": (io.BytesIO(data), "bench.csv")})
    try:
        dry = client.open(builder, follow_redirects=True)
    finally:
        builder.close()
    confirm = re.search(r'action="(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/confirm)"', dry.get_data(as_text=True))
    assert confirm, dry.get_data(as_text=True)[:2000]
    done = client.post(confirm.group(1), data={"csrf_token": csrf}, follow_redirects=True)
    elapsed = (time.perf_counter() - start) * 1000
    assert done.status_code == 200 and "Imported 100,000 rows" in done.get_data(as_text=True)
    with app.app_context():
        stored_rows = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment))
        assert stored_rows == ROWS and db.session.get(Campaign, campaign_id).enrolled_count == ROWS
        db.session.remove()
        db.engine.dispose()
    return elapsed


def time_bare_insert(url: str) -> float:
    """Milliseconds for one Core executemany of ROWS participant rows (the floor)."""
    import sqlalchemy as sa

    from portal.db import db, utcnow
    from portal.enrollments.models import Participant

    app = _app(url)
    now = utcnow()
    rows = [{"ref": f"B-{i:09d}", "display_name": f"Bench Person {i}", "email": f"bare{i}@example.org",
             "year_of_birth": 1990, "languages": ["uk", "en"], "country": "UA", "external_ref": f"bare:{i}",
             "company_id": None, "is_enabled": True, "lock_version": 1, "created_at": now, "updated_at": now}
            for i in range(ROWS)]
    with app.app_context():
        start = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(sa.insert(Participant.__table__), rows)
        elapsed = (time.perf_counter() - start) * 1000
        db.engine.dispose()
    return elapsed


def run(report: Report) -> None:
    data = make_csv()
    with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
        folder = Path(tmp)
        report.add("csv import 100k rows (sqlite)", time_import(f"sqlite:///{folder / 'import.db'}", data, folder),
                   TARGET_MS)
        report.add("bare Core insert 100k rows (sqlite)", time_bare_insert(f"sqlite:///{folder / 'bare.db'}"), None)

    from tests.support.pgserver import ThrowawayPostgres, find_pg_bin

    pg_bin = find_pg_bin()
    if pg_bin is None:
        return
    server = ThrowawayPostgres(pg_bin).start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-csv-") as tmp:
            report.add("csv import 100k rows (postgresql)",
                       time_import(server.create_database("bench_import"), data, Path(tmp)), TARGET_MS)
        report.add("bare Core insert 100k rows (postgresql)", time_bare_insert(server.create_database("bench_bare")),
                   None)
    finally:
        server.stop()


if __name__ == "__main__":  # a quick look without touching bench/results.json
    report = Report()
    run(report)
    for name, row in report.rows.items():
        print(f"{name:<45}{row['value']:>12.1f} {row['unit']}  target {row['target']}")
