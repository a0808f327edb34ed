"""Impact report screens (SPEC §2.11 "Impact report"): the live report of a campaign or of a
company's campaigns for a period, frozen snapshots (page, print and PDF, with their hash),
and share links that show one snapshot to people without an account.

Program managers see every company's reports; a company admin only its own (another
company's report, snapshot or link is 404). The share page is public and shows nothing
but the snapshot: no navigation, no names, no way to the rest of the portal."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from portal.auth.models import Company
from portal.campaigns.models import Campaign
from portal.db import db, transaction, utcnow
from portal.errors import DomainError
from portal.i18n import _, ngettext, number
from portal.reports import operations as ops
from portal.reports.content import PEOPLE_FIGURES, build_report, report_charts
from portal.reports.forms import RevokeForm, ShareForm, SnapshotForm, period_choices
from portal.reports.models import ReportShareLink, ReportSnapshot
from portal.reports.pdf import render_pdf
from portal.reports.periods import InvalidPeriod, Period, current_quarter, parse_period
from portal.reports.present import HELPERS
from portal.reports.present import title as report_title
from portal.tenancy import get_visible_or_404, select_visible
from portal.web import Confirmation, confirmation_page, is_confirmed, redirect_to, render

bp = Blueprint("reports", __name__, url_prefix="/reports")
shared_bp = Blueprint("shared_reports", __name__, url_prefix="/shared/reports")
bp.add_app_template_global(report_charts)
for _name, _helper in HELPERS.items():  # a report's content written in the reader's language
    bp.add_app_template_global(_helper, _name)


def _period(args: Any) -> tuple[Period, InvalidPeriod | None]:
    """The period asked for (this quarter when none); a wrong one falls back to this quarter
    with its error, so the page can say what to fix."""
    today = utcnow().date()
    if not any(args.get(k) for k in ("period", "start", "end")):
        return current_quarter(today), None
    try:
        return parse_period(args.get("period"), start=args.get("start"), end=args.get("end")), None
    except InvalidPeriod as exc:
        return current_quarter(today), exc


def _company_campaigns(company: Company) -> list[Campaign]:
    return list(db.session.scalars(select_visible(Campaign, current_user).where(Campaign.company_id == company.id)
                                   .options(sa.orm.joinedload(Campaign.program))))


def _snapshots(company: Company, campaign: Campaign | None) -> list[ReportSnapshot]:
    stmt = select_visible(ReportSnapshot, current_user).where(ReportSnapshot.company_id == company.id)
    stmt = stmt.where(ReportSnapshot.campaign_id == campaign.id) if campaign else \
        stmt.where(ReportSnapshot.scope == "company")
    return list(db.session.scalars(stmt.order_by(ReportSnapshot.created_at.desc(), ReportSnapshot.id.desc())
                                   .limit(20)))


def _live(company: Company, campaign: Campaign | None, campaigns: list[Campaign]):
    period, error = _period(request.args)
    content = build_report(company, campaigns, period, min_cohort=current_app.config["PORTAL_MIN_COHORT"])
    # A wrong period shows this quarter's figures, and the picker keeps what was asked, to fix it.
    asked = {k: str(request.args.get(k) or "")[:40] for k in ("period", "start", "end")} if error else None
    return render("reports/live.html", company=company, campaign=campaign, content=content, period=period,
                  period_error=error, asked=asked, choices=period_choices(utcnow().date()), snapshot_form=SnapshotForm(),
                  snapshots=_snapshots(company, campaign), figures=PEOPLE_FIGURES,
                  status_code=422 if error else 200)


@bp.get("/campaigns/<int:campaign_id>")
@login_required
def campaign_report(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    return _live(campaign.company, campaign, [campaign])


@bp.get("/companies/<int:company_id>")
@login_required
def company_report(company_id: int):
    company = get_visible_or_404(Company, company_id, current_user)
    return _live(company, None, _company_campaigns(company))


def _freeze(company: Company, campaign: Campaign | None, campaigns: list[Campaign], back: str):
    form = SnapshotForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        period = parse_period(form.period.data, start=form.start.data or None, end=form.end.data or None)
    except InvalidPeriod as exc:
        flash(exc.message, "error")
        return redirect_to(back)
    with transaction():
        snapshot = ops.create_snapshot(current_user, company, campaigns, period, campaign=campaign)
    flash(_("Report frozen: this page will always show these figures."), "success")
    return redirect_to(url_for(".snapshot", snapshot_id=snapshot.id))


@bp.post("/campaigns/<int:campaign_id>/snapshots")
@login_required
def freeze_campaign(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    return _freeze(campaign.company, campaign, [campaign], url_for(".campaign_report", campaign_id=campaign_id))


@bp.post("/companies/<int:company_id>/snapshots")
@login_required
def freeze_company(company_id: int):
    company = get_visible_or_404(Company, company_id, current_user)
    return _freeze(company, None, _company_campaigns(company), url_for(".company_report", company_id=company_id))


def _links(snapshot: ReportSnapshot) -> list[ReportShareLink]:
    return list(db.session.scalars(sa.select(ReportShareLink).where(ReportShareLink.snapshot_id == snapshot.id)
                                   .order_by(ReportShareLink.created_at.desc(), ReportShareLink.id.desc())))


def _snapshot_page(snapshot: ReportSnapshot, share_form: ShareForm | None = None, status_code: int = 200):
    now = utcnow()
    links = [(link, url_for("shared_reports.view", token=ops.share_token(link), _external=True), link.is_live(now))
             for link in _links(snapshot)]
    return render("reports/snapshot.html", snapshot=snapshot, content=snapshot.content, links=links,
                  share_form=share_form or ShareForm(), revoke_form=RevokeForm(), figures=PEOPLE_FIGURES,
                  status_code=status_code)


@bp.get("/<int:snapshot_id>")
@login_required
def snapshot(snapshot_id: int):
    return _snapshot_page(get_visible_or_404(ReportSnapshot, snapshot_id, current_user))


def pdf_response(snapshot: ReportSnapshot) -> Response:
    html = render_template("reports/document.html", snapshot=snapshot, content=snapshot.content,
                           figures=PEOPLE_FIGURES)
    response = make_response(render_pdf(html))
    response.headers["Content-Type"] = "application/pdf"
    name = f"impact-report-{snapshot.period_key}-{snapshot.short_hash}.pdf".replace("..", "-to-")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:snapshot_id>/report.pdf")
@login_required
def snapshot_pdf(snapshot_id: int):
    return pdf_response(get_visible_or_404(ReportSnapshot, snapshot_id, current_user))


@bp.post("/<int:snapshot_id>/links")
@login_required
def share(snapshot_id: int):
    snapshot = get_visible_or_404(ReportSnapshot, snapshot_id, current_user)
    form = ShareForm()
    if not form.validate_on_submit():
        return _snapshot_page(snapshot, form, 422)
    try:
        with transaction():
            ops.share_snapshot(current_user, snapshot, days=form.days.data, label=form.label.data or "")
    except DomainError as exc:
        form.days.errors = [exc.message]
        return _snapshot_page(snapshot, form, exc.status_code)
    flash(_("Share link made: copy it from the list below."), "success")
    return redirect_to(url_for(".snapshot", snapshot_id=snapshot.id) + "#share-links")


@bp.post("/<int:snapshot_id>/links/<int:link_id>/revoke")
@login_required
def revoke(snapshot_id: int, link_id: int):
    snapshot = get_visible_or_404(ReportSnapshot, snapshot_id, current_user)
    link = db.session.get(ReportShareLink, link_id)
    if link is None or link.snapshot_id != snapshot.id:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    back = url_for(".snapshot", snapshot_id=snapshot.id)
    if not is_confirmed():
        name = link.label or _("Share link %(number)s", number=link.id)
        report = report_title(snapshot.content)
        return confirmation_page(Confirmation(
            title=_("Revoke the share link “%(name)s”?", name=name), confirm_label=_("Revoke the link"),
            action=url_for(".revoke", snapshot_id=snapshot.id, link_id=link.id), cancel_url=back,
            consequences=[_("Anyone who opens it from now on gets “page not found”."),
                          _("The report itself stays; you can make a new link at any time.")],
            facts=[(_("Report"), report),
                   (_("Opened"), ngettext("%(count)s time", "%(count)s times", link.views, count=number(link.views)))],
            crumbs=[(_("Reports"), None), (report, back), (_("Revoke link"), None)]))
    with transaction():
        ops.revoke_share_link(current_user, link)
    flash(_("Share link revoked."), "success")
    return redirect_to(back)  # no #fragment: htmx's redirect to the same page plus one would not reload it


# --- the public side of a share link -----------------------------------------------------
def _opened(token: str) -> ReportSnapshot:
    try:
        with transaction():
            snapshot = ops.open_shared_report(token)
            db.session.flush()
            return snapshot
    except ops.LinkNotUsable:
        abort(404)


@shared_bp.get("/<token>")
def view(token: str):
    snapshot = _opened(token)
    response = make_response(render_template("reports/shared.html", snapshot=snapshot, content=snapshot.content,
                                             token=token, figures=PEOPLE_FIGURES))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@shared_bp.get("/<token>/report.pdf")
def view_pdf(token: str):
    return pdf_response(_opened(token))
