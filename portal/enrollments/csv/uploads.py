"""Uploaded files waiting between the dry run and its confirm (SPEC §4 "CSV import of enrollments")."""
from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.enrollments.csv.parse import file_sha256
from portal.enrollments.csv.plan import ImportPlan
from portal.errors import DomainError

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
UPLOAD_TTL_SECONDS = 3600


class UploadExpired(DomainError):
    status_code = 410

    def __init__(self) -> None:
        super().__init__("This dry run has expired (uploads are kept for an hour). Upload the file again.", "file")


@dataclass
class StoredUpload:
    token: str
    data: bytes
    meta: dict[str, Any]

    @property
    def errors(self) -> list[list[Any]]:
        return self.meta.get("errors", [])


class ImportUploads:
    """Uploaded files waiting for their confirm: ``<token>.csv`` plus ``<token>.json``
    (user, campaign, time, file sha256, the campaign fingerprint and outcome digest of
    the dry run the user saw, and its error rows for the download). A token is 256
    random bits; it works only for the user and campaign it was made for, for an hour."""

    def __init__(self, folder: str | Path, ttl_seconds: int = UPLOAD_TTL_SECONDS):
        self.folder = Path(folder)
        self.ttl = ttl_seconds

    def _paths(self, token: str) -> tuple[Path, Path]:
        return self.folder / f"{token}.csv", self.folder / f"{token}.json"

    def save(self, *, user_id: int, campaign_id: int, data: bytes, plan: ImportPlan, filename: str = "") -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.sweep()
        token = secrets.token_urlsafe(32)
        csv_path, _ = self._paths(token)
        _write_private(csv_path, data)
        meta = {"user_id": user_id, "campaign_id": campaign_id, "created": time.time(),
                "file_sha256": plan.file_sha256, "filename": filename[:200]}
        self._write_meta(token, meta, plan)
        return token

    def remember(self, upload: StoredUpload, plan: ImportPlan) -> None:
        """Record a newer dry run (shown after a refused confirm) as the one to confirm."""
        self._write_meta(upload.token, upload.meta, plan)

    def _write_meta(self, token: str, meta: dict[str, Any], plan: ImportPlan) -> None:
        meta = dict(meta, fingerprint=plan.fingerprint, digest=plan.digest,
                    errors=[[p.number, p.row.email or "", p.row.external_ref or "", p.reason] for p in plan.errors])
        _write_private(self._paths(token)[1], json.dumps(meta).encode())

    def load(self, token: str, *, user_id: int, campaign_id: int) -> StoredUpload:
        """The upload, or NotFound (unknown, malformed, another user's or campaign's token)
        / UploadExpired (its hour is over)."""
        from portal.errors import NotFound

        if not TOKEN_PATTERN.fullmatch(token or ""):
            raise NotFound("That dry run")
        csv_path, meta_path = self._paths(token)
        try:
            meta = json.loads(meta_path.read_bytes())
            data = csv_path.read_bytes()
        except (OSError, ValueError):
            raise NotFound("That dry run") from None
        if meta.get("user_id") != user_id or meta.get("campaign_id") != campaign_id:
            raise NotFound("That dry run")
        if time.time() - meta.get("created", 0) > self.ttl:
            self.discard(token)
            raise UploadExpired()
        if file_sha256(data) != meta.get("file_sha256"):
            raise NotFound("That dry run")
        return StoredUpload(token, data, meta)

    def discard(self, token: str) -> None:
        for path in self._paths(token):
            path.unlink(missing_ok=True)

    def sweep(self) -> None:
        """Delete uploads whose hour is over."""
        cutoff = time.time() - self.ttl
        for path in self.folder.glob("*.json"):
            try:
                if path.stat().st_mtime < cutoff:
                    self.discard(path.stem)
            except OSError:
                continue
        for path in self.folder.glob("*.csv"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except OSError:
                continue


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
