"""Background jobs with a real worker process (SPEC §6 "Background work").

These tests cannot use the ``app`` fixture (its transaction never commits, so no worker
could see a job): they run on a fresh database of the suite's backend, migrated to head,
with the backend production uses there — Procrastinate on PostgreSQL, the jobs table on
SQLite — and ``flask jobs work`` in a separate process, which a test may kill -9.
"""
from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import EnvironBuilder

from portal import create_app
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment, Participant
from portal.jobs.models import Job
from portal.jobs.runner import crashed_message
from tests.conftest import REPO_ROOT, migrate_to_head, sign_in_client
from tests.factories import Factory
from tests.helpers import csrf_token

STALL_SECONDS = 2


@dataclass
class JobsWorld:
    app: Flask
    url: str
    make: Factory
    pm: object
    program: object
    company: object

    def worker(self, *args: str) -> subprocess.Popen:
        env = {**os.environ, "FLASK_APP": "portal", "PORTAL_ENV": "testing", "TEST_DATABASE_URL": self.url,
               "PORTAL_TEST_JOBS": "", "PORTAL_JOBS_STALL_SECONDS": str(STALL_SECONDS)}
        return subprocess.Popen([sys.executable, "-m", "flask", "jobs", "work", *args], cwd=REPO_ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def work_until_empty(self) -> str:
        done = self.worker("--burst")
        out, _ = done.communicate(timeout=180)
        assert done.returncode == 0, out.decode()
        return out.decode()

    def job(self, job_id: int) -> Job:
        with self.app.app_context():
            job = db.session.get(Job, job_id)
            db.session.expunge(job)
            return job

    def imported(self, campaign_id: int) -> tuple[int, int, int]:
        with self.app.app_context():
            rows = db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                                     .where(Enrollment.campaign_id == campaign_id))
            campaign = db.session.get(Campaign, campaign_id)
            return rows, campaign.enrolled_count, campaign.waitlisted_count


@pytest.fixture(scope="module")
def world(fresh_database_url) -> Iterator[JobsWorld]:
    url = fresh_database_url("jobs")
    migrate_to_head(url)
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PORTAL_JOBS="", RATELIMIT_ENABLED=False,
                     PORTAL_JOBS_STALL_SECONDS=STALL_SECONDS)
    make = Factory(app)
    company = make.company(name="Jobs AS")
    world = JobsWorld(app, url, make, make.user(role="program_manager", name="Pia Jobs"),
                      make.program(group=make.group(age_min=16, age_max=80, languages=["uk"])), company)
    yield world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def people(n: int, label: str) -> bytes:
    return ("email,display_name,year_of_birth,languages\n"
            + "".join(f"{label}{i}@example.org,{label} {i},1990,uk\n" for i in range(n))).encode()


def upload(client, campaign_id: int, data: bytes):
    token = csrf_token(client, f"/campaigns/{campaign_id}/import")
    # Built by hand to close it: a large multipart body is spooled to a temporary file.
    builder = EnvironBuilder(path=f"/campaigns/{campaign_id}/import", method="POST",
                             data={"csrf_token": token, "file": (io.BytesIO(data), "people.csv")})
    try:
        return client.open(builder)
    finally:
        builder.close()


def job_id_of(response) -> int:
    assert response.status_code == 303, response.status_code
    return int(re.fullmatch(r"/jobs/(\d+)", response.headers["Location"]).group(1))


def test_the_request_only_records_the_job_and_a_worker_process_runs_it(world):
    camp = world.make.campaign(world.company, world.program, max_enrollment=1000)
    client = sign_in_client(world.app, world.pm)
    job_id = job_id_of(upload(client, camp.id, people(30, "early")))
    waiting = client.get(f"/jobs/{job_id}")
    html = waiting.get_data(as_text=True)
    assert waiting.status_code == 200 and "Waiting for a worker" in html
    assert f'hx-get="/jobs/{job_id}"' in html and 'hx-trigger="every 1s"' in html  # polls with JavaScript…
    assert '<noscript><meta http-equiv="refresh"' in html  # …and refreshes itself without
    world.work_until_empty()
    done = client.get(f"/jobs/{job_id}")
    assert done.status_code == 303 and "/import/" in done.headers["Location"]
    dry_run = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "will enroll" in dry_run and "30 data rows checked" in dry_run
    confirm_url = re.search(r'action="(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/confirm)"', dry_run).group(1)
    confirm_job = job_id_of(client.post(confirm_url, data={"csrf_token": csrf_token(client, "/home")}))
    assert world.imported(camp.id) == (0, 0, 0)  # recorded, not run
    world.work_until_empty()
    assert world.imported(camp.id) == (30, 30, 0)
    landed = client.get(f"/jobs/{confirm_job}")
    assert landed.status_code == 303 and landed.headers["Location"] == f"/campaigns/{camp.id}"
    assert "Imported 30 rows" in client.get(landed.headers["Location"]).get_data(as_text=True)
    # Someone else's job is a 404, like one that never existed.
    other = sign_in_client(world.app, world.make.user(role="program_manager", name="Other PM"))
    assert other.get(f"/jobs/{confirm_job}").status_code == 404


# Werkzeug's test client spools a multi-megabyte multipart body to a temporary file it never closes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_worker_killed_mid_confirm_saves_nothing_and_the_job_runs_again(world):
    rows = 40_000
    camp, client, confirm_job = confirm_recorded(world, rows, "killed")
    worker = world.worker()
    try:
        wait_for(lambda: world.job(confirm_job).phase.startswith("Saving"), "the confirm to start saving")
        time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)  # mid-transaction: nothing may be half-saved
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=30)
        worker.stdout.close()
    killed = world.job(confirm_job)
    assert killed.status == "running" and killed.attempts == 1, (killed.status, killed.phase)
    assert world.imported(camp.id) == (0, 0, 0)
    page = client.get(f"/jobs/{confirm_job}").get_data(as_text=True)
    assert "Saving every row in one transaction" in page
    time.sleep(STALL_SECONDS + 1)  # no heartbeat from the dead worker for longer than the stall time
    world.work_until_empty()
    again = world.job(confirm_job)
    assert (again.status, again.attempts) == ("succeeded", 2)
    assert world.imported(camp.id) == (rows, rows, 0)


# Werkzeug's test client spools a multi-megabyte multipart body to a temporary file it never closes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_reader_sees_none_of_an_import_or_all_of_it_never_a_part(world):
    """The confirm is one transaction: read from another connection while a worker process
    saves 30,000 rows, every count is 0 or 30,000 (SPEC §7: a confirmed file lands whole)."""
    rows = 30_000
    camp, _, confirm_job = confirm_recorded(world, rows, "whole")
    seen: list[tuple[str, str, int, int]] = []  # (job status, phase, enrollments, participants) as read
    worker = world.worker()
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            job = world.job(confirm_job)
            with world.app.app_context():  # one statement, so both counts come from one snapshot
                counted, people_made = db.session.execute(sa.select(
                    sa.select(sa.func.count()).select_from(Enrollment).where(Enrollment.campaign_id == camp.id)
                    .scalar_subquery(),
                    sa.select(sa.func.count()).select_from(Participant).where(Participant.email.like("whole%"))
                    .scalar_subquery())).one()
            seen.append((job.status, job.phase or "", counted, people_made))
            if job.status in ("succeeded", "failed"):
                break
            time.sleep(0.01)
    finally:
        worker.kill()
        worker.wait(timeout=30)
        worker.stdout.close()
    assert seen[-1][0] == "succeeded", seen[-1]
    assert {(n, m) for _, _, n, m in seen} <= {(0, 0), (rows, rows)}, sorted({(n, m) for _, _, n, m in seen})
    # Read while the worker was inside its one transaction, and nothing of it was visible yet.
    assert any(status == "running" and phase.startswith("Saving") and n == 0 for status, phase, n, _ in seen)
    assert world.imported(camp.id) == (rows, rows, 0)


def test_a_job_whose_workers_keep_dying_fails_and_says_why(world):
    camp = world.make.campaign(world.company, world.program, max_enrollment=100)
    client = sign_in_client(world.app, world.pm)
    job_id = job_id_of(upload(client, camp.id, people(3, "doomed")))
    with world.app.app_context():  # as left by two workers killed in turn
        db.session.execute(sa.update(Job).where(Job.id == job_id).values(attempts=2))
        db.session.commit()
    world.work_until_empty()
    failed = world.job(job_id)
    with world.app.app_context():
        assert failed.status == "failed" and failed.error == crashed_message(2)
    assert failed.error.startswith("The worker running this job stopped 2 times,")
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "It did not work" in page.get_data(as_text=True)
    assert "Nothing was saved" in page.get_data(as_text=True)


def wait_for(condition, what: str, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.05)


def confirm_recorded(world: JobsWorld, rows: int, label: str) -> tuple[Campaign, object, int]:
    """A campaign with room for ``rows`` people, a file of them uploaded and its dry run run by
    a worker, and the confirm's job recorded (not run): the campaign, the client and the job's id."""
    camp = world.make.campaign(world.company, world.program, max_enrollment=rows)
    client = sign_in_client(world.app, world.pm)
    upload(client, camp.id, people(rows, label))
    world.work_until_empty()
    token = _newest_dry_run(world, camp.id)
    confirm_job = job_id_of(client.post(f"/campaigns/{camp.id}/import/{token}/confirm",
                                        data={"csrf_token": csrf_token(client, "/home")}))
    return camp, client, confirm_job


def _newest_dry_run(world: JobsWorld, campaign_id: int) -> str:
    from portal.jobs.models import StoredFile

    with world.app.app_context():
        return db.session.scalar(sa.select(StoredFile.token).where(StoredFile.campaign_id == campaign_id)
                                 .order_by(StoredFile.id.desc()).limit(1))
