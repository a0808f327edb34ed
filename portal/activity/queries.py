"""Reading activity: entity timelines and recent events, always tenant-scoped."""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.activity.sentences import SUBJECT_KINDS, describe, event_kind
from portal.auth.models import User
from portal.db import db
from portal.tenancy import visible


def timeline(subject_type: str, subject_id: int, viewer: User, limit: int = 50, *,
             also: dict[str, list[int]] | None = None) -> Sequence[ActivityEvent]:
    """The newest events about one subject that ``viewer`` may see (``also``: events of
    its parts, e.g. a subscription's allocations)."""
    subjects = [sa.and_(ActivityEvent.subject_type == subject_type, ActivityEvent.subject_id == subject_id)]
    for other_type, ids in (also or {}).items():
        if ids:
            subjects.append(sa.and_(ActivityEvent.subject_type == other_type, ActivityEvent.subject_id.in_(ids)))
    return db.session.scalars(
        sa.select(ActivityEvent)
        .options(sa.orm.joinedload(ActivityEvent.actor))
        .where(sa.or_(*subjects), visible(ActivityEvent, viewer))
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc())
        .limit(limit)
    ).all()


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
