"""Reading participants and enrollments: the search behind /participants/, a campaign's
enrollment list and the enroll screen's search, a participant's enrollments and timeline.

The search must stay fast at a million participants, so every match is one an index
serves: a display-name *prefix* (a range on ``ix_participants_display_name``, tried as
typed, with a capital first letter and in title case, so "anna" finds "Anna Berg"), and
an *exact* or *prefix* e-mail or external reference (ranges on their unique indexes).
No ``LIKE '%x%'``: a substring match reads the whole table. Results page by keyset on the
key the index is ordered by, never OFFSET.
"""
from __future__ import annotations

import base64
import heapq
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.db import db, like_prefix
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.pseudonyms import participant_id_for
from portal.pagination import Page, keyset_page
from portal.tenancy import select_visible, visible

SEARCH_MODES = ("any", "email", "external_ref")
# An erased person is found by no search (SPEC §2.12; their row stays for the figures).
NOT_ERASED = Participant.erased_at.is_(None)
_SORT_KEYS = {"any": Participant.display_name, "email": Participant.email, "external_ref": Participant.external_ref}


@dataclass
class ParticipantSearch:
    """One page of results. ``exact`` are the e-mail / reference matches shown first (first page only)."""

    items: list[Participant]
    next_cursor: str | None
    exact: list[Participant] = field(default_factory=list)
    enrollment_counts: dict[int, int] = field(default_factory=dict)

    @property
    def rows(self) -> list[Participant]:
        return self.exact + self.items


# --- cursors ----------------------------------------------------------------------------
def _encode(key: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([key, row_id]).encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[str, int] | None:
    """The (sort key, id) pair, or None for a missing or tampered cursor (first page)."""
    if not cursor:
        return None
    try:
        key, row_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(key, str) or not isinstance(row_id, int) or isinstance(row_id, bool):
        return None
    return key, row_id


# --- index-served matches ------------------------------------------------------------
def _next_text(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (code-point
    order, which is SQLite's BINARY and PostgreSQL's C collation)."""
    last = ord(prefix[-1]) + 1
    if 0xD800 <= last <= 0xDFFF:  # surrogates cannot be stored: jump over them
        last = 0xE000
    return None if last > 0x10FFFF else prefix[:-1] + chr(last)


def starts_with(column: Any, prefix: str) -> sa.ColumnElement[bool]:
    """``column LIKE 'prefix%'`` written as a range, so a plain b-tree index serves it on
    SQLite (whose LIKE ignores case and so skips the index) and PostgreSQL alike."""
    upper = _next_text(prefix)
    if upper is None:
        return sa.and_(column >= prefix, sa.func.substr(column, 1, len(prefix)) == prefix)
    return sa.and_(column >= prefix, column < upper)


def name_prefixes(term: str) -> list[str]:
    """The spellings a name prefix is tried in: as typed, capitalised, title case."""
    return list(dict.fromkeys([term, term[:1].upper() + term[1:], term.title()]))


def _after(key_column: Any, position: tuple[str, int] | None) -> list[sa.ColumnElement[bool]]:
    if position is None:
        return []
    key, row_id = position
    # key >= k lets the index seek; the OR then skips the rows already shown.
    return [key_column >= key, sa.or_(key_column > key, Participant.id > row_id)]


def _ordered_prefix_page(key_column: Any, prefixes: list[str], position: tuple[str, int] | None,
                         limit: int) -> list[Participant]:
    """Up to ``limit`` participants whose key starts with any of ``prefixes``, in (key, id)
    order: one index range scan per prefix (the ranges are disjoint), merged here."""
    runs = [
        db.session.scalars(
            sa.select(Participant).options(sa.orm.joinedload(Participant.company))
            .where(starts_with(key_column, prefix), *_after(key_column, position), NOT_ERASED)
            .order_by(key_column, Participant.id).limit(limit)
        ).all()
        for prefix in prefixes
    ]
    sort_key = key_column.key
    merged = heapq.merge(*runs, key=lambda p: (getattr(p, sort_key), p.id))
    return [p for _, p in zip(range(limit), merged, strict=False)]


def clean_search_term(term: str | None) -> str:
    """Printable characters only (PostgreSQL refuses a NUL even in a parameter), trimmed."""
    return "".join(ch for ch in (term or "") if ch.isprintable()).strip()[:254]


def search_participants(term: str, *, mode: str = "any", cursor: str | None = None,
                        size: int = 50) -> ParticipantSearch:
    """Participants matching ``term`` (program managers' search; see the module doc)."""
    term = clean_search_term(term)
    mode = mode if mode in SEARCH_MODES else "any"
    if not term:
        page = keyset_page(sa.select(Participant).options(sa.orm.joinedload(Participant.company)).where(NOT_ERASED),
                           Participant, cursor, size)
        result = ParticipantSearch(list(page.items), page.next_cursor)
    else:
        key_column = _SORT_KEYS[mode]
        position = _decode(cursor)
        if mode == "any":
            prefixes = name_prefixes(term)
        elif mode == "email":
            prefixes = [term.lower()]
        else:
            prefixes = [term]
        rows = _ordered_prefix_page(key_column, prefixes, position, size + 1)
        more = len(rows) > size
        items = rows[:size]
        exact: list[Participant] = []
        if mode == "any" and position is None:
            exact = list(db.session.scalars(
                sa.select(Participant).options(sa.orm.joinedload(Participant.company))
                .where(sa.or_(Participant.email == term.lower(), Participant.external_ref == term,
                              Participant.ref == term.upper()), NOT_ERASED)
                .order_by(Participant.id)))
            shown = {p.id for p in exact}
            items = [p for p in items if p.id not in shown]
        last = rows[size - 1] if more else None
        result = ParticipantSearch(items, _encode(getattr(last, key_column.key), last.id) if last else None, exact)
    result.enrollment_counts = enrollment_counts([p.id for p in result.rows])
    return result


def enrollment_counts(participant_ids: Sequence[int]) -> dict[int, int]:
    if not participant_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Enrollment.participant_id, sa.func.count())
        .where(Enrollment.participant_id.in_(list(participant_ids))).group_by(Enrollment.participant_id)).all())


# --- a campaign's enrollments ------------------------------------------------------------
def enrollment_page(campaign: Campaign, viewer: User, *, status: str | None, role: str | None,
                    search: str | None, cursor: str | None, size: int) -> Page:
    """A page of the campaign's enrollments. Company admins search only what they may see:
    their own pseudonyms of the participants, and their own employees' names."""
    stmt = (sa.select(Enrollment).join(Participant, Participant.id == Enrollment.participant_id)
            .options(sa.orm.contains_eager(Enrollment.participant)).where(Enrollment.campaign_id == campaign.id))
    if status:
        stmt = stmt.where(Enrollment.status == status)
    if role:
        stmt = stmt.where(Enrollment.role == role)
    if search:
        term = search.strip()
        pseudonymous_id = participant_id_for(campaign.company.pseudonym_key, term)
        by_reference = (Enrollment.participant_id == pseudonymous_id) if pseudonymous_id is not None else sa.false()
        if viewer.is_program_manager:
            stmt = stmt.where(sa.or_(by_reference, Participant.ref == term.upper(), Participant.email == term.lower(),
                                     Participant.external_ref == term,
                                     like_prefix(sa.func.lower(Participant.display_name), term.lower())))
        else:
            own = sa.and_(Participant.company_id == viewer.company_id,
                          like_prefix(sa.func.lower(Participant.display_name), term.lower()))
            stmt = stmt.where(sa.or_(by_reference, own))
    return keyset_page(stmt, Enrollment, cursor, size)


def searchable_participants(viewer: User, term: str, limit: int = 8) -> list[Participant]:
    """Existing participants to enroll. Program managers search everyone; a company admin
    only its own employees (the only people it may enroll), so the search can't confirm
    that anybody else exists."""
    term = (term or "").strip()
    if len(term) < 2:
        return []
    clause = sa.or_(Participant.email == term.lower(), Participant.external_ref == term,
                    like_prefix(sa.func.lower(Participant.display_name), term.lower()))
    if viewer.is_program_manager:
        clause = sa.or_(clause, Participant.ref == term.upper())
    return list(db.session.scalars(
        sa.select(Participant).where(clause, visible(Participant, viewer), Participant.is_enabled.is_(True))
        .order_by(Participant.display_name).limit(limit)))


# --- one participant -------------------------------------------------------------------
def participant_enrollments(participant: Participant, viewer: User) -> list[Enrollment]:
    """Every enrollment of the participant the viewer may see, newest first, with its campaign and company."""
    return list(db.session.scalars(
        select_visible(Enrollment, viewer)
        .options(sa.orm.joinedload(Enrollment.campaign).joinedload(Campaign.company),
                 sa.orm.joinedload(Enrollment.campaign).joinedload(Campaign.program))
        .where(Enrollment.participant_id == participant.id)
        .order_by(Enrollment.created_at.desc(), Enrollment.id.desc())))


def participant_timeline(participant: Participant, enrollments: Sequence[Enrollment], viewer: User,
                         limit: int = 100) -> list[ActivityEvent]:
    """Events about the participant and about each of their enrollments, newest first."""
    about = [sa.and_(ActivityEvent.subject_type == Participant.__tablename__,
                     ActivityEvent.subject_id == participant.id)]
    if enrollments:
        about.append(sa.and_(ActivityEvent.subject_type == Enrollment.__tablename__,
                             ActivityEvent.subject_id.in_([e.id for e in enrollments])))
    return list(db.session.scalars(
        sa.select(ActivityEvent).options(sa.orm.joinedload(ActivityEvent.actor))
        .where(sa.or_(*about), visible(ActivityEvent, viewer))
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc()).limit(limit)))


def company_options() -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in db.session.execute(sa.select(Company.id, Company.name)
                                                              .order_by(Company.name))]
