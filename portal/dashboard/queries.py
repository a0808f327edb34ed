"""Home-page figures, each computed by one aggregate query scoped to the viewer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from portal.auth.models import User
from portal.auth.scoping import visible
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment
from portal.programs.models import Program

NEAR_CAPACITY_RATIO = 0.8


@dataclass(frozen=True)
class HomeFigures:
    active_programs: int
    active_campaigns: int
    enrollments_this_month: int
    near_capacity: list[Campaign]


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
    active_programs = db.session.scalar(sa.select(sa.func.count()).select_from(Program).where(programs_clause))
    active_campaigns = db.session.scalar(
        sa.select(sa.func.count()).select_from(Campaign).where(Campaign.status == "active", visible(Campaign, viewer))
    )
    enrollments_this_month = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Enrollment)
        .join(Campaign, Campaign.id == Enrollment.campaign_id)
        .where(Enrollment.created_at >= month_start, visible(Campaign, viewer))
    )
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
    return HomeFigures(active_programs or 0, active_campaigns or 0, enrollments_this_month or 0, list(near_capacity))
