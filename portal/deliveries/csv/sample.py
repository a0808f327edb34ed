"""A small, correct delivery file for a viewer to start from (SPEC §2.9's columns)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.csv_files import csv_lines
from portal.csv_import.plan import importer_company_id
from portal.db import db, utcnow
from portal.deliveries.kinds import campaign_kinds, is_session_kind
from portal.enrollments.models import Enrollment, Participant

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.campaigns.models import Campaign

SAMPLE_COLUMNS = ("participant", "kind", "occurred_on", "occurred_time", "quantity", "duration_minutes",
                  "attendance", "source_id", "metadata.rating")


def sample_csv(viewer: User, campaign: Campaign) -> str:
    """Two rows for enrollments the viewer may name (a company admin: its own volunteers, by
    e-mail or external_ref; the program team: by participant reference), with the campaign's
    first kinds and today's date; made-up people when there are none yet."""
    owner = importer_company_id(viewer)
    query = (sa.select(Enrollment).options(joinedload(Enrollment.participant))
             .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "active")
             .order_by(Enrollment.id).limit(2))
    if owner is not None:
        query = query.where(Enrollment.role == "volunteer", Enrollment.participant_id.in_(
            sa.select(Participant.id).where(Participant.company_id == owner)))
    names = []
    for e in db.session.scalars(query):
        p = e.participant
        names.append((p.email or p.external_ref or p.ref) if owner is not None else p.ref)
    names += ["someone@example.org", "someone.else@example.org"][len(names):]
    kinds = campaign_kinds(campaign) or ["session_completed"]
    today = utcnow().date().isoformat()
    rows = []
    for n, (name, kind) in enumerate(zip(names, (kinds + kinds)[:2], strict=True), start=1):
        session = is_session_kind(kind)
        rows.append([name, kind, today, "14:30" if session else "", "1", "60" if session else "",
                     "present" if session else "", f"sample-{n}", "5" if n == 1 else ""])
    return "\ufeff" + csv_lines([SAMPLE_COLUMNS, *rows])
