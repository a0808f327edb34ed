"""Campaign operations: create and lifecycle (SPEC §2.4)."""
from __future__ import annotations

from datetime import date
from typing import Any

from portal.activity.operations import config_changes, record_event
from portal.auth.models import Company, User
from portal.campaigns.capacity import capacity_change_errors, fill_freed_seats, lock_campaign
from portal.campaigns.models import Campaign
from portal.configuration.layers import layer_problems
from portal.configuration.merge import effective_config
from portal.db import db
from portal.errors import DomainError, Forbidden, StaleEdit, ValidationFailed
from portal.i18n import _l
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import ACTIVE, DRAFT, RUN_EVENT_FOR_TARGET, check_transition, status_label
from portal.programs.models import Program
from portal.reference import currency_problem


def create_campaign(actor: User | None, *, program: Program, company: Company, name: str, start_date: date,
                    key: str = "", description: str = "", end_date: date | None = None,
                    target_enrollment: int | None = None, max_enrollment: int | None = None,
                    waitlist_enabled: bool = False, target_volunteers: int | None = None, currency: str = "EUR",
                    budget_allocated: int | None = None, seat_price: int | None = None,
                    internal_code: str | None = None, tags: list[str] | None = None,
                    config_overrides: dict[str, Any] | None = None) -> Campaign:
    """A company's campaign for an active program, created as draft. Company admins
    only create campaigns for their own company."""
    if actor is not None and actor.is_company_admin and actor.company_id != company.id:
        raise Forbidden(_l("Company admins create campaigns for their own company only."))
    errors = campaign_field_errors({"name": name, "start_date": start_date, "end_date": end_date,
                            "target_enrollment": target_enrollment, "max_enrollment": max_enrollment,
                            "target_volunteers": target_volunteers, "budget_allocated": budget_allocated,
                            "seat_price": seat_price, "currency": currency, "internal_code": internal_code,
                            "tags": tags})
    if program.status != ACTIVE:
        errors["program_id"] = [_l("The program is %(status)s; campaigns start only for active programs.",
                                      status=status_label(program.status))]
    name = (name or "").strip()
    if key and (problem := key_problem(key, Campaign.key, Campaign.company_id == company.id)):
        errors["key"] = [problem]
    overrides = config_overrides or {}
    for problem in config_layer_problems(program, overrides):
        errors.setdefault("config_overrides", []).append(
            _l("%(path)s: %(message)s", path=problem.path or _l("(root)"), message=problem.message))
    if errors:
        raise ValidationFailed(errors)
    campaign = Campaign(
        key=key or unique_key(Campaign.key, key_from_name(name), Campaign.company_id == company.id),
        program_id=program.id, company_id=company.id, name=name, description=description or "",
        config_overrides=overrides, status=DRAFT, start_date=start_date, end_date=end_date,
        target_enrollment=target_enrollment, max_enrollment=max_enrollment, waitlist_enabled=waitlist_enabled,
        target_volunteers=target_volunteers, currency=currency.upper(), budget_allocated=budget_allocated,
        seat_price=seat_price, internal_code=internal_code or None, tags=tags or [],
        created_by_id=actor.id if actor else None,
    )
    db.session.add(campaign)
    record_event("program.campaign.created", actor=actor, subject=campaign, company_id=company.id,
                 data={"program": program.key, "max_enrollment": max_enrollment})
    return campaign


def transition_campaign(actor: User | None, campaign: Campaign, target: str, *,
                        expected_version: int | None = None) -> Campaign:
    """Move a campaign along the shared lifecycle (a move based on a stale version is
    refused). Starting needs an active program."""
    if expected_version is not None and campaign.lock_version != expected_version:
        raise StaleEdit(_l("campaign “%(name)s”", name=campaign.name))
    check_transition(campaign.status, target)
    if target == ACTIVE and campaign.program.status != ACTIVE:
        raise DomainError(_l("The program is %(status)s; a campaign runs only while its program is active.",
                             status=status_label(campaign.program.status)), "status")
    previous = campaign.status
    campaign.status = target
    record_event(f"program.campaign.{RUN_EVENT_FOR_TARGET[target]}", actor=actor, subject=campaign,
                 company_id=campaign.company_id, data={"from": previous, "to": target})
    return campaign


EDITABLE_FIELDS = ("name", "description", "start_date", "end_date", "target_enrollment", "max_enrollment",
                   "waitlist_enabled", "target_volunteers", "currency", "budget_allocated", "seat_price",
                   "internal_code", "tags")


def _refuse_if_archived(campaign: Campaign) -> None:
    """An archived campaign is a record: none of its fields or settings change."""
    if campaign.status == "archived":
        raise DomainError(_l("Archived campaigns cannot change."), "status")


def update_campaign(actor: User | None, campaign: Campaign, *, expected_version: int | None,
                    **changes: Any) -> list:
    """Edit a campaign (stale edits refused). Capacity rules: lowering the cap below the
    seats in use is refused with that count; raising the cap (or the budget) promotes
    waitlisted beneficiaries, oldest first, in this same transaction. Returns the promoted."""
    from portal.activity.operations import changed_fields

    if expected_version is not None and campaign.lock_version != expected_version:
        raise StaleEdit(_l("campaign “%(name)s”", name=campaign.name))
    _refuse_if_archived(campaign)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    campaign = lock_campaign(campaign.id)
    merged = {f: changes.get(f, getattr(campaign, f)) for f in EDITABLE_FIELDS}
    errors = campaign_field_errors(merged)
    for field_name, messages in capacity_change_errors(merged, campaign.enrolled_count).items():
        errors.setdefault(field_name, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    merged["name"] = merged["name"].strip()
    merged["currency"] = merged["currency"].upper()
    changes_made = changed_fields(campaign, merged)
    if changes_made:
        db.session.flush()
        record_event("program.campaign.updated", actor=actor, subject=campaign, company_id=campaign.company_id,
                     data=changes_made)
    return fill_freed_seats(actor, campaign)


def campaign_field_errors(values: dict[str, Any]) -> dict[str, list[Any]]:
    errors: dict[str, list[Any]] = {}
    name = (values.get("name") or "").strip()
    if not 1 <= len(name) <= 255:
        errors["name"] = [_l("Enter a name of 1 to 255 characters.")]
    if values.get("start_date") is None:
        errors["start_date"] = [_l("Enter a start date.")]
    elif values.get("end_date") and values["end_date"] < values["start_date"]:
        errors["end_date"] = [_l("The end date must be on or after the start date.")]
    for field in ("target_enrollment", "max_enrollment", "target_volunteers", "budget_allocated", "seat_price"):
        if values.get(field) is not None and values[field] < 0:
            errors[field] = [_l("Enter zero or more.")]
    if (values.get("max_enrollment") is not None and values.get("target_enrollment") is not None
            and values["max_enrollment"] < values["target_enrollment"]):
        errors.setdefault("max_enrollment", []).append(_l("The maximum must be at least the target."))
    if problem := currency_problem((values.get("currency") or "").upper()):
        errors["currency"] = [problem]
    if values.get("internal_code") and len(values["internal_code"]) > 100:
        errors["internal_code"] = [_l("Use at most 100 characters.")]
    tags = values.get("tags") or []
    if len(tags) > 20 or any(len(t) > 50 for t in tags):
        errors["tags"] = [_l("Use at most 20 tags of up to 50 characters.")]
    return errors


def config_layer_problems(program: Program, overrides: dict[str, Any]) -> list:
    """The campaign layer inherits template ← program (the rule: :func:`layer_problems`); its
    impact settings are closed (SPEC §2.11), whichever way the overrides arrive."""
    template = program.template
    return layer_problems(template.config_schema,
                          effective_config(template.default_config, program.config_overrides), overrides,
                          layer="campaign")


def update_campaign_config(actor: User | None, campaign: Campaign, overrides: dict[str, Any], *,
                           expected_version: int | None) -> Campaign:
    """Store the campaign's (third) configuration layer; nothing invalid or locked is saved."""
    from portal.errors import ConfigInvalid

    if expected_version is not None and campaign.lock_version != expected_version:
        raise StaleEdit(_l("campaign “%(name)s”", name=campaign.name))
    _refuse_if_archived(campaign)
    if problems := config_layer_problems(campaign.program, overrides):
        raise ConfigInvalid("config_overrides", problems)
    if overrides != (campaign.config_overrides or {}):
        template, program = campaign.program.template, campaign.program
        changes = config_changes(  # the settings that changed, old → new, for the timeline
            template.config_schema,
            effective_config(template.default_config, program.config_overrides, campaign.config_overrides),
            effective_config(template.default_config, program.config_overrides, overrides))
        campaign.config_overrides = overrides
        record_event("program.campaign.updated", actor=actor, subject=campaign, company_id=campaign.company_id,
                     data={"config_overrides": overrides, "config_changes": changes})
    return campaign
