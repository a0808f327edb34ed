"""Slug keys (SPEC §2): generated from the name when left blank, made unique with
-2, -3…, immutable once created."""
from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from slugify import slugify

from portal.db import db
from portal.i18n import _l

KEY_MAX_LENGTH = 100
KEY_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
KEY_RULE_TEXT = _l("Use lowercase letters, digits and single hyphens (e.g. language-for-ukraine), at most 100 characters.")


def is_valid_key(key: str) -> bool:
    return len(key) <= KEY_MAX_LENGTH and bool(KEY_PATTERN.match(key))


def key_from_name(name: str) -> str:
    # Leave room for a "-NN" suffix so a made-unique key still fits.
    return slugify(name, max_length=KEY_MAX_LENGTH - 6, word_boundary=True) or "item"


def unique_key(column: sa.orm.InstrumentedAttribute[Any], base: str, *scope: sa.ColumnElement[bool]) -> str:
    """``base`` if free in ``column`` (within ``scope``), else base-2, base-3…"""
    taken = set(
        db.session.scalars(
            sa.select(column).where(sa.or_(column == base, column.like(f"{base}-%")), *scope)
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def key_problem(key: str, column: sa.orm.InstrumentedAttribute[Any], *scope: sa.ColumnElement[bool]) -> Any:
    """Why an explicitly chosen ``key`` cannot be used (bad shape, or taken), else None."""
    if not is_valid_key(key):
        return KEY_RULE_TEXT
    if db.session.scalar(sa.select(column).where(column == key, *scope).limit(1)) is not None:
        return _l("This key is taken.")
    return None
