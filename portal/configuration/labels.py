"""Words for configuration settings (SPEC §3): the label of a dotted path and the text of a
value, for people rather than engineers. The one place every screen gets them from: the
configuration form and its provenance ("Inherited: …"), compare, upgrade and the launch review.

Labels come from the template's schema ``title``s and its ``ui_schema`` (``ui:title``,
``ui:enumNames``, ``ui:keyLabels`` for the names of a map's entries); enum options from
``ui:enumNames``, ``x-enumNames`` or ``oneOf``/``anyOf`` entries with ``const`` and ``title``;
anything without one is the key made readable ("every_other_day" → "Every other day").
In Norwegian and Ukrainian a node's ``x-i18n`` block (:mod:`portal.configuration.schema_i18n`:
title, description, enumNames, keyLabels; the ui_schema's first, then the schema's) gives the
words, falling back to the English above. Pure functions over plain JSON values; the language
is the request's."""
from __future__ import annotations

import json
import re
from typing import Any

from babel import numbers as babel_numbers

from portal.configuration.form_fields import MISSING as FORM_MISSING
from portal.configuration.paths import MISSING, iter_leaves, split_path
from portal.configuration.schema_i18n import first_localized, localized_entry
from portal.i18n import _, _l, current_language, ngettext

SEPARATOR = " › "
# Words people write in capitals: "cefr_level_advanced" → "CEFR level advanced".
ACRONYMS = {"cefr": "CEFR", "sroi": "SROI", "vis": "VIS", "cv": "CV", "id": "ID", "url": "URL", "checkin": "check-in"}
TYPE_NAMES = {"integer": _l("whole number"), "number": _l("number"), "string": _l("text"),
              "boolean": _l("yes / no"), "array": _l("list"), "object": _l("group of settings"),
              "null": _l("empty")}


def ui_at(ui: Any, key: str | None = None) -> dict[str, Any]:
    """The ui_schema node for ``key`` below ``ui`` ({} when there is none)."""
    if not isinstance(ui, dict):
        return {}
    if key is None:
        return ui
    sub = ui.get(key)
    return sub if isinstance(sub, dict) else {}


def humanise(key: str) -> str:
    """"defaultDurationMinutes" → "Default duration minutes"; "trackCEFR" → "Track CEFR";
    "cefr_level_advanced" → "CEFR level advanced"."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", str(key)).replace("_", " ")
    words = [w if (w.isupper() and len(w) > 1) else ACRONYMS.get(w.lower(), w.lower()) for w in spaced.split()]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def title_of(schema: Any, ui: Any, key: str) -> str:
    """A property's label: the ui_schema's or the schema's ``x-i18n`` title in the reader's
    language, else ``ui:title``, the schema's ``title``, else the key made readable."""
    translated = first_localized((ui_at(ui), schema), "title")
    if translated:
        return translated
    for text in (ui_at(ui).get("ui:title"), schema.get("title") if isinstance(schema, dict) else None):
        if isinstance(text, str) and text.strip():
            return text
    return humanise(key)


def description_of(schema: Any, ui: Any) -> str:
    """A property's help text: its ``x-i18n`` description in the reader's language, else
    ``ui:help``, else the schema's ``description`` ("" when there is none)."""
    ui = ui_at(ui)
    translated = first_localized((ui, schema), "description")
    if translated:
        return translated
    for text in (ui.get("ui:help"), schema.get("description") if isinstance(schema, dict) else None):
        if isinstance(text, str):
            return text
    return ""


def item_title(schema: Any, ui: Any, fallback: Any = None) -> str:
    """What one entry of an array is called ("Milestone")."""
    items = schema.get("items") if isinstance(schema, dict) else None
    translated = first_localized((ui_at(ui, "items"), items), "title")
    if translated:
        return translated
    for text in (ui_at(ui, "items").get("ui:title"), items.get("title") if isinstance(items, dict) else None):
        if isinstance(text, str) and text.strip():
            return text
    return str(fallback) if fallback is not None else _("Item")


def key_label(key: str, ui: Any, schema: Any = None) -> str:
    """The name of a map's entry ("session_completed" → "Session completed"): the ui_schema's
    or the map schema's ``x-i18n`` keyLabels in the reader's language, ``ui:keyLabels``, else
    the key made readable."""
    for node in (ui_at(ui), schema):
        if text := localized_entry(node, "keyLabels", key):
            return text
    names = ui_at(ui).get("ui:keyLabels")
    if isinstance(names, dict) and isinstance(names.get(key), str) and names[key].strip():
        return names[key]
    return humanise(key)


def _enum_titles(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for alternatives in (schema.get("oneOf"), schema.get("anyOf")):
        for alt in alternatives if isinstance(alternatives, list) else []:
            if isinstance(alt, dict) and isinstance(alt.get("title"), str) and "const" in alt:
                titles.setdefault(str(alt["const"]), first_localized((alt,), "title") or alt["title"])
    enum = schema.get("enum")
    if isinstance(enum, list):
        for names in (schema.get("x-enumNames"), ui.get("ui:enumNames")):
            if isinstance(names, list):
                titles.update({str(v): n for v, n in zip(enum, names, strict=False) if isinstance(n, str)})
        for node in (schema, ui):  # translations win over the English names
            for v in enum:
                if text := localized_entry(node, "enumNames", v):
                    titles[str(v)] = text
    return titles


def option_label(value: Any, schema: Any, ui: Any = None) -> str:
    """The label of one enum option: its title if the schema or ui_schema gives one (in the
    reader's language when it carries an ``x-i18n`` translation), else the value made readable
    ("every_other_day" → "Every other day"; "B2" stays "B2")."""
    schema = schema if isinstance(schema, dict) else {}
    text = str(value)
    title = _enum_titles(schema, ui_at(ui)).get(text)
    if title:
        return title
    if "_" in text:
        return humanise(text)
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def number_text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def shown_number(value: Any) -> str:
    """A number to read: :func:`number_text` in English ("0.95"), the reader's own decimal
    sign and grouping elsewhere ("0,95", "1 000"), every digit kept."""
    if isinstance(value, bool) or not isinstance(value, int | float) or current_language() == "en":
        return number_text(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return babel_numbers.format_decimal(value, locale=current_language(), decimal_quantization=False)


def bounds(schema: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """A number's bounds as text ("15–180", "at least 0") and as min/max attribute values."""
    def num(key: str) -> Any:
        v = schema.get(key)
        return v if isinstance(v, int | float) and not isinstance(v, bool) else None

    lo, hi = num("minimum"), num("maximum")
    xlo, xhi = num("exclusiveMinimum"), num("exclusiveMaximum")
    low = _("at least %(limit)s", limit=shown_number(lo)) if lo is not None else (
        _("more than %(limit)s", limit=shown_number(xlo)) if xlo is not None else "")
    high = _("at most %(limit)s", limit=shown_number(hi)) if hi is not None else (
        _("less than %(limit)s", limit=shown_number(xhi)) if xhi is not None else "")
    if lo is not None and hi is not None:
        text = f"{shown_number(lo)}–{shown_number(hi)}"
    else:
        text = ", ".join(x for x in (low, high) if x)
    return (text, number_text(lo) if lo is not None else None, number_text(hi) if hi is not None else None)


def _count_limit(lo: Any, hi: Any, unit: str) -> str:
    """"1–12 entries", "at least 1 entry", "at most 50 characters" (unit: entries or characters)."""
    if lo is not None and hi is not None:
        if unit == "entries":
            return ngettext("%(low)s–%(high)s entry", "%(low)s–%(high)s entries", hi, low=shown_number(lo),
                      high=shown_number(hi))
        return ngettext("%(low)s–%(high)s character", "%(low)s–%(high)s characters", hi, low=shown_number(lo),
                  high=shown_number(hi))
    n = lo if lo is not None else hi
    if unit == "entries":
        if lo is not None:
            return ngettext("at least %(count)s entry", "at least %(count)s entries", n, count=shown_number(n))
        return ngettext("at most %(count)s entry", "at most %(count)s entries", n, count=shown_number(n))
    if lo is not None:
        return ngettext("at least %(count)s character", "at least %(count)s characters", n, count=shown_number(n))
    return ngettext("at most %(count)s character", "at most %(count)s characters", n, count=shown_number(n))


def limits_text(keywords: dict[str, Any]) -> str:
    """Bound keywords (minimum, maxItems, minLength…) as words: "15–180, at least 1 entry"."""
    keywords = {k: v for k, v in (keywords or {}).items() if v is not None}
    parts = [bounds(keywords)[0]]
    for low, high, unit in (("minItems", "maxItems", "entries"), ("minLength", "maxLength", "characters")):
        lo, hi = keywords.get(low), keywords.get(high)
        if lo is not None or hi is not None:
            parts.append(str(_count_limit(lo, hi, unit)))
    return ", ".join(p for p in parts if p) or _("no limit")


def type_text(value: Any) -> str:
    """A JSON Schema ``type`` (or list of them) in words."""
    types = value if isinstance(value, list) else [value]
    names = [str(TYPE_NAMES.get(t, str(t))) for t in types if t is not None]
    if not names:
        return _("any")
    text = names[0]
    for name in names[1:]:
        text = _("%(first)s or %(second)s", first=text, second=name)
    return text


def map_pairs(value: Any) -> list[tuple[str, Any]]:
    """A map's value as (key, value) rows: a dict, or the list of pairs parse_form displays."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        return [(str(p[0]), p[1]) for p in value if isinstance(p, list | tuple) and len(p) == 2]
    return []


def row_title(row: Any) -> str:
    """A short name for one row of an array of objects: its name/title/label/key if it has one."""
    if isinstance(row, dict):
        for key in ("name", "title", "label", "key", "category"):
            if isinstance(row.get(key), str) and row[key]:
                return row[key]
        for v in row.values():
            if isinstance(v, str | int | float) and not isinstance(v, bool):
                return str(v)
    return _("row")


def yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def value_text(value: Any, schema: Any, ui: Any = None, limit: int = 160) -> str:
    """A value as people read it: "Yes", "Every other day", "45", "Session completed: 10, …"."""
    schema = schema if isinstance(schema, dict) else {}
    ui = ui_at(ui)
    t = schema.get("type")
    if value is MISSING or value is FORM_MISSING or value is None:
        text = _("not set")
    elif isinstance(value, bool):
        text = yes_no(value)
    elif isinstance(value, str) and (isinstance(schema.get("enum"), list) or schema.get("oneOf")
                                     or schema.get("anyOf")):
        text = option_label(value, schema, ui)
    elif isinstance(schema.get("additionalProperties"), dict) and not schema.get("properties") and (
            isinstance(value, dict) or t == "object"):
        pairs = map_pairs(value)
        text = ", ".join(f"{key_label(k, ui, schema)}: {value_text(v, schema['additionalProperties'])}"
                         for k, v in pairs) if pairs else _("none")
    elif isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
        if not value:
            text = _("none")
        elif isinstance(items.get("properties"), dict) or any(isinstance(v, dict) for v in value):
            text = ", ".join(row_title(v) for v in value)
        else:
            text = ", ".join(value_text(v, items, ui_at(ui, "items"), limit) for v in value)
    elif isinstance(value, dict):
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        text = "; ".join(f"{title_of(props.get(k), ui_at(ui, k), k)}: {value_text(v, props.get(k), ui_at(ui, k))}"
                         for k, v in value.items()) if value else _("none")
    elif isinstance(value, int | float):
        text = shown_number(value)
    elif isinstance(value, str):
        text = value or _("empty")
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SettingLabels:
    """Labels for the paths and values of one template version's configuration."""

    def __init__(self, schema: Any, ui_schema: Any = None) -> None:
        self.schema = schema if isinstance(schema, dict) else {}
        self.ui = ui_at(ui_schema)

    def _walk(self, path: Any) -> tuple[list[str], Any, dict[str, Any]]:
        """(label of each step, subschema or None, ui node) along ``path``; ``*`` (any row of an
        array) adds no words, a row index adds "Milestone 3"."""
        words: list[str] = []
        node: Any = self.schema
        ui = self.ui
        for raw in split_path(path):
            part = str(raw)
            items = node.get("items") if isinstance(node, dict) else None
            props = node.get("properties") if isinstance(node, dict) else None
            extra = node.get("additionalProperties") if isinstance(node, dict) else None
            if (part == "*" or part.isdigit()) and isinstance(items, dict):
                if part != "*":
                    words.append(f"{item_title(node, ui)} {int(part) + 1}")
                node, ui = items, ui_at(ui, "items")
            elif isinstance(props, dict) and isinstance(props.get(part), dict):
                words.append(title_of(props[part], ui_at(ui, part), part))
                node, ui = props[part], ui_at(ui, part)
            elif isinstance(extra, dict):
                words.append(key_label(part, ui, node))
                node, ui = extra, {}
            else:
                words.append(humanise(part))
                node, ui = None, {}
        return words, node, ui

    def label(self, path: Any) -> str:
        """"session.recommendedFrequency" → "Sessions › Recommended frequency"."""
        words = self._walk(path)[0]
        return SEPARATOR.join(words) or _("All settings")

    def value(self, path: Any, value: Any) -> str:
        """The value at ``path`` as text, with the options' and entries' labels."""
        node, ui = self._walk(path)[1:]
        return value_text(value, node, ui)

    def leaves(self, doc: Any) -> list[tuple[str, str, str]]:
        """(path, label, value text) of every leaf of a sparse document such as a layer's
        overrides, in document order: "Sessions › Default session duration (minutes)", "60"."""
        if not isinstance(doc, dict) or not doc:
            return []
        return [(path, self.label(path), self.value(path, value)) for path, value in iter_leaves(doc)]
