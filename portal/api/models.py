"""What the API keeps in the database: the answers to POSTs sent with an
``Idempotency-Key`` (SPEC §4.2), so a retry on any instance gets the first answer back."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import JSONDocument, UTCDateTime, db, utcnow

# What erasure leaves in ``fingerprint`` instead of the hash of a body that held a person's
# data (SPEC §2.12): not a SHA-256 hex digest, so no request ever matches it again.
ERASED_FINGERPRINT = "erased"


class IdempotencyKey(db.Model):
    """One key of one user: the request it came with (its fingerprint: method, path and
    canonical JSON body) and the answer that request got, kept until ``expires_at``
    (24 hours). Stored in the write's own transaction, so a key exists exactly when the
    change it answered does."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key", name="uq_api_idempotency_keys_user_key"),
        sa.Index("ix_api_idempotency_keys_expires", "expires_at"),
        sa.CheckConstraint("status_code >= 200 AND status_code < 600", name="status_code_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(500))
    status_code: Mapped[int] = mapped_column(sa.Integer)
    response_body: Mapped[Any] = mapped_column(JSONDocument)
    response_headers: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
