"""License-to-Impact subscriptions and their allocations (SPEC §2.6).

Shares are stored as integer basis points of the subscription (1 = 0.01 %, so four
decimals of a fraction: 0.0045 → 45); ``allocated_bp`` on the subscription is the
counter whose CHECK keeps the shares at or below 100 % under any race.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import Company
from portal.db import TimestampMixin, VersionedMixin, db, enum_check

SKU_LEARNERS = {"L2I-250": 250, "L2I-500": 500, "L2I-EXPAND": 2500, "L2I-LAUNCH": 5000}
SUBSCRIPTION_STATUSES = ("active", "expired", "canceled")
FULL_SHARE_BP = 10_000


class L2ISubscription(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "l2i_subscriptions"
    __table_args__ = (
        enum_check("sku", tuple(SKU_LEARNERS)),
        enum_check("status", SUBSCRIPTION_STATUSES),
        sa.CheckConstraint("annual_price >= 0", name="price_nonnegative"),
        sa.CheckConstraint("learners > 0", name="learners_positive"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.CheckConstraint("allocated_bp >= 0 AND allocated_bp <= 10000", name="allocated_at_most_full"),
        sa.CheckConstraint("length(currency) = 3 AND currency = upper(currency)", name="currency_code"),
        sa.CheckConstraint(
            " OR ".join(f"(sku = '{sku}' AND learners = {n})" for sku, n in SKU_LEARNERS.items()),
            name="learners_match_sku",
        ),
        sa.Index("ix_l2i_subscriptions_company_created", "company_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id", ondelete="RESTRICT"))
    sku: Mapped[str] = mapped_column(sa.String(16))
    learners: Mapped[int] = mapped_column(sa.Integer)
    annual_price: Mapped[int] = mapped_column(sa.BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(sa.String(3))
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    allocated_bp: Mapped[int] = mapped_column(sa.Integer, default=0)

    company: Mapped[Company] = relationship()
    allocations: Mapped[list[L2IAllocation]] = relationship(back_populates="subscription")


class L2IAllocation(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "l2i_allocations"
    __table_args__ = (
        sa.CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),
        sa.CheckConstraint("amount >= 0", name="amount_nonnegative"),
        sa.CheckConstraint(
            "(program_id IS NOT NULL AND campaign_id IS NULL) OR (program_id IS NULL AND campaign_id IS NOT NULL)",
            name="one_target",
        ),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
        sa.Index("ix_l2i_allocations_subscription", "subscription_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("l2i_subscriptions.id", ondelete="RESTRICT"))
    program_id: Mapped[int | None] = mapped_column(sa.ForeignKey("programs.id", ondelete="RESTRICT"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="RESTRICT"))
    share_bp: Mapped[int] = mapped_column(sa.Integer)
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # minor units, price × share rounded half up
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)

    subscription: Mapped[L2ISubscription] = relationship(back_populates="allocations")
