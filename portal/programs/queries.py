"""Reading programs: the filtered list and a program's campaign roll-up."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from portal.beneficiaries.models import BeneficiaryGroup
from portal.db import db
from portal.pagination import Page, keyset_page
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program


@dataclass
class ProgramFilters:
    category: str | None = None
    status: str | None = None
    group_id: int | None = None
    country: str | None = None
    template_key: str | None = None
    search: str | None = None

    def as_args(self) -> dict[str, str]:
        args = {"category": self.category, "status": self.status, "group": self.group_id, "country": self.country,
                "template": self.template_key, "q": self.search}
        return {k: str(v) for k, v in args.items() if v}


def program_page(filters: ProgramFilters, cursor: str | None, size: int) -> Page:
    """A page of programs (newest first) with their group and template loaded (their
    campaign counts: :func:`portal.rollups.campaign_counts`)."""
    stmt = (
        sa.select(Program)
        .join(ProgramTemplate, ProgramTemplate.id == Program.template_id)
        .join(BeneficiaryGroup, BeneficiaryGroup.id == Program.group_id)
        .options(sa.orm.contains_eager(Program.template), sa.orm.contains_eager(Program.group))
    )
    if filters.category:
        stmt = stmt.where(ProgramTemplate.category == filters.category)
    if filters.status:
        stmt = stmt.where(Program.status == filters.status)
    if filters.group_id:
        stmt = stmt.where(Program.group_id == filters.group_id)
    if filters.country:
        stmt = stmt.where(BeneficiaryGroup.country == filters.country)
    if filters.template_key:
        stmt = stmt.where(ProgramTemplate.key == filters.template_key)
    if filters.search:
        term = filters.search.lower()
        stmt = stmt.where(sa.or_(sa.func.lower(Program.name).contains(term, autoescape=True),
                                 Program.key.contains(term, autoescape=True)))
    return keyset_page(stmt, Program, cursor, size)


def newer_active_version(program: Program) -> ProgramTemplate | None:
    return db.session.scalars(
        sa.select(ProgramTemplate).where(ProgramTemplate.key == program.template.key,
                                         ProgramTemplate.status == "active",
                                         ProgramTemplate.version > program.template.version)
    ).first()
