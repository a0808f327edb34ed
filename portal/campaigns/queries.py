"""Reading campaigns: the dashboard figures and the enrollment list."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.auth.scoping import visible
from portal.campaigns.models import Campaign
from portal.dashboard.charts import Gauge, LineChart, capacity_gauge, cumulative_by_day, line_chart
from portal.db import db, like_prefix
from portal.enrollments.models import Enrollment, EnrollmentDay, Participant
from portal.enrollments.pseudonyms import participant_id_for
from portal.pagination import Page, keyset_page


@dataclass
class Dashboard:
    gauge: Gauge
    by_status: dict[str, int]
    by_role: dict[str, int]
    chart: LineChart
    waitlist: list[Enrollment]


def dashboard(campaign: Campaign, today: date | None = None) -> Dashboard:
    by_status = dict(db.session.execute(
        sa.select(Enrollment.status, sa.func.count()).where(Enrollment.campaign_id == campaign.id)
        .group_by(Enrollment.status)).all())
    by_role = dict(db.session.execute(
        sa.select(Enrollment.role, sa.func.count()).where(Enrollment.campaign_id == campaign.id,
                                                          Enrollment.status.in_(("active", "completed")))
        .group_by(Enrollment.role)).all())
    counts = dict(db.session.execute(sa.select(EnrollmentDay.day, EnrollmentDay.enrollments)
                                     .where(EnrollmentDay.campaign_id == campaign.id)).all())
    today = today or datetime.now(UTC).date()
    start = min([*counts, campaign.start_date, today - timedelta(days=30)])
    start = max(start, today - timedelta(days=365))
    chart = line_chart(cumulative_by_day(counts, start, today))
    waitlist = list(db.session.scalars(
        sa.select(Enrollment).options(sa.orm.joinedload(Enrollment.participant))
        .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.waitlisted_at, Enrollment.id).limit(10)))
    gauge = capacity_gauge(campaign.enrolled_count, campaign.target_enrollment, campaign.max_enrollment,
                           campaign.waitlisted_count)
    return Dashboard(gauge, by_status, by_role, chart, waitlist)


def enrollment_page(campaign: Campaign, viewer: User, *, status: str | None, role: str | None,
                    search: str | None, cursor: str | None, size: int) -> Page:
    """A page of the campaign's enrollments. Company admins search only what they may see:
    their own pseudonyms of the participants, and their own employees' names."""
    stmt = (sa.select(Enrollment).join(Participant, Participant.id == Enrollment.participant_id)
            .options(sa.orm.contains_eager(Enrollment.participant)).where(Enrollment.campaign_id == campaign.id))
    if status:
        stmt = stmt.where(Enrollment.status == status)
    if role:
        stmt = stmt.where(Enrollment.role == role)
    if search:
        term = search.strip()
        pseudonymous_id = participant_id_for(campaign.company.pseudonym_key, term)
        by_reference = (Enrollment.participant_id == pseudonymous_id) if pseudonymous_id is not None else sa.false()
        if viewer.is_program_manager:
            stmt = stmt.where(sa.or_(by_reference, Participant.ref == term.upper(), Participant.email == term.lower(),
                                     Participant.external_ref == term,
                                     like_prefix(sa.func.lower(Participant.display_name), term.lower())))
        else:
            own = sa.and_(Participant.company_id == viewer.company_id,
                          like_prefix(sa.func.lower(Participant.display_name), term.lower()))
            stmt = stmt.where(sa.or_(by_reference, own))
    return keyset_page(stmt, Enrollment, cursor, size)


def searchable_participants(viewer: User, term: str, limit: int = 8) -> list[Participant]:
    """Existing participants to enroll. Program managers search everyone; a company admin
    only its own employees (the only people it may enroll), so the search can't confirm
    that anybody else exists."""
    term = (term or "").strip()
    if len(term) < 2:
        return []
    clause = sa.or_(Participant.email == term.lower(), Participant.external_ref == term,
                    like_prefix(sa.func.lower(Participant.display_name), term.lower()))
    if viewer.is_program_manager:
        clause = sa.or_(clause, Participant.ref == term.upper())
    return list(db.session.scalars(
        sa.select(Participant).where(clause, visible(Participant, viewer), Participant.is_enabled.is_(True))
        .order_by(Participant.display_name).limit(limit)))
