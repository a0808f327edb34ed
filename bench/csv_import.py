"""CSV import and export of 100,000 rows through HTTP, the way a user does it (issue #14).

gunicorn serves ``wsgi:app`` with its default timeout and a separate ``flask jobs work``
process runs the jobs (Procrastinate on PostgreSQL, the jobs table on SQLite), as in
production. A client signs in, uploads the file, follows the job page polling once a second
as the page's htmx does, confirms the dry run, polls again until the rows are committed,
then exports the campaign and downloads the file. Printed: every phase as the job page
showed it, the slowest request, and the worker's peak RSS (``VmHWM``).

Beside it, a bare Core insert of as many participant rows: the floor.
SQLite always; PostgreSQL when its binaries are present.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bench.harness import DATABASES, Report, each_database

ROOT = Path(__file__).resolve().parent.parent
ROWS = 100_000
TARGET_MS = 20_000  # upload → committed, through the server
EXPORT_TARGET_MS = 5_000
SLOWEST_REQUEST_TARGET_MS = 1_000
WORKER_RSS_TARGET_MB = 300
POLL_SECONDS = 1.0  # what templates/jobs/detail.html asks htmx for
JOB_DEADLINE_SECONDS = 900  # a job still running after this is reported, never waited on forever


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


def _scene(url: str) -> tuple[int, str]:
    """A company, program and active, uncapped campaign, and a program manager to sign in as."""
    from tests.factories import Factory

    app = _app(url)
    make = Factory(app)
    program = make.program(template=make.template(), group=make.group(age_min=16, age_max=80))
    campaign = make.campaign(make.company(name="Bench Company"), program, name="Bench Campaign",
                             start_date=date(2026, 1, 1))
    pm = make.user(role="program_manager", name="Bench PM", email="pm@bench.example")
    with app.app_context():
        from portal.db import db
        db.engine.dispose()
    return campaign.id, pm.email


def main_text(body: bytes) -> str:
    """What a page's <main> says, as text: the message of a benchmark that went wrong."""
    main = body.decode(errors="replace").split("<main", 1)[-1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))[:3000]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Client:
    """A signed-in browser, as far as the server can tell: one cookie, every request timed."""

    port: int
    cookie: str = ""
    timings: list[tuple[float, str]] = field(default_factory=list)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        start = time.perf_counter()
        conn.request(method, path, body=body, headers={**({"Cookie": self.cookie} if self.cookie else {}),
                                                       **(headers or {})})
        response = conn.getresponse()
        data = response.read()
        self.timings.append(((time.perf_counter() - start) * 1000, f"{method} {path}"))
        conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("session="):
                self.cookie = value.split(";")[0]
        return response.status, dict(response.headers), data

    def csrf(self, path: str) -> str:
        _, _, body = self.request("GET", path)
        return re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1).decode()

    def sign_in(self, email: str) -> None:
        from tests.factories import TEST_PASSWORD

        token = self.csrf("/sign-in")
        status, _, _ = self.request("POST", "/sign-in", f"csrf_token={token}&email={email}&password={TEST_PASSWORD}"
                                    .encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, status

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def upload(self, path: str, fields: dict[str, str], filename: str, data: bytes):
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                     f"Content-Type: text/csv\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def follow_job(self, job_path: str, phases: dict[str, float], began: float) -> str:
        """Poll the job's status fragment as htmx does until it forwards (HX-Redirect) or ends;
        note when each phase was first shown. Returns where the job leads."""
        deadline = time.perf_counter() + JOB_DEADLINE_SECONDS
        while True:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{job_path} still running after {JOB_DEADLINE_SECONDS} s")
            status, headers, body = self.request("GET", job_path, headers={"HX-Request": "true"})
            if headers.get("HX-Redirect"):
                return headers["HX-Redirect"]
            text = body.decode()
            assert status == 200, (status, text[:500])
            phase = re.search(r'<h2 id="job-phase">([^<]+)</h2>', text).group(1).rstrip("…")
            phases.setdefault(phase, (time.perf_counter() - began) * 1000)
            if phase in ("Done", "It did not work"):
                return job_path
            time.sleep(POLL_SECONDS)

    def import_file(self, path: str, data: bytes, filename: str) -> tuple[dict[str, float], str]:
        """Upload ``data`` on the import page at ``path``, follow the dry run, confirm it and
        follow the confirm, as a user does. Returns when each phase was first shown (ms from
        the upload) and where the finished confirm leads."""
        token = self.csrf(path)
        self.timings.clear()
        phases: dict[str, float] = {}
        began = time.perf_counter()
        status, headers, body = self.upload(path, {"csrf_token": token}, filename, data)
        assert status == 303, (status, body[:500])
        phases["uploaded"] = (time.perf_counter() - began) * 1000
        dry_run_page = self.follow_job(headers["Location"], phases, began)
        _, _, body = self.request("GET", dry_run_page)
        phases["dry run shown"] = (time.perf_counter() - began) * 1000
        action = re.search(rb'action="(' + re.escape(path.encode()) + rb'/[A-Za-z0-9_-]{43}/confirm)"', body)
        assert action, body[:3000]
        status, headers, _ = self.post_form(action.group(1).decode(), {"csrf_token": token})
        assert status == 303, status
        phases["confirmed"] = (time.perf_counter() - began) * 1000
        done_at = self.follow_job(headers["Location"], phases, began)
        phases["committed"] = (time.perf_counter() - began) * 1000
        return phases, done_at


@dataclass
class Servers:
    url: str
    web: subprocess.Popen
    worker: subprocess.Popen
    port: int
    worker_log: Path

    @classmethod
    def start(cls, url: str) -> Servers:
        port = _free_port()
        env = {**os.environ, "PORTAL_ENV": "production", "SECRET_KEY": "bench-" + "k" * 40, "DATABASE_URL": url,
               "PORTAL_SIGNIN_RATE_LIMIT": "1000 per minute", "PORTAL_JOBS_EMBEDDED_WORKER": "0", "FLASK_APP": "wsgi"}
        # gunicorn's defaults (sync workers, 30 s timeout), two workers for the two cores.
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                                "--no-control-socket", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
        # The worker's log goes to a file: a pipe nobody reads fills up (64 KiB) and then blocks
        # the worker mid-job, which looked like a hung import on PostgreSQL.
        log = tempfile.NamedTemporaryFile(prefix="bench-worker-", suffix=".log", delete=False)  # noqa: SIM115
        worker = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "work"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        return cls(url, web, worker, port, Path(log.name))

    def worker_log_tail(self, chars: int = 3000) -> str:
        return self.worker_log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """Stop both servers; the worker's log is printed when it says something went wrong."""
        tail = self.worker_log_tail()
        if "Traceback" in tail or "ERROR" in tail:
            print(f"--- job worker log (tail) ---\n{tail}", file=sys.stderr)
        self.worker_log.unlink(missing_ok=True)
        for process in (self.web, self.worker):
            process.send_signal(signal.SIGTERM)
        for process in (self.web, self.worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def time_import_over_http(report: Report, label: str, url: str, data: bytes) -> None:
    """Upload → dry run → confirm → committed, then the export, through gunicorn."""
    campaign_id, email = _scene(url)
    servers = Servers.start(url)
    try:
        client = Client(servers.port)
        client.sign_in(email)
        phases, done_at = client.import_file(f"/campaigns/{campaign_id}/import", data, "bench.csv")
        elapsed = phases["committed"]
        _, _, body = client.request("GET", done_at)
        assert b"Imported 100,000 rows" in body, main_text(body)
        slowest, slowest_path = max(client.timings)

        export_began = time.perf_counter()
        status, headers, _ = client.post_form(f"/campaigns/{campaign_id}/export",
                                              {"csrf_token": client.csrf(f"/campaigns/{campaign_id}")})
        assert status == 303, status
        job_path = client.follow_job(headers["Location"], {}, export_began)
        _, _, body = client.request("GET", f"{job_path}/download")
        export_ms = (time.perf_counter() - export_began) * 1000
        assert body.count(b"\n") == ROWS + 1, body[:300]
        rss = _peak_rss_mb(servers.worker.pid)
    finally:
        servers.stop()

    report.add(f"csv import 100k rows over HTTP ({label})", elapsed, TARGET_MS)
    for phase, at in phases.items():  # when the page first showed each phase, from the upload
        report.add(f"  {label} import: {phase} (at)", at, None)
    report.add(f"csv import ({label}): slowest request", slowest, SLOWEST_REQUEST_TARGET_MS)
    print(f"slowest request ({label}): {slowest:.0f} ms {slowest_path}", file=sys.stderr)
    report.add(f"csv import ({label}): job worker peak RSS", rss, WORKER_RSS_TARGET_MB, unit="MB")
    report.add(f"csv export 100k rows over HTTP ({label})", export_ms, EXPORT_TARGET_MS)


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


def run(report: Report, databases: tuple[str, ...] = DATABASES) -> None:
    data = make_csv()
    for label, new_url in each_database(databases):
        time_import_over_http(report, label, new_url("bench_import"), data)
        report.add(f"bare Core insert 100k rows ({label})", time_bare_insert(new_url("bench_bare")), None)

if __name__ == "__main__":  # a quick look without touching bench/results.json
    report = Report()
    run(report, tuple(sys.argv[1:]) or DATABASES)
    report.print_rows()
