"""A campaign's seats (SPEC §2.4, §2.5): the one place for capacity and budget arithmetic.

The cap is exact under concurrency: the campaign row is locked (PostgreSQL ``SELECT … FOR
UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already holds the write lock), counters move with a
conditional UPDATE that changes no row when it would break the cap or the budget, and
CHECK constraints on the campaign are the backstop.

Whatever frees seats here (a raised cap or budget) tells the layer above through
:data:`seats_may_have_freed`, whose receiver — waitlist promotion, in
:mod:`portal.enrollments.waitlist` — runs in the same transaction. Campaigns never import
enrollments.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from blinker import Namespace

from portal.activity.operations import record_event
from portal.campaigns.models import Campaign
from portal.db import db
from portal.errors import DomainError
from portal.i18n import _l, _n, money, number

if TYPE_CHECKING:
    from portal.auth.models import User

seats_may_have_freed = Namespace().signal("campaign-seats-may-have-freed")


class CapacityReached(DomainError):
    status_code = 409


class SeatCounters(Protocol):
    max_enrollment: int | None
    enrolled_count: int
    seat_price: int | None
    budget_allocated: int | None


def seats_allow(counters: SeatCounters, extra: int = 1) -> bool:
    """Capacity and budget both allow ``extra`` more seats (active + completed beneficiaries)."""
    seats = counters.enrolled_count + extra
    if counters.max_enrollment is not None and seats > counters.max_enrollment:
        return False
    return budget_allows(counters.seat_price, counters.budget_allocated, seats)


def budget_allows(seat_price: int | None, budget_allocated: int | None, seats: int) -> bool:
    """Budget committed = seat price × seats, never above the budget (no price or budget: no limit)."""
    return seat_price is None or budget_allocated is None or seat_price * seats <= budget_allocated


def capacity_change_errors(values: dict[str, Any], seats: int) -> dict[str, list[Any]]:
    """What a new cap, price or budget may not do to the ``seats`` already taken."""
    errors: dict[str, list[Any]] = {}
    if values["max_enrollment"] is not None and values["max_enrollment"] < seats:
        errors["max_enrollment"] = [
            _l("Seats already taken (active + completed beneficiaries): %(count)s; the maximum cannot go below "
               "%(seats)s.", count=number(seats), seats=seats)]
    if not budget_allows(values["seat_price"], values["budget_allocated"], seats):
        errors["budget_allocated"] = [
            _n("%(count)s seat at this price already commits %(amount)s; the budget cannot go below that.",
               "%(count)s seats at this price already commit %(amount)s; the budget cannot go below that.",
               seats, count=number(seats), amount=money(values["seat_price"] * seats, values["currency"]))]
    return errors


def lock_campaign(campaign_id: int) -> Campaign:
    """Load a campaign under a row lock, re-reading its counters."""
    campaign = db.session.scalars(
        sa.select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if campaign is None:
        raise DomainError(_l("That campaign no longer exists."), None)
    return campaign


def move_counters(campaign: Campaign, *, enrolled: int = 0, waitlisted: int = 0) -> None:
    """Conditional UPDATE of the campaign's counters: an increment that would break the
    cap or the budget changes no row, and this raises CapacityReached."""
    stmt = sa.update(Campaign).where(Campaign.id == campaign.id).values(
        enrolled_count=Campaign.enrolled_count + enrolled, waitlisted_count=Campaign.waitlisted_count + waitlisted
    )
    if enrolled > 0:
        stmt = stmt.where(
            sa.or_(Campaign.max_enrollment.is_(None), Campaign.enrolled_count + enrolled <= Campaign.max_enrollment),
            sa.or_(Campaign.seat_price.is_(None), Campaign.budget_allocated.is_(None),
                   Campaign.seat_price * (Campaign.enrolled_count + enrolled) <= Campaign.budget_allocated),
        )
    result = db.session.execute(stmt.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise CapacityReached(_l("The campaign is full."), "campaign")
    db.session.refresh(campaign, ["enrolled_count", "waitlisted_count"])


def note_capacity_reached(actor: User | None, campaign: Campaign, before: int) -> None:
    """``program.campaign.capacity_reached`` when the campaign goes from below its cap to it."""
    cap = campaign.max_enrollment
    if cap is not None and before < cap <= campaign.enrolled_count:
        record_event("program.campaign.capacity_reached", actor=actor, subject=campaign,
                     company_id=campaign.company_id, data={"max_enrollment": cap})


def fill_freed_seats(actor: User | None, campaign: Campaign, *, seats_before: int | None = None) -> list[Any]:
    """Ask the layer above to fill seats that may have freed (the waitlist); returns what it filled."""
    if not seats_may_have_freed.receivers:
        raise RuntimeError("no waitlist is connected: import portal.enrollments.waitlist")
    filled: list[Any] = []
    for _, result in seats_may_have_freed.send(campaign, actor=actor, seats_before=seats_before):
        filled.extend(result or [])
    return filled
