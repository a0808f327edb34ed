"""Delivery CSV import of 100,000 rows for 10,000 enrollments through HTTP (issue #15:
"a 100k-row delivery import ≤ 20 s end to end through HTTP").

The same harness as :mod:`bench.csv_import` (its :class:`~bench.csv_import.Servers` — gunicorn
serving ``wsgi:app`` plus a separate ``flask jobs work`` — and its signed-in
:class:`~bench.csv_import.Client`): sign in, upload, follow the dry-run job as the page's htmx
polls it, confirm, follow the confirm job until the deliveries are committed. Printed: the
end-to-end time, when the job page first showed each phase, the slowest request and the
worker's peak RSS.

The scene: one active mentorship campaign with 10,000 active beneficiaries enrolled 60 days
ago (inserted with Core); the file holds ten present sessions each over the last 50 days,
ordered by day as an attendance export would be, named by e-mail, with a source id.
SQLite always; PostgreSQL when its binaries are present and asked for.
"""
from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.csv_import import Client, Servers, _app, _peak_rss_mb, main_text
from bench.harness import DATABASES, Report, each_database

ENROLLMENTS = 10_000
ROWS = 100_000
TARGET_MS = 20_000  # upload → committed, through the server
SLOWEST_REQUEST_TARGET_MS = 1_000
WORKER_RSS_TARGET_MB = 400


def make_csv(enrollments: int = ENROLLMENTS, rows: int = ROWS) -> bytes:
    from portal.db import utcnow

    today = utcnow().date()
    per = rows // enrollments
    lines = ["participant,kind,occurred_on,duration_minutes,attendance,source_id"]
    for day in range(per):
        on = (today - timedelta(days=50 - 5 * day)).isoformat()
        lines += [f"bench{i}@example.org,session_completed,{on},60,present,d-{day}-{i}" for i in range(enrollments)]
    return ("\n".join(lines) + "\n").encode()


def _scene(url: str, enrollments: int = ENROLLMENTS) -> tuple[int, str]:
    """A mentorship campaign with ``enrollments`` active beneficiaries, and a program manager."""
    import sqlalchemy as sa

    from portal.campaigns.models import Campaign
    from portal.db import db, utcnow
    from portal.enrollments.csv.bulk import bulk_insert
    from portal.enrollments.models import Enrollment, Participant
    from tests.factories import Factory

    app = _app(url)
    make = Factory(app)
    program = make.program(template=make.template("mentorship"), group=make.group(age_min=16, age_max=80))
    campaign = make.campaign(make.company(name="Bench Company"), program, name="Bench Deliveries")
    pm = make.user(role="program_manager", name="Bench PM", email="pm@bench.example")
    started, now = utcnow() - timedelta(days=60), utcnow()
    with app.app_context():
        bulk_insert(Participant.__table__, ({"ref": f"B{i:08d}", "email": f"bench{i}@example.org",
                                             "display_name": f"Bench Person {i}"} for i in range(enrollments)),
                    {"languages": ["uk"], "company_id": None, "is_enabled": True, "lock_version": 1,
                     "created_at": now, "updated_at": now})
        ids = dict(db.session.execute(sa.select(Participant.ref, Participant.id)).tuples().all())
        bulk_insert(Enrollment.__table__, ({"participant_id": ids[f"B{i:08d}"]} for i in range(enrollments)),
                    {"campaign_id": campaign.id, "role": "beneficiary", "status": "active", "enrolled_at": started,
                     "source": "csv", "metadata": {}, "lock_version": 1, "created_at": started, "updated_at": now})
        db.session.execute(sa.update(Campaign).where(Campaign.id == campaign.id).values(enrolled_count=enrollments))
        db.session.commit()
        db.engine.dispose()
    return campaign.id, pm.email


def time_import_over_http(report: Report, label: str, url: str, data: bytes) -> None:
    """Upload → dry run → confirm → committed, through gunicorn and a separate worker."""
    campaign_id, email = _scene(url)
    servers = Servers.start(url)
    path = f"/campaigns/{campaign_id}/deliveries/import"
    try:
        client = Client(servers.port)
        client.sign_in(email)
        phases, done_at = client.import_file(path, data, "deliveries.csv")
        elapsed = phases["committed"]
        _, _, body = client.request("GET", done_at)
        assert f"Imported {ROWS:,} rows".encode() in body, main_text(body)
        slowest, slowest_path = max(client.timings)
        rss = _peak_rss_mb(servers.worker.pid)
    finally:
        servers.stop()
    report.add(f"delivery import 100k rows over HTTP ({label})", elapsed, TARGET_MS)
    for phase, at in phases.items():  # when the page first showed each phase, from the upload
        report.add(f"  {label} delivery import: {phase} (at)", at, None)
    report.add(f"delivery import ({label}): slowest request", slowest, SLOWEST_REQUEST_TARGET_MS)
    print(f"slowest request ({label}): {slowest:.0f} ms {slowest_path}", file=sys.stderr)
    report.add(f"delivery import ({label}): job worker peak RSS", rss, WORKER_RSS_TARGET_MB, unit="MB")


def time_in_process(url: str, data: bytes) -> dict[str, float]:
    """The steps without HTTP or jobs, for finding where the time goes: parse, dry run, confirm."""
    from portal.campaigns.models import Campaign
    from portal.db import db, transaction
    from portal.deliveries.csv.apply import apply_import
    from portal.deliveries.csv.parse import parse_csv
    from portal.deliveries.csv.plan import plan_import

    campaign_id, _ = _scene(url)
    app = _app(url)
    steps: dict[str, float] = {}
    with app.app_context():
        start = time.perf_counter()
        parsed = parse_csv(data)
        steps["parse"] = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        plan = plan_import(db.session.get(Campaign, campaign_id), parsed)
        steps["dry run"] = (time.perf_counter() - start) * 1000
        assert not plan.has_errors, plan.errors[:3]
        db.session.rollback()
        start = time.perf_counter()
        with transaction():
            apply_import(None, campaign_id, parsed, expected_fingerprint=plan.fingerprint, expected_digest=plan.digest)
        steps["confirm"] = (time.perf_counter() - start) * 1000
        db.engine.dispose()
    return steps


def run(report: Report, databases: tuple[str, ...] = DATABASES) -> None:
    data = make_csv()
    for label, new_url in each_database(databases):
        time_import_over_http(report, label, new_url("bench_deliveries"), data)

if __name__ == "__main__":  # a quick look without touching bench/results.json
    if sys.argv[1:2] == ["in-process"]:
        with tempfile.TemporaryDirectory(prefix="bench-deliveries-") as tmp:
            print(time_in_process(f"sqlite:///{Path(tmp) / 'deliveries.db'}", make_csv()))
        sys.exit(0)
    report = Report()
    run(report, tuple(sys.argv[1:]) or DATABASES)
    report.print_rows()
