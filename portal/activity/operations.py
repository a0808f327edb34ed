"""The activity event writer. Every operation calls :func:`record_event` inside its
own transaction, so an event exists exactly when its change does."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from portal.activity.models import ActivityEvent
from portal.db import db
from portal.webhooks.fanout import fan_out

if TYPE_CHECKING:
    from portal.auth.models import User

_RUN_VERBS = "created|updated|started|paused|completed|archived"
EVENT_TYPE_PATTERNS = [
    re.compile(p)
    for p in (
        r"program\.template\.(created|updated|published|deprecated|archived|deleted)",
        rf"program\.({_RUN_VERBS})",
        rf"program\.campaign\.({_RUN_VERBS}|capacity_reached)",
        r"program\.enrollment\.(created|waitlisted|promoted|completed|dropped|updated|milestone_reached)",
        r"program\.match\.(proposed|confirmed|ended)",
        r"program\.delivery\.(recorded|corrected|voided)",
        r"impact\.report\.(created|shared|unshared|viewed)",
        r"impact\.valuation_set\.(created|updated|activated|retired|deleted)",
        r"participant\.(created|updated)",
        r"participant\.(erased|data_exported|request_recorded|request_closed)|program\.enrollment\.consent_withdrawn",  # portal.privacy
        r"beneficiary_group\.[a-z_]+",
        r"l2i\.(subscription|allocation)\.[a-z_]+",
        r"user\.[a-z_]+",
        r"company\.[a-z_]+",
        r"webhook\.endpoint\.(created|updated|enabled|disabled|secret_rotated|deleted)",  # portal.webhooks
    )
]


def is_known_event_type(event_type: str) -> bool:
    return any(p.fullmatch(event_type) for p in EVENT_TYPE_PATTERNS)


def record_event(
    event_type: str,
    *,
    actor: User | None,
    subject: Any,
    company_id: int | None = None,
    data: dict[str, Any] | None = None,
    label: str | None = None,
) -> ActivityEvent:
    """Add one activity event to the current transaction (flushed with the change).

    ``subject`` is the changed model instance (flushed, so it has an id);
    ``company_id`` is the tenant that may see the event (None: program managers only).
    """
    if not is_known_event_type(event_type):
        raise ValueError(f"unknown activity event type {event_type!r}")
    db.session.flush()  # the subject needs its id
    event = ActivityEvent(
        type=event_type,
        actor_id=actor.id if actor is not None else None,
        company_id=company_id,
        subject_type=type(subject).__tablename__,
        subject_id=subject.id,
        subject_label=(label or getattr(subject, "name", None) or getattr(subject, "key", "") or "")[:255],
        data=data or {},
    )
    db.session.add(event)
    fan_out(event)  # portal.webhooks: one delivery per subscribed endpoint, in this transaction
    return event


def changed_fields(obj: Any, fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Apply ``fields`` to ``obj`` and return {field: {"from": old, "to": new}} for real changes."""
    changes: dict[str, dict[str, Any]] = {}
    for name, value in fields.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = {"from": _jsonable(old), "to": _jsonable(value)}
            setattr(obj, name, value)
    return changes


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def config_changes(schema: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{dotted path: {"from": old, "to": new, "label": …}} for every setting whose effective
    value differs between two configurations (what a settings save changed, in the
    schema's own titles: "Matching › Max mentees per mentor")."""
    from portal.configuration.paths import MISSING, iter_leaves, same_json, schema_at, split_path

    old, new = dict(iter_leaves(before or {})), dict(iter_leaves(after or {}))
    changes: dict[str, dict[str, Any]] = {}
    for path in sorted(old.keys() | new.keys()):
        was, now = old.get(path, MISSING), new.get(path, MISSING)
        if not path:  # an empty document's root, not a setting
            continue
        if was is not MISSING and now is not MISSING and same_json(was, now):
            continue
        titles = []
        parts = split_path(path)
        for depth in range(1, len(parts) + 1):
            node = schema_at(schema, parts[:depth])
            title = node.get("title") if isinstance(node, dict) else None
            titles.append(str(title) if title else str(parts[depth - 1]))
        changes[path] = {"from": None if was is MISSING else was, "to": None if now is MISSING else now,
                         "label": " › ".join(titles)}
    return changes
