"""Statistical disclosure control for figures shown to company admins (SPEC §2.2, §2.11).

A figure that includes other companies' data (the catalog's enrollment counts, program
roll-ups) must not let a company learn about others by subtracting its own exact
numbers, nor watch small changes: such figures are rounded to the nearest 10 and shown
as "fewer than N" below the minimum cohort. A company's own figures stay exact.
"""
from __future__ import annotations

from collections.abc import Sequence

from portal.i18n import _, number

ROUNDING_BASE = 10


def rounded_count(count: int | None, min_cohort: int, base: int = ROUNDING_BASE) -> str:
    """``count`` for an audience that must not see it exactly: "fewer than N" below the
    cohort minimum, otherwise rounded half up to the nearest ``base`` ("about 60"), in the
    reader's language."""
    if count is None or count < min_cohort:
        return _("fewer than %(num)s", num=number(min_cohort))
    rounded = (count + base // 2) // base * base
    return _("about %(num)s", num=number(max(rounded, base)))


# --- small cells in a breakdown (SPEC §2.11) ---------------------------------------------
def withheld_parts(people: Sequence[int], min_cohort: int, *, total_people: int | None = None
                   ) -> tuple[set[int], bool]:
    """Which parts of a breakdown a company admin may not see, and whether its total must be
    withheld too. ``people[i]``: the beneficiaries part i rests on (for a count of people,
    the count). A part resting on fewer than ``min_cohort`` is withheld; then, as the total
    minus the shown parts would give away what is withheld, more parts are withheld (the
    smallest first) until what that subtraction reveals rests on at least ``min_cohort``
    (or on nobody at all); when even withholding every part cannot achieve that, or the
    whole rests on fewer, the total is withheld as well. ``total_people``: how many the whole
    rests on when parts share people (impact rows by kind: the largest part is a lower
    bound); by default the parts are disjoint and it is their sum.
    Returns ``(indexes withheld, total withheld)``."""
    hidden = {i for i, n in enumerate(people) if n < min_cohort}
    whole = sum(people) if total_people is None else total_people
    if not hidden:
        return hidden, whole < min_cohort
    behind = sum(people[i] for i in hidden)
    for i in sorted((i for i in range(len(people)) if i not in hidden), key=lambda i: (people[i], i)):
        if behind == 0 or behind >= min_cohort:
            break
        hidden.add(i)
        behind += people[i]
    return hidden, 0 < behind < min_cohort or whole < min_cohort
