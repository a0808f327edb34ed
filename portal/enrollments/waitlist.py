"""The waitlist (SPEC §2.5): when seats free up — a dropped beneficiary, a raised cap or
budget — the oldest waitlisted beneficiaries are promoted, within capacity and budget, in
the same transaction. Connected to :data:`portal.campaigns.capacity.seats_may_have_freed`."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.campaigns.capacity import move_counters, note_capacity_reached, seats_allow, seats_may_have_freed
from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.enrollments.models import Enrollment
from portal.enrollments.privacy import company_reference

if TYPE_CHECKING:
    from portal.auth.models import User

BENEFICIARY, WAITLISTED, ENROLLED = "beneficiary", "waitlisted", "active"


def promote_waitlisted(actor: User | None, campaign: Campaign, *, seats_before: int | None = None
                       ) -> list[Enrollment]:
    """Fill free seats from the waitlist, oldest first, within capacity and budget.
    ``seats_before``: the seats taken before the change that freed these (a drop), so a
    campaign that was full and is full again is not reported as newly full."""
    promoted: list[Enrollment] = []
    while campaign.waitlisted_count > 0 and seats_allow(campaign):
        nxt = db.session.scalars(
            sa.select(Enrollment)
            .where(Enrollment.campaign_id == campaign.id, Enrollment.status == WAITLISTED,
                   Enrollment.role == BENEFICIARY)
            .order_by(Enrollment.waitlisted_at, Enrollment.id).limit(1)
        ).first()
        if nxt is None:
            break
        before = campaign.enrolled_count if seats_before is None else max(seats_before, campaign.enrolled_count)
        move_counters(campaign, enrolled=1, waitlisted=-1)
        nxt.status, nxt.enrolled_at = ENROLLED, utcnow()
        record_event("program.enrollment.promoted", actor=actor, subject=nxt, company_id=campaign.company_id,
                     data={"campaign_id": campaign.id},
                     label=f"{company_reference(campaign.company, nxt.participant_id)} in {campaign.name}")
        note_capacity_reached(actor, campaign, before)
        promoted.append(nxt)
    return promoted


@seats_may_have_freed.connect
def _promote_on_freed_seats(campaign: Campaign, *, actor: User | None, seats_before: int | None) -> list[Enrollment]:
    return promote_waitlisted(actor, campaign, seats_before=seats_before)
