"""Validating templates' schemas and configurations (SPEC §3): JSON Schema 2020-12 with a
maintained library (jsonschema), plus the ``x-rules`` (:mod:`portal.configuration.rules`);
every error at its JSON path.

A template's schema is written by a program manager and then run against what company
admins type, so checking a configuration must never reach outside the schema or run away:
``$ref`` only points inside the schema and the registry refuses every retrieval (nothing is
fetched, not even by mistake); patterns run on RE2, which is linear in the text, and patterns
RE2 cannot compile are refused on save; documents are bounded
(:func:`portal.configuration.limits.document_problems`).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import re2
import referencing
import referencing.exceptions
from flask_babel.speaklater import LazyString
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError, ValidationError
from referencing.jsonschema import DRAFT202012

from portal.configuration.limits import document_problems, path_part
from portal.configuration.messages import error_message, missing_property
from portal.configuration.paths import ConfigError, json_path
from portal.configuration.rules import cross_field_errors, rule_problems
from portal.configuration.schema_i18n import I18N_KEY, i18n_problems
from portal.i18n import _l, _n, number

REF_KEYWORDS = ("$ref", "$dynamicRef")
MAX_PATTERN_LENGTH = 2000  # each compiled pattern is cached; real ones are short
NOT_CHECKABLE_MESSAGE = _l("The template's schema is too deeply self-referencing to check this configuration.")
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


def pattern_problem(pattern: Any) -> Any:
    """Why RE2 cannot run ``pattern`` (None when it can, or when it is not text: the schema
    check reports that)."""
    if not isinstance(pattern, str):
        return None
    try:
        _compiled(pattern)
    except (re2.error, UnicodeEncodeError) as exc:
        shown = pattern if len(pattern) <= 100 else pattern[:99] + "…"
        if len(pattern) > MAX_PATTERN_LENGTH:
            detail = _l("longer than %(limit)s characters", limit=LazyString(number, MAX_PATTERN_LENGTH))
        else:  # RE2's own words ("missing )"): a technical detail, as RE2 writes it
            detail = exc.args[0] if exc.args else exc
            detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        return _l("The pattern “%(pattern)s” cannot be used (%(detail)s). Patterns run on RE2: backreferences, "
                  "lookarounds and repetition counts over 1000 are not available.", pattern=shown, detail=detail)
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
            regexes = ", ".join(repr(p) for p in sorted(patterns))
            yield ValidationError(_n("%(names)s does not match any of the regexes: %(regexes)s",
                                     "%(names)s do not match any of the regexes: %(regexes)s", len(extras),
                                     names=names, regexes=regexes))
        else:
            yield ValidationError(_n("Additional properties are not allowed (%(names)s was unexpected)",
                                     "Additional properties are not allowed (%(names)s were unexpected)", len(extras),
                                     names=names))


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
    return f"{path}.{path_part(part)}" if path else path_part(part)


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
        return [ConfigError("$id", _l("The schema's $id values cannot be read."))]
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
                problems.append(ConfigError(where, _l(
                    "%(keyword)s %(reference)s points outside this schema. Only references inside it (such as "
                    "#/$defs/name) are allowed; nothing is fetched.", keyword=keyword, reference=shown)))
                continue
            try:
                target = registry.resolver(base_uri=base).lookup(ref).contents
            except referencing.exceptions.Unresolvable:
                problems.append(ConfigError(where, _l("%(keyword)s %(reference)s does not point at anything in "
                                                      "this schema.", keyword=keyword, reference=shown)))
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
        problems += [ConfigError(where, _l("unevaluatedProperties cannot be combined with patternProperties in a "
                                           "template schema; use additionalProperties.")) for where in unevaluated]
    if not problems and (loop := _first_loop(id(schema), edges)):
        problems.append(ConfigError(loop, _l("This reference leads back to itself without checking anything in "
                                             "between, so checking a configuration would never end.")))
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


def _i18n_problems(schema: dict[str, Any]) -> list[ConfigError]:
    """The shape of every x-i18n block (:mod:`portal.configuration.schema_i18n`) in the schema's
    own structure: the root, properties, items, maps' values, combinators' alternatives, $defs."""
    problems: list[ConfigError] = []
    walk: list[tuple[dict[str, Any], str]] = [(schema, "")]
    seen: set[int] = set()
    while walk:
        node, path = walk.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if I18N_KEY in node:
            problems += i18n_problems(node[I18N_KEY], path)
        walk.extend((sub, sub_path) for sub_path, sub, _in_place in _subschemas(node, path))
    return sorted(problems, key=lambda e: e.path)


def _check_schema(schema: dict[str, Any]) -> list[ConfigError]:
    if problems := document_problems(schema):
        return problems
    try:
        Draft202012Validator.check_schema(schema, format_checker=_METASCHEMA_FORMAT_CHECKER)
    except SchemaError as exc:
        return [ConfigError(json_path(path_part(p) for p in exc.absolute_path),
                            _l("Invalid JSON Schema: %(problem)s", problem=exc.message))]
    if problems := _reference_and_pattern_problems(schema):
        return problems
    if problems := _i18n_problems(schema):
        return problems
    return rule_problems(schema)


@lru_cache(maxsize=256)
def _schema_problems(schema_json: str) -> tuple[ConfigError, ...]:
    return tuple(_check_schema(json.loads(schema_json)))


def schema_errors(schema: Any) -> list[ConfigError]:
    """Problems with the schema itself: is it a bounded, storable document (:func:`document_problems`)
    and a valid JSON Schema 2020-12 object whose references stay inside it and whose patterns RE2
    can run, and are its ``x-rules`` well formed (known kind, required keys, paths that are
    properties), and are its ``x-i18n`` translations of the allowed shape?"""
    if not isinstance(schema, dict):
        return [ConfigError("", _l("The schema must be a JSON object."))]
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
        return [ConfigError("", _l("The template's schema is not a valid JSON Schema."))]
    if problems := document_problems(config):
        return problems
    try:
        errors = [ConfigError(json_path(e.absolute_path), error_message(e), missing_property(e))
                  for e in _validator(key).iter_errors(config)]
    except (RecursionError, referencing.exceptions.Unresolvable):  # a reference chain the save check let through
        return [ConfigError("", NOT_CHECKABLE_MESSAGE)]
    errors += cross_field_errors(schema, config)
    return sorted(errors, key=lambda e: (e.path, e.message))
