"""Participants and their enrollments in campaigns (SPEC §2.5)."""
from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import Company
from portal.campaigns.models import Campaign
from portal.db import JSONDocument, TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check
from portal.i18n import _l

ROLES = ("beneficiary", "volunteer")
STATUSES = ("waitlisted", "active", "completed", "dropped")
SOURCES = ("manual", "csv", "kintell", "buddy", "upskilling")
# What the screens call each role and status (the codes stay in files, URLs and the API).
ROLE_LABELS = {"beneficiary": _l("Beneficiary"), "volunteer": _l("Volunteer")}
STATUS_WORDS = {"waitlisted": _l("waitlisted"), "active": _l("active"), "completed": _l("completed"),
                "dropped": _l("dropped")}
# Where an enrollment came from: by hand, a CSV import, or a connector (named as the service is).
SOURCE_LABELS = {"manual": _l("manual"), "csv": "CSV", "kintell": "Kintell", "buddy": "Buddy",
                 "upskilling": "Upskilling"}
# The lawful basis each enrollment is processed under (GDPR Art. 6, SPEC §2.12). Rows that
# predate the column, and paths that do not say (the CSV import, connectors), get
# DEFAULT_LEGAL_BASIS: the NGO's legitimate interest in running the program it enrolled
# the person in. Consent is recorded only when someone actually gave it, with its date.
LEGAL_BASES = ("consent", "legitimate_interest", "contract")
DEFAULT_LEGAL_BASIS = "legitimate_interest"

# Pseudonymous references avoid look-alike characters.
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_participant_ref() -> str:
    return "P-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(7))


class Participant(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "participants"
    __table_args__ = (
        sa.CheckConstraint("year_of_birth IS NULL OR (year_of_birth >= 1900 AND year_of_birth <= 2100)",
                           name="year_of_birth_range"),
        sa.CheckConstraint("email IS NULL OR email = lower(email)", name="email_lowercase"),
        sa.Index("ix_participants_created", "created_at", "id"),
        sa.Index("ix_participants_display_name", "display_name"),
        sa.Index("ix_participants_company", "company_id"),
        # E-mail and external reference are unique per owner (SPEC §2.5): among the NGO's
        # beneficiaries (no company) and within each company's employees. So a company
        # admin creating an employee never collides with, and so never learns of, anyone else.
        sa.Index("uq_participants_beneficiary_email", "email", unique=True,
                 sqlite_where=sa.text("company_id IS NULL"), postgresql_where=sa.text("company_id IS NULL")),
        sa.Index("uq_participants_employee_email", "company_id", "email", unique=True,
                 sqlite_where=sa.text("company_id IS NOT NULL"), postgresql_where=sa.text("company_id IS NOT NULL")),
        sa.Index("uq_participants_beneficiary_external_ref", "external_ref", unique=True,
                 sqlite_where=sa.text("company_id IS NULL"), postgresql_where=sa.text("company_id IS NULL")),
        sa.Index("uq_participants_employee_external_ref", "company_id", "external_ref", unique=True,
                 sqlite_where=sa.text("company_id IS NOT NULL"), postgresql_where=sa.text("company_id IS NOT NULL")),
        sa.Index("ix_participants_email", "email"),
        sa.Index("ix_participants_external_ref", "external_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The program team's short reference. Company admins never see it: they get a
    # per-company pseudonym instead (portal.enrollments.pseudonyms).
    ref: Mapped[str] = mapped_column(sa.String(12), unique=True, default=new_participant_ref)
    display_name: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(254))  # stored normalised (NFKC, lowercased)
    year_of_birth: Mapped[int | None] = mapped_column(sa.Integer)
    languages: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    country: Mapped[str | None] = mapped_column(sa.String(2))
    external_ref: Mapped[str | None] = mapped_column(sa.String(100))
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id", ondelete="RESTRICT"))
    is_enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Set when the person's identity was erased (SPEC §2.12, portal.privacy.erasure): the row
    # stays so seats, counts and points stay the same, but it names nobody.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    company: Mapped[Company | None] = relationship()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class Enrollment(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "participant_id", name="uq_enrollments_campaign_participant"),
        enum_check("role", ROLES),
        enum_check("status", STATUSES),
        enum_check("source", SOURCES),
        enum_check("legal_basis", LEGAL_BASES),
        sa.CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name="completed_has_time"),
        sa.CheckConstraint("status <> 'dropped' OR dropped_at IS NOT NULL", name="dropped_has_time"),
        sa.CheckConstraint("status <> 'active' OR enrolled_at IS NOT NULL", name="active_has_time"),
        sa.CheckConstraint("status <> 'waitlisted' OR waitlisted_at IS NOT NULL", name="waitlisted_has_time"),
        sa.Index("ix_enrollments_campaign_created", "campaign_id", "created_at", "id"),
        sa.Index("ix_enrollments_campaign_status", "campaign_id", "status", "role", "created_at", "id"),
        sa.Index("ix_enrollments_participant", "participant_id"),
        sa.Index("ix_enrollments_enrolled_at", "enrolled_at"),
        sa.Index("ix_enrollments_created", "created_at", "id"),
        # The campaign page's needs-attention and program-length lists (portal/deliveries/progress.py).
        sa.Index("ix_enrollments_campaign_attention", "campaign_id", "status", "last_counted_delivery_on",
                 "enrolled_at"),
        sa.Index("ix_enrollments_campaign_status_enrolled", "campaign_id", "status", "enrolled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="RESTRICT"))
    participant_id: Mapped[int] = mapped_column(sa.ForeignKey("participants.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    drop_reason: Mapped[str | None] = mapped_column(sa.String(500))
    source: Mapped[str] = mapped_column(sa.String(16), default="manual")
    source_id: Mapped[str | None] = mapped_column(sa.String(100))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONDocument, default=dict)
    # The latest counted delivery's date: kept by portal/deliveries/operations.py and batch.py
    # in the delivery's transaction (Core UPDATEs: the enrollment's version does not move).
    last_counted_delivery_on: Mapped[date | None] = mapped_column(sa.Date)
    # The legal basis (SPEC §2.12, portal.privacy.consent); DEFAULT_LEGAL_BASIS where none was given.
    legal_basis: Mapped[str] = mapped_column(sa.String(24), default=DEFAULT_LEGAL_BASIS,
                                             server_default=DEFAULT_LEGAL_BASIS)
    consent_given_on: Mapped[date | None] = mapped_column(sa.Date)  # required when legal_basis is consent
    # Withdrawn consent stops new deliveries and matches at once (portal.privacy.consent).
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    campaign: Mapped[Campaign] = relationship()
    participant: Mapped[Participant] = relationship()


class EnrollmentDay(TimestampMixin, db.Model):
    """Enrollments created per campaign and day — a rollup kept in the same transaction as
    the enrollments it counts, so charts read a few hundred rows instead of millions."""

    __tablename__ = "enrollment_days"
    __table_args__ = (
        sa.CheckConstraint("enrollments >= 0", name="enrollments_nonnegative"),
        sa.Index("ix_enrollment_days_day", "day"),
    )

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    enrollments: Mapped[int] = mapped_column(sa.Integer, default=0)


class EnrollmentTally(TimestampMixin, db.Model):
    """How many of a campaign's enrollments have each role and status, by the day each was
    enrolled (``enrolled_at``, or ``created_at`` while waitlisted): the campaign page's
    counts by status and role and its seats-by-day chart read these few rows, never the
    enrollments (200k of them in a big campaign).

    Kept by database triggers on ``enrollments`` (migration ``d4e8a1c6f2b3``), so every
    write path — operations, the import's COPY, the seed, raw SQL — moves them in its own
    transaction: an insert adds one, a delete takes one away, an update that changes the
    campaign, role, status or day moves one from the old key to the new. (No CHECK on the
    count: both databases check an upsert's proposed row, -1, before its conflict turns it
    into an update. tests/integration/test_enrollment_tallies.py recounts instead.)"""

    __tablename__ = "enrollment_tallies"
    # The campaign page's read (counts by role and status, seats by day) from the index alone.
    __table_args__ = (sa.Index("ix_enrollment_tallies_campaign_role_day", "campaign_id", "role", "day", "status",
                               "enrollments"),)

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    enrollments: Mapped[int] = mapped_column(sa.Integer, default=0)
