"""Webhook fan-out of 1,000 events to a local receiver (issue #17: ≤ 10 s).

One endpoint (a werkzeug receiver on 127.0.0.1 answering 204) subscribes to enrollment
completions. 1,000 events are recorded, each in its own transaction as operations do
(each writes its delivery and the job that sends it); then a worker of the database's
backend — the jobs table on SQLite, Procrastinate on PostgreSQL — runs until every message
has arrived, signed. Printed: recording the events, sending them, and the total.
SQLite always; PostgreSQL when its binaries are present.
"""
from __future__ import annotations

import os
import sys
import threading
import time

from bench.harness import DATABASES, Report, each_database

EVENTS = 1_000
TARGET_MS = 10_000


def _app(url: str, backend: str):
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False, PORTAL_JOBS=backend)
    with app.app_context():
        upgrade()
    return app


def time_fan_out(report: Report, label: str, url: str) -> None:
    import sqlalchemy as sa

    from portal.activity.operations import record_event
    from portal.db import db, transaction
    from portal.enrollments.models import Enrollment
    from portal.webhooks.models import WebhookDelivery
    from portal.webhooks.operations import create_endpoint
    from portal.webhooks.signing import verify
    from tests.factories import Factory
    from tests.webhook_receiver import running_receiver

    backend = os.environ.get("PORTAL_BENCH_JOBS") or ("procrastinate" if label == "postgresql" else "database")
    app = _app(url, backend)
    make = Factory(app)
    campaign = make.campaign(make.company(name="Bench Company"), max_enrollment=10)
    enrollment = make.enrollment(campaign)
    with running_receiver() as receiver, app.app_context():
        with transaction():
            _, secret = create_endpoint(None, url=receiver.url, event_types=["program.enrollment.completed"])
        subject = db.session.get(Enrollment, enrollment.id)
        started = time.perf_counter()
        for i in range(EVENTS):
            with transaction():
                subject = db.session.get(Enrollment, enrollment.id)
                record_event("program.enrollment.completed", actor=None, subject=subject,
                             company_id=campaign.company_id, data={"campaign_id": campaign.id, "n": i})
        recorded = time.perf_counter()
        db.session.remove()

        worker = threading.Thread(target=_work, args=(app, backend), daemon=True)
        worker.start()
        arrived = receiver.wait_for(EVENTS, timeout=120)
        delivered, deadline = 0, time.monotonic() + 60
        while delivered < EVENTS and time.monotonic() < deadline:  # until every one is marked delivered
            delivered = db.session.scalar(sa.select(sa.func.count()).select_from(WebhookDelivery)
                                          .where(WebhookDelivery.status == "delivered"))
            db.session.remove()
            if delivered < EVENTS:
                time.sleep(0.01)
        sent = time.perf_counter()
        worker.join(timeout=60)
        headers, body = receiver.received[-1]
        verify(secret, body, headers)  # raises when the signature is wrong
    report.add(f"webhooks {label}: record {EVENTS} events with their deliveries", (recorded - started) * 1000, None)
    report.add(f"webhooks {label}: send {EVENTS} messages (worker)", (sent - recorded) * 1000, None)
    report.add(f"webhooks {label}: fan-out of {EVENTS} events, total", (sent - started) * 1000, TARGET_MS)
    print(f"webhooks {label}: {len(receiver.received)} received, {delivered} marked delivered"
          f"{'' if arrived else ' (TIMED OUT)'}", file=sys.stderr)
    with app.app_context():
        db.engine.dispose()


def _work(app, backend: str) -> None:
    from portal.db import db
    from portal.jobs.queue import work_database, work_procrastinate

    if backend == "procrastinate":
        work_procrastinate(app, burst=True)
    else:
        with app.app_context():
            work_database(burst=True)
            db.session.remove()


def run(report: Report, databases: tuple[str, ...] = DATABASES) -> None:
    for label, new_url in each_database(databases):
        time_fan_out(report, label, new_url(f"webhooks_{label}"))


if __name__ == "__main__":
    report = Report()
    run(report, tuple(sys.argv[1:]) or DATABASES)
    report.print_rows()
