"""How long a signed-in session lasts: an idle timeout and an absolute lifetime.

The session cookie is signed, so the two timestamps it carries cannot be edited by the
browser: ``signed_in_at`` (set at sign-in, never moved) and ``seen_at`` (moved forward by
requests). A cookie past either limit is refused for good, so a copy of it replayed later
is refused too; signing out and deactivation end sessions earlier (the session token).
"""
from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
# Moving seen_at re-signs the cookie: do it at most once a minute, not on every request.
SEEN_AT_RESOLUTION_SECONDS = 60


def start_session(session: MutableMapping[str, Any], now: float | None = None) -> None:
    """Stamp a session that has just signed in."""
    now = int(time.time() if now is None else now)
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def session_has_expired(session: MutableMapping[str, Any], *, idle_minutes: int, max_hours: int,
                        now: float | None = None) -> bool:
    """True when the session has been idle for ``idle_minutes`` or is ``max_hours`` old, or
    carries no stamps (signed before these limits existed: accepting it would let a copy of
    it be replayed forever). Otherwise records this request as the latest activity."""
    now = int(time.time() if now is None else now)
    signed_in_at, seen_at = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        return True
    if now - seen_at >= idle_minutes * 60 or now - signed_in_at >= max_hours * 3600:
        return True
    if now - seen_at >= SEEN_AT_RESOLUTION_SECONDS:
        session[SEEN_AT] = now
    return False
