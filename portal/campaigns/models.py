"""Campaigns: a company's sponsored run of a program (SPEC §2.4).

``enrolled_count`` (active + completed beneficiaries) is the counter that the
enrollment operation moves with a conditional UPDATE; the CHECKs below are the
database backstop that keeps the cap and the budget exact whatever races.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import Company
from portal.db import JSONDocument, TimestampMixin, VersionedMixin, db, enum_check
from portal.lifecycle import RUN_STATUSES
from portal.programs.models import Program


class Campaign(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "key", name="uq_campaigns_company_key"),
        enum_check("status", RUN_STATUSES),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_order"),
        sa.CheckConstraint("target_enrollment IS NULL OR target_enrollment >= 0", name="target_nonnegative"),
        sa.CheckConstraint("max_enrollment IS NULL OR max_enrollment >= 0", name="max_nonnegative"),
        sa.CheckConstraint(
            "max_enrollment IS NULL OR target_enrollment IS NULL OR max_enrollment >= target_enrollment",
            name="max_at_least_target",
        ),
        sa.CheckConstraint("target_volunteers IS NULL OR target_volunteers >= 0", name="volunteers_nonnegative"),
        sa.CheckConstraint("budget_allocated IS NULL OR budget_allocated >= 0", name="budget_nonnegative"),
        sa.CheckConstraint("seat_price IS NULL OR seat_price >= 0", name="seat_price_nonnegative"),
        sa.CheckConstraint("enrolled_count >= 0 AND waitlisted_count >= 0", name="counters_nonnegative"),
        sa.CheckConstraint("max_enrollment IS NULL OR enrolled_count <= max_enrollment", name="within_capacity"),
        sa.CheckConstraint(
            "seat_price IS NULL OR budget_allocated IS NULL OR seat_price * enrolled_count <= budget_allocated",
            name="within_budget",
        ),
        sa.CheckConstraint("length(currency) = 3 AND currency = upper(currency)", name="currency_code"),
        sa.Index("ix_campaigns_created", "created_at", "id"),
        sa.Index("ix_campaigns_company_created", "company_id", "created_at", "id"),
        sa.Index("ix_campaigns_program", "program_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100))
    program_id: Mapped[int] = mapped_column(sa.ForeignKey("programs.id", ondelete="RESTRICT"))
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id", ondelete="RESTRICT"))
    l2i_subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("l2i_subscriptions.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(5000), default="")
    config_overrides: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    target_enrollment: Mapped[int | None] = mapped_column(sa.Integer)
    max_enrollment: Mapped[int | None] = mapped_column(sa.Integer)  # hard cap; NULL = uncapped
    waitlist_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    target_volunteers: Mapped[int | None] = mapped_column(sa.Integer)
    currency: Mapped[str] = mapped_column(sa.String(3), default="EUR")
    budget_allocated: Mapped[int | None] = mapped_column(sa.BigInteger)  # minor units; NULL = no budget limit
    seat_price: Mapped[int | None] = mapped_column(sa.BigInteger)  # minor units
    internal_code: Mapped[str | None] = mapped_column(sa.String(100))
    tags: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    enrolled_count: Mapped[int] = mapped_column(sa.Integer, default=0)  # active + completed beneficiaries
    waitlisted_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    program: Mapped[Program] = relationship()
    company: Mapped[Company] = relationship()

    @property
    def budget_committed(self) -> int:
        return (self.seat_price or 0) * self.enrolled_count
