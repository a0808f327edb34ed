"""Template lifecycle operations (SPEC §2.1). Each changes the session and writes
its activity event; the caller commits."""
from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from flask_babel.speaklater import LazyString

from portal.activity.operations import record_event
from portal.auth.models import User
from portal.configuration.limits import document_problems
from portal.configuration.schema_i18n import ui_i18n_problems
from portal.configuration.validation import config_errors, schema_errors
from portal.db import db, utcnow
from portal.errors import ConfigInvalid, DomainError, StaleEdit, ValidationFailed
from portal.i18n import _l
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import ACTIVE, ARCHIVED, DEPRECATED, DRAFT, TEMPLATE_TRANSITIONS, check_transition, status_label
from portal.program_templates.models import CATEGORIES, ProgramTemplate


def create_template(actor: User | None, *, name: str, category: str, config_schema: dict[str, Any],
                    default_config: dict[str, Any], key: str = "", description: str = "",
                    ui_schema: dict[str, Any] | None = None, tags: list[str] | None = None,
                    sdg_goals: list[int] | None = None) -> ProgramTemplate:
    """A new template key starts as draft version 1."""
    name = (name or "").strip()
    tags = [t.strip() for t in tags or []]
    sdg_goals = sorted(set(sdg_goals or []))
    errors = _metadata_errors(name, category, description, tags, sdg_goals)
    if key and (problem := key_problem(key, ProgramTemplate.key)):
        errors["key"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    _check_storable(config_schema=config_schema, default_config=default_config, ui_schema=ui_schema)
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


def _check_storable(**documents: Any) -> None:
    """Each JSON document can be stored on both databases and stays within the size, depth and
    number limits (a draft may still be an invalid schema; publishing checks that)."""
    for field, document in documents.items():
        if document is not None and (problems := document_problems(document)):
            raise ConfigInvalid(field, problems)


def _check_config_documents(config_schema: Any, default_config: Any, ui_schema: Any = None) -> None:
    """The schema is a valid JSON Schema (references inside it, patterns RE2 can run, within
    the document limits, translations of the allowed shape), the defaults validate against it
    and the UI schema's translations (x-i18n) have the allowed shape."""
    problems = schema_errors(config_schema)
    if problems:
        raise ConfigInvalid("config_schema", problems)
    problems = config_errors(config_schema, default_config)
    if problems:
        raise ConfigInvalid("default_config", problems)
    problems = ui_i18n_problems(ui_schema)
    if problems:
        raise ConfigInvalid("ui_schema", problems)


def publish_template(actor: User | None, template: ProgramTemplate, *,
                     expected_version: int | None = None) -> ProgramTemplate:
    """Publish a draft: the schema must be valid and the defaults must validate. The key's
    active version (if any) becomes deprecated and points at this one."""
    _check_version(template, expected_version)
    check_transition(template.status, ACTIVE, TEMPLATE_TRANSITIONS)
    _check_config_documents(template.config_schema, template.default_config, template.ui_schema)
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


def _status(status: str) -> LazyString:
    """A version's status in the reader's words, when the message is read."""
    return LazyString(status_label, status)


def ensure_editable(template: ProgramTemplate) -> None:
    if template.status != DRAFT:
        raise DomainError(_l("Only drafts can be edited; version %(version)s is %(status)s.", version=template.version,
                             status=_status(template.status)), "status")


BLANK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "title": "Configuration",
    "x-i18n": {"nb": {"title": "Konfigurasjon"}, "uk": {"title": "Конфігурація"}},
    "properties": {},
    "additionalProperties": False,
}


def _check_version(template: ProgramTemplate, expected_version: int | None) -> None:
    if expected_version is not None and template.lock_version != expected_version:
        raise StaleEdit(f"{template.label}")


def _metadata_errors(name: str, category: str, description: str, tags: list[str],
                     sdg_goals: list[int]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not 1 <= len(name) <= 255:
        errors["name"] = [_l("Enter a name of 1 to 255 characters.")]
    if category not in CATEGORIES:
        errors["category"] = [_l("Choose a category.")]
    if len(description or "") > 5000:
        errors["description"] = [_l("Use at most 5000 characters.")]
    if len(tags) > 20 or any(not t or len(t) > 50 for t in tags):
        errors["tags"] = [_l("Use at most 20 tags of 1 to 50 characters each.")]
    if any(not isinstance(g, int) or isinstance(g, bool) or not 1 <= g <= 17 for g in sdg_goals):
        errors["sdg_goals"] = [_l("SDG goals are numbers from 1 to 17.")]
    return errors


def update_draft(actor: User | None, template: ProgramTemplate, *, expected_version: int | None,
                 **changes: Any) -> ProgramTemplate:
    """Edit a draft (only drafts are editable). The result must be whole: a valid JSON
    Schema and defaults that validate against it — nothing invalid is ever saved."""
    ensure_editable(template)
    _check_version(template, expected_version)
    allowed = {"name", "description", "category", "tags", "sdg_goals", "config_schema", "default_config", "ui_schema"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    merged = {field: changes.get(field, getattr(template, field)) for field in allowed}
    merged["name"] = (merged["name"] or "").strip()
    merged["tags"] = [t.strip() for t in merged["tags"] or []]
    merged["sdg_goals"] = sorted(set(merged["sdg_goals"] or []))
    errors = _metadata_errors(merged["name"], merged["category"], merged["description"], merged["tags"],
                              merged["sdg_goals"])
    if merged["ui_schema"] is not None and not isinstance(merged["ui_schema"], dict):
        errors["ui_schema"] = [_l("The UI schema must be a JSON object.")]
    if errors:
        raise ValidationFailed(errors)
    _check_storable(ui_schema=merged["ui_schema"])
    _check_config_documents(merged["config_schema"], merged["default_config"], merged["ui_schema"])
    from portal.activity.operations import changed_fields

    changes_made = changed_fields(template, merged)
    if changes_made:
        # JSON documents are logged by name only: the timeline says what changed, not every value.
        summary = {k: (v if k not in ("config_schema", "default_config", "ui_schema") else "changed")
                   for k, v in changes_made.items()}
        record_event("program.template.updated", actor=actor, subject=template, data=summary, label=template.label)
    return template


def new_version(actor: User | None, source: ProgramTemplate) -> tuple[ProgramTemplate, bool]:
    """Copy a non-draft version into draft version max + 1 of the same key. A key has at
    most one draft: when it exists, that draft is returned instead. Returns (draft, created)."""
    if source.status == DRAFT:
        return source, False
    existing = db.session.scalars(
        sa.select(ProgramTemplate).where(ProgramTemplate.key == source.key, ProgramTemplate.status == DRAFT)
    ).first()
    if existing is not None:
        return existing, False
    highest = db.session.scalar(sa.select(sa.func.max(ProgramTemplate.version)).where(ProgramTemplate.key == source.key))
    draft = ProgramTemplate(
        key=source.key, version=(highest or 0) + 1, name=source.name, description=source.description,
        category=source.category, config_schema=copy.deepcopy(source.config_schema),
        default_config=copy.deepcopy(source.default_config), ui_schema=copy.deepcopy(source.ui_schema),
        status=DRAFT, tags=list(source.tags or []), sdg_goals=list(source.sdg_goals or []),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(draft)
    record_event("program.template.created", actor=actor, subject=draft,
                 data={"key": draft.key, "version": draft.version, "copied_from_version": source.version},
                 label=draft.label)
    return draft, True


def deprecate_template(actor: User | None, template: ProgramTemplate, *,
                       expected_version: int | None = None) -> ProgramTemplate:
    """Active → deprecated: no new programs; running programs keep working."""
    _check_version(template, expected_version)
    check_transition(template.status, DEPRECATED, TEMPLATE_TRANSITIONS)
    template.status = DEPRECATED
    record_event("program.template.deprecated", actor=actor, subject=template, label=template.label)
    return template


def archive_template(actor: User | None, template: ProgramTemplate, *,
                     expected_version: int | None = None) -> ProgramTemplate:
    """Active or deprecated → archived: its programs' campaigns accept no new enrollments."""
    _check_version(template, expected_version)
    check_transition(template.status, ARCHIVED, TEMPLATE_TRANSITIONS)
    template.status = ARCHIVED
    record_event("program.template.archived", actor=actor, subject=template, label=template.label)
    return template


def delete_draft(actor: User | None, template: ProgramTemplate, *, expected_version: int | None = None) -> None:
    """Only drafts can be deleted (nothing can have been launched from them)."""
    _check_version(template, expected_version)
    if template.status != DRAFT:
        raise DomainError(_l("Only drafts can be deleted; version %(version)s is %(status)s.", version=template.version,
                             status=_status(template.status)), "status")
    record_event("program.template.deleted", actor=actor, subject=template,
                 data={"key": template.key, "version": template.version}, label=template.label)
    db.session.delete(template)
