"""Full-stack benchmark (issue 6): 1M enrollments across 5,000 campaigns of 50 companies.

1. In-process p50/p95 of the enrollment list, campaign list, catalog and home, shallow
   and deep pages, beside the bare SQL time of the same page (ratio).
2. Through gunicorn on loopback (4 workers) at 4 and 16 concurrent clients:
   p50/p95/p99, requests/s and errors.
Only loopback traffic, bounded in count and time.
"""
from __future__ import annotations

import http.client
import random
import re
import socket
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Report, gunicorn, percentile, time_ms

ROOT = Path(__file__).resolve().parent.parent
COMPANIES, CAMPAIGNS, ENROLLMENTS, BIG_CAMPAIGN = 50, 5_000, 1_000_000, 200_000
PASSWORD = "bench-password-123"


def build_database(url: str) -> dict:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.auth.passwords import hash_password
    from portal.configuration.masters import load_master
    from portal.db import db, utcnow
    from portal.enrollments.models import new_participant_ref
    from portal.models import (
        BeneficiaryGroup,
        Campaign,
        Company,
        Enrollment,
        Participant,
        Program,
        ProgramTemplate,
        User,
    )

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    rng = random.Random(7)
    started = time.perf_counter()
    with app.app_context():
        upgrade()
        now = utcnow()
        stamp = {"created_at": now, "updated_at": now, "lock_version": 1}
        master = load_master("language")
        db.session.execute(sa.insert(ProgramTemplate), [{
            "key": "language-practice", "version": 1, "name": "Language Practice", "description": "",
            "category": "language", "config_schema": master["config_schema"], "default_config": master["default_config"],
            "ui_schema": master["ui_schema"], "status": "active", "tags": [], "sdg_goals": [4, 10], **stamp}])
        db.session.execute(sa.insert(BeneficiaryGroup), [{
            "key": f"group-{i}", "name": f"Group {i}", "description": "", "group_type": "refugees",
            "country": rng.choice(["NO", "PL", "DE", "SE"]), "languages": ["uk", "en"], "language_requirement": "any",
            "eligible_categories": ["language"], "tags": [], "status": "active", **stamp} for i in range(200)])
        db.session.execute(sa.insert(Program), [{
            "key": f"program-{i}", "template_id": 1, "group_id": 1 + i % 200, "name": f"Language program {i}",
            "description": "Practice for newcomers", "config_overrides": {}, "status": "active",
            "visibility": "public", "tags": [], "sdg_goals": [4, 10], **stamp} for i in range(500)])
        db.session.execute(sa.insert(Company), [{"key": f"company-{i}", "name": f"Company {i}", "country": "NO",
                                                 **stamp} for i in range(COMPANIES)])
        pw = hash_password(PASSWORD)
        db.session.execute(sa.insert(User), [{"email": "pm@bench.example", "name": "Bench PM", "role": "program_manager",
                                              "company_id": None, "password_hash": pw, "is_enabled": True,
                                              "session_token": "pm-token", **stamp}] + [
            {"email": f"admin{i}@bench.example", "name": f"Admin {i}", "role": "company_admin", "company_id": i + 1,
             "password_hash": pw, "is_enabled": True, "session_token": f"admin-{i}", **stamp}
            for i in range(COMPANIES)])
        per_campaign = (ENROLLMENTS - BIG_CAMPAIGN) // (CAMPAIGNS - 1)
        campaigns = []
        for i in range(CAMPAIGNS):
            size = BIG_CAMPAIGN if i == 0 else per_campaign
            campaigns.append({"key": f"campaign-{i}", "program_id": 1 + i % 500, "company_id": 1 + i % COMPANIES,
                              "name": f"Campaign {i}", "description": "", "config_overrides": {}, "status": "active",
                              "start_date": date(2026, 1, 1), "max_enrollment": size + 50, "waitlist_enabled": True,
                              "currency": "EUR", "tags": [], "enrolled_count": size, "waitlisted_count": 0,
                              "created_at": now - timedelta(minutes=CAMPAIGNS - i), "updated_at": now,
                              "lock_version": 1})
        db.session.execute(sa.insert(Campaign), campaigns)
        participants = BIG_CAMPAIGN
        db.session.execute(sa.insert(Participant), [{
            "ref": new_participant_ref() + str(i), "display_name": f"Person {i}", "email": f"person{i}@bench.example",
            "languages": ["uk"], "is_enabled": True, **stamp} for i in range(participants)])
        db.session.commit()
        rows, base = [], now - timedelta(days=365)
        for c in range(CAMPAIGNS):
            size = BIG_CAMPAIGN if c == 0 else per_campaign
            offset = rng.randrange(participants)
            for k in range(size):
                when = base + timedelta(seconds=rng.randrange(365 * 86400))
                rows.append({"campaign_id": c + 1, "participant_id": 1 + (offset + k) % participants,
                             "role": "beneficiary", "status": "active", "enrolled_at": when, "source": "csv",
                             "metadata": {}, "created_at": when, "updated_at": when, "lock_version": 1})
                if len(rows) >= 50_000:
                    db.session.execute(sa.insert(Enrollment), rows)
                    rows.clear()
        if rows:
            db.session.execute(sa.insert(Enrollment), rows)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE")) if db.engine.dialect.name == "sqlite" else None
        db.session.commit()
        db.engine.dispose()
    return {"seconds": time.perf_counter() - started}


def in_process(report: Report, url: str) -> None:
    from portal import create_app
    from portal.db import db
    from portal.models import Campaign, Enrollment, User
    from tests.conftest import sign_in_client
    from tests.helpers import counting_statements

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    with app.app_context():
        pm = db.session.scalars(sa.select(User).where(User.email == "pm@bench.example")).one()
        admin = db.session.scalars(sa.select(User).where(User.email == "admin0@bench.example")).one()
        db.session.expunge_all()
    pm_client, admin_client = sign_in_client(app, pm), sign_in_client(app, admin)
    htmx = {"HX-Request": "true"}

    def deep_cursor(client, path, pages, headers=None):
        url_now = path
        for _ in range(pages):
            body = client.get(url_now, headers=headers or {}).get_data(as_text=True)
            found = re.search(r'href="([^"]*after=[^"]+)"', body)
            if not found:
                break
            url_now = found.group(1).replace("&amp;", "&")
        return url_now

    def measure(name, client, path, headers=None, sql=None):
        def call():
            response = client.get(path, headers=headers or {})
            assert response.status_code == 200, (path, response.status_code)
        samples = time_ms(call, 60)
        report.add_samples(f"in-process {name}", samples, 15)
        with counting_statements(app) as statements:
            call()
        report.add(f"in-process {name} SQL statements", len(statements), 6, unit="statements")
        if sql is not None:
            with app.app_context():
                bare = time_ms(lambda: db.session.execute(sql).all(), 60)
            ratio = statistics.median(samples) / max(statistics.median(bare), 1e-3)
            report.add(f"in-process {name} bare SQL p50", statistics.median(bare), None)
            report.add(f"in-process {name} page/SQL ratio", ratio, None, unit="x")

    def enrollments_sql(cursor_after=None):
        stmt = sa.select(Enrollment).where(Enrollment.campaign_id == 1)
        return stmt.order_by(Enrollment.created_at.desc(), Enrollment.id.desc()).limit(51)

    measure("enrollment list, first page", admin_client, "/campaigns/1", htmx, enrollments_sql())
    deep = deep_cursor(admin_client, "/campaigns/1", 200, htmx)
    measure("enrollment list, page 200", admin_client, deep, htmx)
    campaigns_sql = sa.select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(51)
    measure("campaign list, first page (PM)", pm_client, "/campaigns/", None, campaigns_sql)
    measure("campaign list, page 80 (PM)", pm_client, deep_cursor(pm_client, "/campaigns/", 80))
    measure("campaign list (company admin)", admin_client, "/campaigns/")
    if "catalog.index" in app.view_functions:
        measure("catalog, first page", admin_client, "/catalog/")
        measure("catalog, page 8", admin_client, deep_cursor(admin_client, "/catalog/", 8))
    measure("home (program manager)", pm_client, "/home")
    measure("home (company admin)", admin_client, "/home")
    with app.app_context():
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sign_in(port: int, email: str, password: str = PASSWORD) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/sign-in")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    form = f"csrf_token={token}&email={email}&password={password}"
    conn.request("POST", "/sign-in", body=form, headers={"Cookie": cookie,
                                                         "Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    assert response.status == 302, response.status
    return response.getheader("Set-Cookie").split(";")[0]


def load(port: int, cookie: str, paths: list[str], clients: int, seconds: float,
         headers: dict[str, str] | None = None) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            try:
                conn.request("GET", rng.choice(paths), headers={"Cookie": cookie, **(headers or {})})
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    bad += 1
            except (OSError, http.client.HTTPException):
                bad += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    return {"p50": statistics.median(latencies), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "rps": len(latencies) / elapsed, "errors": errors, "requests": len(latencies), "latencies": latencies}


def load_pair(port: int, cookie: str, paths: list[str], clients: int, seconds: float,
              headers: tuple[dict[str, str] | None, dict[str, str] | None], rounds: int = 6) -> tuple[dict, dict]:
    """Two requests of the same paths compared (e.g. the list fragment and the whole page),
    timed in alternating windows (``rounds`` of each, ``seconds`` in all for each): whatever
    else the machine does in the meantime weighs on both alike, where two windows one after
    the other could each meet a different machine."""
    rounds_of: tuple[list[dict], list[dict]] = ([], [])
    for _ in range(rounds):
        for kind, extra in enumerate(headers):
            rounds_of[kind].append(load(port, cookie, paths, clients, seconds / rounds, extra))
    return tuple(_pooled(figures) for figures in rounds_of)  # type: ignore[return-value]


def _pooled(rounds: list[dict]) -> dict:
    latencies = [ms for figures in rounds for ms in figures["latencies"]]
    elapsed = sum(figures["requests"] / figures["rps"] for figures in rounds if figures["rps"])
    return {"p50": statistics.median(latencies), "p95": percentile(latencies, 95), "p99": percentile(latencies, 99),
            "rps": len(latencies) / elapsed if elapsed else 0.0, "errors": sum(f["errors"] for f in rounds),
            "requests": len(latencies), "latencies": latencies}


def _has_route(port: int, cookie: str, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    return response.status == 200


def through_gunicorn(report: Report, url: str, seconds: float = 6.0) -> None:
    with gunicorn(url) as port:
        admin_cookie = _sign_in(port, "admin0@bench.example")
        pm_cookie = _sign_in(port, "pm@bench.example")
        htmx = {"HX-Request": "true"}
        pages = {"enrollment list": (admin_cookie, ["/campaigns/1"], htmx),  # the list as paging/filtering loads it
                 "campaign page with dashboard": (admin_cookie, ["/campaigns/1"], None),
                 "campaign list": (pm_cookie, ["/campaigns/"], None),
                 "home (program manager)": (pm_cookie, ["/home"], None)}
        if _has_route(port, pm_cookie, "/catalog/"):
            pages["catalog"] = (admin_cookie, ["/catalog/"], None)
        for name, (cookie, paths, headers) in pages.items():
            for clients in (4, 16):
                # The list's own targets (p95, req/s) from one steady window, twice as long.
                longer = clients == 4 and name == "enrollment list"
                figures = load(port, cookie, paths, clients, seconds * (2 if longer else 1), headers)
                label = f"gunicorn {name}, {clients} clients"
                report.add(f"{label} p50", figures["p50"], None)
                is_list = name in ("enrollment list", "campaign list", "catalog")
                report.add(f"{label} p95", figures["p95"], 25 if clients == 4 and is_list else None)
                report.add(f"{label} p99", figures["p99"], None)
                report.add(f"{label} req/s", figures["rps"], 250 if clients == 4 and is_list else None, unit="req/s",
                           better="higher")
                report.add(f"{label} errors", figures["errors"], 0, unit="requests")
        # Issue #14: the campaign page (dashboard + list) within 2× its list fragment, timed in
        # alternating windows (twice as long in all: a steadier p95 for the ratio).
        fragment, page = load_pair(port, admin_cookie, ["/campaigns/1"], 4, seconds * 2, (htmx, None))
        report.add("gunicorn campaign page p95 / enrollment list fragment p95, 4 clients",
                   page["p95"] / fragment["p95"], 2, unit="x")


def run(report: Report) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url = f"sqlite:///{workdir / 'fullstack.db'}"
    built = build_database(url)
    report.add("fullstack: build 1M enrollments (sqlite)", built["seconds"] * 1000, None)
    in_process(report, url)
    through_gunicorn(report, url)


if __name__ == "__main__":
    r = Report()
    run(r)
    r.print_and_save()

