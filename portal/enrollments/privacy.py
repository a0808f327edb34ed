"""What a viewer may learn about a participant (SPEC §1, §2.5).

Program managers see everything. A company admin sees its own employees by name and
every other participant — beneficiaries above all — only as the company's own pseudonym
(:mod:`portal.enrollments.pseudonyms`): never a name, e-mail, year of birth, age,
languages, country, external reference, source id or note, and never a reference that
another company would recognise.
"""
from __future__ import annotations

from typing import Any

from portal.auth.models import Company, User
from portal.enrollments.pseudonyms import pseudonym
from portal.i18n import _l

BENEFICIARIES_BY_PROGRAM_TEAM = _l("Beneficiaries are enrolled by the program team.")


def may_see_identity(viewer: User, participant: Any) -> bool:
    """``participant`` is a Participant or any row with ``company_id``."""
    if viewer.is_program_manager:
        return True
    return participant.company_id is not None and participant.company_id == viewer.company_id


def company_reference(company: Company, participant_id: int) -> str:
    """The stable reference ``company`` sees for a participant it may not identify."""
    return pseudonym(company.pseudonym_key, participant_id)


def participant_label(viewer: User, participant: Any) -> str:
    """Name for those who may know it; otherwise the viewer's company pseudonym."""
    if may_see_identity(viewer, participant):
        return participant.display_name
    return company_reference(viewer.company, participant.id)
