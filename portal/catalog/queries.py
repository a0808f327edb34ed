"""The catalog: what a company admin starts a campaign from (SPEC §4).

The rule it enforces: the catalog shows active, public programs and nothing else, to
every role (a company admin's own campaigns of a paused or private program do not put
that program back in the catalog). Of the beneficiary group it exposes only what a
company may know (name, type, country, working languages), never its description, age
range or tags: the query selects those columns alone, so a template cannot leak more.

A page costs a constant number of statements: one for the cards (template and group
joined) and one grouped query for the figures of the page's programs; the full page adds
two for the filter choices, which are reused for a minute (see ``catalog_choices``).
"""
from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from portal import reference
from portal.auth.models import User
from portal.beneficiaries.models import GROUP_TYPE_LABELS, GROUP_TYPES, BeneficiaryGroup, group_type_label
from portal.beneficiaries.privacy import cohort_figure
from portal.campaigns.models import Campaign
from portal.db import db, json_array_contains
from portal.disclosure import ROUNDING_BASE, rounded_count
from portal.forms import MAX_DB_ID
from portal.pagination import decode_cursor, encode_cursor
from portal.program_templates.models import CATEGORIES, CATEGORY_LABELS, ProgramTemplate
from portal.programs.models import Program, in_catalog
from portal.tenancy import visible

SEARCH_MAX_LENGTH = 100
# Enrollments that occupy a seat: the figure a card shows (k-suppressed in the template).
COUNTED_STATUSES = ("active", "completed")


# --- filters -------------------------------------------------------------------------
def _clean_search(text: str | None) -> str | None:
    # Control characters (a NUL breaks PostgreSQL parameters) carry no meaning in a search.
    cleaned = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C")
    return " ".join(cleaned.split())[:SEARCH_MAX_LENGTH] or None


def _sdg(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 2 and int(text) in reference.SDG_GOALS else None


@dataclass(frozen=True)
class CatalogFilters:
    """What the URL asks for; unknown values are ignored (the list simply is not narrowed)."""

    category: str | None = None
    country: str | None = None
    group_type: str | None = None
    language: str | None = None
    sdg: int | None = None
    search: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CatalogFilters:
        category = args.get("category") or ""
        country = (args.get("country") or "").strip().upper()
        group_type = args.get("group_type") or ""
        language = (args.get("language") or "").strip().lower()
        return cls(
            category=category if category in CATEGORIES else None,
            country=country if country in reference.countries() else None,
            group_type=group_type if group_type in GROUP_TYPES else None,
            language=language if language in reference.languages() else None,
            sdg=_sdg(args.get("sdg")),
            search=_clean_search(args.get("q")),
        )

    def as_args(self) -> dict[str, str]:
        """The URL parameters that reproduce these filters (empty ones left out)."""
        args = {"q": self.search, "category": self.category, "country": self.country,
                "group_type": self.group_type, "language": self.language, "sdg": self.sdg}
        return {k: str(v) for k, v in args.items() if v}

    @property
    def any(self) -> bool:
        return bool(self.as_args())


def _filtered(stmt: sa.Select[Any], filters: CatalogFilters) -> sa.Select[Any]:
    if filters.category:
        stmt = stmt.where(ProgramTemplate.category == filters.category)
    if filters.country:
        stmt = stmt.where(BeneficiaryGroup.country == filters.country)
    if filters.group_type:
        stmt = stmt.where(BeneficiaryGroup.group_type == filters.group_type)
    if filters.language:
        stmt = stmt.where(json_array_contains(BeneficiaryGroup.languages, filters.language,
                                               BeneficiaryGroup))
    if filters.sdg:
        stmt = stmt.where(json_array_contains(Program.sdg_goals, filters.sdg, Program))
    if filters.search:
        stmt = stmt.where(sa.or_(
            Program.name.icontains(filters.search, autoescape=True),
            Program.description.icontains(filters.search, autoescape=True),
            BeneficiaryGroup.name.icontains(filters.search, autoescape=True),
        ))
    return stmt


# --- the page --------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogCard:
    """One program as the catalog shows it: only what any signed-in user may see."""

    id: int
    name: str
    description: str
    category: str
    sdg_goals: list[int]
    group_name: str
    group_type: str
    country: str
    languages: list[str]
    enrolled: int  # active + completed beneficiaries over all campaigns; never shown as it is
    enrolled_text: str  # what the viewer may see of it (see portal.disclosure)
    own_campaigns: int | None  # the viewer's company's campaigns of it; None for program managers
    # The number enrolled_text shows ("fewer than 10" → 10, "about 60" → 60): it picks the
    # plural form of the words around the figure, and says no more than the text does.
    enrolled_shown: int = 0

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS.get(self.category, self.category)

    @property
    def group_type_label(self) -> str:
        return group_type_label(self.group_type)

    @property
    def sdg_badges(self) -> list[tuple[int, str]]:
        return [(goal, reference.sdg_names().get(goal, "")) for goal in self.sdg_goals]


@dataclass
class CatalogPage:
    cards: list[CatalogCard]
    next_cursor: str | None
    first: bool  # no cursor was given: the newest programs


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    # A tampered cursor (naive time, huge id) starts over rather than failing the bind.
    position = decode_cursor(cursor)
    if position is None or position[0].tzinfo is None or not 0 < position[1] <= MAX_DB_ID:
        return None
    return position


def _figures(program_ids: list[int], company_id: int | None) -> dict[int, tuple[int, int]]:
    """program id → (counted beneficiary enrollments, campaigns of ``company_id``), one grouped query.

    The count is the sum of the campaigns' seat counters (active + completed beneficiaries,
    kept exact by the enrollment operations), so a page reads campaigns, not enrollments."""
    if not program_ids:
        return {}
    own = (sa.func.count(sa.case((Campaign.company_id == company_id, Campaign.id)))
           if company_id is not None else sa.literal(0))
    rows = db.session.execute(
        sa.select(Campaign.program_id, sa.func.coalesce(sa.func.sum(Campaign.enrolled_count), 0), own)
        .where(Campaign.program_id.in_(program_ids))
        .group_by(Campaign.program_id)
    ).all()
    return {program_id: (int(enrolled), own_count) for program_id, enrolled, own_count in rows}


def _card_columns() -> sa.Select[Any]:
    """What a card shows, and nothing more of the group (see the module's rule)."""
    return (
        sa.select(
            Program.id, Program.created_at, Program.name, Program.description, Program.sdg_goals,
            ProgramTemplate.category, BeneficiaryGroup.name.label("group_name"), BeneficiaryGroup.group_type,
            BeneficiaryGroup.country, BeneficiaryGroup.languages,
        )
        .join(ProgramTemplate, ProgramTemplate.id == Program.template_id)
        .join(BeneficiaryGroup, BeneficiaryGroup.id == Program.group_id)
    )


def _shown(enrolled: int, min_cohort: int, rounded: bool) -> int:
    """The number the enrollment text shows (see :func:`portal.disclosure.rounded_count` and
    :func:`portal.beneficiaries.privacy.cohort_figure`)."""
    if enrolled < min_cohort:
        return min_cohort
    if rounded:
        return max((enrolled + ROUNDING_BASE // 2) // ROUNDING_BASE * ROUNDING_BASE, ROUNDING_BASE)
    return enrolled


def _card(r: Any, figures: dict[int, tuple[int, int]], company_id: int | None, min_cohort: int) -> CatalogCard:
    enrolled, own = figures.get(r.id, (0, 0))
    return CatalogCard(
        id=r.id, name=r.name, description=r.description or "", category=r.category,
        sdg_goals=sorted(g for g in (r.sdg_goals or []) if isinstance(g, int)),
        group_name=r.group_name, group_type=r.group_type, country=r.country,
        languages=list(r.languages or []), enrolled=enrolled,
        enrolled_text=(rounded_count(enrolled, min_cohort) if company_id is not None
                       else cohort_figure(enrolled, min_cohort)),
        own_campaigns=own if company_id is not None else None,
        enrolled_shown=_shown(enrolled, min_cohort, rounded=company_id is not None),
    )


def catalog_page(filters: CatalogFilters, *, company_id: int | None, cursor: str | None, size: int,
                 min_cohort: int = 10) -> CatalogPage:
    """A page of the catalog, newest first (keyset over (created_at, id)).

    ``company_id`` is the viewer's company (None for a program manager): each card then
    carries the number of that company's own campaigns of the program, no other
    company's campaigns are ever named or counted, and the enrollment figure (which
    includes other companies' campaigns) is rounded to 10 so subtracting one's own
    counts reveals nothing.
    """
    stmt = _filtered(_card_columns().where(in_catalog()), filters)
    position = _position(cursor)
    if position is not None:
        stmt = stmt.where(sa.tuple_(Program.created_at, Program.id) < sa.tuple_(*position))
    rows = db.session.execute(stmt.order_by(Program.created_at.desc(), Program.id.desc()).limit(size + 1)).all()
    more, rows = len(rows) > size, rows[:size]
    figures = _figures([r.id for r in rows], company_id)
    cards = [_card(r, figures, company_id, min_cohort) for r in rows]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return CatalogPage(cards, next_cursor, first=position is None)


# --- one program's page ---------------------------------------------------------------------
@dataclass
class CatalogProgram:
    """A program as a company admin may read it (the card, in full): what the card
    promises, with its dates, and the viewer's own campaigns of it."""

    card: CatalogCard
    start_date: date | None
    end_date: date | None
    listed: bool  # in the catalog now (active and public): a campaign can start from it
    campaigns: list[Campaign]  # the viewer's campaigns of it (a program manager: every company's)


def catalog_program(program_id: int, viewer: User, *, min_cohort: int = 10) -> CatalogProgram | None:
    """The program if ``viewer`` may see it (portal.tenancy: for a company admin the
    catalog's programs and those of its own campaigns), else None. The same columns and
    figures as its card: the group's name, type, country and languages only, the
    enrollment figure rounded for a company."""
    row = db.session.execute(
        _card_columns().add_columns(Program.start_date, Program.end_date, in_catalog().label("listed"))
        .where(Program.id == program_id, visible(Program, viewer))
    ).first()
    if row is None:
        return None
    company_id = viewer.company_id if viewer.is_company_admin else None
    campaigns = list(db.session.scalars(
        sa.select(Campaign).options(sa.orm.joinedload(Campaign.company))
        .where(Campaign.program_id == program_id, visible(Campaign, viewer))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc()).limit(50)
    ))
    return CatalogProgram(card=_card(row, _figures([row.id], company_id), company_id, min_cohort),
                          start_date=row.start_date, end_date=row.end_date, listed=bool(row.listed),
                          campaigns=campaigns)


# --- filter choices ------------------------------------------------------------------------
@dataclass
class CatalogChoices:
    """What the filter selects offer: the countries and working languages of the groups
    that have programs in the catalog (plus the ones asked for, so a shared link keeps its
    selection visible)."""

    countries: list[tuple[str, str]]  # (code, name) by name
    languages: list[tuple[str, str]]
    categories: dict[str, str] = field(default_factory=lambda: dict(CATEGORY_LABELS))
    group_types: dict[str, str] = field(default_factory=lambda: dict(GROUP_TYPE_LABELS))  # code → label
    sdgs: dict[int, str] = field(default_factory=reference.sdg_names)


def _catalog_codes() -> tuple[frozenset[str], frozenset[str]]:
    """Countries and languages of the groups with a program in the catalog (two DISTINCT
    statements; only groups with an active public program, so a private program's group
    shows nowhere)."""
    in_catalog_group = sa.exists(
        sa.select(1).where(Program.group_id == BeneficiaryGroup.id, in_catalog())
    ).correlate(BeneficiaryGroup)
    countries = db.session.scalars(sa.select(BeneficiaryGroup.country).where(in_catalog_group).distinct()).all()
    language_lists = db.session.scalars(
        sa.select(BeneficiaryGroup.languages).where(in_catalog_group).distinct()
    ).all()
    languages = {code for codes in language_lists for code in (codes or []) if isinstance(code, str)}
    return frozenset(countries), frozenset(languages)


def catalog_choices(filters: CatalogFilters, *, cache: dict[str, Any] | None = None,
                    ttl_seconds: float = 0) -> CatalogChoices:
    """The filter choices. With ``cache`` (a dict kept per app) the codes are reused for
    ``ttl_seconds``: they are the same for every user, change rarely, and cost a scan of
    the groups, while the cards themselves are always read fresh."""
    now = time.monotonic()
    cached = cache.get("catalog_codes") if cache is not None else None
    if cached is not None and cached[0] > now:
        countries, languages = cached[1]
    else:
        countries, languages = _catalog_codes()
        if cache is not None and ttl_seconds > 0:
            cache["catalog_codes"] = (now + ttl_seconds, (countries, languages))
    countries |= {filters.country} if filters.country else set()
    languages |= {filters.language} if filters.language else set()
    return CatalogChoices(
        countries=sorted(((c, reference.country_name(c)) for c in countries), key=lambda pair: pair[1]),
        languages=sorted(((c, reference.language_name(c)) for c in languages), key=lambda pair: pair[1]),
    )
