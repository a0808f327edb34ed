"""What the schema-driven configuration form is made of, shared by building it
(:mod:`portal.configuration.form_build`) and reading a submission of it back
(:mod:`portal.configuration.form_parse`): which control a (sub)schema becomes, how fields are
named, the ``_action`` buttons, and errors as ``{dotted path: [messages]}``.

Every field's HTML name is the form's prefix and its dotted JSON path (``cfg.session.minAge``).
Rows are added, removed and reset with ordinary submit buttons named ``_action``
(``add:<name>``, ``remove:<name>.<n>``, ``reset:<name>``) so every control works without
JavaScript. No Flask and no database here: views pass plain dicts in and get plain data out.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

ACTION_FIELD = "_action"
ACTIONS = ("add", "remove", "reset")

ROW_INDEX = re.compile(r"[0-9]{1,6}")
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
MISSING: Any = object()  # "not in the result": distinct from None, which JSON allows


def _type(schema: dict[str, Any]) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if isinstance(x, str) and x != "null"), None)
    return t if isinstance(t, str) else None


def schema_kind(schema: Any) -> str:
    """Which form control a (sub)schema becomes."""
    if not isinstance(schema, dict):
        return "unsupported"
    t = _type(schema)
    if t == "object" or (t is None and "properties" in schema):
        if isinstance(schema.get("properties"), dict):
            return "fieldset"
        if schema_kind(schema.get("additionalProperties")) in ("integer", "number", "string"):
            return "map"
        return "unsupported"
    if t == "array":
        item_kind = schema_kind(schema.get("items"))
        if item_kind == "fieldset":
            return "rows"
        if item_kind == "select":
            return "checkboxes"
        if item_kind in ("string", "integer", "number"):
            return "list"
        return "unsupported"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(x, str) for x in enum) and t in (None, "string"):
        return "select"
    if t in ("boolean", "integer", "number", "string"):
        return t
    return "unsupported"


def object_properties(schema: dict[str, Any]) -> dict[str, Any]:
    """An object schema's properties that can become fields (name → subschema)."""
    props = schema.get("properties")
    return {k: v for k, v in props.items() if isinstance(k, str) and isinstance(v, dict)} if isinstance(
        props, dict) else {}


def required_keys(schema: dict[str, Any]) -> set[str]:
    req = schema.get("required")
    return {x for x in req if isinstance(x, str)} if isinstance(req, list) else set()


def join_path(path: str, key: str | int) -> str:
    """A dotted path (or HTML name) one step further down."""
    return f"{path}.{key}" if path else str(key)


def check_prefix(prefix: str) -> None:
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        raise ValueError("prefix must be a letter followed by letters, digits, '_' or '-'")


def errors_by_path(errors: Iterable[Any]) -> dict[str, list[str]]:
    """ConfigError-like objects (``.path``, ``.message``) or (path, message) pairs → {path: [messages]},
    in the fields' words: JSON Schema's "'key' is a required property" on an object is the missing
    property's own field saying "Enter a value." (what the form says of an empty required field)."""
    from portal.configuration.form_parse import MSG_REQUIRED

    out: dict[str, list[str]] = {}
    for e in errors:
        path, message = (e.path, e.message) if hasattr(e, "path") else e
        if missing := getattr(e, "missing", None):
            path, message = join_path(str(path), missing), MSG_REQUIRED
        messages = out.setdefault(str(path), [])
        if str(message) not in messages:
            messages.append(str(message))
    return out


def form_errors(parsed: dict[str, list[str]] | None, problems: Iterable[Any]) -> dict[str, list[str]]:
    """A configuration form's errors: the form's own (what could not be read from a field) and
    the schema's (:func:`errors_by_path`), one entry per field: a field the form already
    flagged keeps its own words, not the schema's saying the same thing again ("Enter a whole
    number." and then "Enter a value." for the value that was therefore left out)."""
    own = merge_errors(parsed)
    schema = {path: messages for path, messages in errors_by_path(problems).items() if path not in own}
    return merge_errors(own, schema)


def merge_errors(*dicts: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """Several {path: [messages]} into one, each message once per path."""
    out: dict[str, list[str]] = {}
    for d in dicts:
        for path, messages in (d or {}).items():
            bucket = out.setdefault(path, [])
            for m in [messages] if isinstance(messages, str) else messages:
                if m not in bucket:
                    bucket.append(m)
    return out
