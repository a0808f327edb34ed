"""L2I subscriptions and allocations (SPEC §2.6). Money never goes through a float."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.errors import DomainError, ValidationFailed
from portal.forms import MAX_DB_ID, parse_decimal
from portal.l2i.models import FULL_SHARE_BP, SKU_LEARNERS, L2IAllocation, L2ISubscription
from portal.programs.models import Program
from portal.reference import currency_problem
from portal.tenancy import _program_visible_to_company

SHARE_MESSAGE = "Enter the share as a decimal between 0 and 1 (e.g. 0.25)."
# One wording for every refused target (missing, another company's, private, malformed):
# the answer never tells whether the id exists.
TARGET_REFUSED = "Choose one of the company's campaigns, or a program it runs or finds in the catalog."


def share_to_bp(share: str | Decimal) -> int:
    """A share 0 < p ≤ 1 with at most four decimals, as basis points (0.0045 → 45).
    Plain decimals only (portal.forms.parse_decimal): no NaN, infinity or exponent."""
    try:
        value = parse_decimal(share)
    except ValueError:
        raise DomainError(SHARE_MESSAGE, "share") from None
    if not (0 < value <= 1):
        raise DomainError("The share must be more than 0 and at most 1.", "share")
    scaled = value * FULL_SHARE_BP
    if scaled != scaled.to_integral_value():
        raise DomainError("Use at most four decimals (e.g. 0.0045).", "share")
    return int(scaled)


def allocation_amount(annual_price: int, share_bp: int) -> int:
    """price × share, exact in decimal, rounded half up to the minor unit (13 000 × 0.0045 = 59)."""
    exact = Decimal(annual_price) * Decimal(share_bp) / Decimal(FULL_SHARE_BP)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def create_subscription(actor: User | None, *, company: Company, sku: str, annual_price: int, currency: str,
                        period_start: date, period_end: date, status: str = "active") -> L2ISubscription:
    errors: dict[str, list[str]] = {}
    if sku not in SKU_LEARNERS:
        errors["sku"] = ["Choose a bundle."]
    if annual_price is None or annual_price < 0:
        errors["annual_price"] = ["Enter a price of zero or more."]
    if problem := currency_problem((currency or "").upper()):
        errors["currency"] = [problem]
    if period_end < period_start:
        errors["period_end"] = ["The period must end on or after its start."]
    if errors:
        raise ValidationFailed(errors)
    subscription = L2ISubscription(company_id=company.id, sku=sku, learners=SKU_LEARNERS[sku],
                                   annual_price=annual_price, currency=currency.upper(), period_start=period_start,
                                   period_end=period_end, status=status)
    db.session.add(subscription)
    record_event("l2i.subscription.created", actor=actor, subject=subscription, company_id=company.id,
                 data={"sku": sku, "annual_price": annual_price, "currency": currency.upper()}, label=sku)
    return subscription


@dataclass(frozen=True)
class _SubscribingCompany:
    """What the catalog rule of portal.tenancy reads of a viewer: its company. Targets
    follow the subscribing company, whoever records the allocation (often a program manager)."""
    company_id: int


def target_campaigns(company_id: int) -> sa.ColumnElement[bool]:
    """Campaigns an allocation may go to: the subscribing company's own, not archived."""
    return sa.and_(Campaign.company_id == company_id, Campaign.status != "archived")


def target_programs(company_id: int) -> sa.ColumnElement[bool]:
    """Programs an allocation may go to: those the company may see (the catalog of active
    public programs, and the programs of its own campaigns)."""
    return _program_visible_to_company(_SubscribingCompany(company_id))  # type: ignore[arg-type]


def subscription_closed_reason(subscription: L2ISubscription, today: date | None = None) -> str | None:
    """Why the subscription takes no new allocation (None while it is active and running)."""
    if subscription.status != "active":
        return f"This subscription is {subscription.status}: it takes no new allocations."
    if subscription.period_end < (today or utcnow().date()):
        return (f"This subscription's period ended on {subscription.period_end.isoformat()}: "
                "it takes no new allocations.")
    return None


def _target_id(target: Program | Campaign | int | None) -> int | None:
    if target is None or isinstance(target, bool):
        return None
    if isinstance(target, int):
        return target if 0 < target <= MAX_DB_ID else 0  # 0: no such row, refused like any unknown id
    return target.id


def allocate(actor: User | None, subscription_id: int, *, share: str | Decimal, period_start: date,
             period_end: date, program: Program | int | None = None,
             campaign: Campaign | int | None = None) -> L2IAllocation:
    """Give a share of an active, running subscription to exactly one target: one of the
    subscribing company's campaigns or a program that company may see (objects or ids).
    Any other target gets one message, whether or not it exists. The shares of one
    subscription never sum above 100 %, also under concurrent saves."""
    subscription = db.session.scalars(
        sa.select(L2ISubscription).where(L2ISubscription.id == subscription_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if reason := subscription_closed_reason(subscription):
        raise DomainError(reason)
    program_id, campaign_id = _target_id(program), _target_id(campaign)
    if (program_id is None) == (campaign_id is None):
        raise DomainError(TARGET_REFUSED, "target")
    if campaign_id is not None:
        allowed = sa.select(Campaign.id).where(Campaign.id == campaign_id, target_campaigns(subscription.company_id))
    else:
        allowed = sa.select(Program.id).where(Program.id == program_id, target_programs(subscription.company_id))
    if db.session.scalar(allowed) is None:
        raise DomainError(TARGET_REFUSED, "target")
    bp = share_to_bp(share)
    if not (subscription.period_start <= period_start <= period_end <= subscription.period_end):
        raise DomainError("The allocation period must lie inside the subscription's period.", "period_start")
    remaining = FULL_SHARE_BP - subscription.allocated_bp
    if bp > remaining:
        raise DomainError(f"Only {Decimal(remaining) / FULL_SHARE_BP:.2%} of this subscription is left to allocate.",
                          "share")
    result = db.session.execute(
        sa.update(L2ISubscription)
        .where(L2ISubscription.id == subscription.id, L2ISubscription.allocated_bp + bp <= FULL_SHARE_BP)
        .values(allocated_bp=L2ISubscription.allocated_bp + bp)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise DomainError("The subscription is already fully allocated.", "share")
    allocation = L2IAllocation(subscription_id=subscription.id, program_id=program_id, campaign_id=campaign_id,
                               share_bp=bp,
                               amount=allocation_amount(subscription.annual_price, bp),
                               period_start=period_start, period_end=period_end)
    db.session.add(allocation)
    record_event("l2i.allocation.created", actor=actor, subject=allocation, company_id=subscription.company_id,
                 data={"share_bp": bp, "amount": allocation.amount}, label=subscription.sku)
    return allocation
