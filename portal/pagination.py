"""Keyset paging for every list (SPEC §4: no deep OFFSET). Lists are ordered newest
first by (created_at, id); the cursor is the last row's pair, opaque in the URL."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from portal.db import db

T = TypeVar("T")


def encode_cursor(created_at: datetime, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The (created_at, id) pair, or None for a missing or tampered cursor (first page)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, raw_id = raw.partition("|")
        row_id = int(raw_id)
        if not 0 < row_id <= 2**31 - 1:  # a tampered cursor must not overflow the database
            return None
        return datetime.fromisoformat(stamp), row_id
    except (ValueError, UnicodeDecodeError):
        return None


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def keyset_page(stmt: sa.Select[Any], model: Any, cursor: str | None, size: int) -> Page[Any]:
    """One page of ``stmt`` (newest first), fetching size + 1 rows to know if more follow."""
    position = decode_cursor(cursor)
    if position is not None:
        stmt = stmt.where(sa.tuple_(model.created_at, model.id) < sa.tuple_(*position))
    rows = db.session.scalars(stmt.order_by(model.created_at.desc(), model.id.desc()).limit(size + 1)).all()
    items = list(rows[:size])
    more = len(rows) > size
    return Page(items, encode_cursor(items[-1].created_at, items[-1].id) if more and items else None)
