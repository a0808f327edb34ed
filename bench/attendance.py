"""The attendance sheet of a 500-person campaign saved through HTTP (issue #15: ≤ 1 s).

gunicorn serves ``wsgi:app`` as in production (bench.csv_import's Servers and Client). A
program manager signs in, opens the sheet of a mentorship campaign with 500 active
beneficiaries (its milestones make every row reach "First Session"), marks everyone present
and saves: one POST, one transaction through ``record_batch``. Printed: the sheet's GET and
the save. SQLite always; PostgreSQL when its binaries are present.
"""
from __future__ import annotations

import re
import sys
import time
from datetime import date
from urllib.parse import urlencode

from bench.csv_import import Client, Servers, _app
from bench.harness import DATABASES, Report, each_database

ROWS = 500
TARGET_MS = 1_000


def _scene(url: str) -> tuple[int, str]:
    """An active mentorship campaign with ROWS active beneficiaries, and a program manager."""
    from tests.factories import Factory

    app = _app(url)
    make = Factory(app)
    program = make.program(template=make.template("mentorship"), group=make.group(age_min=16, age_max=80))
    campaign = make.campaign(make.company(name="Bench Company"), program, name="Bench Attendance",
                             start_date=date(2026, 1, 1), max_enrollment=ROWS + 10)
    for i in range(ROWS):
        make.enrollment(campaign, make.participant(display_name=f"Bench Mentee {i:03d}"))
    pm = make.user(role="program_manager", name="Bench PM", email="pm@bench.example")
    with app.app_context():
        from portal.db import db
        db.engine.dispose()
    return campaign.id, pm.email


def _saved(url: str, campaign_id: int) -> int:
    import sqlalchemy as sa

    from portal.db import db
    from portal.deliveries.models import Delivery
    from portal.enrollments.models import Enrollment

    app = _app(url)
    with app.app_context():
        n = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery).join(Enrollment)
                              .where(Enrollment.campaign_id == campaign_id))
        db.engine.dispose()
    return n


def time_sheet_over_http(report: Report, label: str, url: str) -> None:
    campaign_id, email = _scene(url)
    servers = Servers.start(url)
    try:
        client = Client(servers.port)
        client.sign_in(email)
        path = f"/campaigns/{campaign_id}/attendance"
        client.request("GET", path)  # warm the worker (imports, template compile)
        began = time.perf_counter()
        status, _, body = client.request("GET", path)
        get_ms = (time.perf_counter() - began) * 1000
        assert status == 200, status
        rows = sorted(set(re.findall(rb'name="(row-[em]\d+)"', body)))
        assert len(rows) == ROWS, len(rows)
        token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
        day = re.search(rb'name="occurred_on" value="([0-9-]+)"', body).group(1).decode()
        fields = {"csrf_token": token, "occurred_on": day, "kind": "session_completed", "duration_minutes": "60",
                  **{name.decode(): "present" for name in rows}}
        began = time.perf_counter()
        status, headers, body = client.request("POST", path, urlencode(fields).encode(),
                                               {"Content-Type": "application/x-www-form-urlencoded"})
        save_ms = (time.perf_counter() - began) * 1000
        assert status == 303, (status, body[:2000])
    finally:
        servers.stop()
    assert _saved(url, campaign_id) == ROWS
    report.add(f"attendance sheet {ROWS} rows saved over HTTP ({label})", save_ms, TARGET_MS)
    report.add(f"attendance sheet {ROWS} rows shown over HTTP ({label})", get_ms, None)


def run(report: Report, databases: tuple[str, ...] = DATABASES) -> None:
    for label, new_url in each_database(databases):
        time_sheet_over_http(report, label, new_url("bench_attendance"))

if __name__ == "__main__":  # a quick look without touching bench/results.json
    report = Report()
    run(report, tuple(sys.argv[1:]) or DATABASES)
    report.print_rows()
