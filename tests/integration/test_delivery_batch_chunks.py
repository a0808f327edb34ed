"""A batch larger than one write chunk (a file import's: 100k rows are written 5,000 at a
time, in the one transaction) leaves the same state as one written at once: each match
item's two deliveries linked to each other, the counters and each enrollment's latest
counted date equal to a recount, the milestones those reach, and the result's figures.
Runs on both databases."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.deliveries import batch
from portal.deliveries.models import Delivery
from portal.enrollments.models import Enrollment
from tests.integration.test_delivery_counters import (  # noqa: F401  (scene is a fixture)
    TODAY,
    counters,
    expected_milestones,
    last_counted,
    milestones,
    recount,
    recount_last_counted,
    scene,
)


def test_a_batch_written_in_chunks_is_linked_and_counted_as_one(app, scene, monkeypatch):  # noqa: F811
    monkeypatch.setattr(batch, "WRITE_CHUNK", 2)
    mentor, mentee, other = scene["enrollments"]
    days = [TODAY - timedelta(days=d) for d in (9, 7, 5, 3, 1)]
    items = [
        {"match_id": scene["match_id"], "kind": "session_completed", "occurred_on": days[0], "attendance": "present"},
        {"enrollment_id": other, "kind": "session_completed", "occurred_on": days[1], "attendance": "excused"},
        {"match_id": scene["match_id"], "kind": "session_completed", "occurred_on": days[2], "attendance": "present",
         "partner_attendance": "unexcused"},
        {"enrollment_id": mentee, "kind": "goal_achieved", "occurred_on": days[3], "quantity": Decimal("2.5")},
        {"match_id": scene["match_id"], "kind": "session_completed", "occurred_on": days[4], "attendance": "present",
         "source_id": "s-5"},
    ]
    with app.app_context():
        with transaction():
            campaign = db.session.get(Campaign, db.session.get(Enrollment, mentee).campaign_id)
            result = batch.record_batch(db.session.get(User, scene["pm_id"]), campaign, items, source="manual",
                                        summary_label="chunks")
        db.session.expire_all()
        assert (result.recorded, result.deliveries) == (5, 8)
        assert result.attendance == {"present": 5, "excused": 1, "unexcused": 1, "none": 1}
        rows = db.session.execute(sa.select(Delivery.id, Delivery.enrollment_id, Delivery.counterpart_id,
                                            Delivery.occurred_on, Delivery.attendance)).all()
        assert len(rows) == 8
        by_id = {r.id: r for r in rows}
        pairs = [r for r in rows if r.counterpart_id is not None]
        assert len(pairs) == 6
        for r in pairs:  # each twin points back at its main delivery, same day, the other side of the pair
            twin = by_id[r.counterpart_id]
            assert twin.counterpart_id == r.id and twin.occurred_on == r.occurred_on
            assert {r.enrollment_id, twin.enrollment_id} == {mentor, mentee}
        assert sorted((by_id[r.counterpart_id].attendance, r.attendance) for r in pairs
                      if r.enrollment_id == mentor) == [("present", "present"), ("present", "present"),
                                                        ("present", "unexcused")]
        assert counters() == recount()
        assert last_counted() == recount_last_counted(scene["enrollments"])
        assert milestones() == expected_milestones(scene["enrollments"])
