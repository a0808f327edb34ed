"""The impact rollups (portal.impact.models) equal a recount, whatever writes the rows; points
read from them equal points recounted delivery by delivery; whole months decide decay; and
another company's deliveries never move a company's figures. Runs on both databases."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.deliveries.models import PRESENT, Delivery, EnrollmentMilestone, EnrollmentProgress
from portal.enrollments.models import Enrollment
from portal.errors import DomainError
from portal.impact.models import ImpactReach, ImpactTally
from portal.impact.points import (
    campaign_scores,
    company_points,
    enrollment_scores,
    match_scores,
    months_between,
    program_scores,
    program_settings,
)
from portal.matches.models import Match
from portal.programs.models import Program

TODAY = utcnow().date()
KINDS = ["session_completed", "goal_achieved", "mentor_referral"]
ATTENDANCE = st.sampled_from([None, "present", "excused", "unexcused"])
QUANTITY = st.decimals(min_value=0, max_value=50, places=3, allow_nan=False, allow_infinity=False)


@pytest.fixture
def scene(make, tenants, app):
    program = make.program(template=make.template("mentorship"))
    camp = make.campaign(tenants["company_a"], program)
    started = utcnow() - timedelta(days=40)
    mentor = make.enrollment(camp, make.participant(), role="volunteer", enrolled_at=started)
    mentees = [make.enrollment(camp, make.participant(), enrolled_at=started) for _ in range(2)]
    with app.app_context():
        match = Match(campaign_id=camp.id, volunteer_enrollment_id=mentor.id,
                      beneficiary_enrollment_id=mentees[0].id, status="active", started_at=utcnow())
        db.session.add(match)
        db.session.commit()
        match_id = match.id
    return {"enrollments": [mentor.id, *(m.id for m in mentees)], "match_id": match_id, "campaign_id": camp.id,
            "program_id": program.id}


# --- the recount ---------------------------------------------------------------------------
def _counted():
    return [Delivery.voided_at.is_(None), sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT)]


def recount_events() -> list[tuple[int, str, str, str, date, Decimal]]:
    """Every counted event, one row each: (campaign, role, kind, detail, day, quantity)."""
    events = []
    for campaign_id, role, kind, day, quantity in db.session.execute(
            sa.select(Enrollment.campaign_id, Enrollment.role, Delivery.kind, Delivery.occurred_on, Delivery.quantity)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id).where(*_counted())):
        events.append((campaign_id, role, kind, "", day, Decimal(quantity)))
    for campaign_id, role, key, day in db.session.execute(
            sa.select(Enrollment.campaign_id, Enrollment.role, EnrollmentMilestone.key, EnrollmentMilestone.reached_on)
            .join(Enrollment, Enrollment.id == EnrollmentMilestone.enrollment_id)):
        events.append((campaign_id, role, "milestone_reached", key, day, Decimal(1)))
    for campaign_id, role, completed_at in db.session.execute(
            sa.select(Enrollment.campaign_id, Enrollment.role, Enrollment.completed_at)
            .where(Enrollment.status == "completed")):
        events.append((campaign_id, role, "program_completed", "", completed_at.astimezone(UTC).date(), Decimal(1)))
    return events


def recounted_tallies() -> dict:
    found: dict = defaultdict(lambda: [0, Decimal(0)])
    for campaign_id, role, kind, detail, day, quantity in recount_events():
        found[(campaign_id, role, kind, detail, day)][0] += 1
        found[(campaign_id, role, kind, detail, day)][1] += quantity
    return {k: (n, q.quantize(Decimal("0.001"))) for k, (n, q) in found.items()}


def stored_tallies() -> dict:
    return {(t.campaign_id, t.role, t.kind, t.detail, t.day): (t.events, Decimal(t.quantity).quantize(Decimal("0.001")))
            for t in db.session.scalars(sa.select(ImpactTally)) if t.events or Decimal(t.quantity)}


def recounted_reach() -> dict:
    return {(c, r, k): n for c, r, k, n in db.session.execute(
        sa.select(Enrollment.campaign_id, Enrollment.role, EnrollmentProgress.kind, sa.func.count())
        .join(Enrollment, Enrollment.id == EnrollmentProgress.enrollment_id).where(EnrollmentProgress.deliveries > 0)
        .group_by(Enrollment.campaign_id, Enrollment.role, EnrollmentProgress.kind))}


def stored_reach() -> dict:
    return {(r.campaign_id, r.role, r.kind): r.enrollments for r in db.session.scalars(sa.select(ImpactReach))
            if r.enrollments}


def recounted_points(campaign_id: int, program: Program, today: date) -> Decimal:
    """Points the slow way: one event at a time."""
    settings = program_settings(program)
    total = Decimal(0)
    for c, _, kind, _, day, _ in recount_events():
        if c == campaign_id and kind in settings.weights:
            total += settings.weights[kind] * settings.decay ** months_between(day, today)
    return total


record_step = st.tuples(st.just("record"), st.integers(0, 2), st.sampled_from(KINDS), st.integers(0, 35), QUANTITY,
                        ATTENDANCE, st.booleans())
correct_step = st.tuples(st.just("correct"), st.integers(0, 50), st.sampled_from(KINDS), st.integers(0, 35),
                         QUANTITY, ATTENDANCE, st.booleans())
void_step = st.tuples(st.just("void"), st.integers(0, 50), st.just(""), st.just(0), st.just(Decimal(0)),
                      st.just(None), st.just(False))
complete_step = st.tuples(st.just("complete"), st.integers(0, 2), st.just(""), st.integers(0, 5), st.just(Decimal(0)),
                          st.just(None), st.just(False))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.one_of(record_step, record_step, correct_step, void_step, complete_step), min_size=1,
                      max_size=14))
def test_rollups_equal_a_recount_and_points_equal_points_recounted_one_by_one(app, scene, steps):
    enrollment_ids = scene["enrollments"]
    with app.app_context():
        try:
            for action, target, kind, days_ago, quantity, attendance, on_match in steps:
                occurred = TODAY - timedelta(days=days_ago)
                delivered = db.session.scalars(sa.select(Delivery).order_by(Delivery.id)).all()
                try:
                    with transaction():
                        if action == "record":
                            enrollment = db.session.get(Enrollment, enrollment_ids[target])
                            attendance = attendance if kind == "session_completed" else None
                            match_id = scene["match_id"] if on_match and target in (0, 1) else None
                            ops.record_delivery(None, enrollment, kind=kind, occurred_on=occurred, quantity=quantity,
                                                attendance=attendance, match_id=match_id)
                        elif action == "correct" and delivered:
                            delivery = db.session.get(Delivery, delivered[target % len(delivered)].id)
                            changes = {"quantity": quantity, "occurred_on": occurred}
                            if delivery.kind == "session_completed":
                                changes["attendance"] = attendance
                            ops.correct_delivery(None, delivery, expected_version=None, **changes)
                        elif action == "void" and delivered:
                            ops.void_delivery(None, db.session.get(Delivery, delivered[target % len(delivered)].id))
                        elif action == "complete":
                            enrollment = db.session.get(Enrollment, enrollment_ids[target])
                            if enrollment.status == "active":  # as the completion does (completed_at set, UTC)
                                enrollment.status = "completed"
                                enrollment.completed_at = datetime.now(UTC) - timedelta(days=days_ago)
                except DomainError:
                    pass
            assert stored_tallies() == recounted_tallies()
            assert stored_reach() == recounted_reach()
            campaign = db.session.get(Enrollment, enrollment_ids[0]).campaign
            points, _ = campaign_scores(campaign, TODAY)
            assert points.total == recounted_points(campaign.id, campaign.program, TODAY)
            # additive: the campaign is the sum of its enrollments
            per_enrollment = sum((enrollment_scores(db.session.get(Enrollment, e), TODAY)[0].total
                                  for e in enrollment_ids), Decimal(0))
            assert per_enrollment == points.total
            program_points, _ = program_scores(campaign.program, TODAY)
            assert program_points.total == points.total
            assert company_points(campaign.company_id, TODAY)[0] == points.total
        finally:
            with transaction():
                db.session.execute(sa.delete(EnrollmentMilestone))
                db.session.execute(sa.update(Delivery).values(counterpart_id=None))
                db.session.execute(sa.delete(Delivery))
                db.session.execute(sa.delete(EnrollmentProgress))
                db.session.execute(sa.update(Enrollment).where(Enrollment.id.in_(enrollment_ids))
                                   .values(status="active", completed_at=None))
            assert stored_tallies() == {} and stored_reach() == {}  # the triggers took every row back out


def test_a_match_scores_its_sessions_on_both_sides(app, scene):
    with app.app_context(), transaction():
        mentee = db.session.get(Enrollment, scene["enrollments"][1])
        ops.record_delivery(None, mentee, kind="session_completed", occurred_on=TODAY, attendance="present",
                            match_id=scene["match_id"])
    with app.app_context():
        points, volunteers = match_scores(db.session.get(Match, scene["match_id"]), TODAY)
        assert [(r.kind, r.events, r.points) for r in points.rows] == [("session_completed", 2, Decimal(20))]
        assert volunteers.total == Decimal(5)  # mentorship visMultipliers.session_completed


def test_decay_counts_whole_months_by_the_calendar(app, make, tenants):
    program = make.program(template=make.template("mentorship"))
    campaign = make.campaign(tenants["company_a"], program)
    mentee = make.enrollment(campaign, enrolled_at=datetime(2026, 10, 1, tzinfo=UTC))
    with app.app_context():
        with transaction():
            ops.record_delivery(None, db.session.get(Enrollment, mentee.id), kind="goal_achieved",
                                occurred_on=date(2026, 10, 31), today=date(2026, 10, 31))
        found = db.session.get(type(campaign), campaign.id)
        at = {day: campaign_scores(found, day)[0].total for day in (date(2026, 11, 30), date(2026, 12, 1),
                                                                    date(2026, 12, 31), date(2027, 10, 31))}
    assert at == {date(2026, 11, 30): Decimal(50),  # 31 Oct → 30 Nov: 0 whole months
                  date(2026, 12, 1): Decimal("47.50"),  # → 1 Dec: 1 month, × 0.95
                  date(2026, 12, 31): Decimal("45.125"),  # 2 months
                  date(2027, 10, 31): Decimal(50) * Decimal("0.95") ** 12}


def test_another_companys_deliveries_never_change_a_companys_figures(app, make, tenants):
    program = make.program(template=make.template("mentorship"))
    ours = make.campaign(tenants["company_a"], program)
    theirs = make.campaign(tenants["company_b"], program)
    our_mentee = make.enrollment(ours, enrolled_at=utcnow() - timedelta(days=5))
    their_mentees = [make.enrollment(theirs, enrolled_at=utcnow() - timedelta(days=5)) for _ in range(3)]
    with app.app_context():
        with transaction():
            ops.record_delivery(None, db.session.get(Enrollment, our_mentee.id), kind="goal_achieved",
                                occurred_on=TODAY)

        def figures():
            campaign = db.session.get(type(ours), ours.id)
            points, volunteers = campaign_scores(campaign, TODAY)
            return points.total, [(r.kind, r.events) for r in points.rows], company_points(tenants["company_a"].id,
                                                                                           TODAY)
        before = figures()
        with transaction():
            for mentee in their_mentees:
                ops.record_delivery(None, db.session.get(Enrollment, mentee.id), kind="goal_achieved",
                                    occurred_on=TODAY)
                ops.record_delivery(None, db.session.get(Enrollment, mentee.id), kind="session_completed",
                                    occurred_on=TODAY, attendance="present")
        assert figures() == before == (Decimal(50), [("goal_achieved", 1)], (Decimal(50), Decimal(0)))
        # theirs: 3 × (goal 50 + session 10 + the "first session" milestone it reaches, 25)
        assert company_points(tenants["company_b"].id, TODAY)[0] == Decimal(255)
