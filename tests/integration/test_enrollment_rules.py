"""The enrollment rules the seed and later screens rely on (capacity, waitlist, promotion)."""
import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.operations import (
    AlreadyEnrolled,
    CapacityReached,
    NotAcceptingEnrollments,
    drop_enrollment,
    enroll_participant,
)


def enroll(app, campaign_id, participant_id, role="beneficiary"):
    with app.app_context():
        with transaction():
            participant = db.session.get(Participant, participant_id)
            enrollment = enroll_participant(None, campaign_id, participant, role=role)
        return enrollment.status


def test_full_campaign_waitlists_then_promotes_the_oldest_on_drop(app, make, tenants):
    camp = make.campaign(tenants["company_a"], max_enrollment=2, waitlist_enabled=True)
    people = [make.participant() for _ in range(4)]
    assert [enroll(app, camp.id, p.id) for p in people] == ["active", "active", "waitlisted", "waitlisted"]
    with app.app_context():
        first = db.session.scalars(sa.select(Enrollment).where(Enrollment.participant_id == people[0].id)).one()
        with transaction():
            promoted = drop_enrollment(None, db.session.get(Enrollment, first.id), "moved away")
        assert [e.participant_id for e in promoted] == [people[2].id]
        loaded = db.session.get(Campaign, camp.id)
        assert (loaded.enrolled_count, loaded.waitlisted_count) == (2, 1)
        types = db.session.scalars(sa.select(ActivityEvent.type).order_by(ActivityEvent.id)).all()
        # Reached once: a drop that promotes the next one keeps the campaign full, it doesn't newly fill it.
        assert types.count("program.campaign.capacity_reached") == 1
        assert "program.enrollment.promoted" in types and "program.enrollment.dropped" in types


def test_full_campaign_without_waitlist_refuses_everyone_including_program_managers(app, make, tenants):
    camp = make.campaign(tenants["company_a"], max_enrollment=1)
    a, b = make.participant(), make.participant()
    assert enroll(app, camp.id, a.id) == "active"
    with pytest.raises(CapacityReached):
        enroll(app, camp.id, b.id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 1


def test_budget_limit_waitlists_like_a_full_campaign(app, make, tenants):
    camp = make.campaign(tenants["company_a"], seat_price=10_000, budget_allocated=25_000, waitlist_enabled=True)
    people = [make.participant() for _ in range(3)]
    assert [enroll(app, camp.id, p.id) for p in people] == ["active", "active", "waitlisted"]


def test_volunteers_are_not_capped(app, make, tenants):
    camp = make.campaign(tenants["company_a"], max_enrollment=0)
    volunteer = make.participant(company_id=tenants["company_a"].id)
    assert enroll(app, camp.id, volunteer.id, role="volunteer") == "active"


def test_double_enrollment_is_refused(app, make, tenants):
    camp = make.campaign(tenants["company_a"])
    person = make.participant()
    enroll(app, camp.id, person.id)
    with pytest.raises(AlreadyEnrolled):
        enroll(app, camp.id, person.id)


@pytest.mark.parametrize("campaign_status,program_status", [("draft", "active"), ("paused", "active"),
                                                            ("active", "paused"), ("completed", "active")])
def test_enrolling_needs_an_active_campaign_of_an_active_program(app, make, tenants, campaign_status, program_status):
    program = make.program(status=program_status)
    camp = make.campaign(tenants["company_a"], program, status=campaign_status)
    with pytest.raises(NotAcceptingEnrollments):
        enroll(app, camp.id, make.participant().id)


def test_group_privacy_rules_are_enforced_on_save(app):
    from portal.beneficiaries.operations import create_group
    from portal.errors import ValidationFailed

    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            with transaction():
                create_group(None, name="Olena's group, call +47 912 34 567", group_type="refugees", country="NO",
                             eligible_categories=["language"], description="Contact anna@example.org",
                             tags=["born 12.03.1990"])
        assert set(refused.value.errors) == {"name", "description", "tags"}
        with transaction():
            group = create_group(None, name="2026 cohort, Oslo", group_type="refugees", country="NO",
                                 eligible_categories=["language"], languages=["uk"])
        assert group.key == "2026-cohort-oslo"
