"""Home-page figures, each computed by one aggregate query scoped to the viewer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.charts import LineChart, cumulative_by_day, line_chart
from portal.db import db
from portal.deliveries.progress import CampaignFlags, progress_by_campaign
from portal.enrollments.models import EnrollmentDay
from portal.i18n import _
from portal.l2i.models import L2ISubscription
from portal.programs.models import Program
from portal.tenancy import visible

NEAR_CAPACITY_RATIO = 0.8


@dataclass(frozen=True)
class HomeFigures:
    active_programs: int
    active_campaigns: int
    enrollments_this_month: int
    near_capacity: list[Campaign]
    chart: LineChart
    l2i_learners: int  # learners in the viewer's active bundles
    l2i_allocated_bp: int  # average share allocated across them, basis points
    l2i_subscriptions: int
    month_start: date  # where "this month" starts: the figure's list is the log from that day
    trend_since: date  # the chart's first day


def home_figures(viewer: User, now: datetime | None = None) -> HomeFigures:
    now = now or datetime.now(UTC)
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if viewer.is_program_manager:
        programs_clause = Program.status == "active"
    else:  # a company admin counts the programs its campaigns run
        programs_clause = sa.and_(
            Program.status == "active",
            Program.id.in_(sa.select(Campaign.program_id).where(visible(Campaign, viewer))),
        )
    # One round trip for the headline figures (scalar subqueries), then the list, the chart.
    figures = db.session.execute(sa.select(
        sa.select(sa.func.count()).select_from(Program).where(programs_clause).scalar_subquery(),
        sa.select(sa.func.count()).select_from(Campaign)
        .where(Campaign.status == "active", visible(Campaign, viewer)).scalar_subquery(),
        sa.select(sa.func.count()).select_from(L2ISubscription)
        .where(L2ISubscription.status == "active", visible(L2ISubscription, viewer)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.sum(L2ISubscription.learners), 0))
        .where(L2ISubscription.status == "active", visible(L2ISubscription, viewer)).scalar_subquery(),
        sa.select(sa.func.coalesce(sa.func.avg(L2ISubscription.allocated_bp), 0))
        .where(L2ISubscription.status == "active", visible(L2ISubscription, viewer)).scalar_subquery(),
    )).one()
    active_programs, active_campaigns, l2i_count, l2i_learners, l2i_allocated = figures
    near_capacity = db.session.scalars(
        sa.select(Campaign)
        .options(sa.orm.joinedload(Campaign.company))
        .where(
            visible(Campaign, viewer),
            Campaign.status == "active",
            Campaign.max_enrollment > 0,
            Campaign.enrolled_count * 10 >= Campaign.max_enrollment * int(NEAR_CAPACITY_RATIO * 10),
        )
        .order_by((Campaign.enrolled_count * 1.0 / Campaign.max_enrollment).desc(), Campaign.id)
        .limit(10)
    ).all()
    since = now - timedelta(days=90)
    rows = db.session.execute(
        sa.select(EnrollmentDay.day, sa.func.sum(EnrollmentDay.enrollments))
        .join(Campaign, Campaign.id == EnrollmentDay.campaign_id)
        .where(EnrollmentDay.day >= since.date(), visible(Campaign, viewer)).group_by(EnrollmentDay.day)).all()
    counts = {(d if isinstance(d, date) else date.fromisoformat(str(d)[:10])): int(n) for d, n in rows}
    chart = line_chart(cumulative_by_day(counts, since.date(), now.date()),
                       title=_("Cumulative enrollments created in the last 90 days (all roles, waitlisted included)"))
    enrollments_this_month = sum(n for day_, n in counts.items() if day_ >= month_start.date())
    return HomeFigures(active_programs or 0, active_campaigns or 0, enrollments_this_month, list(near_capacity),
                       chart, int(l2i_learners), int(l2i_allocated), int(l2i_count), month_start.date(),
                       since.date())


PROGRESS_CAMPAIGNS = 100  # the most recently started active campaigns the overview judges


@dataclass(frozen=True)
class ProgressOverview:
    campaigns: list[CampaignFlags]  # active campaigns with anyone ready or needing attention
    ready: int
    attention: int
    more_campaigns: bool = False  # more active campaigns than PROGRESS_CAMPAIGNS: the oldest are left out


def progress_overview(viewer: User, today: date | None = None) -> ProgressOverview:
    """Ready-to-complete and needs-attention counts over the viewer's active campaigns (SPEC
    §2.10) — the PROGRESS_CAMPAIGNS most recently started — each judged by its own campaign's
    configuration and counted as its campaign page counts (a few bounded reads per campaign)."""
    today = today or datetime.now(UTC).date()
    campaigns = list(db.session.scalars(
        sa.select(Campaign).where(Campaign.status == "active", visible(Campaign, viewer))
        .options(sa.orm.joinedload(Campaign.program).joinedload(Program.template),
                 sa.orm.joinedload(Campaign.company))
        .order_by(Campaign.start_date.desc(), Campaign.id.desc()).limit(PROGRESS_CAMPAIGNS + 1)))
    flags = sorted(progress_by_campaign(campaigns[:PROGRESS_CAMPAIGNS], today),
                   key=lambda f: (f.campaign.name, f.campaign.id))
    return ProgressOverview(flags, sum(f.ready for f in flags), sum(f.attention for f in flags),
                            len(campaigns) > PROGRESS_CAMPAIGNS)
