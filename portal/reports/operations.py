"""Impact report snapshots and share links: the rules, each one transaction with its event
(SPEC §2.11 "Impact report"). Callers own the transaction; these flush."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from portal.activity.operations import record_event
from portal.auth.models import Company
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.errors import DomainError
from portal.i18n import _, _l, force_locale
from portal.reports.content import CONTENT_LANGUAGE, build_report
from portal.reports.models import ReportShareLink, ReportSnapshot, canonical_json, content_hash
from portal.reports.periods import Period

if TYPE_CHECKING:
    from portal.auth.models import User

SHARE_DAYS_DEFAULT, SHARE_DAYS_MAX = 30, 365
_SALT = "report-share-link"


class LinkNotUsable(DomainError):
    status_code = 404


def title_of(company_name: str, campaign_name: str | None, period: Period) -> str:
    """"Impact report — Acme Mentoring — Q2 2026 (April–June)" in the current language."""
    if campaign_name is None:
        return _("Impact report — %(company)s: all campaigns — %(period)s", company=company_name, period=period.label)
    return _("Impact report — %(campaign)s — %(period)s", campaign=campaign_name, period=period.label)


def report_title(company: Company, campaign: Campaign | None, period: Period) -> str:
    """The title a snapshot is stored with: in English, like its content (pages show it in
    the reader's language, :func:`portal.reports.present.title`)."""
    with force_locale(CONTENT_LANGUAGE):
        return title_of(company.name, campaign.name if campaign is not None else None, period)


def create_snapshot(actor: User | None, company: Company, campaigns: Sequence[Campaign], period: Period, *,
                    campaign: Campaign | None = None, now: datetime | None = None) -> ReportSnapshot:
    """Freeze the report on ``campaigns`` (``campaign`` alone, or all of ``company``'s) for
    ``period``: its content as one canonical JSON text and that text's SHA-256."""
    if campaign is not None and campaign.company_id != company.id:
        raise DomainError(_l("That campaign belongs to another company."), field="campaign")
    content = build_report(company, campaigns, period, min_cohort=current_app.config["PORTAL_MIN_COHORT"], now=now)
    text = canonical_json(content)
    snapshot = ReportSnapshot(company_id=company.id, campaign_id=campaign.id if campaign is not None else None,
                              scope="campaign" if campaign is not None else "company", period_key=period.key,
                              title=report_title(company, campaign, period), content_json=text,
                              content_sha256=content_hash(text), created_by_id=actor.id if actor else None)
    db.session.add(snapshot)
    record_event("impact.report.created", actor=actor, subject=snapshot, company_id=company.id,
                 data={"period": period.key, "sha256": snapshot.content_sha256})
    return snapshot


def share_snapshot(actor: User | None, snapshot: ReportSnapshot, *, days: int = SHARE_DAYS_DEFAULT,
                   label: str = "", now: datetime | None = None) -> ReportShareLink:
    """A read-only link to ``snapshot`` for people without an account, live for ``days``."""
    if not 1 <= days <= SHARE_DAYS_MAX:
        raise DomainError(_l("A link lasts 1 to %(max)s days.", max=SHARE_DAYS_MAX), field="days")
    now = now or utcnow()
    link = ReportShareLink(snapshot_id=snapshot.id, company_id=snapshot.company_id, label=label.strip()[:120],
                           created_by_id=actor.id if actor else None, expires_at=now + timedelta(days=days))
    db.session.add(link)
    db.session.flush()
    record_event("impact.report.shared", actor=actor, subject=snapshot, company_id=snapshot.company_id,
                 data={"link": link.id, "expires_at": link.expires_at.isoformat(timespec="minutes")})
    return link


def revoke_share_link(actor: User | None, link: ReportShareLink, *, now: datetime | None = None) -> None:
    """From now on the link's address answers 404, like one that never existed."""
    if link.revoked_at is not None:
        return
    link.revoked_at = now or utcnow()
    record_event("impact.report.unshared", actor=actor, subject=link.snapshot, company_id=link.company_id,
                 data={"link": link.id})


def share_token(link: ReportShareLink) -> str:
    """The signed part of the link's address."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT).dumps([link.id, link.secret])


def open_shared_report(token: str, *, now: datetime | None = None) -> ReportSnapshot:
    """The snapshot a share link shows, counting and logging the view. A forged, unknown,
    revoked or expired link is :class:`LinkNotUsable` (answered as 404: nothing tells them apart)."""
    try:
        link_id, secret = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise LinkNotUsable(_l("This link does not exist.")) from None
    now = now or utcnow()
    link = db.session.get(ReportShareLink, link_id) if isinstance(link_id, int) else None
    if link is None or link.secret != secret or not link.is_live(now):
        raise LinkNotUsable(_l("This link does not exist."))
    db.session.execute(sa.update(ReportShareLink).where(ReportShareLink.id == link.id)
                       .values(views=ReportShareLink.views + 1, last_viewed_at=now))
    record_event("impact.report.viewed", actor=None, subject=link.snapshot, company_id=link.company_id,
                 data={"link": link.id})
    return link.snapshot
