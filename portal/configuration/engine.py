"""The configuration engine: pure functions, no Flask (SPEC §3).

Validation with a maintained JSON Schema library (jsonschema, Draft 2020-12), deep
merge of the template ← program ← campaign layers, and errors named by JSON path.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


@dataclass(frozen=True)
class ConfigError:
    path: str  # dotted JSON path, e.g. "session.defaultDurationMinutes"; "" for the root
    message: str


def json_path(parts: Any) -> str:
    return ".".join(str(p) for p in parts)


def schema_errors(schema: Any) -> list[ConfigError]:
    """Problems with the schema itself (is it a valid JSON Schema 2020-12 object?)."""
    if not isinstance(schema, dict):
        return [ConfigError("", "The schema must be a JSON object.")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [ConfigError(json_path(exc.absolute_path), f"Invalid JSON Schema: {exc.message}")]
    return []


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return _validator(json.dumps(schema, sort_keys=True))


def config_errors(schema: dict[str, Any], config: Any) -> list[ConfigError]:
    """Every error of ``config`` against ``schema``, each with its JSON path, in path order."""
    if schema_errors(schema):
        return [ConfigError("", "The template's schema is not a valid JSON Schema.")]
    errors = [ConfigError(json_path(e.absolute_path), e.message) for e in validator_for(schema).iter_errors(config)]
    return sorted(errors, key=lambda e: (e.path, e.message))


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
