"""The activity log: program managers filter everything; company admins see their company's."""
from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa
from flask import Blueprint, current_app, request
from flask_login import current_user, login_required

from portal.activity.models import ActivityEvent
from portal.activity.queries import SUBJECT_NOUNS, describe
from portal.auth.models import Company, User
from portal.db import db
from portal.forms import parse_id
from portal.i18n import _l
from portal.pagination import keyset_page
from portal.tenancy import select_visible
from portal.web import render

bp = Blueprint("activity", __name__, url_prefix="/activity")

# The subject types the log filters by, and how "history of this …" names each one.
SUBJECT_TYPES = {
    "program_templates": _l("Templates"), "programs": _l("Programs"), "campaigns": _l("Campaigns"),
    "enrollments": _l("Enrollments"), "participants": _l("Participants"), "beneficiary_groups": _l("Beneficiary groups"),
    "l2i_subscriptions": _l("L2I subscriptions"), "l2i_allocations": _l("L2I allocations"), "users": _l("Users"),
    "companies": _l("Companies"),
}
HISTORY_LINKS = {
    "program_templates": _l("history of this template"), "programs": _l("history of this program"),
    "campaigns": _l("history of this campaign"), "enrollments": _l("history of this enrollment"),
    "participants": _l("history of this participant"), "beneficiary_groups": _l("history of this group"),
    "l2i_subscriptions": _l("history of this subscription"), "l2i_allocations": _l("history of this allocation"),
    "users": _l("history of this user"), "companies": _l("history of this company"),
}
OTHER_HISTORY = _l("history of this item")


def _day(value: str | None, *, end: bool = False) -> datetime | None:
    try:
        day = datetime.strptime(value or "", "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)


@bp.get("/")
@login_required
def index():
    args = request.args
    filters = {
        "type": (args.get("type") or "").strip()[:64],
        "subject_type": args.get("subject_type") if args.get("subject_type") in SUBJECT_TYPES else "",
        "subject_id": args.get("subject_id", type=parse_id) or "",
        "company": (args.get("company", type=parse_id) or "") if current_user.is_program_manager else "",
        "actor": args.get("actor", type=parse_id) or "",
        "since": args.get("since") if _day(args.get("since")) else "",
        "until": args.get("until") if _day(args.get("until")) else "",
    }
    stmt = select_visible(ActivityEvent, current_user).options(sa.orm.joinedload(ActivityEvent.actor))
    if filters["type"]:
        # "program.campaign" matches every campaign event; a full type matches exactly.
        stmt = stmt.where(sa.or_(ActivityEvent.type == filters["type"],
                                 ActivityEvent.type.like(filters["type"].rstrip(".") + ".%")))
    if filters["subject_type"]:
        stmt = stmt.where(ActivityEvent.subject_type == filters["subject_type"])
    if filters["subject_id"]:
        stmt = stmt.where(ActivityEvent.subject_id == filters["subject_id"])
    if filters["company"]:
        stmt = stmt.where(ActivityEvent.company_id == filters["company"])
    if filters["actor"]:
        stmt = stmt.where(ActivityEvent.actor_id == filters["actor"])
    if filters["since"]:
        stmt = stmt.where(ActivityEvent.created_at >= _day(filters["since"]))
    if filters["until"]:
        stmt = stmt.where(ActivityEvent.created_at <= _day(filters["until"], end=True))
    page = keyset_page(stmt, ActivityEvent, args.get("after"), current_app.config["PORTAL_PAGE_SIZE"])
    companies = db.session.execute(sa.select(Company.id, Company.name).order_by(Company.name)).all() \
        if current_user.is_program_manager else []
    company_names = dict(companies)
    actors = db.session.execute(select_visible(User, current_user).with_only_columns(User.id, User.name)
                                .order_by(User.name)).all()
    active = {k: v for k, v in filters.items() if v}
    return render("activity/index.html", block="results", page=page, filters=filters, active=active,
                  subject_types=SUBJECT_TYPES, type_prefixes=SUBJECT_NOUNS, companies=companies,
                  company_names=company_names, actors=actors, describe=describe,
                  history_links=HISTORY_LINKS, other_history=OTHER_HISTORY)
