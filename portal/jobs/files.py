"""Files kept in the database between steps (SPEC §6): an upload waiting for its dry run
and confirm, a job's output waiting for its download. Any instance can serve any step.

A file belongs to the user who made it (and, for imports, to one campaign); anyone else
gets the same 404 as for a token that never existed. Each file has an expiry; expired
files are deleted as new ones arrive and by ``flask jobs sweep``.
"""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.db import db, utcnow
from portal.errors import DomainError, NotFound
from portal.i18n import _l
from portal.jobs.models import StoredFile

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
DEFAULT_TTL = timedelta(hours=1)


class FileExpired(DomainError):
    status_code = 410

    def __init__(self) -> None:
        super().__init__(_l("This file has expired (uploads are kept for an hour). Upload it again."), "file")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_file(*, purpose: str, owner_id: int, data: bytes, filename: str = "", campaign_id: int | None = None,
               content_type: str = "text/csv", meta: dict[str, Any] | None = None,
               ttl: timedelta = DEFAULT_TTL) -> StoredFile:
    """Add a file to the current transaction (expired files are swept first)."""
    sweep_expired()
    stored = StoredFile(purpose=purpose, owner_id=owner_id, campaign_id=campaign_id, filename=filename[:200],
                        content_type=content_type, size=len(data), sha256=sha256_hex(data), data=data,
                        meta=meta or {}, expires_at=utcnow() + ttl)
    db.session.add(stored)
    db.session.flush()
    return stored


READ_PIECE = 1 << 20  # bytes per query when a file is read back


def file_data(stored: StoredFile) -> bytes:
    """The file's bytes, read in pieces of a megabyte. PostgreSQL sends a bytea value as hex
    text, so reading a 10 MB upload in one go held 20 MB of text and the driver's copy of
    it beside the bytes (the import worker's resident size grew by 45 MB, measured)."""
    column = sa.func.substr(StoredFile.data, sa.bindparam("start"), READ_PIECE, type_=sa.LargeBinary)
    query = sa.select(column).where(StoredFile.id == stored.id)
    return b"".join(db.session.scalar(query, {"start": start}) or b""
                    for start in range(1, stored.size + 1, READ_PIECE))


def find_file(token: str, *, purpose: str, owner_id: int, campaign_id: int | None = None) -> StoredFile:
    """The caller's file; NotFound for an unknown, malformed or someone else's token,
    FileExpired once its time is over."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        raise NotFound(_l("That file"))
    stored = db.session.scalar(sa.select(StoredFile).where(
        StoredFile.token == token, StoredFile.purpose == purpose, StoredFile.owner_id == owner_id))
    if stored is None or (campaign_id is not None and stored.campaign_id != campaign_id):
        raise NotFound(_l("That file"))
    if stored.expires_at <= utcnow():
        raise FileExpired()
    return stored


def sweep_expired() -> int:
    """Delete expired files (in the current transaction); how many went."""
    result = db.session.execute(sa.delete(StoredFile).where(StoredFile.expires_at <= utcnow()))
    return result.rowcount or 0
