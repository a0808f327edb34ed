"""Deliveries: what actually happened for an enrollment (SPEC §2.9), and the per-kind
progress counters the delivery operations keep in the same transaction (SPEC §2.10).

A delivery is never deleted: a correction changes it (versioned, stale edits refused) and a
void keeps it, marked, and out of every count. A session recorded for a match is one
delivery on each of the pair's enrollments; ``counterpart_id`` links them so a correction or
a void moves both.
"""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import JSONDocument, TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check, utcnow
from portal.enrollments.models import Enrollment
from portal.matches.models import Match

PRESENT, EXCUSED, UNEXCUSED = "present", "excused", "unexcused"
ATTENDANCES = (PRESENT, EXCUSED, UNEXCUSED)
DELIVERY_SOURCES = ("manual", "csv", "api", "kintell", "buddy", "upskilling")

# Exact decimals: at most 3 places and 11 integer digits, so SQLite's REAL storage still
# round-trips every value (15 significant digits) and PostgreSQL's NUMERIC is exact.
Quantity = sa.Numeric(14, 3)
QuantityTotal = sa.Numeric(15, 3)

_HAS_SOURCE_ID = sa.text("source_id IS NOT NULL")


class Delivery(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        enum_check("source", DELIVERY_SOURCES),
        enum_check("attendance", ATTENDANCES),
        sa.CheckConstraint("quantity >= 0", name="quantity_nonnegative"),
        sa.CheckConstraint("duration_minutes IS NULL OR duration_minutes >= 0", name="duration_nonnegative"),
        sa.CheckConstraint("voided_at IS NOT NULL OR (voided_by_id IS NULL AND void_reason IS NULL)",
                           name="void_fields"),
        # A re-sent connector or CSV row finds its delivery (SPEC §2.9); the enrollment is part of
        # the key because a match session carries one source id on both of the pair's deliveries.
        sa.Index("uq_deliveries_source_id", "source", "source_id", "enrollment_id", unique=True,
                 sqlite_where=_HAS_SOURCE_ID, postgresql_where=_HAS_SOURCE_ID),
        # The timeline's order, and covering what the reports sum over a period (kind, whether
        # it counts, minutes), so a company's report reads no table rows.
        sa.Index("ix_deliveries_enrollment_occurred", "enrollment_id", "occurred_on", "id", "kind", "attendance",
                 "voided_at", "duration_minutes"),
        sa.Index("ix_deliveries_match", "match_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(100))
    occurred_on: Mapped[date] = mapped_column(sa.Date)
    occurred_time: Mapped[time | None] = mapped_column(sa.Time)
    quantity: Mapped[Decimal] = mapped_column(Quantity, default=Decimal(1))
    duration_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    attendance: Mapped[str | None] = mapped_column(sa.String(16))
    match_id: Mapped[int | None] = mapped_column(sa.ForeignKey("matches.id", ondelete="RESTRICT"))
    counterpart_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(sa.String(16), default="manual")
    source_id: Mapped[str | None] = mapped_column(sa.String(100))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument, default=dict)
    note: Mapped[str | None] = mapped_column(sa.String(2000))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(500))

    enrollment: Mapped[Enrollment] = relationship()
    match: Mapped[Match | None] = relationship()

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @property
    def counts(self) -> bool:
        """Whether it counts towards progress: not void, and attended when attendance applies."""
        return self.voided_at is None and self.attendance in (None, PRESENT)


class EnrollmentProgress(db.Model):
    """An enrollment's counted deliveries of one kind: how many, their total quantity and the
    latest date. Moved by the delivery operations in the delivery's own transaction, so pages
    read one row per kind instead of recounting deliveries."""

    __tablename__ = "enrollment_progress"
    __table_args__ = (
        sa.CheckConstraint("deliveries >= 0", name="deliveries_nonnegative"),
        sa.CheckConstraint("counted_quantity >= 0", name="quantity_nonnegative"),
    )

    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    counted_quantity: Mapped[Decimal] = mapped_column(QuantityTotal, default=Decimal(0))
    deliveries: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_on: Mapped[date | None] = mapped_column(sa.Date)


class EnrollmentMilestone(db.Model):
    """A milestone an enrollment reached (SPEC §2.10): once per enrollment and milestone key,
    written in the transaction of the delivery that reached it (``delivery_id``), removed
    again when the counts no longer reach it (that delivery voided or corrected)."""

    __tablename__ = "enrollment_milestones"

    enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    reached_on: Mapped[date] = mapped_column(sa.Date)
    delivery_id: Mapped[int | None] = mapped_column(sa.ForeignKey("deliveries.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
