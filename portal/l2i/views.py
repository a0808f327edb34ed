"""L2I subscriptions (program managers record them) and allocations (company admins and
program managers share a subscription across campaigns or programs)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER, Company
from portal.campaigns.forms import to_minor_units
from portal.db import db, transaction
from portal.errors import DomainError
from portal.forms import choices, parse_id
from portal.l2i import operations as ops
from portal.l2i.forms import AllocationForm, SubscriptionForm
from portal.l2i.models import FULL_SHARE_BP, L2ISubscription
from portal.l2i.queries import allocation_rows, allocation_targets
from portal.tenancy import get_visible_or_404, select_visible
from portal.web import apply_domain_error, redirect_to, render, role_required

bp = Blueprint("l2i", __name__, url_prefix="/l2i")


@bp.get("/")
@login_required
def index():
    company_id = request.args.get("company", type=parse_id) if current_user.is_program_manager else None
    stmt = select_visible(L2ISubscription, current_user).options(sa.orm.joinedload(L2ISubscription.company)) \
        .order_by(L2ISubscription.period_start.desc(), L2ISubscription.id.desc())
    if company_id:
        stmt = stmt.where(L2ISubscription.company_id == company_id)
    companies = db.session.execute(sa.select(Company.id, Company.name).order_by(Company.name)).all() \
        if current_user.is_program_manager else []
    return render("l2i/index.html", block="results", subscriptions=db.session.scalars(stmt).all(),
                  companies=companies, company_id=company_id or "")


@bp.route("/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new():
    form = SubscriptionForm()
    form.company_id.choices = choices(db.session.execute(sa.select(Company.id, Company.name)
                                                         .order_by(Company.name)).all())
    if form.validate_on_submit():
        try:
            with transaction():
                subscription = ops.create_subscription(
                    current_user, company=db.session.get(Company, form.company_id.data), sku=form.sku.data,
                    annual_price=to_minor_units(form.annual_price.data), currency=form.currency.data.upper(),
                    period_start=form.period_start.data, period_end=form.period_end.data, status=form.status.data)
            flash(f"{subscription.sku} recorded for {subscription.company.name}.", "success")
            return redirect_to(url_for(".detail", subscription_id=subscription.id))
        except DomainError as exc:
            apply_domain_error(form, exc)
    return render("l2i/new.html", form=form, status_code=422 if request.method == "POST" else 200)


def _target(form: AllocationForm) -> dict[str, int]:
    """The posted "campaign:<id>" / "program:<id>" as the operation's keyword; whether the
    target is allowed is the operation's rule (one message for every refused id)."""
    kind, _, raw_id = (form.target.data or "").partition(":")
    if kind not in ("campaign", "program"):
        return {}
    return {kind: parse_id(raw_id) or 0}


def _detail(subscription: L2ISubscription, form: AllocationForm | None = None, status_code: int = 200):
    campaigns, programs = allocation_targets(subscription)
    form = form or AllocationForm(period_start=subscription.period_start, period_end=subscription.period_end)
    form.target.choices = choices([("", "Choose…")] + [(f"campaign:{i}", f"Campaign · {n}") for i, n in campaigns]
                                  + [(f"program:{i}", f"Program · {n}") for i, n in programs])
    rows = allocation_rows(subscription)
    return render("l2i/detail.html", subscription=subscription, rows=rows, form=form,
                  closed=ops.subscription_closed_reason(subscription),
                  remaining=remaining_share(subscription, form.share.data), full=FULL_SHARE_BP,
                  served=sum(r.learners_served for r in rows),
                  events=timeline("l2i_subscriptions", subscription.id, current_user,
                                  also={"l2i_allocations": [r.allocation.id for r in rows]}), describe=describe,
                  status_code=status_code)


def remaining_share(subscription: L2ISubscription, typed: str | None) -> dict:
    """What is left of the subscription, and what would be left after the typed share."""
    left_bp = FULL_SHARE_BP - subscription.allocated_bp
    result = {"left": Decimal(left_bp) / FULL_SHARE_BP, "after": None, "problem": None, "amount": None}
    if typed:
        try:
            bp_typed = ops.share_to_bp(typed)
            result["after"] = Decimal(left_bp - bp_typed) / FULL_SHARE_BP
            result["amount"] = ops.allocation_amount(subscription.annual_price, bp_typed)
            if bp_typed > left_bp:
                result["problem"] = "That is more than is left of this subscription."
        except DomainError as exc:
            result["problem"] = exc.message
    return result


@bp.get("/<int:subscription_id>")
@login_required
def detail(subscription_id: int):
    return _detail(get_visible_or_404(L2ISubscription, subscription_id, current_user))


@bp.post("/<int:subscription_id>/remaining")
@login_required
def remaining(subscription_id: int):
    """Live: the share left after the one being typed (nothing is saved)."""
    subscription = get_visible_or_404(L2ISubscription, subscription_id, current_user)
    return render("l2i/_remaining.html", subscription=subscription,
                  remaining=remaining_share(subscription, request.form.get("share")))


@bp.post("/<int:subscription_id>/allocations")
@login_required
def allocate(subscription_id: int):
    subscription = get_visible_or_404(L2ISubscription, subscription_id, current_user)
    form = AllocationForm()  # target choices: set by _detail for display; the operation judges the target
    if not form.validate_on_submit():
        return _detail(subscription, form, 422)
    try:
        with transaction():
            allocation = ops.allocate(current_user, subscription.id, share=form.share.data,
                                      period_start=form.period_start.data or subscription.period_start,
                                      period_end=form.period_end.data or subscription.period_end,
                                      **_target(form))
        flash(f"Allocated {Decimal(allocation.share_bp) / 100:.2f} % "
              f"({allocation.amount / 100:,.2f} {subscription.currency}).", "success")
        return redirect_to(url_for(".detail", subscription_id=subscription_id))
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _detail(get_visible_or_404(L2ISubscription, subscription_id, current_user), form, exc.status_code)
