"""Delivery screens on the enrollment page (SPEC §2.9, §4): record a delivery, the timeline
of deliveries with correct and void, and the counters per kind. Thin: parse → operation in
one transaction → render or redirect. The section is one template
(``deliveries/_section.html``): the enrollment page includes it, and an htmx post gets it
alone, re-rendered (with its errors at 422)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required

from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.deliveries import operations as ops
from portal.deliveries.forms import CorrectDeliveryForm, DeliveryForm, VoidDeliveryForm
from portal.deliveries.kinds import attendance_word, campaign_kinds, is_session_kind, kind_label, source_word
from portal.deliveries.milestones import enrollment_milestones, milestone_label
from portal.deliveries.models import Delivery, EnrollmentMilestone, EnrollmentProgress
from portal.enrollments.models import Enrollment
from portal.enrollments.privacy import participant_label
from portal.errors import DomainError
from portal.i18n import _, number, show_date
from portal.tenancy import get_visible_or_404
from portal.web import Confirmation, apply_domain_error, confirmation_page, is_confirmed, redirect_to, render

bp = Blueprint("deliveries", __name__, url_prefix="/campaigns")

TIMELINE_LIMIT = 100


@dataclass
class DeliveryPanel:
    """What the enrollment page's deliveries section shows."""

    form: DeliveryForm | None  # None: the viewer may not record for this enrollment
    kinds: list[str]
    session_kinds: list[str]
    deliveries: list[Delivery]
    progress: list[tuple[str, EnrollmentProgress]]  # (label, counter), in the template's order
    show_notes: bool
    record_url: str
    recorders: dict[int, str] = field(default_factory=dict)
    milestones: list[tuple[str, Any]] = field(default_factory=list)  # (name, date reached or None), in order
    matches: list[tuple[int, str]] = field(default_factory=list)  # (match id, partner) offered in the form
    team_matches: list[str] = field(default_factory=list)  # partners whose sessions the program team records
    level: Any = None  # portal.deliveries.progress.LevelProgress, for programs that track CEFR levels
    status_code: int = 200


def may_record(enrollment: Enrollment) -> bool:
    try:
        ops.check_recorder(current_user, enrollment)
    except DomainError:
        return False
    return True


def delivery_panel(campaign: Campaign, enrollment: Enrollment, form: DeliveryForm | None = None) -> DeliveryPanel:
    """The section's data: the record form (when the viewer may record), the newest
    deliveries (void ones marked) and the counters, read from the counter rows."""
    kinds = campaign_kinds(campaign)
    if form is None and may_record(enrollment):
        form = DeliveryForm(formdata=None)
    if form is not None:
        form.set_kinds(kinds)
    deliveries = list(db.session.scalars(
        sa.select(Delivery).where(Delivery.enrollment_id == enrollment.id)
        .order_by(Delivery.occurred_on.desc(), Delivery.id.desc()).limit(TIMELINE_LIMIT)))
    counters = {row.kind: row for row in db.session.scalars(
        sa.select(EnrollmentProgress).where(EnrollmentProgress.enrollment_id == enrollment.id))}
    order = kinds + sorted(set(counters) - set(kinds))
    progress = [(kind_label(k), counters[k]) for k in order if k in counters and counters[k].deliveries > 0]
    from portal.auth.models import User

    user_ids = {d.recorded_by_id for d in deliveries if d.recorded_by_id}
    recorders = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    reached = {row.key: row.reached_on for row in db.session.scalars(
        sa.select(EnrollmentMilestone).where(EnrollmentMilestone.enrollment_id == enrollment.id))}
    milestones = [(milestone_label(m.key, m.name), reached.get(m.key)) for m in enrollment_milestones(enrollment)]
    partners = active_match_partners(enrollment)
    matches = partners if form is not None and current_user.is_program_manager else []
    if form is not None:
        form.set_matches(matches)
    return DeliveryPanel(form=form, kinds=kinds, milestones=milestones, session_kinds=[k for k in kinds if is_session_kind(k)],
                         deliveries=deliveries, progress=progress, show_notes=bool(current_user.is_program_manager),
                         record_url=url_for("deliveries.record", campaign_id=campaign.id,
                                            enrollment_id=enrollment.id), recorders=recorders,
                         matches=matches, team_matches=[] if matches else [label for _, label in partners],
                         level=enrollment_level(campaign, enrollment))


def active_match_partners(enrollment: Enrollment) -> list[tuple[int, str]]:
    """(match id, the partner's label for the viewer — a pseudonym where the viewer may not
    know who they are) of the enrollment's active matches, oldest first."""
    from sqlalchemy.orm import joinedload

    from portal.matches.models import ACTIVE, Match

    rows = db.session.scalars(
        sa.select(Match).options(joinedload(Match.volunteer).joinedload(Enrollment.participant),
                                 joinedload(Match.beneficiary).joinedload(Enrollment.participant))
        .where(Match.status == ACTIVE, sa.or_(Match.volunteer_enrollment_id == enrollment.id,
                                              Match.beneficiary_enrollment_id == enrollment.id))
        .order_by(Match.id)).all()
    return [(m.id, participant_label(current_user, (m.beneficiary if m.volunteer_enrollment_id == enrollment.id
                                                    else m.volunteer).participant)) for m in rows]


def enrollment_level(campaign: Campaign, enrollment: Enrollment) -> Any:
    """For a program that tracks CEFR levels (SPEC §2.10): the current level (the enrollment's
    ``metadata.starting_cefr`` raised by its counted ``cefr_level_advanced`` deliveries) and
    the sessions since the last level against ``cefr.progressionThresholds[next level]``."""
    from portal.deliveries.progress import campaign_settings, enrollment_level_progress

    settings = campaign_settings(campaign)
    if not settings.tracks_levels:
        return None
    return enrollment_level_progress(settings, enrollment)


def _enrollment_in(campaign_id: int, enrollment_id: int) -> tuple[Campaign, Enrollment]:
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user)
    if enrollment.campaign_id != campaign.id:
        abort(404)
    return campaign, enrollment


def _delivery_of(enrollment: Enrollment, delivery_id: int) -> Delivery:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.enrollment_id != enrollment.id:
        abort(404)
    return delivery


def _detail_url(campaign_id: int, enrollment_id: int) -> str:
    """The enrollment page at its deliveries; for htmx without the fragment (HX-Redirect to the
    same page plus a fragment would only scroll, not load the page with its message)."""
    url = url_for("enrollments.detail", campaign_id=campaign_id, enrollment_id=enrollment_id)
    return url if request.headers.get("HX-Request") == "true" else url + "#deliveries"


def _section(campaign: Campaign, enrollment: Enrollment, form: DeliveryForm | None, status_code: int):
    """The section alone for htmx, otherwise the whole enrollment page (with the form's errors)."""
    from portal.enrollments.enrollment_views import _detail_page

    panel = delivery_panel(campaign, enrollment, form)
    panel.status_code = status_code
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true":
        return render("deliveries/_section.html", panel=panel, campaign=campaign, enrollment=enrollment,
                      status_code=status_code)
    return _detail_page(campaign, enrollment, status_code, delivery_panel=panel)


@bp.post("/<int:campaign_id>/enrollments/<int:enrollment_id>/deliveries")
@login_required
def record(campaign_id: int, enrollment_id: int):
    """Record one delivery for the enrollment."""
    campaign, enrollment = _enrollment_in(campaign_id, enrollment_id)
    form = DeliveryForm()
    form.set_kinds(campaign_kinds(campaign))
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _section(campaign, enrollment, form, 422)
    try:
        with transaction():
            enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user)
            ops.record_delivery(current_user, enrollment, **form.values(with_note=bool(form.note.data)))
    except DomainError as exc:
        if exc.status_code != 422 and request.headers.get("HX-Request") == "true":
            # htmx swaps no 409: the page again, with the refusal as its message
            flash(_("Nothing recorded: %(reason)s", reason=exc.message), "error")
            return redirect_to(_detail_url(campaign_id, enrollment_id))
        apply_domain_error(form, exc)
        return _section(*_enrollment_in(campaign_id, enrollment_id), form, exc.status_code)
    label = kind_label(form.kind.data or "")
    if request.headers.get("HX-Request") == "true":
        fresh = DeliveryForm(formdata=None)
        return _section(campaign, get_visible_or_404(Enrollment, enrollment_id, current_user), fresh, 200)
    flash(_("%(kind)s recorded.", kind=label), "success")
    return redirect_to(_detail_url(campaign_id, enrollment_id))


def _correct_page(campaign: Campaign, enrollment: Enrollment, delivery: Delivery, form: CorrectDeliveryForm,
                  status_code: int = 200):
    return render("deliveries/correct.html", campaign=campaign, enrollment=enrollment, delivery=delivery, form=form,
                  who=participant_label(current_user, enrollment.participant),
                  show_notes=bool(current_user.is_program_manager), status_code=status_code,
                  detail_url=_detail_url(campaign.id, enrollment.id))


@bp.route("/<int:campaign_id>/enrollments/<int:enrollment_id>/deliveries/<int:delivery_id>/correct",
          methods=["GET", "POST"])
@login_required
def correct(campaign_id: int, enrollment_id: int, delivery_id: int):
    """Correct a delivery: the form with its current values; a stale save is refused (409)."""
    campaign, enrollment = _enrollment_in(campaign_id, enrollment_id)
    delivery = _delivery_of(enrollment, delivery_id)
    if request.method == "GET":
        if not may_record(enrollment):  # a company admin on a beneficiary's delivery: the page says who does
            flash(str(ops.BENEFICIARY_DELIVERIES_BY_PROGRAM_TEAM), "error")
            return redirect_to(_detail_url(campaign_id, enrollment_id))
        form = CorrectDeliveryForm(formdata=None, obj=delivery, lock_version=delivery.lock_version)
        form.attendance.data = delivery.attendance or ""
        if not current_user.is_program_manager:
            form.note.data = None
        form.set_kinds(campaign_kinds(campaign))
        return _correct_page(campaign, enrollment, delivery, form)
    form = CorrectDeliveryForm()
    form.set_kinds(campaign_kinds(campaign))
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _correct_page(campaign, enrollment, delivery, form, 422)
    try:
        with transaction():
            enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user)
            delivery = _delivery_of(enrollment, delivery_id)
            values = form.values(with_note=bool(current_user.is_program_manager) or bool(form.note.data))
            ops.correct_delivery(current_user, delivery, expected_version=form.expected_version(), **values)
    except DomainError as exc:
        apply_domain_error(form, exc)
        campaign, enrollment = _enrollment_in(campaign_id, enrollment_id)
        return _correct_page(campaign, enrollment, _delivery_of(enrollment, delivery_id), form, exc.status_code)
    flash(_("Delivery corrected."), "success")
    return redirect_to(_detail_url(campaign_id, enrollment_id))


def _void_confirmation(campaign: Campaign, enrollment: Enrollment, delivery: Delivery, reason: str) -> Confirmation:
    who = participant_label(current_user, enrollment.participant)
    detail_url = _detail_url(campaign.id, enrollment.id)
    consequences = [_("The delivery stays in the record, marked void, and no longer counts towards progress.")]
    if delivery.counterpart_id:
        consequences.append(_("It was a session of a match: the partner's delivery of that session is voided too."))
    return Confirmation(
        title=_("Void this delivery of %(who)s?", who=who), confirm_label=_("Void the delivery"),
        action=url_for(".void", campaign_id=campaign.id, enrollment_id=enrollment.id, delivery_id=delivery.id),
        cancel_url=detail_url, cancel_label=_("Keep it"),
        facts=[(_("Kind"), kind_label(delivery.kind)), (_("Date"), show_date(delivery.occurred_on)),
               (_("Quantity"), quantity_text(delivery.quantity)), (_("Reason"), reason.strip() or _("None given"))],
        consequences=consequences,
        fields=[("lock_version", str(delivery.lock_version)), ("reason", reason)],
        crumbs=[(_("Campaigns"), url_for("campaigns.index")),
                (campaign.name, url_for("campaigns.detail", campaign_id=campaign.id)), (who, detail_url),
                (_("Void a delivery"), None)])


@bp.post("/<int:campaign_id>/enrollments/<int:enrollment_id>/deliveries/<int:delivery_id>/void")
@login_required
def void(campaign_id: int, enrollment_id: int, delivery_id: int):
    """Void a delivery once confirmed (until then: the confirmation page)."""
    campaign, enrollment = _enrollment_in(campaign_id, enrollment_id)
    form = VoidDeliveryForm()
    if not form.validate_on_submit():
        abort(400)
    detail_url = _detail_url(campaign_id, enrollment_id)
    try:
        delivery = _delivery_of(enrollment, delivery_id)
        if not is_confirmed():
            ops.check_recorder(current_user, enrollment)
            if delivery.voided_at is not None:
                raise ops.DeliveryRefused(ops.ALREADY_VOID, None)
            return confirmation_page(_void_confirmation(campaign, enrollment, delivery, form.reason.data or ""))
        with transaction():
            enrollment = get_visible_or_404(Enrollment, enrollment_id, current_user)
            delivery = _delivery_of(enrollment, delivery_id)
            ops.void_delivery(current_user, delivery, reason=form.reason.data or "",
                              expected_version=form.expected_version())
    except DomainError as exc:
        flash(_("Nothing changed: %(reason)s", reason=exc.message), "error")
        if request.headers.get("HX-Request") == "true":
            return redirect_to(detail_url)
        return _section(*_enrollment_in(campaign_id, enrollment_id), None, exc.status_code)
    flash(_("Delivery voided: it no longer counts."), "success")
    return redirect_to(detail_url)


def _plain(value: Any) -> str:
    """1.000 → "1", 2.500 → "2.5": the machine form, for comparing (see quantity_text to show one)."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    return text


def quantity_text(value: Any) -> str:
    """A quantity to read: 1.000 → "1", 2.500 → "2.5" (en) / "2,5" (nb, uk), 1250 → "1,250"."""
    if value is None:
        return ""
    value = Decimal(value).normalize()
    return number(value, max(-value.as_tuple().exponent, 0))


bp.add_app_template_filter(_plain, "plain_quantity")
bp.add_app_template_filter(quantity_text, "quantity")
bp.add_app_template_filter(kind_label, "kind_label")
bp.add_app_template_filter(attendance_word, "attendance_word")
bp.add_app_template_filter(source_word, "source_word")
bp.add_app_template_global(milestone_label, "milestone_label")


# The campaign's attendance sheet adds its routes to this blueprint (kept in its own module).
from portal.deliveries import attendance as _attendance  # noqa: E402,F401
