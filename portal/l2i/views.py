"""L2I subscriptions (program managers record them) and allocations (company admins and
program managers share a subscription across campaigns or programs)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER, Company
from portal.campaigns.forms import to_minor_units
from portal.db import db, transaction
from portal.errors import DomainError
from portal.forms import choices, parse_id
from portal.i18n import _, _l, current_language, money
from portal.l2i import operations as ops
from portal.l2i.forms import AllocationEditForm, AllocationForm, RemoveAllocationForm, SubscriptionForm
from portal.l2i.models import FULL_SHARE_BP, L2IAllocation, L2ISubscription
from portal.l2i.queries import AllocationRow, allocation_rows, allocation_targets, removed_allocation_ids
from portal.tenancy import get_visible_or_404, select_visible
from portal.web import apply_domain_error, is_partial_request, redirect_to, render, role_required

bp = Blueprint("l2i", __name__, url_prefix="/l2i")
# {{ bp|share_percent }}: basis points of a subscription as people read them ("45.50 %").
bp.add_app_template_filter(ops.share_percent, "share_percent")


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
            flash(_("%(bundle)s recorded for %(company)s.", bundle=subscription.sku, company=subscription.company.name),
                  "success")
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


def _target_choices(form: AllocationForm, subscription: L2ISubscription, keep: AllocationRow | None = None) -> None:
    """Offer exactly the targets the operation accepts, plus an edited allocation's own
    target (kept even if it could no longer be chosen, e.g. an archived campaign)."""
    campaigns, programs = allocation_targets(subscription)
    options = ([(f"campaign:{i}", _("Campaign · %(name)s", name=n)) for i, n in campaigns]
               + [(f"program:{i}", _("Program · %(name)s", name=n)) for i, n in programs])
    if keep is not None:
        a = keep.allocation
        current = f"campaign:{a.campaign_id}" if a.campaign_id else f"program:{a.program_id}"
        if current not in {value for value, _ in options}:
            options.insert(0, (current, keep.option_label))
    form.target.choices = choices([("", _("Choose…")), *options])


def _detail(subscription: L2ISubscription, form: AllocationForm | None = None, status_code: int = 200):
    form = form or AllocationForm(period_start=subscription.period_start, period_end=subscription.period_end)
    _target_choices(form, subscription)
    rows = allocation_rows(subscription)
    return render("l2i/detail.html", subscription=subscription, rows=rows, form=form,
                  closed=ops.subscription_closed_reason(subscription),
                  frozen=ops.subscription_closed_reason(subscription, consequence=ops.ALLOCATIONS_FROZEN),
                  remaining=remaining_share(subscription, _typed_share(form)), full=FULL_SHARE_BP,
                  served=sum(r.learners_served for r in rows),
                  events=timeline("l2i_subscriptions", subscription.id, current_user, also={"l2i_allocations": [
                      r.allocation.id for r in rows] + removed_allocation_ids(subscription)}), describe=describe,
                  status_code=status_code)


def _typed_share(form: AllocationForm) -> object:
    """The share as typed (kept even when it is invalid, so the indicator says why)."""
    return form.share.raw_data[0] if form.share.raw_data else form.share.data


def _decimal_point(typed: object) -> object:
    """ "12,5" is 12.5 where the reader's language writes a decimal comma (as the form takes it)."""
    if isinstance(typed, str) and typed.count(",") == 1 and "." not in typed and current_language() != "en":
        return typed.replace(",", ".")
    return typed


def remaining_share(subscription: L2ISubscription, typed: object, allocation: L2IAllocation | None = None) -> dict:
    """What is left of the subscription, and what would be left after the typed share
    (replacing ``allocation``'s share when it is being edited), as the reader reads it."""
    left_bp = FULL_SHARE_BP - subscription.allocated_bp
    result = {"left": ops.share_percent(left_bp), "after": None, "problem": None, "amount": None,
              "editing": allocation is not None}
    if typed not in (None, ""):
        try:
            bp_typed = ops.percent_to_bp(_decimal_point(typed))
            after_bp = left_bp + (allocation.share_bp if allocation else 0) - bp_typed
            result["after"] = ops.share_percent(after_bp)
            result["amount"] = money(ops.allocation_amount(subscription.annual_price, bp_typed), subscription.currency)
            if after_bp < 0:
                result["problem"] = _("That is more than is left of this subscription.")
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
    """Live: the share left after the one being typed (nothing is saved). ``?allocation=<id>``:
    the typed share replaces that allocation's."""
    subscription = get_visible_or_404(L2ISubscription, subscription_id, current_user)
    allocation = None
    if "allocation" in request.args:
        _, allocation = _allocation_or_404(subscription_id, parse_id(request.args["allocation"]) or 0)
    return render("l2i/_remaining.html", subscription=subscription,
                  remaining=remaining_share(subscription, request.form.get("share"), allocation))


@bp.post("/<int:subscription_id>/allocations")
@login_required
def allocate(subscription_id: int):
    subscription = get_visible_or_404(L2ISubscription, subscription_id, current_user)
    form = AllocationForm()  # target choices: set by _detail for display; the operation judges the target
    if not form.validate_on_submit():
        return _detail(subscription, form, 422)
    try:
        with transaction():
            allocation = ops.allocate(current_user, subscription.id, percent=form.share.data,
                                      period_start=form.period_start.data or subscription.period_start,
                                      period_end=form.period_end.data or subscription.period_end,
                                      **_target(form))
        flash(_("Allocated %(share)s (%(amount)s).", share=ops.share_percent(allocation.share_bp),
                amount=money(allocation.amount, subscription.currency)), "success")
        return redirect_to(url_for(".detail", subscription_id=subscription_id))
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _detail(get_visible_or_404(L2ISubscription, subscription_id, current_user), form, exc.status_code)


# --- one allocation: edit, remove -----------------------------------------------------------
MISSING_VERSION = _l("This form is missing the version of the allocation you saw. Reload the page and try again.")


def _allocation_or_404(subscription_id: int, allocation_id: int) -> tuple[L2ISubscription, L2IAllocation]:
    """The allocation if the user may see it and it belongs to the subscription in the URL."""
    allocation = get_visible_or_404(L2IAllocation, allocation_id, current_user)
    if allocation.subscription_id != subscription_id:
        abort(404)
    return get_visible_or_404(L2ISubscription, subscription_id, current_user), allocation


def _edit_page(subscription: L2ISubscription, allocation: L2IAllocation, form: AllocationEditForm,
               status_code: int = 200):
    row = allocation_rows(subscription, only=allocation)[0]
    _target_choices(form, subscription, keep=row)
    return render("l2i/edit_allocation.html", block="form", subscription=subscription, row=row, form=form,
                  frozen=ops.subscription_closed_reason(subscription, consequence=ops.ALLOCATIONS_FROZEN),
                  remaining=remaining_share(subscription, _typed_share(form), allocation),
                  status_code=status_code)


@bp.route("/<int:subscription_id>/allocations/<int:allocation_id>/edit", methods=["GET", "POST"])
@login_required
def edit_allocation(subscription_id: int, allocation_id: int):
    subscription, allocation = _allocation_or_404(subscription_id, allocation_id)
    if request.method == "GET":
        target = f"campaign:{allocation.campaign_id}" if allocation.campaign_id else f"program:{allocation.program_id}"
        form = AllocationEditForm(target=target, share=ops.percent_text(allocation.share_bp),
                                  period_start=allocation.period_start, period_end=allocation.period_end,
                                  lock_version=str(allocation.lock_version))
        return _edit_page(subscription, allocation, form)
    form = AllocationEditForm()
    if not form.validate_on_submit():
        return _edit_page(subscription, allocation, form, 422)
    if form.expected_version() is None:
        form.form_errors.append(str(MISSING_VERSION))
        return _edit_page(subscription, allocation, form, 422)
    try:
        with transaction():
            saved = ops.update_allocation(current_user, allocation_id, expected_version=form.expected_version(),
                                          percent=form.share.data,
                                          period_start=form.period_start.data or subscription.period_start,
                                          period_end=form.period_end.data or subscription.period_end,
                                          **_target(form))
            message = _("Allocation saved: %(share)s (%(amount)s).", share=ops.share_percent(saved.share_bp),
                        amount=money(saved.amount, subscription.currency))
    except DomainError as exc:
        if exc.status_code == 404:
            abort(404)
        apply_domain_error(form, exc)
        return _edit_page(*_allocation_or_404(subscription_id, allocation_id), form, exc.status_code)
    flash(message, "success")
    return redirect_to(url_for(".detail", subscription_id=subscription_id))


@bp.route("/<int:subscription_id>/allocations/<int:allocation_id>/remove", methods=["GET", "POST"])
@login_required
def remove_allocation(subscription_id: int, allocation_id: int):
    """GET: the confirmation page (works without JavaScript). POST: remove, for the version
    the user confirmed; htmx's hx-confirm posts here directly from the subscription page."""
    subscription, allocation = _allocation_or_404(subscription_id, allocation_id)
    error, status_code = None, 200
    if request.method == "POST":
        form = RemoveAllocationForm()
        if not form.validate_on_submit() or form.expected_version() is None:
            error, status_code = str(MISSING_VERSION), 422
        else:
            try:
                with transaction():
                    row = allocation_rows(subscription, only=allocation)[0]
                    ops.remove_allocation(current_user, allocation_id, expected_version=form.expected_version())
                flash(_("Removed the allocation of %(share)s to %(target)s; its share is free again.",
                        share=row.percent, target=row.target_name), "success")
                return redirect_to(url_for(".detail", subscription_id=subscription_id))
            except DomainError as exc:
                if exc.status_code == 404:
                    abort(404)
                error, status_code = exc.message, exc.status_code
        if is_partial_request():  # the one-click remove of the list: show why on the confirmation page
            flash(error, "error")
            return redirect_to(url_for(".remove_allocation", subscription_id=subscription_id,
                                       allocation_id=allocation_id))
        subscription, allocation = _allocation_or_404(subscription_id, allocation_id)  # as it is now
    row = allocation_rows(subscription, only=allocation)[0]
    return render("l2i/remove_allocation.html", subscription=subscription, row=row, error=error,
                  form=RemoveAllocationForm(formdata=None, lock_version=str(allocation.lock_version)),
                  frozen=ops.subscription_closed_reason(subscription, consequence=ops.ALLOCATIONS_FROZEN),
                  status_code=status_code)
