"""Milestones reached by deliveries (SPEC §2.10), on both databases: reached in the
delivery's transaction and recorded once per enrollment and key; voiding (or correcting
away) the delivery that reached one un-reaches it; the buddy stages need every criterion.
And the data migration that marks the milestone lists of templates already in a database."""
from __future__ import annotations

import copy
import json
from datetime import timedelta

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.deliveries.models import Delivery, EnrollmentMilestone
from portal.enrollments.models import Enrollment
from portal.program_templates.models import ProgramTemplate
from tests.factories import master
from tests.integration.test_migrations import migrated_app

TODAY = utcnow().date()
BEFORE_MILESTONES = "331a5fab8ccd"


def reached(enrollment_id: int) -> dict[str, tuple]:
    return {row.key: (row.reached_on, row.delivery_id) for row in db.session.scalars(
        sa.select(EnrollmentMilestone).where(EnrollmentMilestone.enrollment_id == enrollment_id))}


def record(pm_id: int, enrollment_id: int, **fields) -> int:
    with transaction():
        delivery = ops.record_delivery(db.session.get(User, pm_id), db.session.get(Enrollment, enrollment_id),
                                       occurred_on=fields.pop("occurred_on", TODAY), **fields)
    return delivery.id


def test_a_session_reaches_the_first_milestone_once_and_voiding_it_unreaches(app, make, tenants):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    mentee = make.enrollment(camp, make.participant(), enrolled_at=utcnow() - timedelta(days=10))
    pm = tenants["pm"].id
    with app.app_context():
        excused = record(pm, mentee.id, kind="session_completed", attendance="excused")
        assert reached(mentee.id) == {}  # an excused session does not count
        first = record(pm, mentee.id, kind="session_completed", attendance="present",
                       occurred_on=TODAY - timedelta(days=2))
        assert reached(mentee.id) == {"first_session": (TODAY - timedelta(days=2), first)}
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.subject_id == first,
                                                                  ActivityEvent.subject_type == "deliveries")).one()
        assert event.data["milestones_reached"] == ["first_session"]
        second = record(pm, mentee.id, kind="session_completed", attendance="present")
        assert reached(mentee.id) == {"first_session": (TODAY - timedelta(days=2), first)}  # once
        for _ in range(3):
            record(pm, mentee.id, kind="session_completed")
        assert set(reached(mentee.id)) == {"first_session", "established"}
        # Correcting the excused one to present does not change what is reached (5 of 5 already).
        with transaction():
            ops.correct_delivery(db.session.get(User, pm), db.session.get(Delivery, excused), expected_version=None,
                                 attendance="present")
        assert set(reached(mentee.id)) == {"first_session", "established"}
        # Voiding two sessions drops below 5: "established" is un-reached, "first_session" stays.
        for delivery_id in (second, first):
            with transaction():
                ops.void_delivery(db.session.get(User, pm), db.session.get(Delivery, delivery_id))
        assert set(reached(mentee.id)) == {"first_session"}


def test_the_buddy_stages_need_every_criterion(app, make, tenants):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    newcomer = make.enrollment(camp, make.participant(), enrolled_at=utcnow() - timedelta(days=5))
    pm = tenants["pm"].id
    with app.app_context():
        for _ in range(3):
            record(pm, newcomer.id, kind="event_attended")
        assert set(reached(newcomer.id)) == {"first_meeting"}
        last = None
        for _ in range(4):
            last = record(pm, newcomer.id, kind="checkin_completed")
        assert set(reached(newcomer.id)) == {"first_meeting", "connected"}
        assert reached(newcomer.id)["connected"][1] == last
        with transaction():
            ops.void_delivery(db.session.get(User, pm), db.session.get(Delivery, last))
        assert set(reached(newcomer.id)) == {"first_meeting"}


def test_the_data_migration_marks_the_milestone_lists_of_existing_templates(fresh_database_url):
    url = fresh_database_url("milestones")
    schema = copy.deepcopy(master("mentorship")["config_schema"])  # master() is cached: never change it
    del schema["properties"]["progression"]["properties"]["milestones"]["x-milestones"]
    with migrated_app(url):
        upgrade(revision=BEFORE_MILESTONES)
        doc = master("mentorship")
        db.session.add(ProgramTemplate(key="old-mentorship", version=1, name="Old mentorship", category="mentorship",
                                       status="active", description="", config_schema=schema,
                                       default_config=doc["default_config"], ui_schema=doc.get("ui_schema"),
                                       sdg_goals=doc["sdg_goals"], tags=doc.get("tags") or []))
        db.session.commit()
        db.session.remove()
        read = sa.text("SELECT config_schema FROM program_templates WHERE key = 'old-mentorship'")

        def mark():
            with db.engine.connect() as connection:
                stored = connection.execute(read).scalar_one()
            stored = stored if isinstance(stored, dict) else json.loads(stored)
            return stored["properties"]["progression"]["properties"]["milestones"].get("x-milestones")

        assert mark() is None
        upgrade()
        assert mark() is True
        downgrade(revision=BEFORE_MILESTONES)
        assert mark() is None
