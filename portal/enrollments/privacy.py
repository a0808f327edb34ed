"""What a viewer may learn about a participant (SPEC §2.5): program managers see
everything; company admins see their own employees by name and everyone else by a
stable pseudonym, never an e-mail or year of birth."""
from __future__ import annotations

from portal.auth.models import User
from portal.enrollments.models import Participant


def may_see_identity(viewer: User, participant: Participant) -> bool:
    if viewer.is_program_manager:
        return True
    return participant.company_id is not None and participant.company_id == viewer.company_id


def participant_label(viewer: User, participant: Participant) -> str:
    return participant.display_name if may_see_identity(viewer, participant) else participant.ref
