"""Reading templates: one version by key (the list with program counts is in portal.rollups)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from portal.db import db
from portal.program_templates.models import ProgramTemplate


def get_version_or_404(key: str, version: int | None = None, *, for_update: bool = False) -> ProgramTemplate:
    stmt = sa.select(ProgramTemplate).where(ProgramTemplate.key == key)
    stmt = stmt.where(ProgramTemplate.version == version) if version else stmt.order_by(ProgramTemplate.version.desc())
    if for_update:
        stmt = stmt.with_for_update()
    template = db.session.scalars(stmt.limit(1)).first()
    if template is None:
        abort(404)
    return template
