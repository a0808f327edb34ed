"""Dotted JSON paths, in configuration documents and in their schemas (SPEC §3).

Paths are dotted strings with array indexes as numbers (``progression.milestones.2.sessionCount``);
``""`` is the root. In schema paths an array's items are written ``*`` (``events.types.*.key``).
A *leaf* of a config document is a scalar (``None`` included), an array (arrays replace whole)
or an empty object; objects with keys are recursed. Every problem the configuration package
reports is a :class:`ConfigError` named by such a path. Pure functions over plain JSON values.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

Path = str
PathLike = str | Sequence[str | int]


@dataclass(frozen=True)
class ConfigError:
    path: str  # dotted JSON path, e.g. "session.defaultDurationMinutes"; "" for the root
    message: str
    # JSON Schema's "required": the property missing from the object at ``path`` (a form shows
    # it at that property's own field, in the field's words: portal.configuration.form_fields).
    missing: str | None = field(default=None, compare=False)


def json_path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


# --------------------------------------------------------------------------- JSON values

MISSING: Any = object()  # "no such value" (and: no default given)
_ABSENT: Any = object()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


def same_json(a: Any, b: Any) -> bool:
    """JSON equality: like ``==`` but ``True`` is not ``1`` (numbers compare by value, 1 == 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(
            same_json(x, y) for x, y in zip(a, b, strict=True))
    if is_number(a) or is_number(b):
        return is_number(a) and is_number(b) and a == b
    return type(a) is type(b) and a == b


def split_path(path: PathLike) -> list[str | int]:
    if isinstance(path, str):
        return path.split(".") if path else []
    return list(path)


def _step(node: Any, part: str | int) -> Any:
    """The child of ``node`` named ``part``, or MISSING."""
    if isinstance(node, dict):
        return node.get(str(part), MISSING)
    if isinstance(node, list):
        try:
            index = int(part)
        except (TypeError, ValueError):
            return MISSING
        return node[index] if 0 <= index < len(node) else MISSING
    return MISSING


def get_path(doc: Any, path: PathLike, default: Any = MISSING) -> Any:
    """The value at ``path`` (dotted string or sequence of parts; list parts are indexes).

    Raises ``KeyError`` when the path does not exist and no ``default`` is given.
    The value is returned as is (not copied).
    """
    node = doc
    for part in split_path(path):
        node = _step(node, part)
        if node is MISSING:
            if default is MISSING:
                raise KeyError(json_path(split_path(path)))
            return default
    return node


def has_path(doc: Any, path: PathLike) -> bool:
    return get_path(doc, path, _ABSENT) is not _ABSENT


def set_path(doc: Any, path: PathLike, value: Any) -> Any:
    """A deep copy of ``doc`` with ``value`` (copied) at ``path``; missing objects on the way are created.

    In an array the index must exist (or equal the length, to append). Raises ``TypeError`` when
    the path goes through a scalar.
    """
    parts = split_path(path)
    if not parts:
        return copy.deepcopy(value)
    result = copy.deepcopy(doc)
    node = result
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, dict):
            key = str(part)
            if last:
                node[key] = copy.deepcopy(value)
            else:
                if key not in node:
                    node[key] = {}
                node = node[key]
        elif isinstance(node, list):
            index = int(part)
            if not 0 <= index <= len(node):
                raise IndexError(f"{json_path(parts[: i + 1])}: index out of range")
            if index == len(node):
                node.append({})
            if last:
                node[index] = copy.deepcopy(value)
            else:
                node = node[index]
        else:
            raise TypeError(f"{json_path(parts[:i]) or '(root)'} is not an object or an array")
    return result


def iter_leaves(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf of a config document: scalars, arrays and empty objects."""
    if isinstance(doc, dict) and doc:
        for key, value in doc.items():
            yield from iter_leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, doc


# --------------------------------------------------------------------------- schema walking


def _schema_child(node: Any, part: str | int, *, maps: bool = True) -> Any:
    """The subschema for child ``part`` of ``node`` (properties, then a map's
    ``additionalProperties``; ``*`` or an index goes into ``items``), or MISSING."""
    if not isinstance(node, dict):
        return MISSING
    part = str(part)
    if part == "*" or part.isdigit():
        items = node.get("items")
        if isinstance(items, dict):
            return items
    props = node.get("properties")
    if isinstance(props, dict) and part in props:
        return props[part]
    extra = node.get("additionalProperties")
    if maps and isinstance(extra, dict):
        return extra
    return MISSING


def schema_at(schema: Any, path: PathLike, *, maps: bool = True) -> Any:
    """The subschema describing ``path`` (None when the schema has no such path)."""
    node = schema
    for part in split_path(path):
        node = _schema_child(node, part, maps=maps)
        if node is MISSING:
            return None
    return node


def walk_properties(schema: Any, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted path, subschema) of every property, nested objects' properties included."""
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return
    for name, sub in props.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(sub, dict):
            yield path, sub
            yield from walk_properties(sub, path)


def iter_schema_leaves(schema: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(dotted path, subschema) of every leaf property: anything that is not an object with
    properties (scalars, arrays — one leaf each, even arrays of objects — and maps)."""
    for path, sub in walk_properties(schema):
        props = sub.get("properties")
        if not (isinstance(props, dict) and props):
            yield path, sub


def count_leaves(schema: dict[str, Any]) -> int:
    return sum(1 for _ in iter_schema_leaves(schema))

