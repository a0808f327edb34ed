"""Template lifecycle operations (SPEC §2.1). Each changes the session and writes
its activity event; the caller commits."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.auth.models import User
from portal.configuration.engine import config_errors, schema_errors
from portal.db import db, utcnow
from portal.errors import DomainError, ValidationFailed
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import ACTIVE, DEPRECATED, DRAFT, TEMPLATE_TRANSITIONS, check_transition
from portal.templates_catalog.models import CATEGORIES, ProgramTemplate


def create_template(actor: User | None, *, name: str, category: str, config_schema: dict[str, Any],
                    default_config: dict[str, Any], key: str = "", description: str = "",
                    ui_schema: dict[str, Any] | None = None, tags: list[str] | None = None,
                    sdg_goals: list[int] | None = None) -> ProgramTemplate:
    """A new template key starts as draft version 1."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not 1 <= len(name) <= 255:
        errors["name"] = ["Enter a name of 1 to 255 characters."]
    if category not in CATEGORIES:
        errors["category"] = ["Choose a category."]
    if len(description or "") > 5000:
        errors["description"] = ["Use at most 5000 characters."]
    if key and (problem := key_problem(key, ProgramTemplate.key)):
        errors["key"] = [problem]
    tags = tags or []
    if len(tags) > 20 or any(len(t) > 50 for t in tags):
        errors["tags"] = ["Use at most 20 tags of at most 50 characters."]
    sdg_goals = sorted(set(sdg_goals or []))
    if any(not isinstance(g, int) or not 1 <= g <= 17 for g in sdg_goals):
        errors["sdg_goals"] = ["SDG goals are numbers from 1 to 17."]
    if errors:
        raise ValidationFailed(errors)
    template = ProgramTemplate(
        key=key or unique_key(ProgramTemplate.key, key_from_name(name)), version=1, name=name,
        description=description or "", category=category, config_schema=config_schema,
        default_config=default_config, ui_schema=ui_schema, status=DRAFT, tags=tags, sdg_goals=sdg_goals,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(template)
    record_event("program.template.created", actor=actor, subject=template,
                 data={"key": template.key, "version": 1}, label=template.label)
    return template


def publish_template(actor: User | None, template: ProgramTemplate) -> ProgramTemplate:
    """Publish a draft: the schema must be valid and the defaults must validate. The key's
    active version (if any) becomes deprecated and points at this one."""
    check_transition(template.status, ACTIVE, TEMPLATE_TRANSITIONS)
    problems = schema_errors(template.config_schema)
    if problems:
        raise ValidationFailed({"config_schema": [f"{p.path or '(root)'}: {p.message}" for p in problems]})
    problems = config_errors(template.config_schema, template.default_config)
    if problems:
        raise ValidationFailed({"default_config": [f"{p.path or '(root)'}: {p.message}" for p in problems]})
    previous = db.session.scalars(
        sa.select(ProgramTemplate).where(ProgramTemplate.key == template.key, ProgramTemplate.status == ACTIVE)
        .with_for_update()
    ).first()
    if previous is not None:
        previous.status = DEPRECATED
        previous.deprecated_by_id = template.id
        db.session.flush()  # free the one-active-per-key slot before taking it
        record_event("program.template.deprecated", actor=actor, subject=previous,
                     data={"deprecated_by_version": template.version}, label=previous.label)
    template.status = ACTIVE
    template.published_at = utcnow()
    record_event("program.template.published", actor=actor, subject=template,
                 data={"version": template.version, "replaces_version": previous.version if previous else None},
                 label=template.label)
    return template


def ensure_editable(template: ProgramTemplate) -> None:
    if template.status != DRAFT:
        raise DomainError(f"Only drafts can be edited; version {template.version} is {template.status}.", "status")
