"""Bounds on a configuration document (SPEC §3, §5): what the portal agrees to store and
validate. Nesting, size and number magnitude are limited, and text must be storable by
PostgreSQL, so a hostile document costs bounded work and never reaches the database."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from portal.configuration.paths import ConfigError
from portal.i18n import _l

MAX_DEPTH = 32  # nested objects and arrays
MAX_DOCUMENT_BYTES = 256 * 1024  # compact UTF-8 serialization
MAX_NUMBER = 10**15  # larger magnitudes are typos or abuse, and floats stop being exact
MAX_DOCUMENT_PROBLEMS = 20

TOO_LARGE_MESSAGE = _l("Too large: a configuration document may be at most 256 KB.")
TOO_DEEP_MESSAGE = _l("Nested more than %(depth)s levels deep.", depth=MAX_DEPTH)
NOT_FINITE_MESSAGE = _l("NaN and Infinity are not allowed: enter a finite number.")
NUMBER_TOO_LARGE_MESSAGE = _l("Numbers must be between -1,000,000,000,000,000 and 1,000,000,000,000,000.")


@dataclass(frozen=True)
class Unacceptable:
    """Stand-in for a value the JSON reader refused to build (NaN, Infinity, an integer
    with too many digits), so :func:`document_problems` reports it at its path."""

    message: Any


def _text_problem(text: str, what: str) -> Any:
    """Why PostgreSQL (or a web page) cannot take ``text`` ("name": a key, else a value), or None."""
    if "\x00" in text:
        if what == "name":
            return _l("This name contains a NUL character (\\u0000), which cannot be stored.")
        return _l("This text contains a NUL character (\\u0000), which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if what == "name":
            return _l("This name contains an unpaired surrogate (such as \\ud800), which is not valid text.")
        return _l("This text contains an unpaired surrogate (such as \\ud800), which is not valid text.")
    return None


def path_part(key: Any) -> str:
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
                        problems.append(ConfigError(path, _l("Names in a JSON object must be text.")))
                        continue
                    child_path = f"{path}.{path_part(key)}" if path else path_part(key)
                    if problem := _text_problem(key, "name"):
                        problems.append(ConfigError(child_path, problem))
                        continue
                    children.append((child, child_path, depth + 1))
            else:
                children = [(child, f"{path}.{i}" if path else str(i), depth + 1) for i, child in enumerate(value)]
            stack.extend(reversed(children))
        elif isinstance(value, Unacceptable):
            problems.append(ConfigError(path, value.message))
        elif isinstance(value, str):
            if problem := _text_problem(value, "text"):
                problems.append(ConfigError(path, problem))
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int | float):
            if isinstance(value, float) and not math.isfinite(value):
                problems.append(ConfigError(path, NOT_FINITE_MESSAGE))
            elif abs(value) > MAX_NUMBER:
                problems.append(ConfigError(path, NUMBER_TOO_LARGE_MESSAGE))
        else:
            problems.append(ConfigError(path, _l("Not a JSON value.")))
    if problems:
        return problems
    if len(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) > MAX_DOCUMENT_BYTES:
        return [ConfigError("", TOO_LARGE_MESSAGE)]
    return []
