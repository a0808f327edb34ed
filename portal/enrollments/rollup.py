"""The per-day enrollment rollup (``enrollment_days``): counted in the same transaction
as the enrollments, rebuilt from scratch when data is loaded in bulk."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from portal.db import db, utcnow
from portal.enrollments.models import Enrollment, EnrollmentDay


def count_enrollment_days(campaign_id: int, per_day: Mapping[date, int]) -> None:
    """Add ``per_day`` enrollments to the campaign's rollup (one upsert per day)."""
    if not per_day:
        return
    dialect = db.session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert
    now = utcnow()
    stmt = insert(EnrollmentDay).values([
        {"campaign_id": campaign_id, "day": day, "enrollments": n, "created_at": now, "updated_at": now}
        for day, n in sorted(per_day.items()) if n])
    stmt = stmt.on_conflict_do_update(
        index_elements=[EnrollmentDay.campaign_id, EnrollmentDay.day],
        set_={"enrollments": EnrollmentDay.enrollments + stmt.excluded.enrollments, "updated_at": now})
    db.session.execute(stmt)


def rebuild_enrollment_days(campaign_id: int | None = None) -> None:
    """Recompute the rollup from the enrollments (after a bulk load, or a backfill)."""
    day = sa.func.date(Enrollment.created_at)
    where = [Enrollment.campaign_id == campaign_id] if campaign_id else []
    db.session.execute(sa.delete(EnrollmentDay).where(*(
        [EnrollmentDay.campaign_id == campaign_id] if campaign_id else [])))
    rows = db.session.execute(sa.select(Enrollment.campaign_id, day, sa.func.count()).where(*where)
                              .group_by(Enrollment.campaign_id, day)).all()
    now = utcnow()
    if rows:
        db.session.execute(sa.insert(EnrollmentDay), [
            {"campaign_id": c, "day": d if isinstance(d, date) else date.fromisoformat(str(d)[:10]),
             "enrollments": n, "created_at": now, "updated_at": now} for c, d, n in rows])
