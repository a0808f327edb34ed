"""Campaign operations: create and lifecycle (SPEC §2.4)."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.configuration.engine import config_errors, effective_config
from portal.db import db
from portal.errors import DomainError, Forbidden, ValidationFailed
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import ACTIVE, DRAFT, RUN_EVENT_FOR_TARGET, check_transition
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
        raise Forbidden("Company admins create campaigns for their own company only.")
    errors: dict[str, list[str]] = {}
    if program.status != ACTIVE:
        errors["program_id"] = [f"The program is {program.status}; campaigns start only for active programs."]
    name = (name or "").strip()
    if not 1 <= len(name) <= 255:
        errors["name"] = ["Enter a name of 1 to 255 characters."]
    if key and (problem := key_problem(key, Campaign.key, Campaign.company_id == company.id)):
        errors["key"] = [problem]
    if start_date is None:
        errors["start_date"] = ["Enter a start date."]
    elif end_date and end_date < start_date:
        errors["end_date"] = ["The end date must be on or after the start date."]
    for field, value in (("target_enrollment", target_enrollment), ("max_enrollment", max_enrollment),
                         ("target_volunteers", target_volunteers), ("budget_allocated", budget_allocated),
                         ("seat_price", seat_price)):
        if value is not None and value < 0:
            errors[field] = ["Enter zero or more."]
    if max_enrollment is not None and target_enrollment is not None and max_enrollment < target_enrollment:
        errors.setdefault("max_enrollment", []).append("The maximum must be at least the target.")
    if problem := currency_problem((currency or "").upper()):
        errors["currency"] = [problem]
    if internal_code and len(internal_code) > 100:
        errors["internal_code"] = ["Use at most 100 characters."]
    template = program.template
    overrides = config_overrides or {}
    merged = effective_config(template.default_config, program.config_overrides, overrides)
    for problem in config_errors(template.config_schema, merged):
        errors.setdefault("config_overrides", []).append(f"{problem.path or '(root)'}: {problem.message}")
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


def transition_campaign(actor: User | None, campaign: Campaign, target: str) -> Campaign:
    """Move a campaign along the shared lifecycle. Starting needs an active program."""
    check_transition(campaign.status, target)
    if target == ACTIVE and campaign.program.status != ACTIVE:
        raise DomainError(f"The program is {campaign.program.status}; a campaign runs only while its program is active.",
                          "status")
    previous = campaign.status
    campaign.status = target
    record_event(f"program.campaign.{RUN_EVENT_FOR_TARGET[target]}", actor=actor, subject=campaign,
                 company_id=campaign.company_id, data={"from": previous, "to": target})
    return campaign


def lock_campaign(campaign_id: int) -> Campaign:
    """Load a campaign under a row lock (PostgreSQL ``FOR UPDATE``; on SQLite the write
    transaction already holds the database lock), re-reading its counters."""
    campaign = db.session.scalars(
        sa.select(Campaign).where(Campaign.id == campaign_id).with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if campaign is None:
        raise DomainError("That campaign no longer exists.", None)
    return campaign
