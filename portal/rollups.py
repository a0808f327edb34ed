"""Read-only summaries that span layers (SPEC §4 dashboards and roll-ups), in one declared
place: a group's programs and participants, a program's campaigns, a campaign's dashboard.
Domains never import this module; screens do. Every figure here is read, never kept."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from portal.campaigns.models import Campaign
from portal.charts import Gauge, LineChart, capacity_gauge, cumulative_by_day, line_chart
from portal.db import db
from portal.enrollments.models import Enrollment, EnrollmentDay
from portal.programs.models import Program

# Enrollments that count as participants of a group: beneficiaries taking part or done.
COUNTED_STATUSES = ("active", "completed")


# --- beneficiary groups -------------------------------------------------------------
@dataclass(frozen=True)
class GroupFigures:
    programs: int = 0
    participants: int = 0  # shown only through the |cohort filter (k-suppressed)


def program_counts(group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Program.group_id, sa.func.count()).where(Program.group_id.in_(group_ids)).group_by(Program.group_id)
    ).all())


def participant_counts(group_ids: list[int]) -> dict[int, int]:
    """Active + completed beneficiary enrollments in campaigns of each group's programs."""
    if not group_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Program.group_id, sa.func.count(Enrollment.id))
        .join(Campaign, Campaign.program_id == Program.id)
        .join(Enrollment, Enrollment.campaign_id == Campaign.id)
        .where(Program.group_id.in_(group_ids), Enrollment.role == "beneficiary",
               Enrollment.status.in_(COUNTED_STATUSES))
        .group_by(Program.group_id)
    ).all())


def group_figures(group_ids: list[int]) -> dict[int, GroupFigures]:
    """Each group's programs and participants count (two grouped queries)."""
    programs, participants = program_counts(group_ids), participant_counts(group_ids)
    return {i: GroupFigures(programs.get(i, 0), participants.get(i, 0)) for i in group_ids}


def programs_of(group_id: int, limit: int = 100) -> list[Program]:
    return list(db.session.scalars(
        sa.select(Program).where(Program.group_id == group_id)
        .order_by(Program.created_at.desc(), Program.id.desc()).limit(limit)
    ))


# --- programs -----------------------------------------------------------------------
def campaign_counts(program_ids: list[int]) -> dict[int, int]:
    """How many campaigns each program has (one grouped query)."""
    if not program_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Campaign.program_id, sa.func.count()).where(Campaign.program_id.in_(program_ids))
        .group_by(Campaign.program_id)).all())


@dataclass
class CampaignRollup:
    campaigns: list[Campaign]
    by_status: dict[str, int]  # enrollment status → count, beneficiaries and volunteers
    seats_used: int
    seats_max: int | None


def program_campaign_rollup(program_id: int) -> CampaignRollup:
    campaigns = list(db.session.scalars(
        sa.select(Campaign).options(sa.orm.joinedload(Campaign.company))
        .where(Campaign.program_id == program_id).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ))
    by_status = dict(db.session.execute(
        sa.select(Enrollment.status, sa.func.count()).join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Campaign.program_id == program_id).group_by(Enrollment.status)
    ).all())
    caps = [c.max_enrollment for c in campaigns]
    return CampaignRollup(
        campaigns, by_status, sum(c.enrolled_count for c in campaigns),
        None if (not caps or any(cap is None for cap in caps)) else sum(caps),
    )



# --- campaigns ----------------------------------------------------------------------
@dataclass
class Dashboard:
    gauge: Gauge
    by_status: dict[str, int]
    by_role: dict[str, int]
    chart: LineChart
    waitlist: list[Enrollment]


def campaign_dashboard(campaign: Campaign, today: date | None = None) -> Dashboard:
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
