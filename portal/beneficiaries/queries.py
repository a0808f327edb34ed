"""Reading beneficiary groups: the filtered list with its figures, and one group's programs.

Figures for a page come from one grouped query each over the page's group ids, so a
page costs the same number of statements whatever it holds (no N+1)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from portal.beneficiaries.models import GROUP_STATUSES, GROUP_TYPES, BeneficiaryGroup
from portal.db import db, json_array_contains
from portal.pagination import Page, keyset_page
from portal.reference import countries, languages

SEARCH_MAX_LENGTH = 100


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


def group_page(filters: GroupFilters, cursor: str | None, size: int) -> Page:
    """A page of groups, newest first (their figures: :func:`portal.rollups.group_figures`)."""
    return keyset_page(_filtered(filters), BeneficiaryGroup, cursor, size)


def countries_in_use() -> list[str]:
    """Country codes that at least one group has (the list filter's choices)."""
    return list(db.session.scalars(sa.select(BeneficiaryGroup.country).distinct()))


def languages_in_use() -> set[str]:
    """Language codes that at least one group works in (offered first by the list filter)."""
    lists = db.session.scalars(sa.select(BeneficiaryGroup.languages).distinct())
    return {code for codes in lists for code in (codes or []) if isinstance(code, str)}
