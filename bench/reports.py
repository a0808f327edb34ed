"""Impact figures and reports at a million deliveries (issue #16).

On the progress benchmark's database (5,000 campaigns, 1M deliveries; built once per run, or
the one ``PORTAL_BENCH_PROGRESS_DB`` names), 100 of the campaigns move to a second company
and the program pins a valuation set. Then:

- in-process (test client): a campaign's impact page (points and SROI with their "why this
  number" tables) p95 — target 50 ms; the company report across its 100 campaigns for the
  year — target 200 ms; one campaign's report;
- through gunicorn on loopback (one client, as a user clicks): the company report, and the
  PDF of a frozen campaign report and of the company's — target 3 s each.
"""
from __future__ import annotations

import gc
import os
import random
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from bench.harness import Report, percentile, time_ms
from bench.progress import million_deliveries

ROOT = Path(__file__).resolve().parent.parent
COMPANY_CAMPAIGNS = 100
IMPACT_TARGET_MS, COMPANY_REPORT_TARGET_MS, PDF_TARGET_MS = 50, 200, 3_000


def _prepare(url: str) -> dict:
    """A second company owning 100 campaigns, its admin, and a valuation set pinned to the
    program (idempotent: a reused database is prepared once)."""
    from portal import create_app
    from portal.auth.models import Company, User
    from portal.auth.passwords import hash_password
    from portal.campaigns.models import Campaign
    from portal.db import db, utcnow
    from portal.impact.models import ValuationEntry, ValuationSet
    from portal.programs.models import Program
    from tests.factories import TEST_PASSWORD

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        company = db.session.scalars(sa.select(Company).where(Company.name == "Report Bench Co")).first()
        if company is None:
            company = Company(key="report-bench-co", name="Report Bench Co", country="NO")
            db.session.add(company)
            db.session.flush()
            db.session.add(User(email="reports-admin@bench.example", name="Report Admin", role="company_admin",
                                company_id=company.id, password_hash=hash_password(TEST_PASSWORD)))
            ids = list(db.session.scalars(sa.select(Campaign.id).order_by(Campaign.id).limit(COMPANY_CAMPAIGNS)))
            db.session.execute(sa.update(Campaign).where(Campaign.id.in_(ids))
                               .values(company_id=company.id, currency="NOK", budget_allocated=5_000_000))
            valuation = ValuationSet(key="bench-values", name="Bench values", currency="NOK", status="active",
                                     version=1, discount_rate=Decimal("3.5"), activated_at=utcnow())
            valuation.entries = [
                ValuationEntry(outcome_type="delivery", outcome="session_completed", proxy_minor=45_000,
                               source_text="Bench figure", source_url="", deadweight=20, attribution=10,
                               displacement=5, drop_off=30, duration_years=2),
                ValuationEntry(outcome_type="completion", outcome="program_completed", proxy_minor=1_500_000,
                               source_text="Bench figure", source_url="", deadweight=25, attribution=20,
                               displacement=0, drop_off=50, duration_years=3)]
            db.session.add(valuation)
            db.session.flush()
            db.session.execute(sa.update(Program).values(valuation_set_id=valuation.id))
            db.session.commit()
        campaigns = list(db.session.scalars(sa.select(Campaign.id).where(Campaign.company_id == company.id)
                                            .order_by(Campaign.id)))
        pm = db.session.scalars(sa.select(User).where(User.role == "program_manager")).first()
        admin = db.session.scalars(sa.select(User).where(User.email == "reports-admin@bench.example")).one()
        db.session.expunge_all()
        db.engine.dispose()
    return {"company": company.id, "campaigns": campaigns, "pm": pm, "admin": admin, "app": app}


def _freeze(client, path: str, period: str) -> int:
    from tests.helpers import csrf_token

    response = client.post(f"{path}/snapshots", data={"csrf_token": csrf_token(client, path), "period": period})
    assert response.status_code == 303, response.status_code
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def in_process(report: Report, scene: dict, year: str) -> tuple[int, int]:
    from tests.conftest import sign_in_client

    app, rng = scene["app"], random.Random(16)
    admin = sign_in_client(app, scene["admin"])
    gc.collect()
    gc.freeze()  # as wsgi.py does once the app is built: long-lived objects out of the collector's way
    picks = iter([rng.choice(scene["campaigns"]) for _ in range(300)])

    def impact_page():
        response = admin.get(f"/campaigns/{next(picks)}/impact")
        assert response.status_code == 200, response.status_code

    report.add_samples("reports: campaign impact page, 1M deliveries (company admin)", time_ms(impact_page, 100),
                       IMPACT_TARGET_MS)

    def company_report():
        response = admin.get(f"/reports/companies/{scene['company']}?period={year}")
        assert response.status_code == 200 and b"Impact in" in response.data, response.status_code

    report.add_samples(f"reports: company report, {COMPANY_CAMPAIGNS} campaigns, a year", time_ms(company_report, 30),
                       COMPANY_REPORT_TARGET_MS)

    def campaign_report():
        response = admin.get(f"/reports/campaigns/{next(picks)}?period={year}")
        assert response.status_code == 200, response.status_code

    report.add_samples("reports: campaign report, a year", time_ms(campaign_report, 60), None)
    return (_freeze(admin, f"/reports/campaigns/{scene['campaigns'][0]}", year),
            _freeze(admin, f"/reports/companies/{scene['company']}", year))


def through_gunicorn(report: Report, url: str, scene: dict, year: str, snapshots: tuple[int, int]) -> None:
    from bench.csv_import import Client, _free_port

    port = _free_port()
    env = {**os.environ, "PORTAL_ENV": "production", "SECRET_KEY": "bench-" + "k" * 40, "DATABASE_URL": url,
           "PORTAL_SIGNIN_RATE_LIMIT": "1000 per minute", "PORTAL_JOBS_EMBEDDED_WORKER": "0"}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                               "--no-control-socket", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    try:
        client = Client(port)
        for _ in range(100):
            try:
                client.request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        client.sign_in("reports-admin@bench.example")
        samples = []
        for _ in range(20):
            began = time.perf_counter()
            status, _, _ = client.request("GET", f"/reports/companies/{scene['company']}?period={year}")
            samples.append((time.perf_counter() - began) * 1000)
            assert status == 200, status
        report.add(f"reports: company report over HTTP, {COMPANY_CAMPAIGNS} campaigns p95", percentile(samples, 95),
                   COMPANY_REPORT_TARGET_MS)
        for label, snapshot in zip(("campaign", "company"), snapshots, strict=True):
            pdf = []
            for _ in range(5):
                began = time.perf_counter()
                status, headers, body = client.request("GET", f"/reports/{snapshot}/report.pdf")
                pdf.append((time.perf_counter() - began) * 1000)
                assert status == 200 and body.startswith(b"%PDF-"), status
            report.add(f"reports: PDF of a {label} report over HTTP (median of 5)", statistics.median(pdf),
                       PDF_TARGET_MS)
    finally:
        server.terminate()
        server.wait(timeout=20)


def run(report: Report) -> None:
    from portal.db import utcnow

    url = million_deliveries(report)
    scene = _prepare(url)
    year = str(utcnow().year)
    snapshots = in_process(report, scene, year)
    through_gunicorn(report, url, scene, year, snapshots)


if __name__ == "__main__":  # a quick look without touching bench/results.json
    bench_report = Report()
    run(bench_report)
    bench_report.print_rows()
