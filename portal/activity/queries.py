"""Reading activity: entity timelines and recent events, always tenant-scoped."""
from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.activity.sentences import SUBJECT_KINDS, describe, event_kind
from portal.auth.models import User
from portal.db import db
from portal.tenancy import bound_rule, viewer_scope, visible


def timeline(subject_type: str, subject_id: int, viewer: User, limit: int = 50, *,
             also: dict[str, list[int]] | None = None) -> Sequence[ActivityEvent]:
    """The newest events about one subject that ``viewer`` may see (``also``: events of
    its parts, e.g. a subscription's allocations)."""
    if not any(also.values() if also else ()):  # one subject: a statement built once (every page shows one)
        scope, params = viewer_scope(viewer)
        return db.session.scalars(_subject_timeline(subject_type, scope),
                                  {**params, "subject_id": subject_id, "limit": limit}).all()
    subjects = [sa.and_(ActivityEvent.subject_type == subject_type, ActivityEvent.subject_id == subject_id)]
    for other_type, ids in (also or {}).items():
        if ids:
            subjects.append(sa.and_(ActivityEvent.subject_type == other_type, ActivityEvent.subject_id.in_(ids)))
    return db.session.scalars(_newest_first(sa.select(ActivityEvent).where(sa.or_(*subjects), visible(ActivityEvent, viewer)))
                              .limit(limit)).all()


def _newest_first(statement: sa.Select) -> sa.Select:
    return (statement.options(sa.orm.joinedload(ActivityEvent.actor))
            .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc()))


@lru_cache(maxsize=64)
def _subject_timeline(subject_type: str, scope: str) -> sa.Select:
    return _newest_first(sa.select(ActivityEvent).where(
        ActivityEvent.subject_type == subject_type, ActivityEvent.subject_id == sa.bindparam("subject_id"),
        bound_rule(ActivityEvent, scope))).limit(sa.bindparam("limit"))


def recent_events(viewer: User, limit: int = 10) -> Sequence[ActivityEvent]:
    return db.session.scalars(
        sa.select(ActivityEvent)
        .options(sa.orm.joinedload(ActivityEvent.actor))
        .where(visible(ActivityEvent, viewer), ActivityEvent.type.not_in(("user.signed_in", "user.signed_out")))
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc())
        .limit(limit)
    ).all()


# The kinds of change the log filters by, and the one describer of events (sentences.py).
SUBJECT_NOUNS = SUBJECT_KINDS
__all__ = ["SUBJECT_NOUNS", "describe", "event_kind", "recent_events", "timeline"]
