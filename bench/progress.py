"""The campaign page with its progress lists at a million deliveries (issue #15, SQLite).

5,000 active mentorship campaigns of one company, 10 to 70 enrollments each (200,000 in
all), 1,000,000 deliveries over them, bulk-loaded with Core executemany, together with what
the delivery operations would have kept beside them: the per-kind progress counters, each
enrollment's ``last_counted_delivery_on``, and the milestones reached. Then, in-process
through the test client, the campaign page (capacity, progress: ready to complete, needs
attention, milestone funnel) for random campaigns, as the program manager and as the
company admin: p95 target 50 ms each. And the statements one page issues, for the smallest
and the largest campaign: the difference must be 0 (constant per page, whatever the size).

``python -m bench progress`` (or ``python -m bench.progress`` for a look without writing
bench/results.json); ``PORTAL_BENCH_REPEAT`` sets the timed requests (default 200);
``PORTAL_BENCH_PROGRESS_DB=<file>`` times again on a database an earlier run built (it
prints where it kept it) instead of loading a new one.
"""
from __future__ import annotations

import os
import random
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Report, time_ms

CAMPAIGNS = 5_000
DELIVERIES = 1_000_000
SIZES = (10, 70)  # enrollments per campaign, uniform: 40 on average
CHUNK = 20_000
TARGET_MS = 50
SESSION = "session_completed"
OTHER_KINDS = ("goal_achieved", "mentor_referral")


def _chunks(rows: list[dict], size: int = CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def build(url: str) -> dict:
    """Migrate, create the company, program and users with the factories, bulk-load the rest.
    Returns the ids the timing needs and the load time."""
    from flask_migrate import upgrade

    from portal import create_app
    from portal.campaigns.models import Campaign
    from portal.db import db
    from portal.deliveries.milestones import enrollment_milestones_of, milestones_reached
    from portal.deliveries.models import Delivery, EnrollmentMilestone, EnrollmentProgress
    from portal.enrollments.models import Enrollment, Participant
    from tests.factories import Factory

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
    make = Factory(app)
    company = make.company(name="Bench Mentoring Co")
    program = make.program(template=make.template("mentorship"))
    first = make.campaign(company, program, name="Bench campaign 0", key="bench-0", max_enrollment=200)
    pm = make.user(role="program_manager", name="Bench PM", email="pm@bench.example")
    admin = make.user(role="company_admin", company=company, name="Bench Admin", email="admin@bench.example")
    rng = random.Random(20261130)
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    started = time.perf_counter()
    with app.app_context():
        campaign_table = Campaign.__table__
        template_row = dict(db.session.execute(sa.select(campaign_table).where(campaign_table.c.id == first.id))
                            .mappings().one())
        milestones = enrollment_milestones_of(db.session.get(Campaign, first.id))
        sizes = [rng.randint(*SIZES) for _ in range(CAMPAIGNS)]
        sizes[1], sizes[2] = SIZES  # one of each extreme, for the statement counts
        with db.engine.begin() as conn:
            conn.execute(campaign_table.update().where(campaign_table.c.id == first.id).values(max_enrollment=200))
            rows = []
            for i in range(1, CAMPAIGNS):
                row = {k: v for k, v in template_row.items() if k != "id"}
                row.update(key=f"bench-{i}", name=f"Bench campaign {i}", enrolled_count=0, max_enrollment=200)
                rows.append(row)
            for chunk in _chunks(rows):
                conn.execute(sa.insert(campaign_table), chunk)
            campaign_ids = [r[0] for r in conn.execute(sa.select(campaign_table.c.id).order_by(campaign_table.c.id))]
            people = max(SIZES[1], sum(sizes) // 5)  # each person in about five campaigns
            participant_rows = [{"ref": f"B-{i:07d}", "display_name": f"Bench Person {i}", "languages": ["uk"],
                                 "is_enabled": True, "created_at": now, "updated_at": now, "lock_version": 1}
                                for i in range(people)]
            for chunk in _chunks(participant_rows):
                conn.execute(sa.insert(Participant.__table__), chunk)
            participant_ids = [r[0] for r in conn.execute(sa.select(Participant.__table__.c.id)
                                                          .order_by(Participant.__table__.c.id))]
            enrollment_rows, seats = [], {}
            for campaign_id, size in zip(campaign_ids, sizes, strict=True):
                start = rng.randrange(len(participant_ids))
                beneficiaries = 0
                for k in range(size):
                    role = "volunteer" if k % 7 == 6 else "beneficiary"
                    beneficiaries += role == "beneficiary"
                    enrolled = now - timedelta(days=rng.randint(20, 240), minutes=k)
                    enrollment_rows.append({
                        "campaign_id": campaign_id, "participant_id": participant_ids[(start + k) % len(participant_ids)],
                        "role": role, "status": "active", "enrolled_at": enrolled, "source": "manual", "metadata": {},
                        "created_at": enrolled, "updated_at": enrolled, "lock_version": 1})
                seats[campaign_id] = beneficiaries
            for chunk in _chunks(enrollment_rows):
                conn.execute(sa.insert(Enrollment.__table__), chunk)
            conn.execute(campaign_table.update().where(campaign_table.c.id == sa.bindparam("cid"))
                         .values(enrolled_count=sa.bindparam("n")),
                         [{"cid": c, "n": n} for c, n in seats.items()])
            enrollments = conn.execute(sa.select(Enrollment.__table__.c.id, Enrollment.__table__.c.enrolled_at)
                                       .order_by(Enrollment.__table__.c.id)).all()

            # 1M deliveries, spread over the enrollments (five on average), dated since each enrolled.
            counters: dict[tuple[int, str], list] = {}
            last_counted: dict[int, date] = {}
            delivery_rows = []
            for n in range(DELIVERIES):
                enrollment_id, enrolled_at = enrollments[rng.randrange(len(enrollments))]
                enrolled_on = (enrolled_at if isinstance(enrolled_at, datetime)
                               else datetime.fromisoformat(str(enrolled_at))).date()
                span = max((today - enrolled_on).days, 0)
                day = today - timedelta(days=rng.randint(0, span))
                kind = SESSION if rng.random() < 0.85 else rng.choice(OTHER_KINDS)
                attendance = rng.choice(("present",) * 8 + ("excused", "unexcused")) if kind == SESSION else None
                quantity = Decimal(3 if rng.random() < 0.1 else 1)
                delivery_rows.append({
                    "enrollment_id": enrollment_id, "kind": kind, "occurred_on": day, "quantity": quantity,
                    "duration_minutes": 60 if kind == SESSION else None, "attendance": attendance,
                    "source": "csv", "source_id": f"bench-{n}", "metadata": {}, "created_at": now, "updated_at": now,
                    "lock_version": 1})
                if attendance in (None, "present"):
                    total = counters.setdefault((enrollment_id, kind), [0, Decimal(0), day])
                    total[0] += 1
                    total[1] += quantity
                    total[2] = max(total[2], day)
                    last_counted[enrollment_id] = max(last_counted.get(enrollment_id, day), day)
                if len(delivery_rows) == CHUNK:
                    conn.execute(sa.insert(Delivery.__table__), delivery_rows)
                    delivery_rows = []
            if delivery_rows:
                conn.execute(sa.insert(Delivery.__table__), delivery_rows)
            progress_rows = [{"enrollment_id": e, "kind": k, "deliveries": n, "counted_quantity": q, "last_on": last}
                             for (e, k), (n, q, last) in counters.items()]
            for chunk in _chunks(progress_rows):
                conn.execute(sa.insert(EnrollmentProgress.__table__), chunk)
            table = Enrollment.__table__
            conn.execute(table.update().where(table.c.id == sa.bindparam("eid"))
                         .values(last_counted_delivery_on=sa.bindparam("day")),
                         [{"eid": e, "day": d} for e, d in last_counted.items()])
            by_enrollment: dict[int, dict[str, Decimal]] = defaultdict(dict)
            for (e, k), (_, q, _) in counters.items():
                by_enrollment[e][k] = q
            milestone_rows = []
            names = {m.key: m.name for m in milestones}
            for e, counts in by_enrollment.items():
                for key in milestones_reached(milestones, counts, 0):
                    milestone_rows.append({"enrollment_id": e, "key": key, "name": names[key],
                                           "reached_on": last_counted.get(e, today), "delivery_id": None,
                                           "created_at": now})
            for chunk in _chunks(milestone_rows):
                conn.execute(sa.insert(EnrollmentMilestone.__table__), chunk)
            conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    loaded = time.perf_counter() - started
    return {"pm": pm.id, "admin": admin.id, "loaded": loaded}


@contextmanager
def _sql_time(app, into: list[float]):
    """Collect the milliseconds each statement spends in the database driver."""
    from sqlalchemy import event

    from portal.db import db

    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        into.append((time.perf_counter() - conn.info.pop("bench_started")) * 1000)

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _scene(app) -> dict:
    """The ids the timing needs, read back from a built database."""
    from portal.auth.models import User
    from portal.campaigns.models import Campaign
    from portal.db import db

    with app.app_context():
        users = {}
        for role, email in (("pm", "pm@bench.example"), ("admin", "admin@bench.example")):
            user = db.session.scalars(sa.select(User).where(User.email == email)).one()
            db.session.expunge(user)
            users[role] = user
        # The bench company's campaigns (the reports benchmark moves 100 of them to another company).
        campaigns = list(db.session.scalars(sa.select(Campaign.id).where(Campaign.company_id == users["admin"].company_id)
                                            .order_by(Campaign.id)))
    return {"users": users, "campaigns": campaigns, "smallest": campaigns[1], "largest": campaigns[2]}


_BUILT: dict[str, str] = {}


def million_deliveries(report: Report) -> str:
    """The URL of the 1M-delivery database: the one PORTAL_BENCH_PROGRESS_DB names (built by
    an earlier run: the load takes minutes), the one this run built already (the reports
    benchmark shares it), or a new one."""
    reuse = os.environ.get("PORTAL_BENCH_PROGRESS_DB")
    if reuse:
        return f"sqlite:///{Path(reuse).resolve()}"
    if "url" not in _BUILT:
        path = Path(tempfile.mkdtemp(prefix="bench-progress-")) / "progress.db"
        _BUILT["url"] = f"sqlite:///{path}"
        built = build(_BUILT["url"])
        report.add("progress: load 1M deliveries over 5,000 campaigns (Core executemany)", built["loaded"] * 1000,
                   None)
        print(f"progress: database kept at {path} (PORTAL_BENCH_PROGRESS_DB={path} reuses it)")
    return _BUILT["url"]


def run(report: Report, repeat: int | None = None) -> None:
    """Build the database (or reuse the one PORTAL_BENCH_PROGRESS_DB names, built by an earlier
    run: the load takes minutes) and time the campaign page."""
    from portal import create_app
    from portal.db import db
    from tests.conftest import sign_in_client
    from tests.helpers import counting_statements

    repeat = repeat or int(os.environ.get("PORTAL_BENCH_REPEAT", "200"))
    url = million_deliveries(report)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    scene = _scene(app)
    rng = random.Random(15)
    for role, label in (("pm", "program manager"), ("admin", "company admin")):
        client = sign_in_client(app, scene["users"][role])
        picks = iter([rng.choice(scene["campaigns"]) for _ in range(repeat + 10)])

        def page(client=client, picks=picks):
            response = client.get(f"/campaigns/{next(picks)}")
            assert response.status_code == 200, response.status_code
            assert b'id="attention-title"' in response.data

        sql_ms: list[float] = []
        cpu_started = time.process_time()
        with _sql_time(app, sql_ms):
            samples = time_ms(page, repeat, warmup=5)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / (repeat + 5)
        report.add_samples(f"progress: campaign page with progress lists, 1M deliveries ({label})", samples,
                           TARGET_MS)
        # The machine may be shared: CPU time of this process and time inside the database tell
        # the page's own cost apart from waiting for a core.
        report.add(f"progress: campaign page, CPU time per page, mean ({label})", cpu_ms, None)
        report.add(f"progress: campaign page, SQL time per page, mean ({label})", sum(sql_ms) / (repeat + 5), None)
        statements = []
        for campaign_id in (scene["smallest"], scene["largest"]):
            with counting_statements(app) as seen:
                assert client.get(f"/campaigns/{campaign_id}").status_code == 200
            statements.append(len(seen))
        report.add(f"progress: statements per campaign page, {SIZES[0]} vs {SIZES[1]} enrollments ({label})",
                   statements[0], None, unit="stmts")
        report.add(f"progress: statements per campaign page, difference {SIZES[0]} vs {SIZES[1]} ({label})",
                   abs(statements[1] - statements[0]), 0, unit="stmts")
    with app.app_context():
        db.engine.dispose()
    through_gunicorn(report, url, scene)


def through_gunicorn(report: Report, url: str, scene: dict, seconds: float = 12.0) -> None:
    """Issue #15: through gunicorn (4 workers, 4 clients, random campaigns), the campaign page
    with its progress lists within 2× the enrollment list fragment of the same campaigns, in
    the same run (alternating windows), for both roles."""
    from bench.fullstack import _sign_in, load_pair
    from bench.harness import gunicorn
    from tests.factories import TEST_PASSWORD

    with gunicorn(url, PORTAL_JOBS_EMBEDDED_WORKER="0") as port:
        paths = [f"/campaigns/{c}" for c in random.Random(16).sample(scene["campaigns"], 500)]
        for role, label in (("pm", "program manager"), ("admin", "company admin")):
            cookie = _sign_in(port, scene["users"][role].email, TEST_PASSWORD)
            fragment, page = load_pair(port, cookie, paths, 4, seconds, ({"HX-Request": "true"}, None))
            report.add(f"progress: gunicorn enrollment list fragment, 4 clients p95 ({label})", fragment["p95"], None)
            report.add(f"progress: gunicorn campaign page with progress lists, 4 clients p95 ({label})", page["p95"],
                       None)
            report.add(f"progress: gunicorn campaign page p95 / list fragment p95 ({label})",
                       page["p95"] / fragment["p95"], 2, unit="x")
            report.add(f"progress: gunicorn errors ({label})", fragment["errors"] + page["errors"], 0, unit="requests")


if __name__ == "__main__":  # a quick look without touching bench/results.json
    bench_report = Report()
    run(bench_report)
    bench_report.print_rows()
