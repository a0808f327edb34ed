"""The daily progress job (SPEC §2.10): a milestone whose last threshold to hold is time
(``daysActive``) is recorded with no delivery, dated the day it became true; once; not
before its day nor without its counts; un-reached like any other when a delivery behind it
is voided; run by the database worker (``flask jobs work``) and registered as a periodic
Procrastinate task."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

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
