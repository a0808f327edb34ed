"""Matches: a volunteer and a beneficiary of one campaign working as a pair (SPEC §2.8).

``MatchLoad`` is the volunteer's counter of active matches. Confirming a match moves it
with a conditional UPDATE (``… WHERE active_matches < limit``), so however many confirms
race, a volunteer never holds more active matches than the campaign's
``matching.maxMenteesPerMentor``; the CHECK keeps it from going negative. The counter
lives in its own table so the enrollments table stays the enrollments domain's own.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check, utcnow
from portal.enrollments.models import Enrollment

PROPOSED, ACTIVE, ENDED = "proposed", "active", "ended"
MATCH_STATUSES = (PROPOSED, ACTIVE, ENDED)
MATCH_TRANSITIONS = {PROPOSED: (ACTIVE, ENDED), ACTIVE: (ENDED,), ENDED: ()}

_OPEN = sa.text("status <> 'ended'")


class Match(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "matches"
    __table_args__ = (
        enum_check("status", MATCH_STATUSES),
        sa.CheckConstraint("volunteer_enrollment_id <> beneficiary_enrollment_id", name="two_enrollments"),
        sa.CheckConstraint("status <> 'active' OR started_at IS NOT NULL", name="active_has_start"),
        sa.CheckConstraint("status <> 'ended' OR ended_at IS NOT NULL", name="ended_has_end"),
        # At most one match that is not ended per pair (proposed or active), on both databases.
        sa.Index("uq_matches_open_pair", "volunteer_enrollment_id", "beneficiary_enrollment_id", unique=True,
                 sqlite_where=_OPEN, postgresql_where=_OPEN),
        sa.Index("ix_matches_campaign_status", "campaign_id", "status", "id"),
        sa.Index("ix_matches_volunteer", "volunteer_enrollment_id", "status"),
        sa.Index("ix_matches_beneficiary", "beneficiary_enrollment_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="RESTRICT"))
    volunteer_enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="RESTRICT"))
    beneficiary_enrollment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrollments.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(sa.String(16), default=PROPOSED)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    volunteer: Mapped[Enrollment] = relationship(foreign_keys=[volunteer_enrollment_id])
    beneficiary: Mapped[Enrollment] = relationship(foreign_keys=[beneficiary_enrollment_id])

    @property
    def is_open(self) -> bool:
        return self.status != ENDED


class MatchLoad(db.Model):
    """A volunteer enrollment's active matches: the counter confirm and end move."""

    __tablename__ = "match_loads"
    __table_args__ = (sa.CheckConstraint("active_matches >= 0", name="active_matches_nonnegative"),)

    volunteer_enrollment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("enrollments.id", ondelete="CASCADE"), primary_key=True)
    active_matches: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
