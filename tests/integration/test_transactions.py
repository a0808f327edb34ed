"""One write = one transaction, with its activity event inside it."""
import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.activity.operations import record_event
from portal.auth.models import Company
from portal.auth.operations import create_company
from portal.db import db, transaction


def test_an_operation_and_its_event_commit_together(app):
    with app.app_context():
        with transaction():
            company = create_company(None, name="Together AS")
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.subject_id == company.id)).one()
        assert event.type == "company.created" and event.subject_type == "companies"


def test_a_failure_after_the_change_leaves_neither_row_nor_event(app):
    with app.app_context():
        with pytest.raises(RuntimeError):
            with transaction():
                create_company(None, name="Half Saved AS")
                raise RuntimeError("something failed later in the same operation")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Company)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)) == 0


def test_unknown_event_types_are_refused(app, make):
    company = make.company()
    with app.app_context():
        with pytest.raises(ValueError, match="unknown activity event type"):
            record_event("nonsense.thing", actor=None, subject=db.session.get(Company, company.id))


def test_changes_made_outside_a_transaction_are_refused(app):
    with app.app_context():
        db.session.add(Company(name="Sneaky", key="sneaky"))
        with pytest.raises(RuntimeError, match="outside transaction"):
            with transaction():
                pass
        db.session.rollback()


def test_timestamps_are_timezone_aware_utc(app, make):
    company = make.company()
    with app.app_context():
        loaded = db.session.get(Company, company.id)
        assert loaded.created_at.tzinfo is not None and loaded.created_at.utcoffset().total_seconds() == 0
