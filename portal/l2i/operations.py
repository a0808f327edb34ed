"""L2I subscriptions and allocations (SPEC §2.6). Money never goes through a float."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from babel import Locale
from babel.numbers import format_percent
from sqlalchemy.orm.exc import StaleDataError

from portal.activity.operations import changed_fields, record_event
from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.errors import DomainError, NotFound, StaleEdit, ValidationFailed
from portal.forms import MAX_DB_ID, parse_decimal
from portal.i18n import _l, current_language, show_date
from portal.l2i.models import FULL_SHARE_BP, SKU_LEARNERS, L2IAllocation, L2ISubscription
from portal.lifecycle import status_label
from portal.programs.models import Program
from portal.reference import currency_problem
from portal.tenancy import _program_visible_to_company

# People type shares as percentages (45 or 12.5 %); they are stored as basis points of the
# subscription (45 % → 4500), so "two decimals of a percent" is exactly SPEC §2.6's "four
# decimals of a fraction" and the two notations can never disagree.
SHARE_MESSAGE = _l("Enter the share as a percentage between 0 and 100, such as 25 or 12.5.")
SHARE_RANGE = _l("The share must be more than 0 % and at most 100 %.")
SHARE_PLACES = _l("Use at most two decimals (e.g. 12.25 %).")
TAKES_NO_NEW = _l("it takes no new allocations")
ALLOCATIONS_FROZEN = _l("its allocations can no longer be changed")
# One wording for every refused target (missing, another company's, private, malformed):
# the answer never tells whether the id exists.
TARGET_REFUSED = _l("Choose one of the company's campaigns, or a program it runs or finds in the catalog.")


def without_percent_sign(value: object) -> object:
    """"45 %" → "45": people type the unit. The number itself still goes through parse_decimal."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            return text[:-1].rstrip()
    return value


def percent_to_bp(percent: object) -> int:
    """A share as people type it: a percentage 0 < p ≤ 100 with at most two decimals, as
    basis points (45.5 → 4550). Plain decimals only (portal.forms.parse_decimal: no NaN,
    infinity or exponent); one trailing % sign is allowed."""
    try:
        value = parse_decimal(without_percent_sign(percent))
    except ValueError:
        raise DomainError(SHARE_MESSAGE, "share") from None
    if not (0 < value <= 100):
        raise DomainError(SHARE_RANGE, "share")
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise DomainError(SHARE_PLACES, "share")
    return int(scaled)


def share_to_bp(share: str | Decimal) -> int:
    """A share written as SPEC §2.6 writes it, a fraction 0 < p ≤ 1 (0.0045 → 45 basis points),
    for code such as the seed. The same rule as :func:`percent_to_bp`, a hundred times smaller."""
    try:
        value = parse_decimal(share)
    except ValueError:
        raise DomainError(SHARE_MESSAGE, "share") from None
    return percent_to_bp(value * 100)


def _share_bp(percent: object, share: str | Decimal | None) -> int:
    if (percent is None) == (share is None):
        raise TypeError("give the share either as percent= (people's notation) or as share= (a fraction)")
    return percent_to_bp(percent) if percent is not None else share_to_bp(share)  # type: ignore[arg-type]


def percent_text(share_bp: int) -> str:
    """Basis points as a plain percentage for a form field: 4550 → "45.50" (what the share
    field takes back in every language)."""
    return f"{Decimal(share_bp) / 100:.2f}"


def share_percent(share_bp: int | Decimal) -> str:
    """Basis points as the percentage people read, always with two decimals, in the reader's
    language: 4550 → "45.50 %" (en), "45,50 %" (nb), "45,50%" (uk)."""
    value = Decimal(share_bp) / 100
    language = current_language()
    if language == "en":
        return f"{value:,.2f} %"
    locale = Locale.parse(language)
    pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.00", 1)
    return format_percent(value / 100, format=pattern, locale=locale)


def allocation_amount(annual_price: int, share_bp: int) -> int:
    """price × share, exact in decimal, rounded half up to the minor unit (13 000 × 0.0045 = 59)."""
    exact = Decimal(annual_price) * Decimal(share_bp) / Decimal(FULL_SHARE_BP)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def create_subscription(actor: User | None, *, company: Company, sku: str, annual_price: int, currency: str,
                        period_start: date, period_end: date, status: str = "active") -> L2ISubscription:
    errors: dict[str, list[object]] = {}
    if sku not in SKU_LEARNERS:
        errors["sku"] = [_l("Choose a bundle.")]
    if annual_price is None or annual_price < 0:
        errors["annual_price"] = [_l("Enter a price of zero or more.")]
    if problem := currency_problem((currency or "").upper()):
        errors["currency"] = [problem]
    if period_end < period_start:
        errors["period_end"] = [_l("The period must end on or after its start.")]
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


def subscription_closed_reason(subscription: L2ISubscription, today: date | None = None, *,
                               consequence: object = TAKES_NO_NEW) -> str | None:
    """Why the subscription takes no new allocation, and its allocations no change (None while
    it is active and running: a closed subscription's shares are its record), in the
    reader's language."""
    if subscription.status != "active":
        return str(_l("This subscription is %(status)s: %(consequence)s.", status=status_label(subscription.status),
                      consequence=consequence))
    if subscription.period_end < (today or utcnow().date()):
        return str(_l("This subscription's period ended on %(date)s: %(consequence)s.",
                      date=show_date(subscription.period_end), consequence=consequence))
    return None


def _target_id(target: Program | Campaign | int | None) -> int | None:
    if target is None or isinstance(target, bool):
        return None
    if isinstance(target, int):
        return target if 0 < target <= MAX_DB_ID else 0  # 0: no such row, refused like any unknown id
    return target.id


def _locked_subscription(subscription_id: int) -> L2ISubscription:
    """The subscription, its row locked for the rest of the transaction (SQLite: the write lock
    taken by transaction()), freshly read: every change to its shares queues here."""
    return db.session.scalars(
        sa.select(L2ISubscription).where(L2ISubscription.id == subscription_id).with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _locked_allocation(allocation_id: int) -> tuple[L2IAllocation, L2ISubscription]:
    """The allocation and its subscription, locked in the order allocate() locks them
    (subscription first, so no two changes of one subscription can deadlock)."""
    subscription_id = db.session.scalar(sa.select(L2IAllocation.subscription_id)
                                        .where(L2IAllocation.id == allocation_id))
    if subscription_id is None:
        raise NotFound(_l("That allocation"))
    subscription = _locked_subscription(subscription_id)
    allocation = db.session.scalars(
        sa.select(L2IAllocation).where(L2IAllocation.id == allocation_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if allocation is None:  # removed while we waited for the lock
        raise NotFound(_l("That allocation"))
    return allocation, subscription


def _check_target(subscription: L2ISubscription, program_id: int | None, campaign_id: int | None) -> None:
    if (program_id is None) == (campaign_id is None):
        raise DomainError(TARGET_REFUSED, "target")
    if campaign_id is not None:
        allowed = sa.select(Campaign.id).where(Campaign.id == campaign_id, target_campaigns(subscription.company_id))
    else:
        allowed = sa.select(Program.id).where(Program.id == program_id, target_programs(subscription.company_id))
    if db.session.scalar(allowed) is None:
        raise DomainError(TARGET_REFUSED, "target")


def _check_period(subscription: L2ISubscription, period_start: date, period_end: date) -> None:
    if not (subscription.period_start <= period_start <= period_end <= subscription.period_end):
        raise DomainError(_l("The allocation period must lie inside the subscription's period."), "period_start")


def _shift_allocated(subscription: L2ISubscription, delta_bp: int) -> bool:
    """Move the subscription's ``allocated_bp`` by ``delta_bp`` unless it would leave 0–100 %:
    one conditional UPDATE (the row is locked; the CHECK constraint backs it). True if moved."""
    result = db.session.execute(
        sa.update(L2ISubscription)
        .where(L2ISubscription.id == subscription.id,
               L2ISubscription.allocated_bp + delta_bp <= FULL_SHARE_BP,
               L2ISubscription.allocated_bp + delta_bp >= 0)
        .values(allocated_bp=L2ISubscription.allocated_bp + delta_bp)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(subscription, ["allocated_bp"])
    return result.rowcount == 1


def _left_message(left_bp: int, for_this: bool = False) -> object:
    if for_this:
        return _l("Only %(share)s of this subscription is left for this allocation.", share=share_percent(left_bp))
    return _l("Only %(share)s of this subscription is left to allocate.", share=share_percent(left_bp))


def allocate(actor: User | None, subscription_id: int, *, period_start: date, period_end: date,
             percent: str | Decimal | None = None, share: str | Decimal | None = None,
             program: Program | int | None = None, campaign: Campaign | int | None = None) -> L2IAllocation:
    """Give a share of an active, running subscription to exactly one target: one of the
    subscribing company's campaigns or a program that company may see (objects or ids).
    Any other target gets one message, whether or not it exists. The share comes as
    ``percent`` (what people type, 45.5) or ``share`` (a fraction, 0.455). The shares of one
    subscription never sum above 100 %, also under concurrent saves."""
    subscription = _locked_subscription(subscription_id)
    if reason := subscription_closed_reason(subscription):
        raise DomainError(reason)
    program_id, campaign_id = _target_id(program), _target_id(campaign)
    _check_target(subscription, program_id, campaign_id)
    bp = _share_bp(percent, share)
    _check_period(subscription, period_start, period_end)
    remaining = FULL_SHARE_BP - subscription.allocated_bp
    if bp > remaining:
        raise DomainError(_left_message(remaining), "share")
    if not _shift_allocated(subscription, bp):
        raise DomainError(_l("The subscription is already fully allocated."), "share")
    allocation = L2IAllocation(subscription_id=subscription.id, program_id=program_id, campaign_id=campaign_id,
                               share_bp=bp,
                               amount=allocation_amount(subscription.annual_price, bp),
                               period_start=period_start, period_end=period_end)
    db.session.add(allocation)
    record_event("l2i.allocation.created", actor=actor, subject=allocation, company_id=subscription.company_id,
                 data={"subscription_id": subscription.id, "share_bp": bp, "amount": allocation.amount},
                 label=subscription.sku)
    return allocation


def update_allocation(actor: User | None, allocation_id: int, *, expected_version: int | None,
                      period_start: date, period_end: date, percent: str | Decimal | None = None,
                      share: str | Decimal | None = None, program: Program | int | None = None,
                      campaign: Campaign | int | None = None) -> L2IAllocation:
    """Change an allocation's share, period or target, under allocate()'s rules: the
    subscription active and running, the period inside its period, a new target one the
    company may use (an unchanged target is kept even if it could no longer be chosen), and
    the subscription's shares never above 100 %: the difference moves ``allocated_bp`` under
    the subscription's row lock, as allocate() does. A save based on a stale ``lock_version``
    is refused (StaleEdit). Writes ``l2i.allocation.updated`` with what changed."""
    allocation, subscription = _locked_allocation(allocation_id)
    if expected_version is not None and allocation.lock_version != expected_version:
        raise StaleEdit(_l("this allocation"))
    if reason := subscription_closed_reason(subscription, consequence=ALLOCATIONS_FROZEN):
        raise DomainError(reason)
    program_id, campaign_id = _target_id(program), _target_id(campaign)
    if (program_id, campaign_id) != (allocation.program_id, allocation.campaign_id):
        _check_target(subscription, program_id, campaign_id)
    bp = _share_bp(percent, share)
    _check_period(subscription, period_start, period_end)
    delta = bp - allocation.share_bp
    available = FULL_SHARE_BP - subscription.allocated_bp + allocation.share_bp
    if bp > available:
        raise DomainError(_left_message(available, for_this=True), "share")
    if delta and not _shift_allocated(subscription, delta):
        raise DomainError(_l("The subscription is already fully allocated."), "share")
    made = changed_fields(allocation, {
        "program_id": program_id, "campaign_id": campaign_id, "share_bp": bp,
        "amount": allocation_amount(subscription.annual_price, bp),
        "period_start": period_start, "period_end": period_end})
    if not made:
        return allocation
    try:
        db.session.flush()
    except StaleDataError:  # belt and braces: the row lock makes this unreachable
        raise StaleEdit(_l("this allocation")) from None
    record_event("l2i.allocation.updated", actor=actor, subject=allocation, company_id=subscription.company_id,
                 data={"subscription_id": subscription.id, **made}, label=subscription.sku)
    return allocation


def remove_allocation(actor: User | None, allocation_id: int, *, expected_version: int | None) -> None:
    """Remove an allocation: its share returns to the subscription (``allocated_bp`` drops in
    the same transaction, under the subscription's row lock). Refused on a closed
    subscription and when based on a stale ``lock_version``. Writes ``l2i.allocation.removed``
    holding what was removed, so the subscription's timeline keeps it."""
    allocation, subscription = _locked_allocation(allocation_id)
    if expected_version is not None and allocation.lock_version != expected_version:
        raise StaleEdit(_l("this allocation"))
    if reason := subscription_closed_reason(subscription, consequence=ALLOCATIONS_FROZEN):
        raise DomainError(reason)
    if not _shift_allocated(subscription, -allocation.share_bp):
        raise RuntimeError(f"allocated_bp of subscription {subscription.id} is below its allocations' shares")
    record_event("l2i.allocation.removed", actor=actor, subject=allocation, company_id=subscription.company_id,
                 data={"subscription_id": subscription.id, "share_bp": allocation.share_bp,
                       "amount": allocation.amount, "program_id": allocation.program_id,
                       "campaign_id": allocation.campaign_id, "period_start": allocation.period_start.isoformat(),
                       "period_end": allocation.period_end.isoformat()},
                 label=subscription.sku)
    db.session.delete(allocation)
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleEdit(_l("this allocation")) from None
