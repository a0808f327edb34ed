"""Jobs and the files they read and write (SPEC §6 "Background work")."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import JSONDocument, UTCDateTime, db, enum_check, utcnow
from portal.i18n import _l

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
FINISHED = (SUCCEEDED, FAILED)
# Procrastinate's own tables (PostgreSQL): created by a migration, not described by these models.
QUEUE_TABLE_PREFIX = "procrastinate_"

# The phases the runner itself writes are stored as these English keys (code compares them,
# e.g. a refused job answers 422) and shown in the reader's language. A task's own phases are
# written in the language of whoever started the job (it runs in it) and shown as stored.
WAITING, WAITING_AGAIN, STARTING, DONE = ("Waiting for a worker", "Waiting for a worker (the previous one stopped)",
                                          "Starting", "Done")
REFUSED, CRASHED, STOPPED = "Refused", "Failed", "Stopped"
# The key of ``params`` that holds the starter's language (portal.i18n.LANGUAGES).
LANGUAGE_PARAM = "language"
# Only an unfinished job's phase is shown (a finished one shows its outcome).
PHASE_LABELS = {WAITING: _l("Waiting for a worker"),
                WAITING_AGAIN: _l("Waiting for a worker (the previous one stopped)"), STARTING: _l("Starting")}


def is_application_table(name: str | None, type_: str, parent_names: object = None) -> bool:
    """Alembic's ``include_name``: leave Procrastinate's schema out of autogenerate."""
    return not (type_ == "table" and name and name.startswith(QUEUE_TABLE_PREFIX))


def new_token() -> str:
    """256 random bits, URL-safe: a stored file's name in URLs."""
    return secrets.token_urlsafe(32)


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        enum_check("status", STATUSES),
        sa.CheckConstraint("done >= 0 AND (total IS NULL OR total >= 0)", name="progress_non_negative"),
        sa.Index("ix_jobs_status_created", "status", "created_at"),
        sa.Index("ix_jobs_created_by", "created_by_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=QUEUED)
    params: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False, default=dict)
    # Progress, written by the worker outside its own transaction so readers see it live.
    phase: Mapped[str] = mapped_column(sa.String(60), nullable=False, default=WAITING)
    done: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    total: Mapped[int | None] = mapped_column(sa.Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    error: Mapped[str | None] = mapped_column(sa.Text)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=2)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    phase_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the current phase's start
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def phase_text(self) -> str:
        """The phase in words for the reader (the runner's own phases translated, a task's as written)."""
        label = PHASE_LABELS.get(self.phase)
        return str(label) if label is not None else self.phase

    @property
    def language(self) -> str:
        """The language the job runs in: its starter's, recorded with it (English if none)."""
        from portal.i18n import DEFAULT_LANGUAGE, LANGUAGES

        chosen = (self.params or {}).get(LANGUAGE_PARAM)
        return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, int(100 * self.done / self.total))

    def seconds_left(self, now: datetime | None = None) -> int | None:
        """A straight-line estimate from the rows done so far in this phase."""
        if self.status != RUNNING or not self.total or not self.done or self.heartbeat_at is None:
            return None
        started = self.phase_started_at or self.started_at or self.created_at
        elapsed = ((now or utcnow()) - started).total_seconds()
        if elapsed <= 0 or self.done >= self.total:
            return None
        return max(1, round(elapsed / self.done * (self.total - self.done)))


class StoredFile(db.Model):
    """An uploaded file waiting for its next step, or a job's output waiting for download."""

    __tablename__ = "stored_files"
    __table_args__ = (
        sa.CheckConstraint("size >= 0", name="size_non_negative"),
        sa.Index("ix_stored_files_expires", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(43), nullable=False, unique=True, default=new_token)
    purpose: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    content_type: Mapped[str] = mapped_column(sa.String(80), nullable=False, default="text/csv")
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False, deferred=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONDocument, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
