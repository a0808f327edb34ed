"""Fixtures shared by the integration tests (the harness itself is in ``tests/conftest.py``)."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.db import db
from portal.models import L2ISubscription, User


@pytest.fixture
def language_program(make):
    """An active, public language program for adults (18–65) who speak Ukrainian or English."""
    return make.program(template=make.template("language"), visibility="public",
                        group=make.group(age_min=18, age_max=65, language_requirement="beginner",
                                         languages=["uk", "en"]))


@pytest.fixture
def route_objects(app, make, tenants) -> dict:
    """One object of every kind a URL names, all company A's, keyed by the URL argument
    that names it (see ``tests.helpers.route_url``): the route matrix and the fuzzers
    build every URL from it."""
    template = make.template("language", status="active")
    program = make.program(template=template)
    campaign = make.campaign(tenants["company_a"], program, max_enrollment=10)
    participant = make.participant(display_name="Matrix Person")
    enrollment = make.enrollment(campaign, participant)
    with app.app_context():
        sub = L2ISubscription(company_id=tenants["company_a"].id, sku="L2I-250", learners=250, annual_price=1000,
                              currency="EUR", period_start=date(2026, 1, 1), period_end=date(2026, 12, 31))
        db.session.add(sub)
        db.session.commit()
        sub_id = sub.id
        deactivated = User(email="gone@example.org", name="Gone", role="company_admin",
                           company_id=tenants["company_a"].id, password_hash="x", is_enabled=False)
        target = User(email="target@example.org", name="Target", role="company_admin",
                      company_id=tenants["company_a"].id, password_hash="x")
        db.session.add_all([deactivated, target])
        db.session.commit()
        db.session.refresh(deactivated)
        db.session.expunge(deactivated)
        target_id = target.id
        from portal.enrollments.csv.tasks import EXPORT
        from portal.jobs.models import Job

        job = Job(kind=EXPORT, status="succeeded", params={"campaign_id": campaign.id}, result={},
                  created_by_id=tenants["admin_a"].id, campaign_id=campaign.id, company_id=tenants["company_a"].id)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    valuation = make.valuation_set(status="draft", entries=[{"outcome": "session_completed", "proxy_minor": 1000}])
    with app.app_context():
        from portal.privacy.models import DataSubjectRequest  # portal.privacy: a request received from the person

        request = DataSubjectRequest(participant_id=participant.id, kind="rectification", received_on=date(2026, 11, 2))
        db.session.add(request)
        db.session.commit()
        request_id = request.id
    with app.app_context():
        from portal.impact.models import ValuationEntry

        entry_id = db.session.scalar(sa.select(ValuationEntry.id).where(ValuationEntry.set_id == valuation.id))
    return {
        "set_id": valuation.id, "entry_id": entry_id,
        "campaign_id": campaign.id, "enrollment_id": enrollment.id, "program_id": program.id,
        "participant_id": participant.id, "subscription_id": sub_id, "user_id": target_id,
        "key": template.key, "version": template.version, "action": "complete", "group_id": program.group_id,
        "token": "0" * 32, "job_id": job_id, "request_id": request_id,
        "filename": "app.css", "deactivated": deactivated,
    }
