"""Beneficiary group operations (SPEC §2.2): create, edit and move between statuses.

A group is a population, never a person: every save runs the privacy rules on its
name, description and tags. Each operation changes the session, writes its activity
event and flushes; the caller owns the transaction."""
from __future__ import annotations

from datetime import date
from typing import Any

from portal.activity.operations import changed_fields, record_event
from portal.auth.models import User
from portal.beneficiaries.models import GROUP_STATUSES, GROUP_TYPES, LANGUAGE_REQUIREMENTS, BeneficiaryGroup
from portal.beneficiaries.privacy import (
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    personal_name_warnings,
    privacy_problems,
)
from portal.db import db
from portal.errors import DomainError, StaleEdit, ValidationFailed
from portal.i18n import _l, _n, number
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import check_transition
from portal.program_templates.models import CATEGORIES
from portal.reference import country_problem, language_problem

ACTIVE, INACTIVE, ARCHIVED = GROUP_STATUSES
# active ⇄ inactive, either → archived; archived is final.
GROUP_TRANSITIONS: dict[str, tuple[str, ...]] = {
    ACTIVE: (INACTIVE, ARCHIVED),
    INACTIVE: (ACTIVE, ARCHIVED),
    ARCHIVED: (),
}

# Fields an edit may change; the key is immutable and the status moves through set_group_status.
EDITABLE_FIELDS = (
    "name", "description", "group_type", "country", "region", "city", "age_min", "age_max", "languages",
    "language_requirement", "eligible_categories", "tags", "active_from", "active_until", "retention_months",
)
MAX_TAGS, MAX_TAG_LENGTH = 20, 50
MAX_RETENTION_MONTHS = 1200  # a retention period (SPEC §2.12) of at most a hundred years


def privacy_errors(*, name: str | None = None, description: str | None = None,
                   tags: list[str] | None = None) -> dict[str, list[str]]:
    """Field → messages for personal data in the texts given (the live check and every save)."""
    errors: dict[str, list[str]] = {}
    for field, text, limit in (("name", name, MAX_NAME_LENGTH), ("description", description, MAX_DESCRIPTION_LENGTH)):
        if problems := privacy_problems(text, max_length=limit):
            errors[field] = problems
    tag_problems = [p for tag in tags or [] for p in privacy_problems(tag, max_length=MAX_TAG_LENGTH)]
    if tag_problems:
        errors["tags"] = list(dict.fromkeys(tag_problems))
    return errors


def privacy_warnings(*, name: str | None = None, description: str | None = None,
                     tags: list[str] | None = None) -> dict[str, list[str]]:
    """Field → warnings for texts that look like they name a person ("Olena K."). A warning,
    never a refusal (a person and "Red Cross" look alike): the form shows it at the field as
    the author types and with the saved group."""
    warnings: dict[str, list[str]] = {}
    for field, text, limit in (("name", name, MAX_NAME_LENGTH), ("description", description, MAX_DESCRIPTION_LENGTH)):
        if found := personal_name_warnings(text, max_length=limit):
            warnings[field] = found
    tag_text = ", ".join(tag for tag in tags or [] if len(tag) <= MAX_TAG_LENGTH)
    if found := personal_name_warnings(tag_text, max_length=MAX_TAGS * (MAX_TAG_LENGTH + 2)):
        warnings["tags"] = found
    return warnings


def _clean_list(values: list[str] | None, *, lower: bool = False) -> list[str]:
    seen: list[str] = []
    for value in values or []:
        value = str(value).strip()
        value = value.lower() if lower else value
        if value and value not in seen:
            seen.append(value)
    return seen


def _normalised(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    out["name"] = (out.get("name") or "").strip()
    out["description"] = (out.get("description") or "").strip()
    out["country"] = (out.get("country") or "").strip().upper()
    out["region"] = (out.get("region") or "").strip() or None
    out["city"] = (out.get("city") or "").strip() or None
    out["languages"] = _clean_list(out.get("languages"), lower=True)
    out["eligible_categories"] = _clean_list(out.get("eligible_categories"))
    out["tags"] = _clean_list(out.get("tags"))
    return out


def group_field_errors(fields: dict[str, Any]) -> dict[str, list[str]]:
    """Every rule a group's fields must meet (normalised fields in, field → messages out)."""
    errors: dict[str, list[str]] = {}
    name = fields["name"]
    if not 1 <= len(name) <= 255:
        errors["name"] = [_l("Enter a name of 1 to 255 characters.")]
    if len(fields["description"]) > 5000:
        errors["description"] = [_n("Keep the description to %(count)s character.", "Keep the description to %(count)s characters.",
                                         5000, count=number(5000))]
    if fields["group_type"] not in GROUP_TYPES:
        errors["group_type"] = [_l("Choose a group type.")]
    if not fields["country"]:
        errors["country"] = [_l("Choose a country.")]
    elif problem := country_problem(fields["country"]):
        errors["country"] = [problem]
    for field in ("region", "city"):
        if fields[field] and len(fields[field]) > 100:
            errors[field] = [_l("Keep it to 100 characters (a region or city, nothing finer).")]
    languages = fields["languages"]
    if len(languages) > 10:
        errors["languages"] = [_l("Choose at most 10 working languages.")]
    elif bad := [p for code in languages if (p := language_problem(code))]:
        errors["languages"] = bad
    if fields["language_requirement"] not in LANGUAGE_REQUIREMENTS:
        errors["language_requirement"] = [_l("Choose a language requirement.")]
    categories = fields["eligible_categories"]
    if not categories or any(c not in CATEGORIES for c in categories):
        errors["eligible_categories"] = [_l("Choose at least one eligible program category.")]
    age_min, age_max = fields["age_min"], fields["age_max"]
    for field, value in (("age_min", age_min), ("age_max", age_max)):
        if value is not None and not 0 <= value <= 120:
            errors[field] = [_l("Ages are between 0 and 120.")]
    if age_min is not None and age_max is not None and age_min > age_max and "age_max" not in errors:
        errors["age_max"] = [_l("The maximum age must be at least the minimum age.")]
    retention = fields.get("retention_months")
    if retention is not None and (isinstance(retention, bool) or not isinstance(retention, int)
                                  or not 1 <= retention <= MAX_RETENTION_MONTHS):
        errors["retention_months"] = [_l("Enter a whole number of months from 1 to %(max)s, or leave it blank to "
                                         "keep data until someone asks for erasure.", max=MAX_RETENTION_MONTHS)]
    if fields["active_from"] and fields["active_until"] and fields["active_until"] < fields["active_from"]:
        errors["active_until"] = [_l("The end date must be on or after the start date.")]
    tags = fields["tags"]
    if len(tags) > MAX_TAGS:
        errors["tags"] = [_n("Use at most %(num)s tag.", "Use at most %(num)s tags.", MAX_TAGS)]
    elif any(len(t) > MAX_TAG_LENGTH for t in tags):
        errors["tags"] = [_n("Keep each tag to %(num)s character.", "Keep each tag to %(num)s characters.", MAX_TAG_LENGTH)]
    for field, messages in privacy_errors(name=name, description=fields["description"], tags=tags).items():
        errors.setdefault(field, []).extend(messages)
    return errors


def create_group(actor: User | None, *, name: str, group_type: str, country: str, eligible_categories: list[str],
                 key: str = "", description: str = "", region: str | None = None, city: str | None = None,
                 age_min: int | None = None, age_max: int | None = None, languages: list[str] | None = None,
                 language_requirement: str = "any", tags: list[str] | None = None, status: str = "active",
                 active_from: date | None = None, active_until: date | None = None,
                 retention_months: int | None = None) -> BeneficiaryGroup:
    """Create a group. Every field rule and the privacy rules hold, or nothing is saved;
    a blank key is made from the name (unique with -2, -3…)."""
    fields = _normalised({
        "name": name, "description": description, "group_type": group_type, "country": country,
        "region": region, "city": city, "age_min": age_min, "age_max": age_max, "languages": languages,
        "language_requirement": language_requirement, "eligible_categories": eligible_categories, "tags": tags,
        "active_from": active_from, "active_until": active_until, "retention_months": retention_months,
    })
    errors = group_field_errors(fields)
    if status not in GROUP_STATUSES:
        errors["status"] = [_l("Choose a status.")]
    key = (key or "").strip()
    if key and (problem := key_problem(key, BeneficiaryGroup.key)):
        errors["key"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    group = BeneficiaryGroup(
        key=key or unique_key(BeneficiaryGroup.key, key_from_name(fields["name"])), status=status,
        created_by_id=actor.id if actor else None, **fields,
    )
    db.session.add(group)
    record_event("beneficiary_group.created", actor=actor, subject=group,
                 data={"key": group.key, "country": group.country, "group_type": group.group_type})
    return group


def _check_version(group: BeneficiaryGroup, expected_version: int | None) -> None:
    if expected_version is not None and group.lock_version != expected_version:
        raise StaleEdit(_l("the group “%(name)s”", name=group.name))


def update_group(actor: User | None, group: BeneficiaryGroup, *, expected_version: int | None,
                 **changes: Any) -> BeneficiaryGroup:
    """Edit a group's fields (not its key, not its status) from the version the editor saw:
    a stale version is refused, the same rules as creation apply, and an archived group
    is no longer editable."""
    _check_version(group, expected_version)
    if group.status == ARCHIVED:
        raise DomainError(_l("This group is archived: it can no longer be edited."), None)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    fields = _normalised({field: changes.get(field, getattr(group, field)) for field in EDITABLE_FIELDS})
    if errors := group_field_errors(fields):
        raise ValidationFailed(errors)
    if changes_made := changed_fields(group, fields):
        record_event("beneficiary_group.updated", actor=actor, subject=group, data=changes_made)
    return group


def allowed_group_moves(status: str) -> list[str]:
    return list(GROUP_TRANSITIONS.get(status, ()))


def set_group_status(actor: User | None, group: BeneficiaryGroup, target: str, *,
                     expected_version: int | None = None) -> BeneficiaryGroup:
    """Move a group: active ⇄ inactive, active|inactive → archived (final). Any other move
    is refused naming the allowed ones. Only active groups take new programs."""
    _check_version(group, expected_version)
    check_transition(group.status, target, GROUP_TRANSITIONS)
    previous, group.status = group.status, target
    record_event("beneficiary_group.status_changed", actor=actor, subject=group,
                 data={"status": {"from": previous, "to": target}})
    return group
