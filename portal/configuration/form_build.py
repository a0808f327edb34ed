"""Building the schema-driven configuration form (SPEC §3).

``build_form`` turns a template's JSON Schema, the values being edited and (optionally)
errors and provenance into a tree of plain ``FormNode`` dataclasses that the macros in
``templates/configuration/_config_form.html`` render: each field with its bounds, help,
errors, the layer its value comes from and a "reset to inherited" control where this layer
overrides it. Reading the submission back is :mod:`portal.configuration.form_parse`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from portal.configuration.form_fields import (
    MISSING,
    ROW_INDEX,
    check_prefix,
    join_path,
    object_properties,
    required_keys,
    schema_kind,
)
from portal.configuration.labels import bounds as _bounds
from portal.configuration.labels import (
    description_of,
    humanise,
    item_title,
    key_label,
    option_label,
    shown_number,
    title_of,
    value_text,
    yes_no,
)
from portal.configuration.labels import map_pairs as _map_pairs
from portal.configuration.schema_i18n import first_localized
from portal.i18n import _, _l, current_language

__all__ = ["FormNode", "Option", "build_form", "humanise"]

LAYERS = ("template", "program", "campaign")
SOURCE_TEXT = {"template": _l("from template"), "program": _l("set in program"), "campaign": _l("set in campaign")}
# Settings most people never change sit in a collapsed "Advanced" section unless the
# ui_schema says otherwise ("ui:advanced": true or false on any property).
DEFAULT_ADVANCED = frozenset({"impact"})


# --------------------------------------------------------------------------- the tree


@dataclass
class Option:
    value: str
    label: str
    selected: bool = False  # selected <option> / checked checkbox or radio
    id: str = ""  # for checkbox groups and radios: the input's id


@dataclass
class FormNode:
    """One node of a configuration form.

    kind: "root" (the top object), "fieldset" (object with properties), "integer",
    "number", "string", "textarea", "select", "radio", "boolean", "checkboxes" (array of
    string enums), "list" (array of scalars; children are its rows), "rows" (array of
    objects; children are "row" nodes), "row", "map" (string → number object; children are
    "map_row" nodes whose two children are the key and the value), "unsupported".
    """

    kind: str
    path: str  # dotted JSON path without the prefix: "session.defaultDurationMinutes"
    name: str  # HTML name: "cfg.session.defaultDurationMinutes"
    id: str  # HTML id: "cfg-session-defaultDurationMinutes"
    label: str
    help: str = ""
    value: str = ""  # text for the input
    checked: bool = False  # booleans
    required: bool = False
    min: str | None = None
    max: str | None = None
    step: str | None = None  # "1" for integers, "any" for numbers
    maxlength: int | None = None
    bounds: str = ""  # "15–180", "at least 1" (also part of help)
    options: list[Option] = field(default_factory=list)
    children: list[FormNode] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    locked: bool = False  # x-locked and this form may not change it: rendered disabled
    lockable: bool = False  # x-locked in the schema (shown as a note in read-only previews)
    readonly: bool = False
    in_row: bool = False  # inside an array row (no provenance badge of its own)
    depth: int = 0
    display: str = ""  # the value as text, for read-only rendering
    item_label: str = ""  # arrays and maps: what one row is called ("Milestone")
    column_labels: tuple[str, str] = ("", "")  # maps: ("Name", "Weight")
    add_action: str = ""  # "add:cfg.progression.milestones"
    remove_action: str = ""  # "remove:cfg.progression.milestones.2"
    reset_action: str = ""  # "reset:cfg.session.defaultDurationMinutes"
    source: str | None = None  # layer that set the current value
    source_class: str = ""  # "program" (safe CSS modifier)
    source_text: str = ""  # "set in program"
    inherited_display: str = ""  # "60": what the field would be without this layer
    is_overridden: bool = False
    advanced: bool = False  # shown in the collapsed "Advanced" section of its parent

    @property
    def basic_children(self) -> list[FormNode]:
        return [c for c in self.children if not c.advanced]

    @property
    def advanced_children(self) -> list[FormNode]:
        return [c for c in self.children if c.advanced]

    focused: bool = False  # the add/remove/reset just applied was at or below this node

    @property
    def has_errors_below(self) -> bool:
        """Does this node or anything beneath it carry an error?"""
        return any(n.errors for n in self.walk())

    @property
    def wants_open(self) -> bool:
        """An "Advanced" section holding this node opens by itself when something in it has an
        error, is overridden by the layer being edited, or was just added, removed or reset."""
        return any(n.errors or n.is_overridden or n.focused for n in self.walk())

    @property
    def has_error_slot(self) -> bool:
        return self.kind != "map_row"

    def walk(self) -> Iterator[FormNode]:
        """This node and every node below it, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


# --------------------------------------------------------------------------- labels and text


def _ui(ui: Any, key: str | None = None) -> dict[str, Any]:
    if not isinstance(ui, dict):
        return {}
    if key is None:
        return ui
    sub = ui.get(key)
    return sub if isinstance(sub, dict) else {}


def _ordered(props: dict[str, Any], ui: dict[str, Any]) -> list[str]:
    """ui:order first ("*" marks where the rest go), then the remaining properties in schema order."""
    order = ui.get("ui:order")
    if not isinstance(order, list):
        return list(props)
    listed = [k for k in dict.fromkeys(x for x in order if isinstance(x, str)) if k in props or k == "*"]
    rest = [k for k in props if k not in listed]
    if "*" in listed:
        i = listed.index("*")
        return listed[:i] + rest + listed[i + 1:]
    return listed + rest


def _scalar_text(value: Any, kind: str) -> str:
    """What goes in an input's value attribute."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if kind == "integer" and isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _get(data: Any, path: str) -> Any:
    if path == "":
        return data
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and ROW_INDEX.fullmatch(part) and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def _html_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


# --------------------------------------------------------------------------- build


def build_form(
    schema: dict[str, Any],
    values: Any,
    *,
    ui_schema: dict[str, Any] | None = None,
    prefix: str = "cfg",
    errors: dict[str, list[str]] | None = None,
    inherited: Any = None,
    provenance: dict[str, str] | None = None,
    readonly: bool = False,
    current_layer: str | None = None,
    enforce_locks: bool | None = None,
    omit: frozenset[str] | set[str] | tuple[str, ...] = (),
    focus: str | None = None,
) -> FormNode:
    """The form tree for ``values`` (full effective config, or the defaults) under ``schema``.

    ``current_layer`` names the layer this form edits ("program", "campaign"); None means
    the template's defaults form. ``enforce_locks`` (default: a layer is given) renders
    "x-locked" fields disabled: programs and campaigns may not override them, the template
    author may. Errors on paths without a node of their own show at the nearest ancestor.
    ``omit`` names settings (dotted paths) this form leaves out altogether, e.g. the impact
    section of a campaign's form (SPEC §2.11). ``focus`` is the dotted path of the add/remove/
    reset just applied, so the section holding it stays open.
    """
    check_prefix(prefix)
    builder = _Builder(
        prefix=prefix,
        inherited=inherited,
        provenance=provenance if isinstance(provenance, dict) else None,
        readonly=readonly,
        current_layer=current_layer,
        enforce_locks=(current_layer is not None) if enforce_locks is None else enforce_locks,
        omit=frozenset(omit),
    )
    root_schema = schema if isinstance(schema, dict) else {}
    label = first_localized((root_schema,), "title") or (
        root_schema.get("title") if isinstance(root_schema.get("title"), str) else _("Configuration"))
    root = builder.object_node(root_schema, _ui(ui_schema), "", values, label=label, kind="root",
                               locked=False, in_row=False, depth=0)
    _attach_errors(root, errors or {})
    if focus:
        for node in root.walk():
            if node.path and (focus == node.path or focus.startswith(node.path + ".")):
                node.focused = True
    return root


def _attach_errors(root: FormNode, errors: dict[str, Any]) -> None:
    index: dict[str, FormNode] = {}
    for node in root.walk():
        if node.kind == "map_row" or (node.path == "" and node is not root):
            continue
        index.setdefault(node.path, node)
    for path, messages in errors.items():
        path = str(path) if path is not None else ""
        target = path
        while target not in index:
            target = target.rpartition(".")[0] if "." in target else ""
        node = index[target]
        for m in [messages] if isinstance(messages, str) else list(messages or []):
            if str(m) not in node.errors:
                node.errors.append(str(m))


@dataclass
class _Builder:
    prefix: str
    inherited: Any
    provenance: dict[str, str] | None
    readonly: bool
    current_layer: str | None
    enforce_locks: bool
    omit: frozenset[str] = frozenset()

    def name(self, path: str) -> str:
        return join_path(self.prefix, path) if path else self.prefix

    def base(self, kind: str, path: str, label: str, **kw: Any) -> FormNode:
        name = self.name(path)
        return FormNode(kind=kind, path=path, name=name, id=_html_id(name), label=label, readonly=self.readonly, **kw)

    def node(self, schema: dict[str, Any], ui: dict[str, Any], key: str, path: str, value: Any, *,
             required: bool, locked: bool, in_row: bool, depth: int, label: str | None = None) -> FormNode:
        kind = schema_kind(schema)
        lockable = bool(schema.get("x-locked")) or locked
        locked = locked or (bool(schema.get("x-locked")) and self.enforce_locks)
        if label is None:
            label = title_of(schema, ui, key)
        if kind == "fieldset":
            node = self.object_node(schema, ui, path, value, label=label, kind="fieldset",
                                    locked=locked, in_row=in_row, depth=depth)
        elif kind == "rows":
            node = self.rows_node(schema, ui, path, value, label, locked, depth)
        elif kind == "list":
            node = self.list_node(schema, ui, path, value, label, locked, depth)
        elif kind == "checkboxes":
            node = self.checkboxes_node(schema, ui, path, value, label, locked)
        elif kind == "map":
            node = self.map_node(schema, ui, path, value, label, locked, depth)
        elif kind == "unsupported":
            node = self.base("unsupported", path, label, display=value_text(value, schema, ui))
        else:
            node = self.leaf(schema, ui, kind, path, value, label, required=required, locked=locked)
        node.lockable, node.locked, node.in_row, node.depth = lockable, locked, in_row, depth
        node.required = required and kind != "fieldset"
        flag = ui.get("ui:advanced")
        node.advanced = flag if isinstance(flag, bool) else (not in_row and path in DEFAULT_ADVANCED)
        help_text = description_of(schema, ui)
        if node.bounds:
            allowed = _("Allowed: %(bounds)s.", bounds=node.bounds)
            help_text = f"{help_text} {allowed}".strip()
        node.help = help_text
        if not in_row and kind not in ("fieldset", "unsupported"):
            self.provenance_of(node, schema, ui)
        return node

    def object_node(self, schema: dict[str, Any], ui: dict[str, Any], path: str, value: Any, *, label: str,
                    kind: str, locked: bool, in_row: bool, depth: int) -> FormNode:
        node = self.base(kind, path, label)
        props = object_properties(schema)
        required = required_keys(schema)
        values = value if isinstance(value, dict) else {}
        for key in _ordered(props, ui):
            if join_path(path, key) in self.omit:
                continue
            node.children.append(self.node(
                props[key], _ui(ui, key), key, join_path(path, key), values.get(key, MISSING),
                required=key in required, locked=locked, in_row=in_row, depth=depth + 1))
        return node

    def leaf(self, schema: dict[str, Any], ui: dict[str, Any], kind: str, path: str, value: Any, label: str, *,
             required: bool, locked: bool) -> FormNode:
        widget = ui.get("ui:widget")
        node = self.base(kind, path, label)
        if kind == "boolean":
            node.checked = value is True
            node.value = "true"
            node.display = yes_no(value) if isinstance(value, bool) else ""
        elif kind == "select":
            text = _scalar_text(value, kind)
            enum = schema["enum"]
            if widget == "radio":
                node.kind = "radio"
            node.options = [Option(v, option_label(v, schema, ui), v == text, f"{node.id}-{i}")
                            for i, v in enumerate(enum)]
            node.value = text
            node.display = next((o.label for o in node.options if o.selected), text)
        else:
            node.value = _scalar_text(value, kind)
            node.display = node.value
            if kind in ("integer", "number") and current_language() != "en" and value is not MISSING:
                node.display = shown_number(value)
            if kind in ("integer", "number"):
                node.bounds, node.min, node.max = _bounds(schema)
                node.step = "1" if kind == "integer" else "any"
            else:
                if widget == "textarea":
                    node.kind = "textarea"
                ml = schema.get("maxLength")
                node.maxlength = ml if isinstance(ml, int) and not isinstance(ml, bool) and ml > 0 else None
        return node

    def item_label(self, schema: dict[str, Any], ui: dict[str, Any], fallback: str) -> str:
        return item_title(schema, ui, fallback)

    def add_remove(self, node: FormNode, locked: bool) -> None:
        if not (locked or self.readonly):
            node.add_action = f"add:{node.name}"
            for child in node.children:
                child.remove_action = f"remove:{child.name}"

    def rows_node(self, schema: dict[str, Any], ui: dict[str, Any], path: str, value: Any, label: str,
                  locked: bool, depth: int) -> FormNode:
        node = self.base("rows", path, label, item_label=self.item_label(schema, ui, _("Row")))
        items, item_ui = schema["items"], _ui(ui, "items")
        for i, row in enumerate(value if isinstance(value, list) else []):
            node.children.append(self.object_node(
                items, item_ui, join_path(path, i), row, label=f"{node.item_label} {i + 1}", kind="row",
                locked=locked, in_row=True, depth=depth + 1))
        for row in node.children:
            row.locked, row.in_row = locked, True
        self.add_remove(node, locked)
        node.display = value_text(value, schema, ui)
        return node

    def list_node(self, schema: dict[str, Any], ui: dict[str, Any], path: str, value: Any, label: str,
                  locked: bool, depth: int) -> FormNode:
        item_label = self.item_label(schema, ui, _("Item"))
        node = self.base("list", path, label, item_label=item_label)
        items, item_ui = schema["items"], _ui(ui, "items")
        for i, item in enumerate(value if isinstance(value, list) else []):
            child = self.node(items, item_ui, str(i), join_path(path, i), item, required=False, locked=locked,
                              in_row=True, depth=depth + 1, label=f"{item_label} {i + 1}")
            node.children.append(child)
        self.add_remove(node, locked)
        node.display = value_text(value, schema, ui)
        return node

    def checkboxes_node(self, schema: dict[str, Any], ui: dict[str, Any], path: str, value: Any, label: str,
                        locked: bool) -> FormNode:
        node = self.base("checkboxes", path, label)
        items = schema["items"]
        chosen = {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()
        node.options = [Option(v, option_label(v, items, _ui(ui, "items")), v in chosen, f"{node.id}-{i}")
                        for i, v in enumerate(items["enum"])]
        node.display = ", ".join(o.label for o in node.options if o.selected) or _("None")
        return node

    def map_node(self, schema: dict[str, Any], ui: dict[str, Any], path: str, value: Any, label: str,
                 locked: bool, depth: int) -> FormNode:
        entry = schema["additionalProperties"]
        value_kind = schema_kind(entry)
        key_title = ui.get("ui:keyTitle") if isinstance(ui.get("ui:keyTitle"), str) else _("Name")
        value_label = first_localized((entry,), "title") or (
            entry.get("title") if isinstance(entry.get("title"), str) else _("Value"))
        node = self.base("map", path, label, item_label=_("Entry"), column_labels=(key_title, value_label))
        node.bounds = (_bounds(entry) if value_kind in ("integer", "number") else ("", None, None))[0]
        pairs = _map_pairs(value)
        for i, (key, val) in enumerate(pairs):
            row_name = join_path(node.name, i)
            row = FormNode(kind="map_row", path=join_path(path, key) if key else "", name=row_name,
                           id=_html_id(row_name), label=f"{label} {i + 1}", readonly=self.readonly,
                           in_row=True, locked=locked, depth=depth + 1)
            key_node = FormNode(kind="string", path="", name=f"{row_name}.__key", id=_html_id(f"{row_name}.__key"),
                                label=f"{key_title} {i + 1}", value=key, display=key_label(key, ui, schema),
                                readonly=self.readonly,
                                in_row=True, locked=locked, required=True, depth=depth + 2)
            val_node = self.leaf(entry, {}, value_kind, row.path, val, f"{value_label} {i + 1}", required=True,
                                 locked=locked)
            val_node.name, val_node.id = f"{row_name}.__value", _html_id(f"{row_name}.__value")
            val_node.in_row, val_node.locked, val_node.required, val_node.depth = True, locked, True, depth + 2
            row.children = [key_node, val_node]
            row.display = key
            node.children.append(row)
        self.add_remove(node, locked)
        node.display = value_text(value, schema, ui)
        return node

    def provenance_of(self, node: FormNode, schema: dict[str, Any], ui: dict[str, Any]) -> None:
        if self.inherited is not None:
            node.inherited_display = value_text(_get(self.inherited, node.path), schema, ui)
        if self.provenance is None:
            return
        source = self.provenance.get(node.path)
        if source is None:
            below = [layer for p, layer in self.provenance.items()
                     if isinstance(p, str) and p.startswith(node.path + ".")]
            if below:
                source = max(below, key=lambda layer: LAYERS.index(layer) if layer in LAYERS else -1)
        if not isinstance(source, str):
            return
        node.source = source
        node.source_class = source if source in LAYERS else "other"
        node.source_text = str(SOURCE_TEXT[source]) if source in SOURCE_TEXT else _("set in %(layer)s", layer=source)
        node.is_overridden = self.current_layer is not None and source == self.current_layer
        if node.is_overridden and not (node.locked or self.readonly):
            node.reset_action = f"reset:{node.name}"
