"""Bulk work shared by the import's steps: chunked look-ups and a paused cycle collector."""
from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.db import db

LOOKUP_CHUNK = 1000


@contextmanager
def cycle_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during bulk work.

    Parsing, planning and inserting 100k rows keep a million container objects alive,
    and the collector would rescan them again and again (measured on the 100k-row
    confirm: 9–13 s with it, under 6 s without). Reference counting still frees
    everything at once; only reference cycles wait until the block ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def chunks(values: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def in_chunks(column: Any, values: Iterable[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """``column IN values`` as a few WHERE clauses: lists of 1,000 on SQLite; on PostgreSQL
    one array parameter per 10,000 values (``= ANY(…)`` is 5–7× faster there than long IN
    lists, measured on 100k e-mails)."""
    values = sorted(set(values))
    if db.session.get_bind().dialect.name == "postgresql":
        for chunk in chunks(values, 10 * LOOKUP_CHUNK):
            yield column == sa.any_(sa.bindparam(None, chunk, type_=postgresql.ARRAY(column.type)))
    else:
        for chunk in chunks(values):
            yield column.in_(chunk)
