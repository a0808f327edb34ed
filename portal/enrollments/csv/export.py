"""A campaign's enrollments as CSV, and a dry run's error rows (SPEC §4, §7).

Cells are safe against formula injection; company admins see beneficiaries only as the
company's pseudonyms.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa

from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments.csv.bulk import chunks
from portal.enrollments.csv.parse import EXPORT_COLUMNS, META_PREFIX
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference, may_see_identity

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(cells: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(c) for c in cells])
    return buffer.getvalue()


def errors_csv(errors: list[list[Any]]) -> Iterator[str]:
    """The dry run's error rows as CSV: row number (header = row 1) and reason."""
    yield "\ufeff" + csv_line(["row", "email", "external_ref", "reason"])
    for chunk in chunks(errors, 1000):
        yield "".join(csv_line(e) for e in chunk)


def export_csv(viewer: User, campaign: Campaign, chunk_size: int = 2000) -> Iterator[str]:
    """A campaign's enrollments in the import's columns plus status and enrolled_at, one
    ``metadata.<key>`` column per key present, streamed in keyset chunks. Company admins
    see their own employees in full; anyone else (beneficiaries above all) only as the
    company's pseudonym in display_name with role, status and date — no e-mail, external
    reference, year of birth, languages, country, source id or metadata."""
    company = db.session.get(Company, campaign.company_id)  # the campaign may be detached while streaming
    metas = sa.select(Enrollment.meta).where(Enrollment.campaign_id == campaign.id)
    if not viewer.is_program_manager:  # even the names of the keys come only from its own employees' rows
        metas = metas.join(Participant, Participant.id == Enrollment.participant_id).where(
            Participant.company_id == viewer.company_id)
    meta_keys = sorted({key for (meta,) in db.session.execute(metas) for key in (meta or {})})
    yield "\ufeff" + csv_line([*EXPORT_COLUMNS, *(META_PREFIX + k for k in meta_keys)])
    stmt = (sa.select(Enrollment.id, Enrollment.role, Enrollment.status, Enrollment.enrolled_at,
                      Enrollment.source_id, Enrollment.meta, Participant.id.label("id_of_participant"),
                      Participant.display_name,
                      Participant.email, Participant.external_ref, Participant.year_of_birth, Participant.languages,
                      Participant.country, Participant.company_id)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .where(Enrollment.campaign_id == campaign.id).order_by(Enrollment.id).limit(chunk_size))
    after = 0
    while True:
        rows = db.session.execute(stmt.where(Enrollment.id > after)).all()
        if not rows:
            return
        lines = []
        for r in rows:
            enrolled_at = r.enrolled_at.isoformat() if r.enrolled_at else ""
            if may_see_identity(viewer, r):  # reads r.company_id, as on a Participant
                meta = r.meta or {}
                lines.append(csv_line([
                    r.email, r.external_ref, r.display_name, r.role, r.year_of_birth,
                    ";".join(r.languages or []), r.country, r.source_id, r.status, enrolled_at,
                    *(_meta_cell(meta.get(k)) for k in meta_keys),
                ]))
            else:
                lines.append(csv_line([
                    "", "", company_reference(company, r.id_of_participant), r.role, "", "", "", "",
                    r.status, enrolled_at, *([""] * len(meta_keys)),
                ]))
        yield "".join(lines)
        after = rows[-1].id


def _meta_cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
