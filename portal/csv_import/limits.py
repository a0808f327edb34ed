"""How large an uploaded file may be, the same for every import: ``PORTAL_IMPORT_MAX_ROWS``
and ``PORTAL_IMPORT_MAX_BYTES`` (see the README's settings)."""
from __future__ import annotations

from flask import current_app

DEFAULT_MAX_ROWS = 200_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


def max_rows() -> int:
    """The most data rows a file may have."""
    return int(current_app.config.get("PORTAL_IMPORT_MAX_ROWS") or DEFAULT_MAX_ROWS)


def max_bytes() -> int:
    """The largest file an upload may send."""
    return int(current_app.config.get("PORTAL_IMPORT_MAX_BYTES") or DEFAULT_MAX_BYTES)
