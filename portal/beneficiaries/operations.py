"""Beneficiary group operations (SPEC §2.2)."""
from __future__ import annotations

from datetime import date

from portal.activity.operations import record_event
from portal.auth.models import User
from portal.beneficiaries.models import GROUP_STATUSES, GROUP_TYPES, LANGUAGE_REQUIREMENTS, BeneficiaryGroup
from portal.beneficiaries.privacy import privacy_problems
from portal.db import db
from portal.errors import ValidationFailed
from portal.keys import key_from_name, key_problem, unique_key
from portal.reference import country_problem, language_problem
from portal.templates_catalog.models import CATEGORIES


def create_group(actor: User | None, *, name: str, group_type: str, country: str, eligible_categories: list[str],
                 key: str = "", description: str = "", region: str | None = None, city: str | None = None,
                 age_min: int | None = None, age_max: int | None = None, languages: list[str] | None = None,
                 language_requirement: str = "any", tags: list[str] | None = None, status: str = "active",
                 active_from: date | None = None, active_until: date | None = None) -> BeneficiaryGroup:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not 1 <= len(name) <= 255:
        errors["name"] = ["Enter a name of 1 to 255 characters."]
    if group_type not in GROUP_TYPES:
        errors["group_type"] = ["Choose a group type."]
    if problem := country_problem((country or "").upper()):
        errors["country"] = [problem]
    languages = languages or []
    if len(languages) > 10:
        errors["languages"] = ["Choose at most 10 working languages."]
    elif bad := [p for code in languages if (p := language_problem(code))]:
        errors["languages"] = bad
    if language_requirement not in LANGUAGE_REQUIREMENTS:
        errors["language_requirement"] = ["Choose a language requirement."]
    if not eligible_categories or any(c not in CATEGORIES for c in eligible_categories):
        errors["eligible_categories"] = ["Choose at least one eligible program category."]
    for field, value in (("age_min", age_min), ("age_max", age_max)):
        if value is not None and not 0 <= value <= 120:
            errors[field] = ["Ages are between 0 and 120."]
    if age_min is not None and age_max is not None and age_min > age_max:
        errors.setdefault("age_max", []).append("The maximum age must be at least the minimum age.")
    if active_from and active_until and active_until < active_from:
        errors["active_until"] = ["The end date must be on or after the start date."]
    if status not in GROUP_STATUSES:
        errors["status"] = ["Choose a status."]
    if key and (problem := key_problem(key, BeneficiaryGroup.key)):
        errors["key"] = [problem]
    for field, text in (("name", name), ("description", description), ("tags", " ; ".join(tags or []))):
        if problems := privacy_problems(text):
            errors.setdefault(field, []).extend(problems)
    if errors:
        raise ValidationFailed(errors)
    group = BeneficiaryGroup(
        key=key or unique_key(BeneficiaryGroup.key, key_from_name(name)), name=name, description=description or "",
        group_type=group_type, country=country.upper(), region=region or None, city=city or None,
        age_min=age_min, age_max=age_max, languages=languages, language_requirement=language_requirement,
        eligible_categories=list(eligible_categories), tags=tags or [], status=status,
        active_from=active_from, active_until=active_until, created_by_id=actor.id if actor else None,
    )
    db.session.add(group)
    record_event("beneficiary_group.created", actor=actor, subject=group,
                 data={"key": group.key, "country": group.country, "group_type": group_type})
    return group
