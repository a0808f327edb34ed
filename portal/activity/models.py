"""Activity events: one per change, written in the change's own transaction (SPEC §2.7)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import JSONDocument, UTCDateTime, db, utcnow


class ActivityEvent(db.Model):
    __tablename__ = "activity_events"
    __table_args__ = (
        sa.Index("ix_activity_events_created", "created_at", "id"),
        sa.Index("ix_activity_events_company_created", "company_id", "created_at", "id"),
        sa.Index("ix_activity_events_subject", "subject_type", "subject_id", "created_at", "id"),
        sa.Index("ix_activity_events_type_created", "type", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(64))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id", ondelete="SET NULL"))
    subject_type: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None] = mapped_column(sa.Integer)
    subject_label: Mapped[str] = mapped_column(sa.String(255), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()
