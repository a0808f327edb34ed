"""Reading templates: the list by key, a key's versions, program counts."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort

from portal.db import db
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program


@dataclass
class TemplateRow:
    latest: ProgramTemplate
    versions: int
    programs: int


def template_rows(*, category: str | None = None, status: str | None = None, search: str | None = None,
                  after_key: str | None = None, size: int = 50) -> tuple[list[TemplateRow], str | None]:
    """One row per key (its latest version), ordered by key, paged by key (keyset)."""
    latest = (
        sa.select(ProgramTemplate.key, sa.func.max(ProgramTemplate.version).label("version"),
                  sa.func.count().label("versions"))
        .group_by(ProgramTemplate.key).subquery()
    )
    programs = (
        sa.select(ProgramTemplate.key, sa.func.count(Program.id).label("programs"))
        .join(Program, Program.template_id == ProgramTemplate.id).group_by(ProgramTemplate.key).subquery()
    )
    stmt = (
        sa.select(ProgramTemplate, latest.c.versions, sa.func.coalesce(programs.c.programs, 0))
        .join(latest, sa.and_(latest.c.key == ProgramTemplate.key, latest.c.version == ProgramTemplate.version))
        .outerjoin(programs, programs.c.key == ProgramTemplate.key)
        .order_by(ProgramTemplate.key)
    )
    if category:
        stmt = stmt.where(ProgramTemplate.category == category)
    if status:
        stmt = stmt.where(ProgramTemplate.status == status)
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(ProgramTemplate.name).like(pattern), ProgramTemplate.key.like(pattern)))
    if after_key:
        stmt = stmt.where(ProgramTemplate.key > after_key)
    rows = db.session.execute(stmt.limit(size + 1)).all()
    items = [TemplateRow(t, versions, count) for t, versions, count in rows[:size]]
    return items, (items[-1].latest.key if len(rows) > size and items else None)


def versions_of(key: str) -> list[tuple[ProgramTemplate, int]]:
    """Every version of a key, newest first, with how many programs use each."""
    counts = (
        sa.select(Program.template_id, sa.func.count().label("n")).group_by(Program.template_id).subquery()
    )
    rows = db.session.execute(
        sa.select(ProgramTemplate, sa.func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.template_id == ProgramTemplate.id)
        .where(ProgramTemplate.key == key).order_by(ProgramTemplate.version.desc())
    ).all()
    return [(t, n) for t, n in rows]


def programs_using(template_id: int, limit: int = 20) -> list[Program]:
    return list(db.session.scalars(
        sa.select(Program).where(Program.template_id == template_id).order_by(Program.name).limit(limit)
    ))


def get_version_or_404(key: str, version: int | None = None, *, for_update: bool = False) -> ProgramTemplate:
    stmt = sa.select(ProgramTemplate).where(ProgramTemplate.key == key)
    stmt = stmt.where(ProgramTemplate.version == version) if version else stmt.order_by(ProgramTemplate.version.desc())
    if for_update:
        stmt = stmt.with_for_update()
    template = db.session.scalars(stmt.limit(1)).first()
    if template is None:
        abort(404)
    return template
