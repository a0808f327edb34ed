"""JSON API benchmark (issue #17): through gunicorn (4 workers) on loopback,

1. a batch of 1,000 deliveries through HTTP (``POST /api/v1/campaigns/{id}/deliveries/batch``,
   one transaction; target ≤ 2 s), five batches for different enrollments, plus a dry run;
2. ``GET /api/v1/campaigns/{id}/enrollments`` against the HTML enrollment list fragment
   (``/campaigns/{id}`` with ``HX-Request``) at 4 clients in the same run: req/s of each, the
   ratio (target ≥ 0.8) and the API's p95 (target ≤ 25 ms), measured in alternating rounds;
   and the same two lists in-process (the test client), the cost of one request alone.

The scene is the full-stack benchmark's (:mod:`bench.fullstack`: campaigns of 50 companies,
the first campaign a fifth of all enrollments), built at ``PORTAL_BENCH_API_ENROLLMENTS``
enrollments (1,000,000 by default, the issue's scale; a smaller figure builds faster) on
SQLite, or on the database ``PORTAL_BENCH_API_DB`` names (already built). Loopback only.
"""
from __future__ import annotations

import http.client
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench import fullstack
from bench.harness import Report, gunicorn, percentile, time_ms

BATCH = 1_000
BATCHES = 5
LOAD_SECONDS = 12.0
ROUNDS = 4


def build(url: str, enrollments: int) -> float:
    """The full-stack scene at ``enrollments`` rows (its module constants scaled)."""
    saved = fullstack.CAMPAIGNS, fullstack.ENROLLMENTS, fullstack.BIG_CAMPAIGN
    fullstack.ENROLLMENTS = enrollments
    fullstack.BIG_CAMPAIGN = enrollments // 5
    fullstack.CAMPAIGNS = max(50, min(5_000, enrollments // 200))
    try:
        return fullstack.build_database(url)["seconds"]
    finally:
        fullstack.CAMPAIGNS, fullstack.ENROLLMENTS, fullstack.BIG_CAMPAIGN = saved


def tokens(url: str) -> dict[str, str]:
    """A token for the program manager (writes) and one for company 1's admin (reads)."""
    from portal import create_app
    from portal.db import db, transaction
    from portal.models import User
    from portal.tokens.operations import create_token

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    made = {}
    with app.app_context():
        with transaction():
            for name, email, scopes in (("pm", "pm@bench.example", ["read", "deliveries:write"]),
                                        ("admin", "admin0@bench.example", ["read"])):
                user = db.session.scalars(sa.select(User).where(User.email == email)).one()
                _, made[name] = create_token(None, user, name=f"bench {uuid.uuid4().hex[:6]}", scopes=scopes,
                                             expires_days=1)
        db.engine.dispose()
    return made


def _post(port: int, token: str, path: str, body: dict) -> tuple[int, dict, float]:
    data = json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    conn.request("POST", path, body=data, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "Idempotency-Key": str(uuid.uuid4())})
    response = conn.getresponse()
    payload = json.loads(response.read() or b"null")
    elapsed = (time.perf_counter() - start) * 1000
    conn.close()
    return response.status, payload, elapsed


def batches(report: Report, port: int, token: str) -> None:
    today = datetime.now(UTC).date().isoformat()
    run = uuid.uuid4().hex[:8]

    def items(first: int) -> list[dict]:
        # Enrollments 1… belong to campaign 1 (the scene inserts its rows first).
        return [{"enrollment_id": first + i, "kind": "session_completed", "occurred_on": today,
                 "attendance": "present", "duration_minutes": 60, "source_id": f"bench-{run}-{first + i}"}
                for i in range(BATCH)]

    status, payload, dry_ms = _post(port, token, "/api/v1/campaigns/1/deliveries/batch",
                                    {"dry_run": True, "items": items(1)})
    assert status == 200, payload
    report.add("api: batch of 1,000 deliveries, dry run", dry_ms, 2000)
    samples = []
    for n in range(BATCHES):
        status, payload, ms = _post(port, token, "/api/v1/campaigns/1/deliveries/batch", {"items": items(1 + n * BATCH)})
        assert status == 200 and payload["recorded"] == BATCH, payload
        samples.append(ms)
    report.add("api: batch of 1,000 deliveries p50", statistics.median(samples), 2000)
    report.add("api: batch of 1,000 deliveries max", max(samples), 2000)
    status, payload, ms = _post(port, token, "/api/v1/campaigns/1/deliveries/batch", {"items": items(1)})
    assert status == 200 and payload["already_recorded"] == BATCH, payload
    report.add("api: the same 1,000 sent again (adds nothing)", ms, 2000)


def _load(port: int, path: str, headers: dict[str, str], clients: int, seconds: float) -> tuple[list[float], int, float]:
    """``clients`` keep-alive connections asking for ``path`` for ``seconds``: latencies (ms),
    errors and the elapsed time."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker() -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                bad += response.status != 200
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - began


def lists(report: Report, port: int, token: str, clients: int = 4) -> None:
    """The two lists in alternating rounds, so a machine busy with something else for a while
    slows both alike rather than whichever ran then."""
    cookie = fullstack._sign_in(port, "admin0@bench.example")
    lists_ = {"HTML enrollment list fragment": ("/campaigns/1", {"Cookie": cookie, "HX-Request": "true"}),
              "API enrollment list": ("/api/v1/campaigns/1/enrollments", {"Authorization": f"Bearer {token}"})}
    figures = {name: ([], 0, 0.0) for name in lists_}
    for _ in range(ROUNDS):
        for name, (path, headers) in lists_.items():
            latencies, errors, elapsed = _load(port, path, headers, clients, LOAD_SECONDS / ROUNDS)
            old = figures[name]
            figures[name] = (old[0] + latencies, old[1] + errors, old[2] + elapsed)
    rps = {}
    for name, (latencies, errors, elapsed) in figures.items():
        label = f"api bench: {name}, {clients} clients"
        rps[name] = len(latencies) / elapsed
        report.add(f"{label} p50", statistics.median(latencies), None)
        report.add(f"{label} p95", percentile(latencies, 95), 25 if name.startswith("API") else None)
        report.add(f"{label} req/s", rps[name], None, unit="req/s", better="higher")
        report.add(f"{label} errors", errors, 0, unit="requests")
    report.add("api bench: API / HTML enrollment list req/s", rps["API enrollment list"]
               / rps["HTML enrollment list fragment"], 0.8, unit="x", better="higher")


def in_process(report: Report, url: str, token: str) -> None:
    """The same two lists through the test client: the cost of one request without the server."""
    from portal import create_app
    from portal.db import db
    from portal.models import User
    from tests.conftest import sign_in_client

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        admin = db.session.scalars(sa.select(User).where(User.email == "admin0@bench.example")).one()
        db.session.expunge(admin)
    html, api = sign_in_client(app, admin), app.test_client()
    for name, call in (("HTML enrollment list fragment", lambda: html.get("/campaigns/1", headers={"HX-Request": "true"})),
                       ("API enrollment list", lambda: api.get("/api/v1/campaigns/1/enrollments",
                                                              headers={"Authorization": f"Bearer {token}"}))):
        assert call().status_code == 200
        report.add_samples(f"api bench: in-process {name}", time_ms(call, 60), None)
    with app.app_context():
        db.engine.dispose()


def _ready(port: int, deadline: float = 180) -> None:
    """Wait until the workers answer (each warms its templates first, which takes a while on a
    busy machine): the master's socket accepts connections before then."""
    end = time.monotonic() + deadline
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/sign-in")
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > end:
            raise RuntimeError("gunicorn did not answer")
        time.sleep(0.5)


def run(report: Report) -> None:
    enrollments = int(os.environ.get("PORTAL_BENCH_API_ENROLLMENTS", 1_000_000))
    url = os.environ.get("PORTAL_BENCH_API_DB")
    if not url:
        workdir = Path(tempfile.mkdtemp(prefix="portal-bench-api-"))
        url = f"sqlite:///{workdir / 'api.db'}"
        seconds = build(url, enrollments)
        report.add(f"api bench: build {enrollments:,} enrollments (sqlite)", seconds * 1000, None)
    made = tokens(url)
    in_process(report, url, made["admin"])
    with gunicorn(url, timeout=120, PORTAL_API_RATE_LIMIT="1000000 per minute") as port:
        _ready(port)
        for _ in range(8):  # every worker warm, not just the first to answer
            _ready(port)
        lists(report, port, made["admin"])
        batches(report, port, made["pm"])


if __name__ == "__main__":
    r = Report()
    run(r)
    r.print_rows()
