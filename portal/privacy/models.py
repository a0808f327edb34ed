"""The register of data-subject requests (GDPR Art. 12, 15–21; SPEC §2.12): which participant
asked for what, when it arrived, and how and when it was answered.

A request is open until ``closed_at``. It is answered within one month of receipt
(Art. 12(3)): :attr:`DataSubjectRequest.due_on`. ``reference`` is the program team's own
case number (never personal data: the operation refuses e-mail- and phone-like text);
``outcome_note`` says how a request closed by hand was answered and is cleared when the
person is erased.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check
from portal.enrollments.models import Participant

ACCESS, ERASURE, RECTIFICATION, OBJECTION = "access", "erasure", "rectification", "objection"
REQUEST_KINDS = (ACCESS, ERASURE, RECTIFICATION, OBJECTION)
# How a request was closed: by the access export, by erasure, or by hand (with a note).
EXPORTED, ERASED, BY_HAND = "exported", "erased", "by_hand"
OUTCOMES = (EXPORTED, ERASED, BY_HAND)
REFERENCE_MAX, NOTE_MAX = 100, 1000


class DataSubjectRequest(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "privacy_requests"
    __table_args__ = (
        enum_check("kind", REQUEST_KINDS),
        enum_check("outcome", OUTCOMES),
        sa.CheckConstraint("(closed_at IS NULL) = (outcome IS NULL)", name="closed_has_outcome"),
        sa.Index("ix_privacy_requests_open", "closed_at", "received_on", "id"),
        sa.Index("ix_privacy_requests_participant", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    received_on: Mapped[date] = mapped_column(sa.Date)
    reference: Mapped[str | None] = mapped_column(sa.String(REFERENCE_MAX))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    outcome_note: Mapped[str | None] = mapped_column(sa.String(NOTE_MAX))

    participant: Mapped[Participant] = relationship()

    @property
    def due_on(self) -> date:
        """The day the answer is due: one month after receipt (Art. 12(3))."""
        from portal.privacy.retention import add_months

        return add_months(self.received_on, 1)

    def overdue(self, today: date) -> bool:
        return self.closed_at is None and today > self.due_on
