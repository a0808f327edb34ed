"""Reading a browser's submission of the schema-driven configuration form back into typed
JSON (SPEC §3): ``parse_form`` never raises on the input; what does not parse is an error
at its JSON path, and the add/remove/reset buttons (``_action``) are applied or reported.
Building the form is :mod:`portal.configuration.form_build`.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import Any

from portal.configuration.form_fields import (
    ACTION_FIELD,
    ACTIONS,
    MISSING,
    ROW_INDEX,
    check_prefix,
    join_path,
    object_properties,
    required_keys,
    schema_kind,
)
from portal.configuration.locks import LOCKED_MESSAGE
from portal.configuration.merge import deep_merge
from portal.i18n import _l

MSG_REQUIRED = _l("Enter a value.")
MSG_WHOLE_NUMBER = _l("Enter a whole number.")
MSG_NUMBER = _l("Enter a number.")
MSG_CHOICE = _l("Choose one of the options.")
MSG_BOOLEAN = _l("Choose yes or no.")
MSG_DUPLICATE_KEY = _l("Each name can appear once.")

_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no", ""}
_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MAX_NUMBER_TEXT = 100  # longer "numbers" are typos or abuse, never a config value


@dataclass
class ParsedForm:
    value: dict[str, Any]  # typed JSON; invalid, empty optional and locked fields are absent
    errors: dict[str, list[str]]  # {dotted path: [messages]}
    action: tuple[str, str] | None  # ("add"|"remove"|"reset", dotted path) or None for a save
    display: dict[str, Any] = field(default_factory=dict)  # what to re-render: raw text where invalid


def _empty_instance(schema: dict[str, Any]) -> dict[str, Any]:
    """A new row of an array of objects: each property's default, nested objects and arrays empty."""
    row: dict[str, Any] = {}
    for key, sub in object_properties(schema).items():
        kind = schema_kind(sub)
        if "default" in sub:
            row[key] = copy.deepcopy(sub["default"])
        elif kind == "fieldset":
            row[key] = _empty_instance(sub)
        elif kind in ("list", "rows", "checkboxes"):
            row[key] = []
        elif kind == "map":
            row[key] = {}
    return row


def parse_form(
    schema: dict[str, Any],
    formdata: Any,
    *,
    prefix: str = "cfg",
    enforce_locks: bool = True,
    current: Any = None,
    omit: frozenset[str] | set[str] | tuple[str, ...] = (),
) -> ParsedForm:
    """Read a submission of ``build_form``'s form back into typed JSON. Never raises on the input.

    ``value`` holds every field that parsed: integers as int, numbers as int when written
    without "."/"e" else float, booleans from the hidden "false" + checkbox "true" pair (last
    wins), arrays and maps always present (possibly empty), empty optional fields absent.
    Locked fields ("x-locked") are never read while ``enforce_locks`` is on: they are absent
    so the caller keeps the inherited value (the template's own defaults form passes False).

    ``_action`` "add:…" and "remove:…" are applied here (the removed row is not validated,
    the new row is appended after parsing and so shows no errors); "reset:…" is only
    reported. ``display`` is what to re-render (pass it to ``build_form``): raw text where
    a field did not parse, maps as [key, value] rows; with ``current`` (the values the form
    was built from) it also carries the fields the form did not submit, such as locked ones.

    ``omit`` names the settings the form left out (``build_form(omit=…)``): they are read only
    when something was posted for them anyway, so the layer's rule can refuse it by name.
    """
    check_prefix(prefix)
    data = _normalise(formdata, prefix)
    parser = _Parser(data, prefix, enforce_locks, _read_action(data, prefix), frozenset(omit))
    root = schema if isinstance(schema, dict) and schema_kind(schema) == "fieldset" else {}
    value, display = parser.object(root, prefix, "", required=True, locked=False)
    value = value if isinstance(value, dict) else {}
    display = display if isinstance(display, dict) else {}
    if current is not None:
        display = deep_merge(current, display)
    return ParsedForm(value=value, errors=parser.errors, action=parser.action, display=display)


def _normalise(formdata: Any, prefix: str) -> dict[str, list[str]]:
    """Any MultiDict-like or mapping → {name: [str values]} for this form's names only."""
    out: dict[str, list[str]] = {}
    try:
        keys = list(formdata.keys()) if formdata is not None else []
    except Exception:
        return out
    for key in keys:
        if not isinstance(key, str) or not (key == ACTION_FIELD or key.startswith(prefix + ".") or key == prefix):
            continue
        try:
            raw = formdata.getlist(key) if hasattr(formdata, "getlist") else formdata[key]
        except Exception:
            continue
        if not isinstance(raw, (list, tuple)):
            raw = [raw]
        values = []
        for v in raw:
            if isinstance(v, bytes):
                v = v.decode("utf-8", "replace")
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = str(v)
            if isinstance(v, str):
                values.append(v)
        out[key] = values
    return out


def _read_action(data: dict[str, list[str]], prefix: str) -> tuple[str, str] | None:
    raw = (data.get(ACTION_FIELD) or [""])[-1]
    verb, _, target = raw.partition(":")
    if verb in ACTIONS and target.startswith(prefix + "."):
        return verb, target
    return None


class _Parser:
    def __init__(self, data: dict[str, list[str]], prefix: str, enforce_locks: bool,
                 requested: tuple[str, str] | None, omit: frozenset[str] = frozenset()) -> None:
        self.data = data
        self.omit = omit
        self.prefix = prefix
        self.enforce_locks = enforce_locks
        self.requested = requested  # (verb, HTML name) as submitted
        self.action: tuple[str, str] | None = None
        self.errors: dict[str, list[str]] = {}

    def error(self, path: str, message: str) -> None:
        bucket = self.errors.setdefault(path, [])
        if message not in bucket:
            bucket.append(message)

    def last(self, name: str) -> str | None:
        values = self.data.get(name)
        return values[-1] if values else None

    def submitted(self, name: str) -> bool:
        start = name + "."
        return any(key == name or key.startswith(start) for key in self.data)

    def wants(self, verb: str, name: str) -> bool:
        return self.requested == (verb, name)

    def row_indexes(self, name: str) -> list[int]:
        start = name + "."
        found: set[int] = set()
        for key in self.data:
            if key.startswith(start):
                segment = key[len(start):].split(".", 1)[0]
                if ROW_INDEX.fullmatch(segment) and str(int(segment)) == segment:
                    found.add(int(segment))
        return sorted(found)

    def node(self, schema: dict[str, Any], name: str, path: str, *, required: bool, locked: bool) -> tuple[Any, Any]:
        locked = locked or (bool(schema.get("x-locked")) and self.enforce_locks)
        if locked:
            # The form renders locked fields disabled, so a browser never sends them: a value
            # that arrives anyway is refused at its path, never silently dropped.
            if self.submitted(name):
                self.error(path, LOCKED_MESSAGE)
            return MISSING, MISSING
        kind = schema_kind(schema)
        if self.wants("reset", name):
            self.action = ("reset", path)
        if kind == "fieldset":
            return self.object(schema, name, path, required=required, locked=locked)
        if kind == "rows":
            return self.rows(schema, name, path)
        if kind == "list":
            return self.scalar_list(schema, name, path)
        if kind == "checkboxes":
            return self.checkboxes(schema, name, path)
        if kind == "map":
            return self.map(schema, name, path)
        if kind == "unsupported":
            return MISSING, MISSING
        raw = self.last(name)
        if raw is None:
            if required:
                self.error(path, MSG_REQUIRED)
            return MISSING, MISSING
        return self.convert(schema, kind, raw, path, required=required)

    def convert(self, schema: dict[str, Any], kind: str, raw: str, path: str, *, required: bool) -> tuple[Any, Any]:
        """One submitted text → (typed value or MISSING, text to re-display)."""
        if kind == "boolean":
            low = raw.strip().lower()
            if low in _TRUE:
                return True, True
            if low in _FALSE:
                return False, False
            self.error(path, MSG_BOOLEAN)
            return MISSING, raw
        text = raw.replace("\r\n", "\n").strip()
        if text == "":
            if required:
                self.error(path, MSG_REQUIRED)
            return MISSING, ""
        if kind == "integer":
            if len(text) <= _MAX_NUMBER_TEXT and _INT_TEXT.fullmatch(text):
                return int(text), int(text)
            self.error(path, MSG_WHOLE_NUMBER)
            return MISSING, raw
        if kind == "number":
            if len(text) <= _MAX_NUMBER_TEXT and _NUMBER_TEXT.fullmatch(text):
                if _INT_TEXT.fullmatch(text):
                    return int(text), int(text)
                number = float(text)
                if math.isfinite(number):
                    return number, number
            self.error(path, MSG_NUMBER)
            return MISSING, raw
        if kind == "select":
            if text in schema["enum"]:
                return text, text
            self.error(path, MSG_CHOICE)
            return MISSING, raw
        return text, text

    def object(self, schema: dict[str, Any], name: str, path: str, *, required: bool,
               locked: bool) -> tuple[Any, Any]:
        value: dict[str, Any] = {}
        display: dict[str, Any] = {}
        needed = required_keys(schema)
        for key, sub in object_properties(schema).items():
            if join_path(path, key) in self.omit and not self.submitted(join_path(name, key)):
                continue  # not on the form: nothing to read, nothing required
            v, d = self.node(sub, join_path(name, key), join_path(path, key), required=key in needed, locked=locked)
            if v is not MISSING:
                value[key] = v
            if d is not MISSING:
                display[key] = d
        if not value and not required and path:
            return MISSING, display
        return value, display

    def kept_rows(self, name: str, path: str) -> list[tuple[str, str]]:
        """(row name, renumbered row path) for each submitted row, minus the one being removed."""
        kept: list[tuple[str, str]] = []
        for index in self.row_indexes(name):
            row_name = join_path(name, index)
            if self.wants("remove", row_name):
                self.action = ("remove", join_path(path, len(kept)))
                continue
            kept.append((row_name, join_path(path, len(kept))))
        return kept

    def rows(self, schema: dict[str, Any], name: str, path: str) -> tuple[Any, Any]:
        items = schema["items"]
        value: list[Any] = []
        display: list[Any] = []
        for row_name, row_path in self.kept_rows(name, path):
            v, d = self.object(items, row_name, row_path, required=True, locked=False)
            value.append(v if isinstance(v, dict) else {})
            display.append(d if isinstance(d, dict) else {})
        if self.wants("add", name):
            self.action = ("add", path)
            value.append(_empty_instance(items))
            display.append(_empty_instance(items))
        return value, display

    def scalar_list(self, schema: dict[str, Any], name: str, path: str) -> tuple[Any, Any]:
        items = schema["items"]
        kind = schema_kind(items)
        value: list[Any] = []
        display: list[Any] = []
        for row_name, row_path in self.kept_rows(name, path):
            raw = self.last(row_name) or ""
            v, d = self.convert(items, kind, raw, row_path, required=False)
            if v is not MISSING:  # blank rows are dropped from the value but stay on screen
                value.append(v)
            display.append(d)
        if self.wants("add", name):
            self.action = ("add", path)
            if kind == "string":
                value.append("")
            display.append("")
        return value, display

    def checkboxes(self, schema: dict[str, Any], name: str, path: str) -> tuple[Any, Any]:
        enum = schema["items"]["enum"]
        chosen: list[str] = []
        for raw in self.data.get(name, []):
            text = raw.strip()
            if not text:
                continue
            if text not in enum:
                self.error(path, MSG_CHOICE)
            elif text not in chosen:
                chosen.append(text)
        return chosen, list(chosen)

    def map(self, schema: dict[str, Any], name: str, path: str) -> tuple[Any, Any]:
        entry = schema["additionalProperties"]
        kind = schema_kind(entry)
        value: dict[str, Any] = {}
        display: list[list[Any]] = []
        for row_name, _ in self.kept_rows(name, path):
            key = (self.last(f"{row_name}.__key") or "").strip()
            raw = self.last(f"{row_name}.__value") or ""
            if not key:  # a row without a name is ignored (it stays on screen)
                display.append(["", raw])
                continue
            v, d = self.convert(entry, kind, raw, join_path(path, key), required=True)
            display.append([key, d])
            if key in value or any(p[0] == key for p in display[:-1]):
                self.error(path, MSG_DUPLICATE_KEY)
                continue
            if v is not MISSING:
                value[key] = v
        if self.wants("add", name):
            self.action = ("add", path)
            display.append(["", ""])
        return value, display
