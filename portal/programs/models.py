"""Programs: a template version launched for one beneficiary group (SPEC §2.3)."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.beneficiaries.models import BeneficiaryGroup
from portal.db import JSONDocument, TimestampMixin, VersionedMixin, db, enum_check
from portal.i18n import _l
from portal.lifecycle import RUN_STATUSES
from portal.program_templates.models import ProgramTemplate

VISIBILITIES = ("public", "private")
# What people read for a program's codes (lazy: in the reader's language where shown).
VISIBILITY_LABELS = {"public": _l("Public"), "private": _l("Private")}
assert set(VISIBILITY_LABELS) == set(VISIBILITIES)


class Program(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "programs"
    __table_args__ = (
        enum_check("status", RUN_STATUSES),
        enum_check("visibility", VISIBILITIES),
        sa.CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_order"),
        sa.Index("ix_programs_created", "created_at", "id"),
        sa.Index("ix_programs_catalog", "status", "visibility", "created_at", "id"),
        sa.Index("ix_programs_group", "group_id"),
        sa.Index("ix_programs_template", "template_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    template_id: Mapped[int] = mapped_column(sa.ForeignKey("program_templates.id", ondelete="RESTRICT"))
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("beneficiary_groups.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(5000), default="")
    config_overrides: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    start_date: Mapped[date | None] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    visibility: Mapped[str] = mapped_column(sa.String(16), default="public")
    tags: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    sdg_goals: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    external_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The valuation set version its SROI uses (SPEC §2.11); changed only by pinning (portal.impact.operations).
    # A pinned version cannot be deleted (only drafts can, and drafts are never pinned).
    valuation_set_id: Mapped[int | None] = mapped_column(sa.ForeignKey("valuation_sets.id"))

    template: Mapped[ProgramTemplate] = relationship()
    group: Mapped[BeneficiaryGroup] = relationship()


def in_catalog() -> sa.ColumnElement[bool]:
    """The catalog's one rule (SPEC §2.3): a program is offered to companies while it is
    active and public. The catalog, campaign starts and tenancy all ask this."""
    return sa.and_(Program.status == "active", Program.visibility == "public")
