"""The configuration engine: pure functions, no Flask (SPEC §3).

Validation with a maintained JSON Schema library (jsonschema, Draft 2020-12), deep
merge of the template ← program ← campaign layers, and errors named by JSON path.

On top of JSON Schema the engine adds, all as pure functions over plain JSON values:

* cross-field rules declared with the root keyword ``"x-rules"`` (``lte``, ``sum_equals``,
  ``max_item_gte``), checked by :func:`config_errors` next to JSON Schema's own errors;
* ``"x-locked": true`` properties that overrides may not touch (:func:`locked_override_errors`);
* sparse overrides (:func:`sparse_overrides`, :func:`remove_override`, :func:`get_path`,
  :func:`set_path`);
* per-leaf provenance of an effective config (:func:`effective_with_provenance`);
* template upgrades: :func:`schema_diff` between versions and :func:`override_report`.

Paths are dotted strings with array indexes as numbers (``progression.milestones.2.sessionCount``);
``""`` is the root. In schema paths an array's items are written ``*`` (``events.types.*.key``).
A *leaf* of a config document is a scalar (``None`` included), an array (arrays replace whole)
or an empty object; objects with keys are recursed.
"""
from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import re2
import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing.jsonschema import DRAFT202012

LOCKED_MESSAGE = "This setting is locked by the template and cannot be overridden."
REMOVED_MESSAGE = "This setting no longer exists in the template."

Path = str
PathLike = str | Sequence[str | int]


@dataclass(frozen=True)
class ConfigError:
    path: str  # dotted JSON path, e.g. "session.defaultDurationMinutes"; "" for the root
    message: str


def json_path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


# --------------------------------------------------------------------------- JSON helpers

_MISSING: Any = object()  # "no such value" (and: no default given)
_ABSENT: Any = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not (
        isinstance(value, float) and math.isnan(value))


def _same(a: Any, b: Any) -> bool:
    """JSON equality: like ``==`` but ``True`` is not ``1`` (numbers compare by value, 1 == 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return isinstance(b, list | tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if _is_number(a) or _is_number(b):
        return _is_number(a) and _is_number(b) and a == b
    return type(a) is type(b) and a == b


def _parts(path: PathLike) -> list[str | int]:
    if isinstance(path, str):
        return path.split(".") if path else []
    return list(path)


def _step(node: Any, part: str | int) -> Any:
    """The child of ``node`` named ``part``, or _MISSING."""
    if isinstance(node, dict):
        return node.get(str(part), _MISSING)
    if isinstance(node, list):
        try:
            index = int(part)
        except (TypeError, ValueError):
            return _MISSING
        return node[index] if 0 <= index < len(node) else _MISSING
    return _MISSING


def get_path(doc: Any, path: PathLike, default: Any = _MISSING) -> Any:
    """The value at ``path`` (dotted string or sequence of parts; list parts are indexes).

    Raises ``KeyError`` when the path does not exist and no ``default`` is given.
    The value is returned as is (not copied).
    """
    node = doc
    for part in _parts(path):
        node = _step(node, part)
        if node is _MISSING:
            if default is _MISSING:
                raise KeyError(json_path(_parts(path)))
            return default
    return node


def has_path(doc: Any, path: PathLike) -> bool:
    return get_path(doc, path, _ABSENT) is not _ABSENT


def set_path(doc: Any, path: PathLike, value: Any) -> Any:
    """A deep copy of ``doc`` with ``value`` (copied) at ``path``; missing objects on the way are created.

    In an array the index must exist (or equal the length, to append). Raises ``TypeError`` when
    the path goes through a scalar.
    """
    parts = _parts(path)
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


def remove_override(overrides: dict[str, Any], path: PathLike) -> dict[str, Any]:
    """A copy of ``overrides`` without the value at ``path``; objects left empty on the way are pruned.

    A path that is not in ``overrides`` leaves it unchanged ("reset to inherited" of a field
    that is already inherited is a no-op).
    """
    result = copy.deepcopy(overrides) if overrides else {}
    parts = [str(p) for p in _parts(path)]
    if not parts:
        return {}
    chain = [result]
    for part in parts[:-1]:
        child = chain[-1].get(part) if isinstance(chain[-1], dict) else None
        if not isinstance(child, dict):
            return result
        chain.append(child)
    if parts[-1] not in chain[-1]:
        return result
    del chain[-1][parts[-1]]
    for depth in range(len(chain) - 1, 0, -1):
        if chain[depth]:
            break
        del chain[depth - 1][parts[depth - 1]]
    return result


def iter_leaves(doc: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf of a config document: scalars, arrays and empty objects."""
    if isinstance(doc, dict) and doc:
        for key, value in doc.items():
            yield from iter_leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, doc


# --------------------------------------------------------------------------- document limits

MAX_DEPTH = 32  # nested objects and arrays
MAX_DOCUMENT_BYTES = 256 * 1024  # compact UTF-8 serialization
MAX_NUMBER = 10**15  # larger magnitudes are typos or abuse, and floats stop being exact
MAX_DOCUMENT_PROBLEMS = 20

TOO_LARGE_MESSAGE = "Too large: a configuration document may be at most 256 KB."
TOO_DEEP_MESSAGE = f"Nested more than {MAX_DEPTH} levels deep."
NOT_FINITE_MESSAGE = "NaN and Infinity are not allowed: enter a finite number."
NUMBER_TOO_LARGE_MESSAGE = "Numbers must be between -1,000,000,000,000,000 and 1,000,000,000,000,000."


@dataclass(frozen=True)
class Unacceptable:
    """Stand-in for a value the JSON reader refused to build (NaN, Infinity, an integer
    with too many digits), so :func:`document_problems` reports it at its path."""

    message: str


def _text_problem(text: str, what: str) -> str | None:
    """Why PostgreSQL (or a web page) cannot take ``text``, or None."""
    if "\x00" in text:
        return f"{what} contains a NUL character (\\u0000), which cannot be stored."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} contains an unpaired surrogate (such as \\ud800), which is not valid text."
    return None


def _path_part(key: Any) -> str:
    """A path segment that can always be shown: keys with NUL or surrogates appear escaped."""
    key = str(key)
    return json.dumps(key)[1:-1] if _text_problem(key, "") else key


def document_problems(doc: Any) -> list[ConfigError]:
    """What makes ``doc`` unfit to store or validate, each at its JSON path: nesting deeper than
    MAX_DEPTH, more than MAX_DOCUMENT_BYTES, numbers that are not finite or beyond ±10^15, text
    with NUL or unpaired surrogates (keys too), values that are not JSON. Never recurses, so a
    hostile depth costs no more than MAX_DEPTH levels."""
    problems: list[ConfigError] = []
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack and len(problems) < MAX_DOCUMENT_PROBLEMS:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list | tuple):
            if depth >= MAX_DEPTH:
                problems.append(ConfigError(path, TOO_DEEP_MESSAGE))
                continue
            if isinstance(value, dict):
                children = []
                for key, child in value.items():
                    if not isinstance(key, str):
                        problems.append(ConfigError(path, "Names in a JSON object must be text."))
                        continue
                    child_path = f"{path}.{_path_part(key)}" if path else _path_part(key)
                    if problem := _text_problem(key, "This name"):
                        problems.append(ConfigError(child_path, problem))
                        continue
                    children.append((child, child_path, depth + 1))
            else:
                children = [(child, f"{path}.{i}" if path else str(i), depth + 1) for i, child in enumerate(value)]
            stack.extend(reversed(children))
        elif isinstance(value, Unacceptable):
            problems.append(ConfigError(path, value.message))
        elif isinstance(value, str):
            if problem := _text_problem(value, "This text"):
                problems.append(ConfigError(path, problem))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(ConfigError(path, NOT_FINITE_MESSAGE))
            elif abs(value) > MAX_NUMBER:
                problems.append(ConfigError(path, NUMBER_TOO_LARGE_MESSAGE))
        else:
            problems.append(ConfigError(path, "Not a JSON value."))
    if problems:
        return problems
    if len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) > MAX_DOCUMENT_BYTES:
        return [ConfigError("", TOO_LARGE_MESSAGE)]
    return []


# --------------------------------------------------------------------------- schema walking


def _schema_child(node: Any, part: str | int, *, maps: bool = True) -> Any:
    """The subschema for child ``part`` of ``node`` (properties, then a map's
    ``additionalProperties``; ``*`` or an index goes into ``items``), or _MISSING."""
    if not isinstance(node, dict):
        return _MISSING
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
    return _MISSING


def schema_at(schema: Any, path: PathLike, *, maps: bool = True) -> Any:
    """The subschema describing ``path`` (None when the schema has no such path)."""
    node = schema
    for part in _parts(path):
        node = _schema_child(node, part, maps=maps)
        if node is _MISSING:
            return None
    return node


def _walk_properties(schema: Any, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return
    for name, sub in props.items():
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(sub, dict):
            yield path, sub
            yield from _walk_properties(sub, path)


def iter_schema_leaves(schema: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """(dotted path, subschema) of every leaf property: anything that is not an object with
    properties (scalars, arrays — one leaf each, even arrays of objects — and maps)."""
    for path, sub in _walk_properties(schema):
        props = sub.get("properties")
        if not (isinstance(props, dict) and props):
            yield path, sub


def count_leaves(schema: dict[str, Any]) -> int:
    return sum(1 for _ in iter_schema_leaves(schema))


def locked_paths(schema: dict[str, Any]) -> set[str]:
    """Dotted paths of every property marked ``"x-locked": true`` (nested objects included)."""
    return {path for path, sub in _walk_properties(schema) if sub.get("x-locked") is True}


# --------------------------------------------------------------------------- x-rules

RULE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required keys, optional keys) besides "rule"
    "lte": (("left", "right"), ("path", "message")),
    "sum_equals": (("path", "value"), ("tolerance", "message")),
    "max_item_gte": (("path", "item_key", "min_path"), ("message",)),
}
_RULE_PATH_KEYS = ("left", "right", "path", "min_path")


def _rule_problems(schema: dict[str, Any]) -> list[ConfigError]:
    if "x-rules" not in schema:
        return []
    rules = schema["x-rules"]
    if not isinstance(rules, list):
        return [ConfigError("x-rules", "x-rules must be a list of rules.")]
    problems = []
    for index, rule in enumerate(rules):
        where = f"x-rules.{index}"
        if not isinstance(rule, dict):
            problems.append(ConfigError(where, "A rule must be an object."))
            continue
        kind = rule.get("rule")
        if kind not in RULE_KEYS:
            known = ", ".join(sorted(RULE_KEYS))
            problems.append(ConfigError(where, f"Unknown rule kind {kind!r} (known kinds: {known})."))
            continue
        required, optional = RULE_KEYS[kind]
        missing = [k for k in required if k not in rule]
        if missing:
            problems.append(ConfigError(where, f"Rule '{kind}' needs {', '.join(missing)}."))
        unknown = sorted(set(rule) - set(required) - set(optional) - {"rule"})
        if unknown:
            problems.append(ConfigError(where, f"Rule '{kind}' does not take {', '.join(unknown)}."))
        for key in _RULE_PATH_KEYS:
            if key not in rule or key not in required + optional:
                continue
            value = rule[key]
            if not isinstance(value, str) or not value:
                problems.append(ConfigError(where, f"'{key}' must be a dotted path."))
            elif schema_at(schema, value, maps=False) is None:
                problems.append(ConfigError(where, f"'{key}': {value!r} is not a property of the schema."))
        for key in ("value", "tolerance"):
            if key in rule and key in required + optional and not _is_number(rule[key]):
                problems.append(ConfigError(where, f"'{key}' must be a number."))
        if "tolerance" in rule and _is_number(rule["tolerance"]) and rule["tolerance"] < 0:
            problems.append(ConfigError(where, "'tolerance' must not be negative."))
        if "message" in rule and not isinstance(rule["message"], str):
            problems.append(ConfigError(where, "'message' must be a string."))
        if kind == "max_item_gte" and isinstance(rule.get("path"), str) and "item_key" in rule:
            array = schema_at(schema, rule["path"], maps=False)
            items = array.get("items") if isinstance(array, dict) else None
            item_props = items.get("properties") if isinstance(items, dict) else None
            if not isinstance(rule["item_key"], str):
                problems.append(ConfigError(where, "'item_key' must be a string."))
            elif array is not None and (not isinstance(item_props, dict) or rule["item_key"] not in item_props):
                problems.append(ConfigError(
                    where, f"'item_key': {rule['item_key']!r} is not a property of the items at {rule['path']!r}."))
    return problems


def _title(schema: dict[str, Any], path: str) -> str:
    sub = schema_at(schema, path)
    return sub.get("title", path) if isinstance(sub, dict) and isinstance(sub.get("title"), str) else path


def _fmt(number: float) -> str:
    return f"{number:.10g}"


def cross_field_errors(schema: dict[str, Any], config: Any) -> list[ConfigError]:
    """Errors of the schema's ``x-rules`` against ``config``.

    A rule whose inputs are missing or of the wrong type is skipped (that is JSON Schema's job),
    as is a malformed rule (that is :func:`schema_errors`' job).
    """
    rules = schema.get("x-rules") if isinstance(schema, dict) else None
    if not isinstance(rules, list):
        return []
    errors = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("rule") not in RULE_KEYS:
            continue
        if any(k not in rule for k in RULE_KEYS[rule["rule"]][0]):
            continue
        try:
            error = _check_rule(schema, rule, config)
        except (TypeError, ValueError, AttributeError):  # malformed rule: schema_errors reports it
            error = None
        if error is not None:
            errors.append(error)
    return sorted(errors, key=lambda e: (e.path, e.message))


def _check_rule(schema: dict[str, Any], rule: dict[str, Any], config: Any) -> ConfigError | None:
    kind, custom = rule["rule"], rule.get("message")
    if kind == "lte":
        left, right = get_path(config, rule["left"], None), get_path(config, rule["right"], None)
        if not (_is_number(left) and _is_number(right)) or left <= right:
            return None
        message = custom or (f"Must be at most {_title(schema, rule['right'])} ({_fmt(right)}); "
                             f"it is {_fmt(left)}.")
        return ConfigError(rule.get("path", rule["left"]), message)
    if kind == "sum_equals":
        values = get_path(config, rule["path"], None)
        if not isinstance(values, dict) or not all(_is_number(v) for v in values.values()):
            return None
        total, tolerance = math.fsum(values.values()), rule.get("tolerance", 1e-9)
        if abs(total - rule["value"]) <= tolerance:
            return None
        return ConfigError(rule["path"], custom or f"The values must add up to {_fmt(rule['value'])}; "
                                                   f"they add up to {_fmt(round(total, 9))}.")
    if kind == "max_item_gte":
        items, minimum = get_path(config, rule["path"], None), get_path(config, rule["min_path"], None)
        key = rule["item_key"]
        if not isinstance(items, list) or not _is_number(minimum):
            return None
        if not all(isinstance(item, dict) and _is_number(item.get(key)) for item in items):
            return None
        if items and max(item[key] for item in items) >= minimum:
            return None
        return ConfigError(rule["path"], custom or (
            f"The largest {key} must be at least {_title(schema, rule['min_path'])} ({_fmt(minimum)})."))
    return None


# --------------------------------------------------------------------------- safe validation
#
# A template's schema is written by a program manager and then run against what company
# admins type, so checking a configuration must never reach outside the schema or run away:
# ``$ref`` only points inside the schema and the registry refuses every retrieval (nothing is
# fetched, not even by mistake); patterns run on RE2, which is linear in the text, and patterns
# RE2 cannot compile are refused on save; documents are bounded (:func:`document_problems`).

REF_KEYWORDS = ("$ref", "$dynamicRef")
MAX_PATTERN_LENGTH = 2000  # each compiled pattern is cached; real ones are short
NOT_CHECKABLE_MESSAGE = "The template's schema is too deeply self-referencing to check this configuration."
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


def _refuse_retrieval(uri: str) -> referencing.Resource:
    raise referencing.exceptions.NoSuchResource(ref=uri)


NO_RETRIEVAL = referencing.Registry(retrieve=_refuse_retrieval)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise re2.error(f"longer than {MAX_PATTERN_LENGTH:,} characters")
    return re2.compile(pattern, _RE2_OPTIONS)


def pattern_problem(pattern: Any) -> str | None:
    """Why RE2 cannot run ``pattern`` (None when it can, or when it is not text: the schema
    check reports that)."""
    if not isinstance(pattern, str):
        return None
    try:
        _compiled(pattern)
    except (re2.error, UnicodeEncodeError) as exc:
        detail = exc.args[0] if exc.args else exc
        detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        shown = pattern if len(pattern) <= 100 else pattern[:99] + "…"
        return (f"The pattern “{shown}” cannot be used ({detail}). Patterns run on RE2: backreferences, "
                "lookarounds and repetition counts over 1000 are not available.")
    return None


def _matches(pattern: str, text: str) -> bool:
    try:
        return _compiled(pattern).search(text) is not None
    except (re2.error, UnicodeEncodeError):  # refused on save; text that is not UTF-8 matches nothing
        return False


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any,
                        schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra: Any, instance: Any,
                           schema: dict[str, Any]) -> Iterator[ValidationError]:
    """jsonschema's own, with patternProperties matched by RE2 (its version uses ``re``)."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = [key for key in instance if key not in properties and not any(_matches(p, key) for p in patterns)]
    if validator.is_type(extra, "object"):
        for key in extras:
            yield from validator.descend(instance[key], extra, path=key)
    elif not extra and extras:
        names = ", ".join(repr(key) for key in sorted(extras))
        if patterns:
            verb = "does" if len(extras) == 1 else "do"
            regexes = ", ".join(repr(p) for p in sorted(patterns))
            yield ValidationError(f"{names} {verb} not match any of the regexes: {regexes}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")


SAFE_FORMAT_CHECKER = FormatChecker(formats=())
SAFE_FORMAT_CHECKER.checkers.update(Draft202012Validator.FORMAT_CHECKER.checkers)


@SAFE_FORMAT_CHECKER.checks("regex", raises=(re2.error, UnicodeEncodeError))
def _is_regex(instance: Any) -> bool:
    if isinstance(instance, str):
        _compiled(instance)
    return True


# The metaschema check leaves "regex" to pattern_problem, whose message says what RE2 lacks.
_METASCHEMA_FORMAT_CHECKER = FormatChecker(formats=())
_METASCHEMA_FORMAT_CHECKER.checkers.update(
    (name, check) for name, check in SAFE_FORMAT_CHECKER.checkers.items() if name != "regex")

SafeValidator = validators.extend(
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
    format_checker=SAFE_FORMAT_CHECKER,
)

# keyword -> subschemas it holds, and whether they apply to the same instance ("in place")
_ONE_SUBSCHEMA = {"additionalProperties": False, "contains": False, "contentSchema": False, "else": True,
                  "if": True, "items": False, "not": True, "propertyNames": False, "then": True,
                  "unevaluatedItems": False, "unevaluatedProperties": False}
_SUBSCHEMA_LISTS = {"allOf": True, "anyOf": True, "oneOf": True, "prefixItems": False}
_SUBSCHEMA_MAPS = {"$defs": False, "definitions": False, "dependentSchemas": True, "patternProperties": False,
                   "properties": False}


def _join(path: str, part: Any) -> str:
    return f"{path}.{_path_part(part)}" if path else _path_part(part)


def _subschemas(node: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(path, subschema, in place) of every object subschema directly below ``node``."""
    for keyword, in_place in _ONE_SUBSCHEMA.items():
        if isinstance(node.get(keyword), dict):
            yield _join(path, keyword), node[keyword], in_place
    for keyword, in_place in _SUBSCHEMA_LISTS.items():
        if isinstance(node.get(keyword), list):
            for i, sub in enumerate(node[keyword]):
                if isinstance(sub, dict):
                    yield f"{_join(path, keyword)}.{i}", sub, in_place
    for keyword, in_place in _SUBSCHEMA_MAPS.items():
        if isinstance(node.get(keyword), dict):
            for name, sub in node[keyword].items():
                if isinstance(sub, dict):
                    yield _join(_join(path, keyword), name), sub, in_place


def _reference_and_pattern_problems(schema: dict[str, Any]) -> list[ConfigError]:
    """References that leave the schema or lead nowhere, patterns RE2 cannot run, and
    references that loop back to themselves without descending into the instance."""
    resource = DRAFT202012.create_resource(schema)
    root_uri = resource.id() or ""
    try:
        registry = NO_RETRIEVAL.with_resource(root_uri, resource).crawl()
    except (referencing.exceptions.Unresolvable, TypeError, ValueError, AttributeError):
        return [ConfigError("$id", "The schema's $id values cannot be read.")]
    problems: list[ConfigError] = []
    unevaluated: list[str] = []
    pattern_properties = False
    edges: dict[int, list[tuple[int, str]]] = {}  # in-place evaluation: node -> [(node, path of the step)]
    seen: set[int] = set()
    walk: list[tuple[dict[str, Any], str, str]] = [(schema, "", root_uri)]
    referenced: list[tuple[dict[str, Any], str, str]] = []  # walked after the schema's own structure
    while walk or referenced:
        node, path, base = walk.pop() if walk else referenced.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        steps = edges.setdefault(id(node), [])
        if path and isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"]).rstrip("#")
        for keyword in REF_KEYWORDS:
            ref = node.get(keyword)
            if not isinstance(ref, str):
                continue
            where = _join(path, keyword)
            shown = json.dumps(ref)
            if not ref.startswith("#"):
                problems.append(ConfigError(where, f"{keyword} {shown} points outside this schema. Only references "
                                                   "inside it (such as #/$defs/name) are allowed; nothing is fetched."))
                continue
            try:
                target = registry.resolver(base_uri=base).lookup(ref).contents
            except referencing.exceptions.Unresolvable:
                problems.append(ConfigError(where, f"{keyword} {shown} does not point at anything in this schema."))
                continue
            if isinstance(target, dict):
                steps.append((id(target), where))
                referenced.append((target, where, base))
        if "pattern" in node and (problem := pattern_problem(node["pattern"])):
            problems.append(ConfigError(_join(path, "pattern"), problem))
        if isinstance(node.get("patternProperties"), dict):
            pattern_properties = True
            for pattern in node["patternProperties"]:
                if problem := pattern_problem(pattern):
                    problems.append(ConfigError(_join(path, "patternProperties"), problem))
        if "unevaluatedProperties" in node:
            unevaluated.append(_join(path, "unevaluatedProperties"))
        for sub_path, sub, in_place in _subschemas(node, path):
            if in_place:
                steps.append((id(sub), sub_path))
            walk.append((sub, sub_path, base))
    if pattern_properties:  # jsonschema's unevaluatedProperties matches patternProperties with ``re``
        problems += [ConfigError(where, "unevaluatedProperties cannot be combined with patternProperties in a "
                                        "template schema; use additionalProperties.") for where in unevaluated]
    if not problems and (loop := _first_loop(id(schema), edges)):
        problems.append(ConfigError(loop, "This reference leads back to itself without checking anything in "
                                          "between, so checking a configuration would never end."))
    return problems


def _first_loop(root: int, edges: dict[int, list[tuple[int, str]]]) -> str | None:
    """The path of a step that closes a cycle of in-place evaluation, or None (iterative DFS)."""
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    for start in [root, *edges]:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(edges.get(start, ())))]
        while stack:
            node, children = stack[-1]
            for child, where in children:
                if state.get(child) == 1:
                    return where
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(edges.get(child, ()))))
                    break
            else:
                state[node] = 2
                stack.pop()
    return None


def _schema_key(schema: Any) -> str | None:
    try:
        return json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return None


def _check_schema(schema: dict[str, Any]) -> list[ConfigError]:
    if problems := document_problems(schema):
        return problems
    try:
        Draft202012Validator.check_schema(schema, format_checker=_METASCHEMA_FORMAT_CHECKER)
    except SchemaError as exc:
        return [ConfigError(json_path(_path_part(p) for p in exc.absolute_path), f"Invalid JSON Schema: {exc.message}")]
    if problems := _reference_and_pattern_problems(schema):
        return problems
    return _rule_problems(schema)


@lru_cache(maxsize=256)
def _schema_problems(schema_json: str) -> tuple[ConfigError, ...]:
    return tuple(_check_schema(json.loads(schema_json)))


def schema_errors(schema: Any) -> list[ConfigError]:
    """Problems with the schema itself: is it a bounded, storable document (:func:`document_problems`)
    and a valid JSON Schema 2020-12 object whose references stay inside it and whose patterns RE2
    can run, and are its ``x-rules`` well formed (known kind, required keys, paths that are
    properties)?"""
    if not isinstance(schema, dict):
        return [ConfigError("", "The schema must be a JSON object.")]
    key = _schema_key(schema)
    return list(_schema_problems(key)) if key is not None else _check_schema(schema)


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    return SafeValidator(json.loads(schema_json), registry=NO_RETRIEVAL, format_checker=SAFE_FORMAT_CHECKER)


def validator_for(schema: dict[str, Any]) -> Any:
    """The (cached) validator of a schema: RE2 patterns, no retrieval of references."""
    return _validator(json.dumps(schema, sort_keys=True))


def config_errors(schema: dict[str, Any], config: Any) -> list[ConfigError]:
    """Every error of ``config`` against ``schema`` — JSON Schema's and the ``x-rules``' —
    each with its JSON path, in path order. A config that is not a storable document
    (:func:`document_problems`) gets those problems only; a schema that :func:`schema_errors`
    refuses is never run."""
    key = _schema_key(schema) if isinstance(schema, dict) else None
    if key is None or _schema_problems(key):
        return [ConfigError("", "The template's schema is not a valid JSON Schema.")]
    if problems := document_problems(config):
        return problems
    try:
        errors = [ConfigError(json_path(e.absolute_path), e.message) for e in _validator(key).iter_errors(config)]
    except (RecursionError, referencing.exceptions.Unresolvable):  # a reference chain the save check let through
        return [ConfigError("", NOT_CHECKABLE_MESSAGE)]
    errors += cross_field_errors(schema, config)
    return sorted(errors, key=lambda e: (e.path, e.message))


# --------------------------------------------------------------------------- merging


def deep_merge(base: Any, override: Any) -> Any:
    """Objects merge key by key; arrays and scalars replace. Inputs are never mutated."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = {k: copy.deepcopy(v) for k, v in base.items()}
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(override)


def effective_config(defaults: dict[str, Any], *overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Template defaults ← program overrides ← campaign overrides."""
    result = copy.deepcopy(defaults)
    for layer in overrides:
        if layer:
            result = deep_merge(result, layer)
    return result


def effective_with_provenance(
    defaults: dict[str, Any], *layers: tuple[str, dict[str, Any] | None]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The effective config of ``defaults`` ← each layer in turn, and for every leaf path of it the
    name of the layer that last set it (``"template"`` for the defaults)."""
    effective = effective_config(defaults, *(overrides for _, overrides in layers))
    provenance: dict[str, str] = {}
    present = [(name, overrides) for name, overrides in layers if overrides]

    def walk(node: Any, path: str, nodes: list[tuple[str, Any]]) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                below = [(n, c[key]) for n, c in nodes if isinstance(c, dict) and key in c]
                walk(value, f"{path}.{key}" if path else key, below)
        else:
            provenance[path] = nodes[-1][0] if nodes else "template"

    if isinstance(effective, dict) and effective:
        walk(effective, "", present)
    return effective, provenance


def sparse_overrides(inherited: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """Only the leaves of ``desired`` that differ from ``inherited``.

    Objects are compared key by key; arrays and scalars whole (and stored whole when different).
    Keys of ``inherited`` missing from ``desired`` are not represented: overrides cannot delete.
    """
    inherited = inherited if isinstance(inherited, dict) else {}
    result: dict[str, Any] = {}
    for key, value in (desired or {}).items():
        if key not in inherited:
            result[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(inherited[key], dict):
            below = sparse_overrides(inherited[key], value)
            if below:
                result[key] = below
        elif not _same(value, inherited[key]):
            result[key] = copy.deepcopy(value)
    return result


# --------------------------------------------------------------------------- locks


def _touches(override_path: str, override_value: Any, locked: str) -> bool:
    """Does an override leaf at ``override_path`` change the locked path (or anything beneath it)?"""
    if override_path == locked or override_path.startswith(locked + "."):
        return True
    # an ancestor replaced by a non-object value replaces the locked setting too
    return (locked.startswith(override_path + ".") or override_path == "") and not isinstance(override_value, dict)


def locked_override_errors(schema: dict[str, Any], overrides: dict[str, Any] | None) -> list[ConfigError]:
    """One error per override leaf that touches a property marked ``"x-locked": true``."""
    locked = locked_paths(schema)
    if not locked or not overrides:
        return []
    return sorted(
        {ConfigError(path, LOCKED_MESSAGE) for path, value in iter_leaves(overrides)
         if any(_touches(path, value, lock) for lock in locked)},
        key=lambda e: e.path,
    )


# --------------------------------------------------------------------------- upgrades


@dataclass(frozen=True)
class DiffEntry:
    kind: str  # added | removed | default_changed | bounds_changed | type_changed | enum_changed | locked_changed
    path: str
    old: Any
    new: Any


BOUND_KEYWORDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                  "minItems", "maxItems", "minLength", "maxLength")


def _diff_nodes(schema: Any, prefix: str = "") -> dict[str, dict[str, Any]]:
    """path -> subschema of every property, items of arrays of objects written ``arr.*.field``."""
    nodes: dict[str, dict[str, Any]] = {}
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return nodes
    for name, sub in props.items():
        if not isinstance(sub, dict):
            continue
        path = f"{prefix}.{name}" if prefix else name
        nodes[path] = sub
        nodes.update(_diff_nodes(sub, path))
        items = sub.get("items")
        if isinstance(items, dict):
            nodes.update(_diff_nodes(items, f"{path}.*"))
    return nodes


def _default_of(defaults: Any, path: str, sub: dict[str, Any]) -> Any:
    if ".*" in f".{path}":
        return sub.get("default", _MISSING)
    node = defaults
    for part in _parts(path):
        node = _step(node, part)
        if node is _MISSING:
            break
    return node


def schema_diff(
    old_schema: dict[str, Any], old_defaults: dict[str, Any], new_schema: dict[str, Any], new_defaults: dict[str, Any]
) -> list[DiffEntry]:
    """What changed between two versions of a template, sorted by (path, kind).

    Only the topmost added or removed property is reported (not everything beneath it).
    ``bounds_changed`` carries dicts of the bound keywords that differ (``None`` = absent).
    Defaults are compared for leaf properties, from the defaults documents.
    """
    old_nodes, new_nodes = _diff_nodes(old_schema), _diff_nodes(new_schema)
    entries: list[DiffEntry] = []

    def below_reported(path: str, reported: set[str]) -> bool:
        parts = path.split(".")
        return any(".".join(parts[:i]) in reported for i in range(1, len(parts)))

    added = sorted(set(new_nodes) - set(old_nodes))
    removed = sorted(set(old_nodes) - set(new_nodes))
    reported: set[str] = set()
    for path in added:
        if not below_reported(path, reported):
            reported.add(path)
            value = _default_of(new_defaults, path, new_nodes[path])
            entries.append(DiffEntry("added", path, None, None if value is _MISSING else value))
    reported = set()
    for path in removed:
        if not below_reported(path, reported):
            reported.add(path)
            value = _default_of(old_defaults, path, old_nodes[path])
            entries.append(DiffEntry("removed", path, None if value is _MISSING else value, None))

    for path in sorted(set(old_nodes) & set(new_nodes)):
        old, new = old_nodes[path], new_nodes[path]
        if not _same(old.get("type"), new.get("type")):
            entries.append(DiffEntry("type_changed", path, old.get("type"), new.get("type")))
        if not _same(old.get("enum"), new.get("enum")):
            entries.append(DiffEntry("enum_changed", path, old.get("enum"), new.get("enum")))
        changed = [k for k in BOUND_KEYWORDS if not _same(old.get(k), new.get(k))]
        if changed:
            entries.append(DiffEntry("bounds_changed", path, {k: old.get(k) for k in changed},
                                     {k: new.get(k) for k in changed}))
        if bool(old.get("x-locked")) != bool(new.get("x-locked")):
            entries.append(DiffEntry("locked_changed", path, bool(old.get("x-locked")), bool(new.get("x-locked"))))
        is_leaf = not (isinstance(new.get("properties"), dict) and new["properties"]) and not (
            isinstance(old.get("properties"), dict) and old["properties"])
        if is_leaf:
            old_default, new_default = _default_of(old_defaults, path, old), _default_of(new_defaults, path, new)
            if not _same(old_default, new_default):
                entries.append(DiffEntry("default_changed", path, None if old_default is _MISSING else old_default,
                                         None if new_default is _MISSING else new_default))
    return sorted(entries, key=lambda e: (e.path, e.kind))


def _related(error_path: str, override_path: str) -> bool:
    """Is the error at, beneath or (for errors on a containing object) above the override?"""
    if error_path == override_path or error_path.startswith(override_path + "."):
        return True
    return error_path != "" and override_path.startswith(error_path + ".")


def override_report(
    new_schema: dict[str, Any], new_defaults: dict[str, Any], overrides: dict[str, Any] | None
) -> list[tuple[Path, str, str]]:
    """For a template upgrade: (override leaf path, status, message) for every override leaf, status
    ``kept`` (valid under the new version), ``invalid`` (message: the first error), ``locked``
    (now locked) or ``removed`` (no longer in the schema). Sorted by path.

    Errors are mapped to overrides by path prefix; an error no override's path explains (a
    cross-field rule reported on another field) is blamed on the overrides without which it
    goes away. Errors the new defaults have on their own are nobody's fault and ignored.
    """
    overrides = overrides or {}
    leaves = list(iter_leaves(overrides)) if overrides else []
    locked = locked_paths(new_schema)
    status: dict[str, tuple[str, str]] = {}
    effective_overrides = copy.deepcopy(overrides)
    for path, value in leaves:
        if schema_at(new_schema, path) is None:
            status[path] = ("removed", REMOVED_MESSAGE)
        elif any(_touches(path, value, lock) for lock in locked):
            status[path] = ("locked", LOCKED_MESSAGE)
        else:
            continue
        effective_overrides = remove_override(effective_overrides, path)

    candidates = [path for path, _ in leaves if path not in status]
    baseline = set(config_errors(new_schema, new_defaults))
    errors = [e for e in config_errors(new_schema, effective_config(new_defaults, effective_overrides))
              if e not in baseline]
    unexplained = []
    for error in errors:
        blamed = [p for p in candidates if _related(error.path, p)]
        for path in blamed:
            status.setdefault(path, ("invalid", error.message))
        if not blamed:
            unexplained.append(error)
    for error in unexplained:
        for path in candidates:
            without = remove_override(effective_overrides, path)
            if error not in config_errors(new_schema, effective_config(new_defaults, without)):
                status.setdefault(path, ("invalid", error.message))
    return [(path, *status.get(path, ("kept", ""))) for path, _ in sorted(leaves, key=lambda leaf: leaf[0])]


def reconcile_defaults(schema: dict[str, Any], defaults: Any) -> dict[str, Any]:
    """Defaults reshaped to fit a (new) schema: values for properties the schema still has
    are kept, properties it dropped are left out, and new properties take the schema's
    own ``default`` (nested objects are filled the same way). Maps and arrays keep their
    value whole. Used when the raw schema of a draft changes; never mutates ``defaults``."""

    def fit(sub: dict[str, Any], value: Any) -> Any:
        props = sub.get("properties")
        if sub.get("type") == "object" and isinstance(props, dict):
            current = value if isinstance(value, dict) else {}
            result: dict[str, Any] = {}
            for name, child in props.items():
                if not isinstance(child, dict):
                    continue
                if name in current:
                    result[name] = fit(child, current[name])
                elif "default" in child:
                    result[name] = copy.deepcopy(child["default"])
                elif child.get("type") == "object" and isinstance(child.get("properties"), dict):
                    result[name] = fit(child, {})
            if sub.get("additionalProperties") not in (None, False):
                for name, extra in current.items():
                    result.setdefault(name, copy.deepcopy(extra))
            return result
        return copy.deepcopy(value)

    return fit(schema, defaults if isinstance(defaults, dict) else {})
