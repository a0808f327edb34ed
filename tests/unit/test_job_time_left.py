"""The job page's "about N seconds left": a straight line through the rows done so far in
the current phase, never across phases (a confirm reads, checks, then saves every row)."""
from datetime import UTC, datetime, timedelta

from portal.jobs.models import Job

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def running(**kw) -> Job:
    kw.setdefault("heartbeat_at", NOW)
    return Job(kind="k", status="running", created_at=NOW - timedelta(minutes=5), **kw)


def test_the_estimate_is_measured_from_the_start_of_the_phase():
    # The job started 60 s ago; its saving phase 10 s ago, with a quarter of the rows done.
    job = running(started_at=NOW - timedelta(seconds=60), phase_started_at=NOW - timedelta(seconds=10),
                  done=25_000, total=100_000)
    assert job.seconds_left(NOW) == 30  # 10 s for 25k rows: 30 s for the 75k left (not 180 s)


def test_without_a_phase_start_the_job_start_is_used():
    job = running(started_at=NOW - timedelta(seconds=20), done=50, total=100)
    assert job.seconds_left(NOW) == 20


def test_no_estimate_before_the_first_row_or_after_the_last():
    assert running(started_at=NOW, phase_started_at=NOW, done=0, total=10).seconds_left(NOW) is None
    assert running(started_at=NOW - timedelta(seconds=5), done=10, total=10).seconds_left(NOW) is None
    assert Job(kind="k", status="queued", done=1, total=10, created_at=NOW).seconds_left(NOW) is None
