"""When a failed delivery is tried again: exponential backoff, for at most 24 hours.

After the n-th failed attempt the next waits ``FIRST_RETRY × 2**(n-1)``, at most
``MAX_DELAY``: 30 s, 1 min, 2, 4, 8, 16, 32 min, 1 h 4 min, 2 h 8 min, 4 h 16 min, then
every 6 h. A retry that would fall later than ``GIVE_UP_AFTER`` from the delivery's
creation is not scheduled: the delivery fails, saying why. Pure functions, so the
schedule is tested as a table.
"""
from __future__ import annotations

from datetime import datetime, timedelta

FIRST_RETRY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
GIVE_UP_AFTER = timedelta(hours=24)
# The first attempt is the job's, at once; the sweep takes a delivery whose job was lost after this.
FIRST_ATTEMPT_GRACE = timedelta(seconds=30)


def retry_delay(failed_attempts: int) -> timedelta:
    """How long to wait after the ``failed_attempts``-th failed attempt (1, 2, …)."""
    if failed_attempts < 1:
        raise ValueError("retry_delay counts failed attempts from 1")
    if failed_attempts > 20:  # 2**19 × 30 s is far past the cap already
        return MAX_DELAY
    return min(FIRST_RETRY * 2 ** (failed_attempts - 1), MAX_DELAY)


def next_attempt_at(created_at: datetime, failed_at: datetime, failed_attempts: int) -> datetime | None:
    """When to try again after a failed attempt at ``failed_at``; None: give up."""
    when = failed_at + retry_delay(failed_attempts)
    return when if when <= created_at + GIVE_UP_AFTER else None
