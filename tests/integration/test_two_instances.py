"""The portal on more than one machine (SPEC §6 "Beyond one machine"), end to end.

Two gunicorn instances of ``wsgi:app`` on two ports, configured as in production
(``PORTAL_ENV=production``, ``DATABASE_URL``, ``SECRET_KEY``, ``PORTAL_JOBS=procrastinate``,
``PORTAL_RATELIMIT_STORAGE_URI`` on Redis), share one PostgreSQL database and one Redis; jobs
run in ``flask jobs work`` processes. Everything goes through HTTP as a browser would, with
cookies carried by hand (production cookies are ``Secure``, these servers speak plain HTTP).

PostgreSQL only (``postgres`` marker: ``make test``'s second pass); the data is seeded through
the factories before the servers start, in one database for the module.
"""
from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment, Participant
from portal.jobs.models import Job
from tests.conftest import REPO_ROOT, ThrowawayRedis, migrate_to_head
from tests.factories import TEST_PASSWORD, Factory

pytestmark = pytest.mark.postgres

RACERS = 200
CAP = 50
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
                   r'|<meta name="csrf-token" content="([^"]+)"')


# --- a browser without a browser -------------------------------------------------------
@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def location(self) -> str:
        return urlsplit(self.headers.get("Location", "")).path


@dataclass
class Browser:
    """One person's cookies, sent to whichever instance the next request goes to."""

    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, base: str, method: str, path: str, body: bytes | None = None,
                content_type: str | None = None) -> Answer:
        host, port = urlsplit(base).hostname, urlsplit(base).port
        conn = http.client.HTTPConnection(host, port, timeout=120)
        headers = {"Host": f"{host}:{port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            conn.close()
        for raw in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(raw).items():
                if morsel.value == "" or morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return answer

    def get(self, base: str, path: str) -> Answer:
        return self.request(base, "GET", path)

    def post(self, base: str, path: str, data: dict[str, str]) -> Answer:
        return self.request(base, "POST", path, urlencode(data).encode(), "application/x-www-form-urlencoded")

    def upload(self, base: str, path: str, fields: dict[str, str], filename: str, content: bytes) -> Answer:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(base, "POST", path, b"".join(parts), f"multipart/form-data; boundary={boundary}")

    def csrf(self, base: str, path: str) -> str:
        page = self.get(base, path)
        match = _CSRF.search(page.body)
        assert page.status == 200 and match, f"no CSRF token on {path} ({page.status})"
        return next(g for g in match.groups() if g)

    def sign_in(self, base: str, email: str, password: str = TEST_PASSWORD) -> Answer:
        token = self.csrf(base, "/sign-in")
        return self.post(base, "/sign-in", {"csrf_token": token, "email": email, "password": password})


# --- the cluster -------------------------------------------------------------------------
@dataclass
class Cluster:
    a: str
    b: str
    env_a: dict[str, str]
    env_b: dict[str, str]
    app: object
    redis: ThrowawayRedis
    pm_email: str
    campaign_id: int
    race_campaign_id: int
    import_campaign_id: int

    def work(self, env: dict[str, str]) -> str:
        """A ``flask jobs work --burst`` process with ``env``: runs what is queued, then stops."""
        done = subprocess.run([sys.executable, "-m", "flask", "jobs", "work", "--burst"], cwd=REPO_ROOT,
                              env={**env, "FLASK_APP": "portal"}, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def job(self, job_id: int) -> Job:
        with self.app.app_context():
            job = db.session.get(Job, job_id)
            db.session.expunge(job)
            return job

    def enrollments(self, campaign_id: int) -> tuple[Counter[str], int]:
        """Rows by status, and the campaign's seat counter."""
        with self.app.app_context():
            rows = db.session.scalars(sa.select(Enrollment.status).where(Enrollment.campaign_id == campaign_id))
            return Counter(rows), db.session.get(Campaign, campaign_id).enrolled_count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """One instance on a free port, ready (``/healthz`` answers); retried if the port was taken."""
    for _ in range(5):
        port = _free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind", f"127.0.0.1:{port}",
                 "--workers", "2", "--threads", "4", "--timeout", "120", "wsgi:app"],
                cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + 60
        while time.monotonic() < end and process.poll() is None:
            try:
                if Browser().get(base, "/healthz").status == 200:
                    return process, base
            except OSError:
                time.sleep(0.1)
        _stop(process)
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(*processes: subprocess.Popen) -> None:
    running = [p for p in processes if p.poll() is None]
    for process in running:  # all at once: each takes a second or so to wind down
        process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown (SIGTERM waits for idle keep-alives)
    for process in running:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(fresh_database_url, redis_server: ThrowawayRedis, tmp_path_factory) -> Iterator[Cluster]:
    url = fresh_database_url("two")
    migrate_to_head(url)
    redis_server.flush()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, RATELIMIT_ENABLED=False)
    make = Factory(app)
    company = make.company(name="Twin Instances AS")
    pm = make.user(role="program_manager", name="Pia Twin")
    make.user(role="company_admin", company=company, name="Tor Twin", email="tor.twin@example.org")
    program = make.program(group=make.group(age_min=16, age_max=80, languages=["uk"]))
    campaign = make.campaign(company, program, max_enrollment=1000)
    for i in range(3):
        make.enrollment(campaign, make.participant(display_name=f"Exported {i}", languages=["uk"]))
    race = make.campaign(company, program, max_enrollment=CAP, target_enrollment=CAP, waitlist_enabled=False)
    imports = make.campaign(company, program, max_enrollment=1000)
    with app.app_context(), transaction():
        db.session.execute(sa.insert(Participant),
                           [{"display_name": f"Racer {i}", "languages": ["uk"]} for i in range(RACERS)])

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "PYTEST_", "FLASK_"))}
    env.update({"PORTAL_ENV": "production", "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32),
                "PORTAL_RATELIMIT_STORAGE_URI": redis_server.url(), "PORTAL_JOBS": "procrastinate",
                "PORTAL_JOBS_EMBEDDED_WORKER": "0"})
    logs = tmp_path_factory.mktemp("gunicorn")
    env_a, env_b = dict(env), dict(env)  # stateless instances: the same settings, another port
    servers: list[subprocess.Popen] = []
    try:
        process_a, a = _gunicorn(env_a, logs / "a.log")
        servers.append(process_a)
        process_b, b = _gunicorn(env_b, logs / "b.log")
        servers.append(process_b)
        yield Cluster(a, b, env_a, env_b, app, redis_server, pm.email, campaign.id, race.id, imports.id)
    finally:
        _stop(*servers)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def signed_in(cluster: Cluster, base: str) -> Browser:
    browser = Browser()
    answer = browser.sign_in(base, cluster.pm_email)
    assert answer.status == 302 and answer.location == "/home", (answer.status, answer.body[:500])
    return browser


# --- (a) sign-out ------------------------------------------------------------------------
def test_signing_out_on_one_instance_ends_the_session_on_the_other(cluster: Cluster) -> None:
    browser = signed_in(cluster, cluster.a)
    assert browser.get(cluster.b, "/home").status == 200  # one session, any instance
    old_cookies = dict(browser.cookies)
    signed_out = browser.post(cluster.a, "/sign-out", {"csrf_token": browser.csrf(cluster.a, "/home")})
    assert signed_out.status == 302 and signed_out.location == "/sign-in"
    replayed = Browser(cookies=old_cookies).get(cluster.b, "/home")  # a copy of the cookie from before
    assert replayed.status in (302, 303) and replayed.location == "/sign-in", replayed.status


# --- (c) the cap under racing requests to both instances ---------------------------------
def test_two_hundred_racing_enrollments_over_both_instances_stop_exactly_at_the_cap(cluster: Cluster) -> None:
    with cluster.app.app_context():
        people = list(db.session.scalars(sa.select(Participant.id).where(Participant.display_name.like("Racer %"))
                                         .order_by(Participant.id)))
    assert len(people) == RACERS
    path = f"/campaigns/{cluster.race_campaign_id}/enroll"
    sessions = [(base, browser, browser.csrf(base, path))
                for base, browser in ((b, signed_in(cluster, b)) for b in (cluster.a, cluster.b))]

    def enroll(i: int) -> int:
        base, browser, token = sessions[i % 2]  # every other request to the other instance
        return browser.post(base, path, {"csrf_token": token, "participant_id": str(people[i]),
                                         "role": "beneficiary"}).status

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(enroll, range(RACERS)))
    assert statuses == Counter({303: CAP, 409: RACERS - CAP}), statuses
    by_status, enrolled_count = cluster.enrollments(cluster.race_campaign_id)
    assert by_status == Counter({"active": CAP}) and enrolled_count == CAP


# --- (d) an import started on one instance, confirmed on the other -----------------------
def test_an_import_dry_run_started_on_one_instance_is_confirmed_on_the_other(cluster: Cluster) -> None:
    browser = signed_in(cluster, cluster.a)
    path = f"/campaigns/{cluster.import_campaign_id}/import"
    csv = ("email,display_name,year_of_birth,languages\n"
           + "".join(f"twin{i}@example.org,Twin {i},1990,uk\n" for i in range(25))).encode()
    started = browser.upload(cluster.a, path, {"csrf_token": browser.csrf(cluster.a, path)}, "people.csv", csv)
    assert started.status == 303 and re.fullmatch(r"/jobs/\d+", started.location), started.status
    dry_run_job = started.location
    log = cluster.work(cluster.env_b)
    done = browser.get(cluster.b, dry_run_job)  # the job's page on the other instance leads to the dry run
    assert done.status == 303 and "/import/" in done.location, (done.status, log[-3000:])
    dry_run = browser.get(cluster.b, done.location)
    assert dry_run.status == 200 and "25 data rows checked" in dry_run.body
    confirm_url = re.search(r'action="(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/confirm)"', dry_run.body).group(1)
    confirmed = browser.post(cluster.b, confirm_url, {"csrf_token": browser.csrf(cluster.b, "/home")})
    assert confirmed.status == 303 and re.fullmatch(r"/jobs/\d+", confirmed.location)
    assert cluster.enrollments(cluster.import_campaign_id) == (Counter(), 0)  # recorded, not yet run
    log = cluster.work(cluster.env_a)
    assert cluster.enrollments(cluster.import_campaign_id) == (Counter({"active": 25}), 25), log[-3000:]
    landed = browser.get(cluster.a, confirmed.location)
    assert landed.status == 303 and landed.location == f"/campaigns/{cluster.import_campaign_id}"


# --- (e) a job deferred by one instance, run by a worker of the other ----------------------
def test_a_job_deferred_by_one_instance_is_run_by_a_worker_of_the_other(cluster: Cluster) -> None:
    browser = signed_in(cluster, cluster.a)
    started = browser.post(cluster.a, f"/campaigns/{cluster.campaign_id}/export",
                           {"csrf_token": browser.csrf(cluster.a, "/home")})
    assert started.status == 303 and re.fullmatch(r"/jobs/\d+", started.location), started.status
    job_id = int(started.location.rsplit("/", 1)[1])
    assert cluster.job(job_id).status == "queued"
    with cluster.app.app_context():
        deferred = db.session.execute(sa.text("SELECT status FROM procrastinate_jobs WHERE task_name = 'portal.run_job'"
                                              " AND (args->>'job_id')::int = :id"), {"id": job_id}).scalars().all()
    assert deferred == ["todo"]  # in Procrastinate's queue (PostgreSQL), waiting for any worker
    waiting = browser.get(cluster.b, started.location)
    assert waiting.status == 200 and "Waiting for a worker" in waiting.body
    log = cluster.work(cluster.env_b)  # started with the other instance's environment, after the defer
    ran = cluster.job(job_id)
    assert ran.status == "succeeded", (ran.status, ran.error, log[-3000:])
    page = browser.get(cluster.b, started.location)
    assert page.status == 200 and f'href="/jobs/{job_id}/download"' in page.body
    download = browser.get(cluster.b, f"/jobs/{job_id}/download")
    assert download.status == 200 and download.body.count("Exported ") == 3


# --- (b) the sign-in limit (last: it uses up the limit of 127.0.0.1) ----------------------
def test_failed_sign_ins_on_one_instance_count_on_the_other(cluster: Cluster) -> None:
    wrong = "not-the-password"
    on_a = [Browser().sign_in(cluster.a, cluster.pm_email, wrong).status for _ in range(5)]
    on_b = [Browser().sign_in(cluster.b, cluster.pm_email, wrong).status for _ in range(5)]
    assert on_a + on_b == [422] * 10
    # Ten failures, five on each: the limit (10 per address per minute, 10 per account) is used up on both.
    assert Browser().sign_in(cluster.b, cluster.pm_email, wrong).status == 429
    assert Browser().sign_in(cluster.a, cluster.pm_email).status == 429  # even the right password waits
    # The counts live in Redis alone: emptied there, both instances let the user in again.
    cluster.redis.flush()
    assert Browser().sign_in(cluster.b, cluster.pm_email).status == 302
