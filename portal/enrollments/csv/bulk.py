"""Bulk work shared by the import's steps: chunked look-ups, streamed inserts and a paused
cycle collector."""
from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from portal.db import db

LOOKUP_CHUNK = 1000


@contextlib.contextmanager
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


def bulk_insert(table: sa.Table, rows: Iterable[dict[str, Any]], constants: dict[str, Any] | None = None) -> int:
    """Insert ``rows`` (the columns that vary, same keys in every row), each with
    ``constants``, inside the session's transaction, streamed: no list of every row's
    parameters is ever built.

    Values go through each column type's own bind processor (SQLAlchemy's, so UTC
    datetimes and JSON are stored exactly as the ORM stores them; the constants once),
    then straight to the driver on the session's connection: PostgreSQL ``COPY … FROM
    STDIN``, SQLite ``executemany`` over a generator. Measured on a 100k-row confirm:
    the ORM's bulk insert took 17 s on PostgreSQL and 8 s on SQLite, mostly per-row
    parameter handling. Returns the number of rows written."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    constants = constants or {}
    dialect = db.session.get_bind().dialect
    varying = list(first)
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in varying]
    fixed = []
    for name, value in constants.items():
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        fixed.append(process(value) if process and value is not None else value)

    def records() -> Iterator[list[Any]]:
        for row in itertools.chain([first], rows):
            yield [process(row[name]) if process and row[name] is not None else row[name]
                   for name, process in zip(varying, processors, strict=True)] + fixed

    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in (*varying, *constants))
    target = dialect.identifier_preparer.format_table(table)
    with contextlib.closing(db.session.connection().connection.driver_connection.cursor()) as cursor:
        if dialect.name == "postgresql":
            written = 0
            with cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
                for record in records():
                    copy.write_row(record)
                    written += 1
            return written
        marks = ", ".join("?" * (len(varying) + len(constants)))
        cursor.executemany(f"INSERT INTO {target} ({columns}) VALUES ({marks})", records())
        return cursor.rowcount
