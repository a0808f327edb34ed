"""The activity feed (SPEC §2.7, §4.2): the events the token's user may see (the activity
log's tenancy: a company admin its company's, a program manager everything), oldest first,
paged by an ``after`` cursor that a connector keeps and polls with — instead of polling
``flask events export``. Each event is told as the activity log tells it to that user (the
one describer, :mod:`portal.activity.sentences`): pseudonyms for people a company admin may
not identify, changed values only where the screen shows them, never the raw event data.

An event is served once it is ``PORTAL_API_EVENTS_SETTLE_SECONDS`` old (2 by default): a
transaction that wrote an event a moment ago may not have committed yet, and a feed that ran
ahead of it would skip it for good. (A write transaction that runs longer than that can
still commit an event behind the cursor; the big imports write one summary event at their
end, so keep the window above your longest write if that matters.)"""
from __future__ import annotations

from datetime import UTC, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.activity.models import ActivityEvent
from portal.activity.sentences import describe_events
from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, problems, query_params, requires
from portal.api.problems import ApiProblem, parameter_error
from portal.db import db, utcnow
from portal.i18n import _
from portal.pagination import decode_cursor, encode_cursor
from portal.tenancy import visible

DEFAULT_SETTLE_SECONDS = 2.0


def _position(after: str | None):
    if after is None:
        return None
    position = decode_cursor(after)
    if position is None or position[0].tzinfo is None:
        raise ApiProblem(422, _("The cursor is not one this API gave out."),
                         errors=[parameter_error("after", _("Use next_cursor from the previous call as it is."))])
    return position


@bp.get("/events")
@bp.output(schemas.ActivityFeed)
@requires("read")
@bp.doc(tags=["Events"], responses=problems(*COMMON_PROBLEMS, 422))
@query_params(schemas.EventQuery)
def list_events(query: schemas.EventQuery):
    """Read the activity feed

    Oldest first. Keep ``next_cursor`` and call again with ``after=`` it to get only newer
    events (it stays the same while there are none). ``type`` takes an event type or a
    prefix (``program.enrollment``). Company admins get their company's events, with
    beneficiaries as the company's pseudonyms."""
    user = api_user()
    position = _position(query.after)
    settle = float(current_app.config.get("PORTAL_API_EVENTS_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))
    stmt = (sa.select(ActivityEvent).options(sa.orm.joinedload(ActivityEvent.actor))
            .where(visible(ActivityEvent, user), ActivityEvent.created_at <= utcnow() - timedelta(seconds=settle)))
    if query.type:
        stmt = stmt.where(sa.or_(ActivityEvent.type == query.type, ActivityEvent.type.like(query.type + ".%")))
    if position is not None:
        stmt = stmt.where(sa.tuple_(ActivityEvent.created_at, ActivityEvent.id) > sa.tuple_(*position))
    elif query.since is not None:
        since = query.since if query.since.tzinfo else query.since.replace(tzinfo=UTC)
        stmt = stmt.where(ActivityEvent.created_at >= since)
    events = db.session.scalars(stmt.order_by(ActivityEvent.created_at, ActivityEvent.id).limit(query.limit)).all()
    items = [serializers.activity_event(user, e, s) for e, s in zip(events, describe_events(events, user), strict=True)]
    next_cursor = encode_cursor(events[-1].created_at, events[-1].id) if events else query.after
    return {"items": items, "next_cursor": next_cursor}
