"""Program templates: versioned blueprints with a typed configuration (SPEC §2.1)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import JSONDocument, TimestampMixin, UTCDateTime, VersionedMixin, db, enum_check
from portal.i18n import _l
from portal.lifecycle import TEMPLATE_STATUSES

CATEGORIES = ("mentorship", "language", "buddy", "upskilling", "weei")
CATEGORY_LABELS = {
    "mentorship": _l("Mentorship"),
    "language": _l("Language"),
    "buddy": _l("Buddy"),
    "upskilling": _l("Upskilling"),
    "weei": _l("Women’s economic empowerment (WEEI)"),
}
# One sentence per category, for titles and help text where the label alone may not say enough.
CATEGORY_DESCRIPTIONS = {
    "mentorship": _l("One-to-one mentoring by an experienced volunteer."),
    "language": _l("Practising a language in conversation with native speakers."),
    "buddy": _l("A local buddy who helps with everyday life in a new place."),
    "upskilling": _l("Courses and training that build skills for work."),
    "weei": _l("WEEI: women’s economic empowerment and inclusion — programs that help women into work, "
               "entrepreneurship and financial independence."),
}


class ProgramTemplate(TimestampMixin, VersionedMixin, db.Model):
    __tablename__ = "program_templates"
    __table_args__ = (
        sa.UniqueConstraint("key", "version", name="uq_program_templates_key_version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        enum_check("status", TEMPLATE_STATUSES),
        enum_check("category", CATEGORIES),
        # At most one draft and one active version per key (partial unique indexes).
        sa.Index("uq_program_templates_one_draft", "key", unique=True,
                 sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'")),
        sa.Index("uq_program_templates_one_active", "key", unique=True,
                 sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'")),
        sa.Index("ix_program_templates_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(100))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(5000), default="")
    category: Mapped[str] = mapped_column(sa.String(32))
    config_schema: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    default_config: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    ui_schema: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    deprecated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("program_templates.id", ondelete="SET NULL"))
    tags: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    sdg_goals: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deprecated_by: Mapped[ProgramTemplate | None] = relationship(remote_side=[id])

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"
