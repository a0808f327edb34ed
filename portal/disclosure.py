"""Statistical disclosure control for figures shown to company admins (SPEC §2.2, §2.11).

A figure that includes other companies' data (the catalog's enrollment counts, program
roll-ups) must not let a company learn about others by subtracting its own exact
numbers, nor watch small changes: such figures are rounded to the nearest 10 and shown
as "fewer than N" below the minimum cohort. A company's own figures stay exact.
"""
from __future__ import annotations

ROUNDING_BASE = 10


def rounded_count(count: int | None, min_cohort: int, base: int = ROUNDING_BASE) -> str:
    """``count`` for an audience that must not see it exactly: "fewer than N" below the
    cohort minimum, otherwise rounded half up to the nearest ``base`` ("about 60")."""
    if count is None or count < min_cohort:
        return f"fewer than {min_cohort}"
    rounded = (count + base // 2) // base * base
    return f"about {max(rounded, base):,}"
