"""Domain objects as API documents, for one viewer. Privacy is the screens' own rule
(:mod:`portal.enrollments.privacy`): a company admin sees its own employees, and everyone
else only under the company's pseudonym — no id, name, e-mail, reference or note."""
from __future__ import annotations

from typing import Any

from portal.api import schemas
from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.catalog.queries import CatalogCard
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference, may_see_identity
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program


def template(t: ProgramTemplate, *, detail: bool = False) -> dict[str, Any]:
    model = schemas.TemplateDetail if detail else schemas.TemplateOut
    return model.model_validate(t).model_dump(mode="json")


def program(p: Program, *, detail: bool = False) -> dict[str, Any]:
    model = schemas.ProgramDetail if detail else schemas.ProgramOut
    return model.model_validate(p).model_dump(mode="json")


def campaign(c: Campaign) -> dict[str, Any]:
    data = schemas.CampaignOut.model_validate({**{k: getattr(c, k) for k in schemas.CampaignOut.model_fields
                                                  if k != "version"}, "version": c.lock_version})
    return data.model_dump(mode="json")


def participant(viewer: User, person: Participant, campaign_: Campaign) -> dict[str, Any]:
    if viewer.is_program_manager:
        return schemas.ParticipantOut(reference=person.ref, pseudonymised=False, id=person.id,
                                      display_name=person.display_name, email=person.email,
                                      external_ref=person.external_ref, company_id=person.company_id).model_dump()
    reference = company_reference(viewer.company, person.id)
    if may_see_identity(viewer, person):  # the company's own employee
        return schemas.ParticipantOut(reference=reference, pseudonymised=False, id=person.id,
                                      display_name=person.display_name, email=person.email,
                                      external_ref=person.external_ref, company_id=person.company_id).model_dump()
    return schemas.ParticipantOut(reference=reference, pseudonymised=True).model_dump()


def enrollment(viewer: User, e: Enrollment, campaign_: Campaign) -> dict[str, Any]:
    person = participant(viewer, e.participant, campaign_)
    data = schemas.EnrollmentOut(
        id=e.id, campaign_id=e.campaign_id, role=e.role, status=e.status, source=e.source, participant=person,
        enrolled_at=e.enrolled_at, waitlisted_at=e.waitlisted_at, completed_at=e.completed_at,
        dropped_at=e.dropped_at, drop_reason=None if person["pseudonymised"] else e.drop_reason,
        version=e.lock_version, created_at=e.created_at, updated_at=e.updated_at)
    return data.model_dump(mode="json")


def catalog_card(card: CatalogCard) -> dict[str, Any]:
    return schemas.CatalogCardOut(
        id=card.id, name=card.name, description=card.description, category=card.category, sdg_goals=card.sdg_goals,
        group=schemas.CatalogGroup(name=card.group_name, group_type=card.group_type, country=card.country,
                                   languages=card.languages),
        enrolled_text=card.enrolled_text, own_campaigns=card.own_campaigns).model_dump(mode="json")
