"""Template versions (SPEC §3): what changed between two versions of a template's schema,
what becomes of a program's overrides when it upgrades, and defaults refitted when a draft's
schema changes."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from portal.configuration.labels import SettingLabels, limits_text, option_label, type_text
from portal.configuration.locks import LOCKED_MESSAGE, locked_paths, touches_lock
from portal.configuration.merge import effective_config, remove_override
from portal.configuration.paths import MISSING, Path, get_path, has_path, iter_leaves, same_json, schema_at
from portal.configuration.validation import config_errors
from portal.i18n import _, _l

REMOVED_MESSAGE = _l("This setting no longer exists in the template.")

KIND_TEXT = {"added": _l("Added"), "removed": _l("Removed"), "default_changed": _l("Default changed"),
             "bounds_changed": _l("Allowed values changed"), "type_changed": _l("Kind of value changed"),
             "enum_changed": _l("Options changed"), "locked_changed": _l("Lock changed")}
STATUS_TEXT = {"kept": _l("Kept"), "invalid": _l("Invalid in the new version"),
               "locked": _l("Locked in the new version"), "removed": _l("Removed from the template")}


@dataclass(frozen=True)
class DiffEntry:
    kind: str  # added | removed | default_changed | bounds_changed | type_changed | enum_changed | locked_changed
    path: str
    old: Any
    new: Any
    # In people's words (portal.configuration.labels), for the compare and upgrade screens.
    label: str = field(default="", compare=False)
    old_text: str = field(default="", compare=False)
    new_text: str = field(default="", compare=False)

    @property
    def kind_text(self) -> str:
        return str(KIND_TEXT[self.kind]) if self.kind in KIND_TEXT else self.kind.replace("_", " ")


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
        return sub.get("default", MISSING)
    return get_path(defaults, path) if has_path(defaults, path) else MISSING


def _entry_text(kind: str, value: Any, node: dict[str, Any] | None, labels: SettingLabels, path: str) -> str:
    """One side of a diff entry in words ("" when that side has nothing)."""
    if kind == "bounds_changed":  # the whole range, not just the keyword that moved: "1–12"
        return limits_text({k: node.get(k) for k in BOUND_KEYWORDS} if isinstance(node, dict) else value)
    if kind == "type_changed":
        return type_text(value)
    if kind == "enum_changed":
        return ", ".join(option_label(v, node, None) for v in value) if isinstance(value, list) else _("any text")
    if kind == "locked_changed":
        return _("Locked") if value else _("Not locked")
    if value is None:
        return ""
    return labels.value(path, value)


def schema_diff(
    old_schema: dict[str, Any], old_defaults: dict[str, Any], new_schema: dict[str, Any], new_defaults: dict[str, Any],
    *, old_ui: dict[str, Any] | None = None, new_ui: dict[str, Any] | None = None,
) -> list[DiffEntry]:
    """What changed between two versions of a template, sorted by (path, kind).

    Only the topmost added or removed property is reported (not everything beneath it).
    ``bounds_changed`` carries dicts of the bound keywords that differ (``None`` = absent).
    Defaults are compared for leaf properties, from the defaults documents. Each entry also
    carries its setting's label and both sides in words, from each version's schema titles
    and (when given) its ui_schema.
    """
    entries = _raw_diff(old_schema, old_defaults, new_schema, new_defaults)
    old_labels, new_labels = SettingLabels(old_schema, old_ui), SettingLabels(new_schema, new_ui)
    old_nodes, new_nodes = _diff_nodes(old_schema), _diff_nodes(new_schema)
    labelled = []
    for e in entries:
        labels = old_labels if e.kind == "removed" else new_labels
        labelled.append(DiffEntry(
            e.kind, e.path, e.old, e.new, label=labels.label(e.path),
            old_text=_entry_text(e.kind, e.old, old_nodes.get(e.path), old_labels, e.path),
            new_text=_entry_text(e.kind, e.new, new_nodes.get(e.path), new_labels, e.path)))
    return labelled


def _raw_diff(
    old_schema: dict[str, Any], old_defaults: dict[str, Any], new_schema: dict[str, Any], new_defaults: dict[str, Any]
) -> list[DiffEntry]:
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
            entries.append(DiffEntry("added", path, None, None if value is MISSING else value))
    reported = set()
    for path in removed:
        if not below_reported(path, reported):
            reported.add(path)
            value = _default_of(old_defaults, path, old_nodes[path])
            entries.append(DiffEntry("removed", path, None if value is MISSING else value, None))

    for path in sorted(set(old_nodes) & set(new_nodes)):
        old, new = old_nodes[path], new_nodes[path]
        if not same_json(old.get("type"), new.get("type")):
            entries.append(DiffEntry("type_changed", path, old.get("type"), new.get("type")))
        if not same_json(old.get("enum"), new.get("enum")):
            entries.append(DiffEntry("enum_changed", path, old.get("enum"), new.get("enum")))
        changed = [k for k in BOUND_KEYWORDS if not same_json(old.get(k), new.get(k))]
        if changed:
            entries.append(DiffEntry("bounds_changed", path, {k: old.get(k) for k in changed},
                                     {k: new.get(k) for k in changed}))
        if bool(old.get("x-locked")) != bool(new.get("x-locked")):
            entries.append(DiffEntry("locked_changed", path, bool(old.get("x-locked")), bool(new.get("x-locked"))))
        is_leaf = not (isinstance(new.get("properties"), dict) and new["properties"]) and not (
            isinstance(old.get("properties"), dict) and old["properties"])
        if is_leaf:
            old_default, new_default = _default_of(old_defaults, path, old), _default_of(new_defaults, path, new)
            if not same_json(old_default, new_default):
                entries.append(DiffEntry("default_changed", path, None if old_default is MISSING else old_default,
                                         None if new_default is MISSING else new_default))
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
        elif any(touches_lock(path, value, lock) for lock in locked):
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


@dataclass(frozen=True)
class OverrideOutcome:
    """What becomes of one override leaf when its program upgrades."""

    path: str
    status: str  # kept | invalid | locked | removed
    message: str
    value: Any  # the override's current value
    label: str  # the setting in people's words
    value_text: str

    @property
    def status_text(self) -> str:
        return str(STATUS_TEXT[self.status]) if self.status in STATUS_TEXT else self.status

    @property
    def blocks(self) -> bool:
        return self.status != "kept"


def override_outcomes(current_schema: dict[str, Any], current_ui: dict[str, Any] | None,
                      new_schema: dict[str, Any], new_defaults: dict[str, Any],
                      overrides: dict[str, Any] | None) -> list[OverrideOutcome]:
    """:func:`override_report` with each override's value and label (labelled by the version
    the program uses now: a removed setting has no label in the new one)."""
    labels = SettingLabels(current_schema, current_ui)
    return [OverrideOutcome(path, status, message, get_path(overrides, path, None), labels.label(path),
                            labels.value(path, get_path(overrides, path, None)))
            for path, status, message in override_report(new_schema, new_defaults, overrides)]


def without_overrides(overrides: dict[str, Any] | None, paths: list[str]) -> dict[str, Any]:
    """``overrides`` with the leaves at ``paths`` dropped (emptied objects pruned): what a
    program keeps when it upgrades dropping the overrides the new version refuses."""
    result = copy.deepcopy(overrides or {})
    for path in paths:
        result = remove_override(result, path)
    return result


@dataclass(frozen=True)
class DroppedOverride:
    """An override an upgrade would drop, and what the setting becomes without it."""

    path: str
    label: str
    value_text: str  # the program's value now
    becomes_text: str  # the new version's value ("" when the setting no longer exists)
    reason: str  # the outcome's status text


@dataclass(frozen=True)
class UpgradeReview:
    """Everything the upgrade review shows, and the one rule of what an upgrade may drop."""

    diff: list[DiffEntry]
    outcomes: list[OverrideOutcome]
    drops: list[DroppedOverride]  # the overrides the new version refuses, in path order
    kept_overrides: dict[str, Any]  # the program's overrides once they are dropped
    remaining_problems: list[Any]  # what is still wrong with the kept overrides (ConfigError)

    @property
    def blocking_paths(self) -> list[str]:
        return [d.path for d in self.drops]

    @property
    def can_apply(self) -> bool:
        """Upgrade as it is: every override fits the new version."""
        return not self.drops and not self.remaining_problems

    @property
    def can_drop(self) -> bool:
        """Upgrade dropping the overrides that don't fit: what is left must fit."""
        return bool(self.drops) and not self.remaining_problems


def review_upgrade(current_schema: dict[str, Any], current_defaults: dict[str, Any], current_ui: dict[str, Any] | None,
                   new_schema: dict[str, Any], new_defaults: dict[str, Any], new_ui: dict[str, Any] | None,
                   overrides: dict[str, Any] | None) -> UpgradeReview:
    """The diff between two versions, what becomes of each override, which overrides an
    upgrade must drop (invalid, locked or removed in the new version) and whether what is left
    then fits the new version (the layer rule, :func:`~portal.configuration.layers.layer_problems`)."""
    from portal.configuration.layers import layer_problems

    overrides = overrides or {}
    outcomes = override_outcomes(current_schema, current_ui, new_schema, new_defaults, overrides)
    blocking = [o for o in outcomes if o.blocks]
    kept = without_overrides(overrides, [o.path for o in blocking])
    becomes = effective_config(new_defaults, kept)
    new_labels = SettingLabels(new_schema, new_ui)
    drops = [DroppedOverride(o.path, o.label, o.value_text,
                             new_labels.value(o.path, get_path(becomes, o.path, None))
                             if o.status != "removed" and schema_at(new_schema, o.path) is not None else "",
                             o.status_text)
             for o in blocking]
    return UpgradeReview(
        diff=schema_diff(current_schema, current_defaults, new_schema, new_defaults, old_ui=current_ui, new_ui=new_ui),
        outcomes=outcomes, drops=drops, kept_overrides=kept,
        remaining_problems=layer_problems(new_schema, new_defaults, kept, "program"))
