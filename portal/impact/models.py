"""Impact (SPEC §2.11): valuation sets (versioned like templates) and their entries, and the
two rollups the impact figures read instead of recounting deliveries.

The rollups are kept by database triggers (migration ``f3a9c1e7b2d4``) in the writing
transaction of whatever writes the rows they summarise — the delivery operations, the
attendance sheet, the CSV import, the seed, plain SQL — as ``enrollment_tallies`` is:

- :class:`ImpactTally`: per campaign, role, kind, detail and day, how many counted events
  happened and their total quantity. Counted deliveries (not void; present where attendance
  applies) under their kind; reached milestones as ``milestone_reached`` with the milestone
  key as detail; completed enrollments as ``program_completed`` on the day they completed.
- :class:`ImpactReach`: per campaign, role and delivery kind, how many enrollments have at
  least one counted delivery of it (from ``enrollment_progress``), so a small cell is known
  without scanning a campaign's enrollments. A milestone or a completion happens once per
  enrollment, so its tally's count is already its reach.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check

DRAFT, ACTIVE, RETIRED = "draft", "active", "retired"
VALUATION_STATUSES = (DRAFT, ACTIVE, RETIRED)
VALUATION_TRANSITIONS: dict[str, tuple[str, ...]] = {DRAFT: (ACTIVE,), ACTIVE: (RETIRED,), RETIRED: ()}

# What an entry values: a delivery kind, a milestone key, or the completion of the program.
DELIVERY, MILESTONE, COMPLETION = "delivery", "milestone", "completion"
OUTCOME_TYPES = (DELIVERY, MILESTONE, COMPLETION)
PROGRAM_COMPLETED = "program_completed"
MILESTONE_REACHED = "milestone_reached"

Percent = sa.Numeric(5, 2)  # 0.00–100.00
TallyQuantity = sa.Numeric(15, 3)


class ValuationSet(TimestampMixin, VersionedMixin, db.Model):
    """One version of a valuation set. Only a draft changes; activating version n+1 retires
    the key's active version (programs pinned to it keep it until they upgrade)."""

    __tablename__ = "valuation_sets"
    __table_args__ = (
        sa.UniqueConstraint("key", "version", name="uq_valuation_sets_key_version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        enum_check("status", VALUATION_STATUSES),
        sa.CheckConstraint("discount_rate >= 0 AND discount_rate <= 20", name="discount_rate_range"),
        sa.CheckConstraint("length(currency) = 3 AND currency = upper(currency)", name="currency_code"),
        sa.Index("uq_valuation_sets_one_draft", "key", unique=True,
                 sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'")),
        sa.Index("uq_valuation_sets_one_active", "key", unique=True,
                 sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(5000), default="")
    currency: Mapped[str] = mapped_column(sa.String(3))
    discount_rate: Mapped[Decimal] = mapped_column(Percent, default=Decimal("3.50"))  # percent a year
    status: Mapped[str] = mapped_column(sa.String(16), default=DRAFT)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entries: Mapped[list[ValuationEntry]] = relationship(
        back_populates="valuation_set", cascade="all, delete-orphan",
        order_by="[ValuationEntry.outcome_type, ValuationEntry.outcome]")

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


class ValuationEntry(TimestampMixin, db.Model):
    """The value of one outcome: a financial proxy per unit (minor units, the set's currency)
    with its source, the share that would have happened anyway (deadweight), that displaced
    other good (displacement), that others caused (attribution), the yearly drop-off and how
    many years it lasts."""

    __tablename__ = "valuation_entries"
    __table_args__ = (
        sa.UniqueConstraint("set_id", "outcome_type", "outcome", name="uq_valuation_entries_outcome"),
        enum_check("outcome_type", OUTCOME_TYPES),
        sa.CheckConstraint("proxy_minor >= 0 AND proxy_minor <= 1000000000", name="proxy_range"),
        sa.CheckConstraint("deadweight >= 0 AND deadweight <= 100 AND attribution >= 0 AND attribution <= 100 "
                           "AND displacement >= 0 AND displacement <= 100 AND drop_off >= 0 AND drop_off <= 100",
                           name="percent_range"),
        sa.CheckConstraint("duration_years >= 1 AND duration_years <= 10", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(sa.ForeignKey("valuation_sets.id", ondelete="CASCADE"))
    outcome_type: Mapped[str] = mapped_column(sa.String(16))
    outcome: Mapped[str] = mapped_column(sa.String(100))
    proxy_minor: Mapped[int] = mapped_column(sa.BigInteger)
    source_text: Mapped[str] = mapped_column(sa.String(1000))
    source_url: Mapped[str] = mapped_column(sa.String(500), default="")
    deadweight: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    attribution: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    displacement: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    drop_off: Mapped[Decimal] = mapped_column(Percent, default=Decimal(0))
    duration_years: Mapped[int] = mapped_column(sa.Integer, default=1)

    valuation_set: Mapped[ValuationSet] = relationship(back_populates="entries")


class ImpactTally(db.Model):
    """Counted events per campaign, role, kind, detail (a milestone's key) and day; kept by
    triggers (see the module docstring). Rows whose events fell back to 0 stay, at 0."""

    __tablename__ = "impact_tallies"
    # A report reads a period of many campaigns: by campaign and day, covering what it sums.
    __table_args__ = (sa.Index("ix_impact_tallies_campaign_day", "campaign_id", "day", "role", "kind", "detail",
                               "events", "quantity"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    detail: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    events: Mapped[int] = mapped_column(sa.Integer, default=0)
    quantity: Mapped[Decimal] = mapped_column(TallyQuantity, default=Decimal(0))


class ImpactReach(db.Model):
    """Enrollments per campaign, role and delivery kind with at least one counted delivery of
    it; kept by triggers on ``enrollment_progress``."""

    __tablename__ = "impact_reach"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    enrollments: Mapped[int] = mapped_column(sa.Integer, default=0)
