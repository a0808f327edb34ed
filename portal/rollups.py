"""Read-only summaries that span layers (SPEC §4 dashboards and roll-ups), in one declared
place: templates with their programs, a group's programs and participants, a program's
campaigns, a campaign's dashboard.
Domains never import this module; screens do. Every figure here is read, never kept."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa

from portal.beneficiaries.privacy import cohort_figure
from portal.campaigns.models import Campaign
from portal.charts import BarChart, Gauge, LineChart, bar_chart, capacity_gauge, cumulative_by_day, line_chart
from portal.db import db, read
from portal.deliveries.milestones import milestone_label
from portal.deliveries.progress import PREVIEW_SIZE, CampaignProgress, campaign_progress
from portal.enrollments.models import Enrollment, EnrollmentTally
from portal.i18n import _l
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program

# Enrollments that count as participants of a group: beneficiaries taking part or done.
COUNTED_STATUSES = ("active", "completed")


# --- program templates ---------------------------------------------------------------
@dataclass
class TemplateRow:
    latest: ProgramTemplate
    versions: int
    programs: int


def template_rows(*, category: str | None = None, status: str | None = None, search: str | None = None,
                  after_key: str | None = None, size: int = 50) -> tuple[list[TemplateRow], str | None]:
    """One row per key (its latest version), ordered by key, paged by key (keyset)."""
    latest = (
        sa.select(ProgramTemplate.key, sa.func.max(ProgramTemplate.version).label("version"),
                  sa.func.count().label("versions"))
        .group_by(ProgramTemplate.key).subquery()
    )
    programs = (
        sa.select(ProgramTemplate.key, sa.func.count(Program.id).label("programs"))
        .join(Program, Program.template_id == ProgramTemplate.id).group_by(ProgramTemplate.key).subquery()
    )
    stmt = (
        sa.select(ProgramTemplate, latest.c.versions, sa.func.coalesce(programs.c.programs, 0))
        .join(latest, sa.and_(latest.c.key == ProgramTemplate.key, latest.c.version == ProgramTemplate.version))
        .outerjoin(programs, programs.c.key == ProgramTemplate.key)
        .order_by(ProgramTemplate.key)
    )
    if category:
        stmt = stmt.where(ProgramTemplate.category == category)
    if status:
        stmt = stmt.where(ProgramTemplate.status == status)
    if search:
        term = search.strip().lower()
        stmt = stmt.where(sa.or_(sa.func.lower(ProgramTemplate.name).contains(term, autoescape=True),
                                 ProgramTemplate.key.contains(term, autoescape=True)))
    if after_key:
        stmt = stmt.where(ProgramTemplate.key > after_key)
    rows = db.session.execute(stmt.limit(size + 1)).all()
    items = [TemplateRow(t, versions, count) for t, versions, count in rows[:size]]
    return items, (items[-1].latest.key if len(rows) > size and items else None)


def versions_of(key: str) -> list[tuple[ProgramTemplate, int]]:
    """Every version of a key, newest first, with how many programs use each."""
    counts = (
        sa.select(Program.template_id, sa.func.count().label("n")).group_by(Program.template_id).subquery()
    )
    rows = db.session.execute(
        sa.select(ProgramTemplate, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.template_id == ProgramTemplate.id)
        .where(ProgramTemplate.key == key).order_by(ProgramTemplate.version.desc())
    ).all()
    return [(t, n) for t, n in rows]


def programs_using(template_id: int, limit: int = 20) -> list[Program]:
    return list(db.session.scalars(
        sa.select(Program).where(Program.template_id == template_id).order_by(Program.name).limit(limit)
    ))


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
    progress: CampaignProgress | None = None
    funnel: BarChart | None = None


# The campaign chart counts what the capacity gauge counts: seats (active + completed
# beneficiaries), each on the day it was taken — never the waitlist or the volunteers.
SEATS_CHART_TITLE = "Cumulative enrollments (active + completed beneficiaries, by day enrolled)"


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@cache
def _tallies_statement() -> sa.CompoundSelect:
    """Built once: the campaign page reads it on every visit."""
    by_status_and_role = (sa.select(EnrollmentTally.role, EnrollmentTally.status,
                                    sa.cast(sa.null(), EnrollmentTally.day.type).label("day"),
                                    sa.func.sum(EnrollmentTally.enrollments))
                          .where(EnrollmentTally.campaign_id == sa.bindparam("campaign_id"))
                          .group_by(EnrollmentTally.role, EnrollmentTally.status))
    seats_by_day = (sa.select(sa.null(), sa.null(), EnrollmentTally.day, sa.func.sum(EnrollmentTally.enrollments))
                    .where(EnrollmentTally.campaign_id == sa.bindparam("campaign_id"),
                           EnrollmentTally.role == "beneficiary", EnrollmentTally.status.in_(COUNTED_STATUSES))
                    .group_by(EnrollmentTally.day))
    return sa.union_all(by_status_and_role, seats_by_day)


def campaign_tallies(campaign_id: int) -> tuple[dict[str, int], dict[str, int], dict[date, int]]:
    """The campaign's enrollments by status, its seats (active and completed) and volunteers
    by role, and the seats held now (the gauge's ``enrolled_count``) counted on the day each
    was taken, in one read of its tallies."""
    by_status: dict[str, int] = {}
    by_role: dict[str, int] = {}
    seats: dict[date, int] = {}
    for role, status, day, n in read(_tallies_statement(), {"campaign_id": campaign_id}).tuples():
        if not n:
            continue
        if day is not None:
            seats[_as_day(day)] = int(n)
            continue
        by_status[status] = by_status.get(status, 0) + int(n)
        if status in COUNTED_STATUSES:
            by_role[role] = by_role.get(role, 0) + int(n)
    return by_status, by_role, seats


FUNNEL_TITLE = _l("Beneficiaries who reached each milestone")


def milestone_funnel(progress: CampaignProgress, withhold_below: int | None = None) -> BarChart | None:
    """The milestone funnel as bars; ``withhold_below`` (company admins: PORTAL_MIN_COHORT)
    withholds small counts of people (SPEC §2.11)."""
    if not progress.funnel:
        return None
    return bar_chart([(milestone_label(m.key, m.name), n) for m, n in progress.funnel], title=str(FUNNEL_TITLE),
                     withhold_below=withhold_below,
                     withheld_text=None if withhold_below is None else cohort_figure(0, withhold_below))


def campaign_dashboard(campaign: Campaign, today: date | None = None, *,
                       withhold_below: int | None = None) -> Dashboard:
    """The campaign page's figures, read from the campaign's tallies (a few rows kept with
    the enrollments, see :class:`~portal.enrollments.models.EnrollmentTally`), never by
    counting enrollments."""
    by_status, by_role, counts = campaign_tallies(campaign.id)
    today = today or datetime.now(UTC).date()
    start = min([*counts, campaign.start_date, today - timedelta(days=30)])
    start = max(start, today - timedelta(days=365))  # older seats are the line's starting total
    chart = line_chart(cumulative_by_day(counts, start, today), title=SEATS_CHART_TITLE)
    waitlist = list(db.session.scalars(  # the campaign's counter says whether anyone waits
        sa.select(Enrollment).options(sa.orm.joinedload(Enrollment.participant))
        .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.waitlisted_at, Enrollment.id).limit(10))) if campaign.waitlisted_count else []
    gauge = capacity_gauge(campaign.enrolled_count, campaign.target_enrollment, campaign.max_enrollment,
                           campaign.waitlisted_count)
    progress = campaign_progress(campaign, today, PREVIEW_SIZE)  # the progress page lists them all
    return Dashboard(gauge, by_status, by_role, chart, waitlist, progress, milestone_funnel(progress, withhold_below))
