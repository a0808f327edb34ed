"""Reading L2I: subscriptions with their allocations and learners served."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.models import Enrollment
from portal.i18n import _
from portal.l2i.models import L2IAllocation, L2ISubscription
from portal.l2i.operations import share_percent, target_campaigns, target_programs
from portal.programs.models import Program


@dataclass
class AllocationRow:
    allocation: L2IAllocation
    target_name: str  # the campaign's or program's name, as typed
    learners_served: int

    @property
    def target_label(self) -> str:
        """ "Campaign: Mentoring Oslo" / "Program: …" in the reader's language."""
        if self.allocation.campaign_id:
            return _("Campaign: %(name)s", name=self.target_name)
        return _("Program: %(name)s", name=self.target_name)

    @property
    def option_label(self) -> str:
        """The target as the form's select offers it: "Campaign · Mentoring Oslo"."""
        if self.allocation.campaign_id:
            return _("Campaign · %(name)s", name=self.target_name)
        return _("Program · %(name)s", name=self.target_name)

    @property
    def percent(self) -> str:
        """The share as people read it: "45.50 %" (en), "45,50 %" (nb)."""
        return share_percent(self.allocation.share_bp)


def _bounds(allocation: L2IAllocation) -> tuple[datetime, datetime]:
    return (datetime.combine(allocation.period_start, time.min, tzinfo=UTC),
            datetime.combine(allocation.period_end, time.max, tzinfo=UTC))


def learners_served(allocation: L2IAllocation, company_id: int) -> int:
    """Active + completed beneficiaries of the allocated campaign (or of the company's
    campaigns of the allocated program) enrolled within the allocation's period."""
    start, end = _bounds(allocation)
    stmt = (sa.select(sa.func.count()).select_from(Enrollment).join(Campaign, Campaign.id == Enrollment.campaign_id)
            .where(Enrollment.role == "beneficiary", Enrollment.status.in_(("active", "completed")),
                   Enrollment.enrolled_at >= start, Enrollment.enrolled_at <= end))
    if allocation.campaign_id is not None:
        stmt = stmt.where(Campaign.id == allocation.campaign_id)
    else:
        stmt = stmt.where(Campaign.program_id == allocation.program_id, Campaign.company_id == company_id)
    return db.session.scalar(stmt) or 0


def allocation_rows(subscription: L2ISubscription, only: L2IAllocation | None = None) -> list[AllocationRow]:
    """The subscription's allocations (or just ``only``) with their targets' names and learners served."""
    allocations = [only] if only is not None else db.session.scalars(
        sa.select(L2IAllocation).where(L2IAllocation.subscription_id == subscription.id)
        .order_by(L2IAllocation.created_at, L2IAllocation.id)).all()
    campaign_names = dict(db.session.execute(sa.select(Campaign.id, Campaign.name).where(
        Campaign.id.in_([a.campaign_id for a in allocations if a.campaign_id]))).all())
    program_names = dict(db.session.execute(sa.select(Program.id, Program.name).where(
        Program.id.in_([a.program_id for a in allocations if a.program_id]))).all())
    return [AllocationRow(a, (campaign_names.get(a.campaign_id, "?") if a.campaign_id
                              else program_names.get(a.program_id, "?")),
                          learners_served(a, subscription.company_id)) for a in allocations]


def removed_allocation_ids(subscription: L2ISubscription) -> list[int]:
    """Allocations of the subscription that were removed (their removal event names it), so
    its timeline keeps their whole history."""
    return list(db.session.scalars(sa.select(ActivityEvent.subject_id).where(
        ActivityEvent.type == "l2i.allocation.removed", ActivityEvent.subject_type == L2IAllocation.__tablename__,
        ActivityEvent.data["subscription_id"].as_integer() == subscription.id)))


def allocation_targets(subscription: L2ISubscription) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """What the allocation form offers: exactly the targets operations.allocate accepts."""
    campaigns = db.session.execute(sa.select(Campaign.id, Campaign.name).where(
        target_campaigns(subscription.company_id)).order_by(Campaign.name, Campaign.id)).all()
    programs = db.session.execute(sa.select(Program.id, Program.name).where(
        target_programs(subscription.company_id)).order_by(Program.name, Program.id)).all()
    return [tuple(r) for r in campaigns], [tuple(r) for r in programs]
