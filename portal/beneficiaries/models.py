"""Beneficiary groups: populations, never persons (SPEC §2.2)."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.db import JSONDocument, TimestampMixin, VersionedMixin, db, enum_check
from portal.i18n import _l

GROUP_TYPES = (
    "refugees", "migrants", "asylum_seekers", "displaced_persons", "newcomers", "women_in_tech",
    "youth", "seniors", "students", "job_seekers", "caregivers", "veterans", "other",
)
LANGUAGE_REQUIREMENTS = ("any", "beginner", "conversational", "fluent")
GROUP_STATUSES = ("active", "inactive", "archived")

# What people read for each code (lazy: in the reader's language where shown).
GROUP_TYPE_LABELS = {
    "refugees": _l("Refugees"), "migrants": _l("Migrants"), "asylum_seekers": _l("Asylum seekers"),
    "displaced_persons": _l("Displaced persons"), "newcomers": _l("Newcomers"), "women_in_tech": _l("Women in tech"),
    "youth": _l("Youth"), "seniors": _l("Seniors"), "students": _l("Students"), "job_seekers": _l("Job seekers"),
    "caregivers": _l("Caregivers"), "veterans": _l("Veterans"), "other": _l("Other"),
}
LANGUAGE_REQUIREMENT_LABELS = {
    "any": _l("Any level"), "beginner": _l("Beginner"), "conversational": _l("Conversational"), "fluent": _l("Fluent"),
}
assert set(GROUP_TYPE_LABELS) == set(GROUP_TYPES) and set(LANGUAGE_REQUIREMENT_LABELS) == set(LANGUAGE_REQUIREMENTS)


def group_type_label(code: str | None) -> str:
    """A group type as people read it (the code itself when unknown)."""
    return GROUP_TYPE_LABELS.get(code or "", code or "")


class BeneficiaryGroup(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "beneficiary_groups"
    __table_args__ = (
        enum_check("group_type", GROUP_TYPES),
        enum_check("language_requirement", LANGUAGE_REQUIREMENTS),
        enum_check("status", GROUP_STATUSES),
        sa.CheckConstraint("age_min IS NULL OR (age_min >= 0 AND age_min <= 120)", name="age_min_range"),
        sa.CheckConstraint("age_max IS NULL OR (age_max >= 0 AND age_max <= 120)", name="age_max_range"),
        sa.CheckConstraint("age_min IS NULL OR age_max IS NULL OR age_min <= age_max", name="age_order"),
        sa.CheckConstraint("active_from IS NULL OR active_until IS NULL OR active_until >= active_from",
                           name="active_dates_order"),
        sa.CheckConstraint("retention_months IS NULL OR retention_months > 0", name="retention_months_positive"),
        sa.Index("ix_beneficiary_groups_created", "created_at", "id"),
        sa.Index("ix_beneficiary_groups_country_created", "country", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(5000), default="")
    group_type: Mapped[str] = mapped_column(sa.String(32))
    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str | None] = mapped_column(sa.String(100))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    age_min: Mapped[int | None] = mapped_column(sa.Integer)
    age_max: Mapped[int | None] = mapped_column(sa.Integer)
    languages: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    language_requirement: Mapped[str] = mapped_column(sa.String(16), default="any")
    eligible_categories: Mapped[list[Any]] = mapped_column(JSONDocument)
    tags: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    active_from: Mapped[date | None] = mapped_column(sa.Date)
    active_until: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # Months after a participant's last enrollment in the group ended before their identity
    # is erased (SPEC §2.12, portal.privacy.retention); None keeps it until someone asks.
    retention_months: Mapped[int | None] = mapped_column(sa.Integer)
