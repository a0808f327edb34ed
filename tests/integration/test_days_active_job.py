"""The daily progress job (SPEC §2.10): a milestone whose last threshold to hold is time
(``daysActive``) is recorded with no delivery, dated the day it became true; once; not
before its day nor without its counts; un-reached like any other when a delivery behind it
is voided; run by the database worker (``flask jobs work``) and registered as a periodic
Procrastinate task; writes one activity event per enrollment in the job's transaction, and
``flask progress daily [--date]`` runs the same function."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.deliveries.milestones import record_days_active_milestones
from portal.deliveries.models import Delivery, EnrollmentMilestone
from portal.enrollments.models import Enrollment

TODAY = utcnow().date()


def reached(enrollment_id: int) -> dict[str, tuple]:
    return {row.key: (row.reached_on, row.delivery_id) for row in db.session.scalars(
        sa.select(EnrollmentMilestone).where(EnrollmentMilestone.enrollment_id == enrollment_id))}


def scene(app, make, tenants, *, days_ago: int = 80, checkins: int = 12):
    """A buddy enrolled ``days_ago`` with 10 events and ``checkins`` check-ins recorded now:
    "connected" is reached by the deliveries; "integrated" (days 90) waits for its day."""
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    enrollment = make.enrollment(camp, make.participant(), enrolled_at=utcnow() - timedelta(days=days_ago))
    ids = []
    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        for kind, quantity in (("event_attended", 10), ("checkin_completed", checkins)):
            with transaction():
                ids.append(ops.record_delivery(pm, db.session.get(Enrollment, enrollment.id), kind=kind,
                                               occurred_on=TODAY - timedelta(days=1), quantity=quantity).id)
    return enrollment, ids


def run_job(app, today) -> int:
    with app.app_context(), transaction():
        return record_days_active_milestones(today)


def test_a_time_milestone_is_recorded_on_the_day_it_became_true_once(app, make, tenants):
    enrollment, _ = scene(app, make, tenants)
    enrolled_on = (utcnow() - timedelta(days=80)).date()
    with app.app_context():
        assert set(reached(enrollment.id)) == {"first_meeting", "connected"}
    assert run_job(app, TODAY + timedelta(days=5)) == 0  # day 85: not yet
    assert run_job(app, TODAY + timedelta(days=13)) == 1  # day 93: three days late, dated day 90
    with app.app_context():
        assert reached(enrollment.id)["integrated"] == (enrolled_on + timedelta(days=90), None)
        assert "thriving" not in reached(enrollment.id)  # its counts do not hold
    assert run_job(app, TODAY + timedelta(days=14)) == 0  # once


def test_without_its_counts_time_alone_reaches_nothing(app, make, tenants):
    enrollment, _ = scene(app, make, tenants, checkins=11)
    assert run_job(app, TODAY + timedelta(days=30)) == 0
    with app.app_context():
        assert "integrated" not in reached(enrollment.id)


def test_only_active_enrollments_and_voiding_a_delivery_behind_it_unreaches_it(app, make, tenants):
    enrollment, (events, checkins) = scene(app, make, tenants)
    dropped, _ = scene(app, make, tenants)
    with app.app_context(), transaction():
        gone = db.session.get(Enrollment, dropped.id)
        gone.status, gone.dropped_at = "dropped", utcnow()
    assert run_job(app, TODAY + timedelta(days=20)) == 1
    with app.app_context():
        assert "integrated" not in reached(dropped.id)
        with transaction():
            ops.void_delivery(db.session.get(User, tenants["pm"].id), db.session.get(Delivery, checkins),
                              reason="Entered twice", expected_version=None)
        assert set(reached(enrollment.id)) == {"first_meeting"}


def test_the_database_worker_runs_it(app, make, tenants):
    enrollment, _ = scene(app, make, tenants)
    with app.app_context(), transaction():  # time passes: enrolled 100 days ago now
        db.session.get(Enrollment, enrollment.id).enrolled_at = utcnow() - timedelta(days=100)
    from portal.jobs.queue import work_database

    with app.app_context():
        work_database(burst=True)
    with app.app_context():
        assert reached(enrollment.id)["integrated"] == ((utcnow() - timedelta(days=100)).date() + timedelta(days=90),
                                                        None)


def test_procrastinate_runs_it_daily(app):
    from portal.jobs.queue import procrastinate_app

    queue = procrastinate_app(app)
    assert "portal.days_active_milestones" in queue.tasks
    periodic = [p for p in queue.periodic_registry.periodic_tasks.values() if p.periodic_id == "days_active_milestones"]
    assert len(periodic) == 1 and periodic[0].cron == "5 0 * * *"


def milestone_events(enrollment_id: int) -> list[ActivityEvent]:
    return list(db.session.scalars(sa.select(ActivityEvent).where(
        ActivityEvent.type == "program.enrollment.milestone_reached", ActivityEvent.subject_type == "enrollments",
        ActivityEvent.subject_id == enrollment_id)))


def test_the_job_writes_one_event_per_enrollment_like_the_delivery_path(app, make, tenants, pm_client,
                                                                       admin_a_client):
    enrollment, _ = scene(app, make, tenants)
    assert run_job(app, TODAY + timedelta(days=5)) == 0
    with app.app_context():
        assert milestone_events(enrollment.id) == []  # nothing reached: no event
    assert run_job(app, TODAY + timedelta(days=13)) == 1
    assert run_job(app, TODAY + timedelta(days=14)) == 0
    enrolled_on = (utcnow() - timedelta(days=80)).date()
    with app.app_context():
        events = milestone_events(enrollment.id)
        assert len(events) == 1  # once, like the milestone itself
        event = events[0]
        assert event.actor_id is None and event.company_id == tenants["company_a"].id
        assert event.data["milestones_reached"] == ["integrated"]  # the key the delivery events carry
        assert event.data["reached_on"] == {"integrated": (enrolled_on + timedelta(days=90)).isoformat()}
        name = db.session.get(Enrollment, enrollment.id).participant.display_name
        assert name not in event.subject_label  # the company reads this event: a pseudonym only
    url = f"/campaigns/{enrollment.campaign_id}/enrollments/{enrollment.id}"
    assert "reached “Integrated”" in pm_client.get(url).get_data(as_text=True)
    admin_page = admin_a_client.get(url).get_data(as_text=True)
    assert "reached “Integrated”" in admin_page and name not in admin_page


def test_a_failing_job_leaves_neither_milestone_nor_event(app, make, tenants, monkeypatch):
    """The event is written in the job's transaction: when the job fails, neither stays."""
    from portal.deliveries import milestones as rules

    enrollment, _ = scene(app, make, tenants)

    def broken(*args, **kwargs):
        raise RuntimeError("the event could not be written")

    monkeypatch.setattr(rules, "_days_active_event", broken)
    try:
        run_job(app, TODAY + timedelta(days=13))
    except RuntimeError:
        pass
    with app.app_context():
        assert "integrated" not in reached(enrollment.id) and milestone_events(enrollment.id) == []


def test_flask_progress_daily_runs_the_same_job(app, make, tenants, runner):
    enrollment, _ = scene(app, make, tenants)
    early = runner.invoke(args=["progress", "daily", "--date", (TODAY + timedelta(days=5)).isoformat()])
    assert early.exit_code == 0, early.output
    assert "0 milestones recorded" in early.output
    done = runner.invoke(args=["progress", "daily", "--date", (TODAY + timedelta(days=13)).isoformat()])
    assert done.exit_code == 0, done.output
    assert "1 milestone recorded" in done.output
    with app.app_context():
        assert reached(enrollment.id)["integrated"][1] is None and len(milestone_events(enrollment.id)) == 1
    again = runner.invoke(args=["progress", "daily", "--date", (TODAY + timedelta(days=13)).isoformat()])
    assert again.exit_code == 0 and "0 milestones recorded" in again.output
    today = runner.invoke(args=["progress", "daily"])  # today: day 80, nothing due
    assert today.exit_code == 0 and f"Daily progress for {TODAY.isoformat()}" in today.output


def test_flask_progress_daily_refuses_a_date_that_is_not_one(app, runner):
    result = runner.invoke(args=["progress", "daily", "--date", "2026-02-30"])
    assert result.exit_code == 2 and "Invalid value for '--date'" in result.output
