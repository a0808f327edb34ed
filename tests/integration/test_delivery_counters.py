"""Property: after any sequence of record / correct / void (match sessions included), every
enrollment's progress counters equal a recount of its counted deliveries — not void, and
present where attendance applies — in number, quantity and latest date; and the milestones
recorded are exactly those the recount reaches. Runs on both databases (``--db=sqlite`` and
``--db=postgresql``)."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.auth.models import User
from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.deliveries.milestones import days_active, enrollment_milestones, milestones_reached
from portal.deliveries.models import PRESENT, Delivery, EnrollmentMilestone, EnrollmentProgress
from portal.enrollments.models import Enrollment
from portal.errors import DomainError
from portal.matches.models import Match

TODAY = utcnow().date()
KINDS = ["session_completed", "goal_achieved", "mentor_referral"]
ATTENDANCE = st.sampled_from([None, "present", "excused", "unexcused"])
QUANTITY = st.decimals(min_value=0, max_value=50, places=3, allow_nan=False, allow_infinity=False)


@pytest.fixture
def scene(make, tenants, app):
    program = make.program(template=make.template("mentorship"))
    camp = make.campaign(tenants["company_a"], program)
    started = utcnow() - timedelta(days=20)
    mentor = make.enrollment(camp, make.participant(), role="volunteer", enrolled_at=started)
    mentees = [make.enrollment(camp, make.participant(), enrolled_at=started) for _ in range(2)]
    with app.app_context():
        match = Match(campaign_id=camp.id, volunteer_enrollment_id=mentor.id,
                      beneficiary_enrollment_id=mentees[0].id, status="active", started_at=utcnow())
        db.session.add(match)
        db.session.commit()
        match_id = match.id
    return {"enrollments": [mentor.id, *(m.id for m in mentees)], "match_id": match_id,
            "pm_id": tenants["pm"].id}


record_step = st.tuples(st.just("record"), st.integers(0, 2), st.sampled_from(KINDS), st.integers(0, 20), QUANTITY,
                        ATTENDANCE, st.booleans())
correct_step = st.tuples(st.just("correct"), st.integers(0, 50), st.sampled_from(KINDS), st.integers(0, 20),
                         QUANTITY, ATTENDANCE, st.booleans())
void_step = st.tuples(st.just("void"), st.integers(0, 50), st.just(""), st.just(0), st.just(Decimal(0)),
                      st.just(None), st.just(False))


def recount() -> dict[tuple[int, str], tuple[int, Decimal, object]]:
    rows = db.session.execute(
        sa.select(Delivery.enrollment_id, Delivery.kind, sa.func.count(), sa.func.sum(Delivery.quantity),
                  sa.func.max(Delivery.occurred_on))
        .where(Delivery.voided_at.is_(None), sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT))
        .group_by(Delivery.enrollment_id, Delivery.kind)).all()
    return {(e, k): (n, Decimal(q).quantize(Decimal("0.001")), last) for e, k, n, q, last in rows}


def counters() -> dict[tuple[int, str], tuple[int, Decimal, object]]:
    found = {}
    for row in db.session.scalars(sa.select(EnrollmentProgress)):
        if row.deliveries == 0:
            assert Decimal(row.counted_quantity) == 0 and row.last_on is None, "an empty counter keeps a remainder"
            continue
        found[(row.enrollment_id, row.kind)] = (row.deliveries, Decimal(row.counted_quantity), row.last_on)
    return found


def milestones() -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for row in db.session.scalars(sa.select(EnrollmentMilestone)):
        found.setdefault(row.enrollment_id, set()).add(row.key)
    return found


def expected_milestones(enrollment_ids: list[int]) -> dict[int, set[str]]:
    counted = recount()
    expected: dict[int, set[str]] = {}
    for enrollment_id in enrollment_ids:
        enrollment = db.session.get(Enrollment, enrollment_id)
        counts = {kind: quantity for (e, kind), (_, quantity, _) in counted.items() if e == enrollment_id}
        keys = set(milestones_reached(enrollment_milestones(enrollment), counts, days_active(enrollment, TODAY)))
        if keys:
            expected[enrollment_id] = keys
    return expected


def test_counters_always_equal_a_recount(app, scene):
    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.lists(st.one_of(record_step, correct_step, void_step), min_size=1, max_size=12))
    def run(steps):
        with app.app_context():
            for verb, index, kind, days_ago, quantity, attendance, for_match in steps:
                pm = db.session.get(User, scene["pm_id"])
                attendance = attendance if kind.startswith("session") else None
                try:
                    with transaction():
                        if verb == "record":
                            enrollment = db.session.get(Enrollment, scene["enrollments"][index])
                            match_id = scene["match_id"] if for_match and index in (0, 1) else None
                            ops.record_delivery(pm, enrollment, kind=kind, occurred_on=TODAY - timedelta(days=days_ago),
                                                quantity=quantity, attendance=attendance, match_id=match_id)
                        else:
                            ids = db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id)).all()
                            if not ids:
                                continue
                            delivery = db.session.get(Delivery, ids[index % len(ids)])
                            if verb == "correct":
                                ops.correct_delivery(pm, delivery, expected_version=delivery.lock_version, kind=kind,
                                                     occurred_on=TODAY - timedelta(days=days_ago),
                                                     quantity=quantity, attendance=attendance)
                            else:
                                ops.void_delivery(pm, delivery, reason="property test")
                except DomainError:
                    pass  # a refusal (already void, …) changes nothing: the check below still holds
                assert counters() == recount()
                assert milestones() == expected_milestones(scene["enrollments"])

    run()


def last_counted() -> dict[int, object]:
    return dict(db.session.execute(sa.select(Enrollment.id, Enrollment.last_counted_delivery_on)).tuples().all())


def recount_last_counted(enrollment_ids: list[int]) -> dict[int, object]:
    latest = dict(db.session.execute(
        sa.select(Delivery.enrollment_id, sa.func.max(Delivery.occurred_on))
        .where(Delivery.voided_at.is_(None), sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT))
        .group_by(Delivery.enrollment_id)).tuples().all())
    return {e: latest.get(e) for e in enrollment_ids}


batch_step = st.tuples(st.just("batch"), st.integers(0, 2), st.sampled_from(KINDS), st.integers(0, 20), QUANTITY,
                       ATTENDANCE, st.booleans())


def test_last_counted_delivery_on_always_equals_a_recount(app, scene):
    """Each enrollment's ``last_counted_delivery_on`` (the needs-attention lists read it) is the
    latest date of its counted deliveries after any record / batch / correct / void — a
    correction moving the latest one back, or a void of it, falls back to the one before."""
    from portal.campaigns.models import Campaign
    from portal.deliveries.batch import record_batch

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.lists(st.one_of(record_step, batch_step, correct_step, void_step), min_size=1, max_size=12))
    def run(steps):
        with app.app_context():
            for verb, index, kind, days_ago, quantity, attendance, for_match in steps:
                pm = db.session.get(User, scene["pm_id"])
                attendance = attendance if kind.startswith("session") else None
                day = TODAY - timedelta(days=days_ago)
                try:
                    with transaction():
                        if verb in ("record", "batch"):
                            enrollment = db.session.get(Enrollment, scene["enrollments"][index])
                            match_id = scene["match_id"] if for_match and index in (0, 1) else None
                            if verb == "record":
                                ops.record_delivery(pm, enrollment, kind=kind, occurred_on=day, quantity=quantity,
                                                    attendance=attendance, match_id=match_id)
                            else:  # two rows: this enrollment (or its pair) and the next one, a day earlier
                                other = scene["enrollments"][(index + 1) % 3]
                                item = {"match_id": match_id} if match_id else {"enrollment_id": enrollment.id}
                                record_batch(pm, db.session.get(Campaign, enrollment.campaign_id), [
                                    {**item, "kind": kind, "occurred_on": day, "quantity": quantity,
                                     "attendance": attendance},
                                    {"enrollment_id": other, "kind": kind, "occurred_on": day - timedelta(days=1),
                                     "attendance": attendance}], source="manual", summary_label="property test")
                        else:
                            ids = db.session.scalars(sa.select(Delivery.id).order_by(Delivery.id)).all()
                            if not ids:
                                continue
                            delivery = db.session.get(Delivery, ids[index % len(ids)])
                            if verb == "correct":
                                ops.correct_delivery(pm, delivery, expected_version=delivery.lock_version, kind=kind,
                                                     occurred_on=day, quantity=quantity, attendance=attendance)
                            else:
                                ops.void_delivery(pm, delivery, reason="property test")
                except DomainError:
                    pass  # a refusal (already void, a pair's row twice in a batch…) changes nothing
                db.session.expire_all()
                assert last_counted() == recount_last_counted(scene["enrollments"])
                assert counters() == recount()

    run()


def test_a_delivery_does_not_move_the_enrollments_version(app, scene):
    """The column is kept with Core UPDATEs: someone completing or dropping the enrollment
    with the version they read is not refused as stale because a session was recorded."""
    with app.app_context():
        before = db.session.get(Enrollment, scene["enrollments"][1])
        version, updated = before.lock_version, before.updated_at
        with transaction():
            ops.record_delivery(db.session.get(User, scene["pm_id"]), db.session.get(Enrollment, before.id),
                                kind="goal_achieved", occurred_on=TODAY - timedelta(days=3))
        after = db.session.get(Enrollment, before.id)
        assert after.last_counted_delivery_on == TODAY - timedelta(days=3)
        assert (after.lock_version, after.updated_at) == (version, updated)


def test_the_migration_backfills_the_column_from_the_counted_deliveries(fresh_database_url):
    """An existing database gets ``last_counted_delivery_on`` from its deliveries: the latest
    counted one (void and not-present ones left out), None for an enrollment without one."""
    from flask import current_app
    from flask_migrate import downgrade, upgrade

    from tests.factories import Factory
    from tests.integration.test_migrations import migrated_app

    with migrated_app(fresh_database_url("last_counted")):
        upgrade()
        make = Factory(current_app._get_current_object())
        camp = make.campaign(make.company(), make.program(template=make.template("mentorship")))
        pm = make.user()
        people = [make.enrollment(camp, make.participant(), enrolled_at=utcnow() - timedelta(days=40)).id
                  for _ in range(3)]
        steps = [(0, 9, "present"), (0, 3, "excused"), (1, 20, "present"), (1, 5, "present")]
        for index, days_ago, attendance in steps:
            with transaction():
                delivery = ops.record_delivery(db.session.get(User, pm.id), db.session.get(Enrollment, people[index]),
                                               kind="session_completed", attendance=attendance,
                                               occurred_on=TODAY - timedelta(days=days_ago))
                if index == 1 and days_ago == 5:
                    ops.void_delivery(db.session.get(User, pm.id), delivery, reason="twice")
        expected = {people[0]: TODAY - timedelta(days=9), people[1]: TODAY - timedelta(days=20), people[2]: None}
        assert {e: last_counted()[e] for e in people} == expected
        db.session.remove()
        downgrade(revision="e5b7c9d1a2f4")
        upgrade()
        assert {e: last_counted()[e] for e in people} == expected
        db.session.remove()
