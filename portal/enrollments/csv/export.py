"""A campaign's enrollments as CSV and a sample file to start an import from (SPEC §4, §7).

Cells are safe against formula injection (:func:`portal.csv_files.neutralise`); company
admins see beneficiaries only as the company's pseudonyms.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.csv_files import META_PREFIX, csv_line, csv_lines
from portal.db import db, utcnow
from portal.enrollments.csv.parse import COLUMNS, EXPORT_COLUMNS, LEGAL_BASIS_COLUMNS
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.participant_fields import this_year
from portal.enrollments.privacy import company_reference, may_see_identity


def sample_csv(viewer: User, campaign: Campaign) -> str:
    """A small, correct file for ``viewer`` to start from, fitting ``campaign``: a company
    admin's lists its employees as volunteers only; a program manager's has beneficiaries
    (of an age and a language the program's group accepts) and a volunteer."""
    if viewer.is_company_admin:
        header = [*COLUMNS, META_PREFIX + "team"]
        rows = [["kari.nordmann@example.org", "", "Kari Nordmann", "volunteer", "", "nb;en", "NO", "hr-1041", "Finance"],
                ["", "hr:1042", "Lars Hansen", "volunteer", "", "en", "", "hr-1042", ""]]
    else:
        group = campaign.program.group
        low = group.age_min if group.age_min is not None else 18
        high = group.age_max if group.age_max is not None else max(low, 60)
        first, second = (this_year() - min(max(age, low), high) for age in (34, 27))
        languages = list(group.languages or []) or ["en"]
        consented = (utcnow().date() - timedelta(days=7)).isoformat()  # never in the future
        header = [*COLUMNS, *LEGAL_BASIS_COLUMNS, META_PREFIX + "referred_by"]
        rows = [["olena.kovalenko@example.org", "", "Olena Kovalenko", "beneficiary", first, ";".join(languages[:2]),
                 group.country or "", "intake-17", "consent", consented, "Community centre"],
                ["", "kintell:8812", "Amir Haddad", "beneficiary", second, languages[0], "", "intake-18",
                 "legitimate_interest", "", ""],
                ["ingrid.berg@example.org", "", "Ingrid Berg", "volunteer", "", "nb;en", "NO", "", "", "", ""]]
    return "\ufeff" + csv_line(header) + "".join(csv_line(row) for row in rows)


def export_csv(viewer: User, campaign: Campaign, chunk_size: int = 5000) -> Iterator[str]:
    """A campaign's enrollments in the import's columns plus status and enrolled_at, the
    legal basis as held now (SPEC §2.12: ``legal_basis``, ``consent_given_on`` and, where the
    person withdrew it, ``consent_withdrawn_at``), one ``metadata.<key>`` column per key
    present, streamed in keyset chunks; the import reads the file back. Company admins see
    their own employees in full; anyone else (beneficiaries above all) only as the company's
    pseudonym in display_name with role, status and date — no e-mail, external reference,
    year of birth, languages, country, source id, legal basis or metadata. An erased
    person's row holds what erasure kept: no identity, the legal basis (the record that the
    processing was lawful). One query, read ``chunk_size`` rows at a time (a server-side
    cursor on PostgreSQL)."""
    company = db.session.get(Company, campaign.company_id)  # the campaign may be detached while streaming
    # Even the names of the metadata keys come only from rows the viewer may see in full.
    meta_keys = _meta_keys(campaign.id, None if viewer.is_program_manager else viewer.company_id)
    yield "\ufeff" + csv_line([*EXPORT_COLUMNS, *(META_PREFIX + k for k in meta_keys)])
    stmt = (sa.select(Enrollment.id, Enrollment.role, Enrollment.status, Enrollment.enrolled_at,
                      Enrollment.source_id, Enrollment.meta, Enrollment.legal_basis, Enrollment.consent_given_on,
                      Enrollment.consent_withdrawn_at, Participant.id.label("id_of_participant"),
                      Participant.display_name, Participant.email, Participant.external_ref,
                      Participant.year_of_birth, sa.cast(Participant.languages, sa.Text).label("languages"),
                      Participant.country, Participant.company_id)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .where(Enrollment.campaign_id == campaign.id).order_by(Enrollment.id)
            .execution_options(yield_per=chunk_size))
    languages: dict[str | None, str] = {None: ""}  # a file's language lists repeat: decode each once
    hidden = [""] * len(meta_keys)
    for rows in db.session.execute(stmt).partitions():
        lines = []
        for r in rows:
            enrolled_at = r.enrolled_at.isoformat() if r.enrolled_at else ""
            if may_see_identity(viewer, r):  # reads r.company_id, as on a Participant
                if r.languages not in languages:
                    languages[r.languages] = ";".join(json.loads(r.languages) or [])
                meta = r.meta or {}
                lines.append([
                    r.email, r.external_ref, r.display_name, r.role, r.year_of_birth, languages[r.languages],
                    r.country, r.source_id, r.status, enrolled_at, r.legal_basis,
                    r.consent_given_on.isoformat() if r.consent_given_on else "",
                    r.consent_withdrawn_at.isoformat() if r.consent_withdrawn_at else "",
                    *(_meta_cell(meta.get(k)) for k in meta_keys),
                ])
            else:
                lines.append(["", "", company_reference(company, r.id_of_participant), r.role, "", "", "", "",
                              r.status, enrolled_at, "", "", "", *hidden])
        yield csv_lines(lines)


def _meta_keys(campaign_id: int, company_id: int | None) -> list[str]:
    """The metadata keys of a campaign's enrollments (of one company's employees when
    ``company_id`` is given), listed by the database without decoding every row."""
    if db.session.get_bind().dialect.name == "postgresql":
        keys = sa.func.jsonb_object_keys(Enrollment.meta).table_valued("key").render_derived()
    else:
        keys = sa.func.json_each(Enrollment.meta).table_valued("key")
    rows = sa.join(Enrollment, Participant, Participant.id == Enrollment.participant_id).join(keys, sa.true())
    stmt = sa.select(keys.c.key).select_from(rows).distinct().where(Enrollment.campaign_id == campaign_id)
    if company_id is not None:
        stmt = stmt.where(Participant.company_id == company_id)
    return sorted(db.session.scalars(stmt))


def _meta_cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
