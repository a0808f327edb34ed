"""Impact report snapshots and their share links (SPEC §2.11 "Impact report").

A snapshot freezes a report's content at the moment it was made: the exact JSON text is
kept with its SHA-256, which the page and the PDF print, so a figure quoted in a CSR
report can be traced to the data it came from. Snapshots are never changed."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import Company
from portal.db import UTCDateTime, db, utcnow


def canonical_json(content: dict[str, Any]) -> str:
    """The one text a content is stored and hashed as: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ReportSnapshot(db.Model):
    __tablename__ = "report_snapshots"
    __table_args__ = (
        sa.CheckConstraint("scope IN ('campaign', 'company')", name="scope_known"),
        sa.CheckConstraint("scope = 'company' OR campaign_id IS NOT NULL", name="campaign_for_campaign_scope"),
        sa.Index("ix_report_snapshots_company", "company_id", "created_at"),
        sa.Index("ix_report_snapshots_campaign", "campaign_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id", ondelete="RESTRICT"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="RESTRICT"))
    scope: Mapped[str] = mapped_column(sa.String(16))
    period_key: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))
    content_json: Mapped[str] = mapped_column(sa.Text)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    company: Mapped[Company] = relationship()

    @property
    def name(self) -> str:  # the activity log's label
        return self.title

    @property
    def content(self) -> dict[str, Any]:
        return json.loads(self.content_json)

    @property
    def short_hash(self) -> str:
        return self.content_sha256[:12]

    def is_intact(self) -> bool:
        """Whether the stored text still hashes to the printed value."""
        return content_hash(self.content_json) == self.content_sha256


def new_link_secret() -> str:
    return secrets.token_urlsafe(24)


class ReportShareLink(db.Model):
    """An expiring, revocable, signed read-only address of one snapshot, for people without
    an account. Every view is counted and logged."""

    __tablename__ = "report_share_links"
    __table_args__ = (sa.Index("ix_report_share_links_snapshot", "snapshot_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(sa.ForeignKey("report_snapshots.id", ondelete="CASCADE"))
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id", ondelete="RESTRICT"))
    secret: Mapped[str] = mapped_column(sa.String(64), default=new_link_secret)
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    views: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    snapshot: Mapped[ReportSnapshot] = relationship()

    @property
    def name(self) -> str:
        return self.label or f"Share link {self.id}"

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at
