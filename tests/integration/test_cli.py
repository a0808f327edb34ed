"""flask seed / users create / events export."""
import json
from datetime import date

import sqlalchemy as sa

from portal.db import db
from portal.models import (
    ActivityEvent,
    BeneficiaryGroup,
    Campaign,
    Company,
    Enrollment,
    L2IAllocation,
    L2ISubscription,
    Participant,
    Program,
    ProgramTemplate,
    User,
)

SEED_TABLES = (ProgramTemplate, BeneficiaryGroup, Program, Company, User, Campaign, Participant, Enrollment,
               L2ISubscription, L2IAllocation, ActivityEvent)


def _counts(app):
    with app.app_context():
        return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in SEED_TABLES}


def test_seed_creates_the_demo_world_and_is_idempotent(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "pm@impact.example" in result.output and "admin@acme.example" in result.output
    first = _counts(app)
    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0 and "nothing added" in again.output
    assert _counts(app) == first

    with app.app_context():
        masters = db.session.scalars(sa.select(ProgramTemplate)).all()
        assert {(t.key, t.version, t.status) for t in masters} == {
            ("mentorship", 1, "active"), ("language-practice", 1, "active"), ("buddy-integration", 1, "active")}
        countries = set(db.session.scalars(sa.select(BeneficiaryGroup.country)))
        assert first["beneficiary_groups"] >= 4 and len(countries) >= 3
        assert first["programs"] >= 4 and first["companies"] == 3
        admins = db.session.scalars(sa.select(User).where(User.role == "company_admin")).all()
        assert {a.company_id for a in admins} == set(db.session.scalars(sa.select(Company.id)))
        assert db.session.scalar(sa.select(sa.func.count()).where(User.role == "program_manager")) >= 1
        statuses = set(db.session.scalars(sa.select(Campaign.status)))
        assert first["campaigns"] >= 6 and {"active", "paused", "completed", "draft"} <= statuses
        assert first["participants"] >= 250 and first["enrollments"] >= 250
        assert db.session.scalar(sa.select(sa.func.count()).where(Enrollment.status == "waitlisted")) > 0
        assert first["l2i_subscriptions"] >= 1 and first["l2i_allocations"] >= 1
        # the counters the capacity rule relies on equal the rows
        for campaign in db.session.scalars(sa.select(Campaign)):
            seats = db.session.scalar(sa.select(sa.func.count()).where(
                Enrollment.campaign_id == campaign.id, Enrollment.role == "beneficiary",
                Enrollment.status.in_(("active", "completed"))))
            waiting = db.session.scalar(sa.select(sa.func.count()).where(
                Enrollment.campaign_id == campaign.id, Enrollment.status == "waitlisted"))
            assert (campaign.enrolled_count, campaign.waitlisted_count) == (seats, waiting), campaign.name
            assert campaign.max_enrollment is None or seats <= campaign.max_enrollment


def test_users_create_command(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "First.PM@Example.org", "--name", "First PM",
                                 "--role", "program_manager", "--password", "a long password"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.email == "first.pm@example.org")).one()
        assert user.role == "program_manager"
        assert db.session.scalar(sa.select(sa.func.count()).where(ActivityEvent.type == "user.created",
                                                                  ActivityEvent.subject_id == user.id)) == 1


def test_users_create_refuses_bad_input_without_saving(app, runner):
    result = runner.invoke(args=["users", "create", "--email", "not-an-email", "--name", "X",
                                 "--role", "company_admin", "--password", "short"])
    assert result.exit_code == 2
    assert "email:" in result.output and "password:" in result.output and "company_id:" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_events_export_writes_json_lines_since_a_time(runner, tmp_path):
    runner.invoke(args=["users", "create", "--email", "a@example.org", "--name", "A", "--role", "program_manager",
                        "--password", "a long password"])
    out = tmp_path / "events.jsonl"
    result = runner.invoke(args=["events", "export", "--since", "2000-01-01T00:00:00Z", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["user.created"]
    assert lines[0]["data"]["email"] == "a@example.org" and lines[0]["occurred_at"].startswith(str(date.today().year))
    later = runner.invoke(args=["events", "export", "--since", "2999-01-01"])
    assert later.exit_code == 0 and later.stdout == ""


def test_events_export_rejects_a_bad_time(runner):
    result = runner.invoke(args=["events", "export", "--since", "yesterday"])
    assert result.exit_code == 2 and "ISO 8601" in result.output
