"""Per-token rate limit (SPEC §4.2), counted by Flask-Limiter's store — the same
``PORTAL_RATELIMIT_STORAGE_URI`` the sign-in limits use, so with Redis every instance
counts into one budget per token. Every authenticated answer carries the IETF
``RateLimit-Policy`` / ``RateLimit`` fields (draft-ietf-httpapi-ratelimit-headers) and the
older ``RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` trio; a refused request gets 429
with ``Retry-After``."""
from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse

from portal.api.problems import ApiProblem
from portal.extensions import limiter
from portal.i18n import _n

DEFAULT_RATE_LIMIT = "600 per minute"


def charge(token_id: int) -> dict[str, str]:
    """Count one request of token ``token_id``; the headers to send, or ApiProblem(429)."""
    if not limiter.enabled:
        return {}
    item = parse(current_app.config.get("PORTAL_API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
    key = ("api-token", str(token_id))
    try:
        strategy = limiter.limiter
        allowed = strategy.hit(item, *key)
        stats = strategy.get_window_stats(item, *key)
    except Exception:  # the store is down: serve rather than refuse every connector (logged)
        current_app.logger.warning("API rate-limit store unavailable; request not counted", exc_info=True)
        return {}
    reset = max(0, math.ceil(stats.reset_time - time.time()))
    remaining = max(0, stats.remaining)
    headers = {
        "RateLimit-Policy": f'"per-token";q={item.amount};w={item.get_expiry()}',
        "RateLimit": f'"per-token";r={remaining};t={reset}',
        "RateLimit-Limit": str(item.amount),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
    }
    if not allowed:
        wait = max(reset, 1)
        said = _n("This token made more than %(limit)s requests in %(num)s second.",
                  "This token made more than %(limit)s requests in %(num)s seconds.", item.get_expiry(), limit=item.amount)
        advice = _n("Wait %(num)s second, then try again.", "Wait %(num)s seconds, then try again.", wait)
        raise ApiProblem(429, f"{said} {advice}",
                         headers={**headers, "Retry-After": str(wait)})
    return headers
