"""Activity export for other systems (``flask events export``)."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db

BATCH = 1000


def iter_event_records(since: datetime) -> Iterator[dict[str, Any]]:
    """Events at or after ``since``, oldest first, read in keyset batches."""
    last: tuple[datetime, int] | None = None
    while True:
        stmt = (
            sa.select(ActivityEvent, User.email)
            .outerjoin(User, User.id == ActivityEvent.actor_id)
            .where(ActivityEvent.created_at >= since)
            .order_by(ActivityEvent.created_at, ActivityEvent.id)
            .limit(BATCH)
        )
        if last is not None:
            stmt = stmt.where(sa.tuple_(ActivityEvent.created_at, ActivityEvent.id) > sa.tuple_(*last))
        rows = db.session.execute(stmt).all()
        for event, actor_email in rows:
            yield {
                "id": event.id,
                "type": event.type,
                "occurred_at": event.created_at.isoformat(),
                "actor_id": event.actor_id,
                "actor_email": actor_email,
                "company_id": event.company_id,
                "subject_type": event.subject_type,
                "subject_id": event.subject_id,
                "subject_label": event.subject_label,
                "data": event.data,
            }
        if len(rows) < BATCH:
            return
        last = (rows[-1][0].created_at, rows[-1][0].id)
