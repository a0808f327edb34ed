"""Webhook endpoints, their deliveries and each delivery's attempts (SPEC §4.2)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import Company
from portal.db import JSONDocument, TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check, utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
DELIVERY_STATUSES = (PENDING, DELIVERED, FAILED)
# What one attempt led to: delivered (2xx), retrying (another attempt is scheduled) or failed (the last).
ATTEMPT_OUTCOMES = (DELIVERED, "retrying", FAILED)


class WebhookEndpoint(TimestampMixin, VersionedMixin, db.Model):
    """A URL that receives the chosen event types, signed with the endpoint's secret.

    ``secret`` signs every message; after a rotation ``previous_secret`` signs too until
    ``previous_secret_expires_at``, so a receiver can switch over without losing messages.
    ``company_id`` narrows the events to one company's (None: every company's)."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        sa.CheckConstraint("length(url) > 0", name="url_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    event_types: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id", ondelete="CASCADE"))
    secret: Mapped[str] = mapped_column(sa.String(100))
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    company: Mapped[Company | None] = relationship()

    @property
    def name(self) -> str:
        """What the activity log calls it: its description, else its URL."""
        return self.description or self.url

    def signing_secrets(self, now: datetime) -> list[str]:
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class WebhookDelivery(db.Model):
    """One event for one endpoint: the body is fixed when the event happens (every attempt
    sends the same bytes under the same ``message_id``, so receivers can de-duplicate)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        enum_check("status", DELIVERY_STATUSES),
        sa.CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("activity_events.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(sa.String(64))
    message_id: Mapped[str] = mapped_column(sa.String(40), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(sa.String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    # When the retry sweep may try it (the first attempt is the job's, at once).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A worker sending it holds it until then (a worker that died lets go by itself).
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(db.Model):
    """One POST of a delivery: when, what came back, how long it took, what went wrong."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        enum_check("outcome", ATTEMPT_OUTCOMES),
        sa.UniqueConstraint("delivery_id", "number"),
        sa.CheckConstraint("number >= 1 AND duration_ms >= 0", name="number_and_duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(sa.Integer)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    duration_ms: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.String(300))
    outcome: Mapped[str] = mapped_column(sa.String(12))

    delivery: Mapped[WebhookDelivery] = relationship()
