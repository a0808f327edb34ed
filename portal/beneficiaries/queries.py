"""Reading beneficiary groups: the filtered list with its figures, and one group's programs.

Figures for a page come from one grouped query each over the page's group ids, so a
page costs the same number of statements whatever it holds (no N+1)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from portal.beneficiaries.models import GROUP_STATUSES, GROUP_TYPES, BeneficiaryGroup
from portal.campaigns.models import Campaign
from portal.db import db, json_array_contains
from portal.enrollments.models import Enrollment
from portal.pagination import Page, keyset_page
from portal.programs.models import Program
from portal.reference import countries, languages

SEARCH_MAX_LENGTH = 100
# Enrollments that count as participants of a group: beneficiaries taking part or done.
COUNTED_STATUSES = ("active", "completed")


@dataclass(frozen=True)
class GroupFilters:
    group_type: str | None = None
    country: str | None = None
    status: str | None = None
    language: str | None = None
    search: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> GroupFilters:
        """Filters from a query string; unknown values are ignored (never an error)."""
        group_type = args.get("type") or None
        country = (args.get("country") or "").strip().upper() or None
        status = args.get("status") or None
        language = (args.get("language") or "").strip().lower() or None
        search = "".join(ch for ch in (args.get("q") or "") if ch.isprintable()).strip()[:SEARCH_MAX_LENGTH] or None
        return cls(
            group_type=group_type if group_type in GROUP_TYPES else None,
            country=country if country in countries() else None,
            status=status if status in GROUP_STATUSES else None,
            language=language if language in languages() else None,
            search=search,
        )

    def as_args(self) -> dict[str, str]:
        """The URL parameters that reproduce these filters (kept through the pager)."""
        args = {"type": self.group_type, "country": self.country, "status": self.status,
                "language": self.language, "q": self.search}
        return {k: v for k, v in args.items() if v}


def speaks(language: str) -> sa.ColumnElement[bool]:
    """Groups whose working languages (a JSON list) include ``language``, on either database."""
    return json_array_contains(BeneficiaryGroup.languages, language, BeneficiaryGroup)


def _filtered(filters: GroupFilters) -> sa.Select:
    stmt = sa.select(BeneficiaryGroup)
    if filters.group_type:
        stmt = stmt.where(BeneficiaryGroup.group_type == filters.group_type)
    if filters.country:
        stmt = stmt.where(BeneficiaryGroup.country == filters.country)
    if filters.status:
        stmt = stmt.where(BeneficiaryGroup.status == filters.status)
    if filters.language:
        stmt = stmt.where(speaks(filters.language))
    if filters.search:
        term = filters.search.lower()
        stmt = stmt.where(sa.or_(sa.func.lower(BeneficiaryGroup.name).contains(term, autoescape=True),
                                 BeneficiaryGroup.key.contains(term, autoescape=True)))
    return stmt


@dataclass(frozen=True)
class GroupFigures:
    programs: int = 0
    participants: int = 0  # shown only through the |cohort filter (k-suppressed)


def program_counts(group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Program.group_id, sa.func.count()).where(Program.group_id.in_(group_ids)).group_by(Program.group_id)
    ).all())


def participant_counts(group_ids: list[int]) -> dict[int, int]:
    """Active + completed beneficiary enrollments in campaigns of each group's programs."""
    if not group_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Program.group_id, sa.func.count(Enrollment.id))
        .join(Campaign, Campaign.program_id == Program.id)
        .join(Enrollment, Enrollment.campaign_id == Campaign.id)
        .where(Program.group_id.in_(group_ids), Enrollment.role == "beneficiary",
               Enrollment.status.in_(COUNTED_STATUSES))
        .group_by(Program.group_id)
    ).all())


def group_page(filters: GroupFilters, cursor: str | None, size: int) -> tuple[Page, dict[int, GroupFigures]]:
    """A page of groups (newest first) and each one's programs and participants count."""
    page = keyset_page(_filtered(filters), BeneficiaryGroup, cursor, size)
    ids = [g.id for g in page.items]
    programs, participants = program_counts(ids), participant_counts(ids)
    return page, {i: GroupFigures(programs.get(i, 0), participants.get(i, 0)) for i in ids}


def countries_in_use() -> list[str]:
    """Country codes that at least one group has (the list filter's choices)."""
    return list(db.session.scalars(sa.select(BeneficiaryGroup.country).distinct()))


def programs_of(group_id: int, limit: int = 100) -> list[Program]:
    return list(db.session.scalars(
        sa.select(Program).where(Program.group_id == group_id)
        .order_by(Program.created_at.desc(), Program.id.desc()).limit(limit)
    ))
