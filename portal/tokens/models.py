"""Personal access tokens (SPEC §4.2).

Only the SHA-256 of a token is stored: the token is 256 random bits, so a plain hash is
as good as a slow one (nothing to guess), and a lookup by hash is one index probe per
API request. The visible ``prefix`` (``ipp_`` and the first characters) lets a user tell
their tokens apart and a scanner recognise a leaked one; it is too short to use.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.db import JSONDocument, TimestampMixin, UTCDateTime, db


class ApiToken(TimestampMixin, db.Model):
    __tablename__ = "api_tokens"
    __table_args__ = (
        sa.Index("ix_api_tokens_user_created", "user_id", "created_at", "id"),
        sa.CheckConstraint("length(token_hash) = 64", name="token_hash_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(16))  # "ipp_" + the token's first 8 characters
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 hex of the whole token
    scopes: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > now else "expired"
