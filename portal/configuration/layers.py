"""Editing one configuration layer (a program's or a campaign's overrides) through the
schema-driven form: the one path that program and campaign screens share.

The form shows the full effective value of every field, where it comes from, and a
reset control on the fields this layer overrides; what is stored is sparse: only the
leaves that differ from what the layer inherits."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.configuration.engine import (
    config_errors,
    deep_merge,
    effective_with_provenance,
    get_path,
    locked_override_errors,
    set_path,
    sparse_overrides,
)
from portal.configuration.forms import FormNode, build_form, errors_by_path, merge_errors, parse_form


@dataclass
class LayerContext:
    """What one layer inherits: the schema, the merged value of the layers above it, and
    the layers themselves (for provenance), e.g. [("program", {...})] for a campaign."""

    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None
    defaults: dict[str, Any]
    upper_layers: list[tuple[str, dict[str, Any] | None]]
    layer: str  # "program" or "campaign"

    @property
    def inherited(self) -> dict[str, Any]:
        return effective_with_provenance(self.defaults, *self.upper_layers)[0]

    def effective(self, overrides: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, str]]:
        return effective_with_provenance(self.defaults, *self.upper_layers, (self.layer, overrides or {}))

    def form(self, overrides: dict[str, Any] | None, *, values: Any = None,
             errors: dict[str, list[str]] | None = None, readonly: bool = False) -> FormNode:
        effective, provenance = self.effective(overrides)
        return build_form(self.schema, effective if values is None else values, ui_schema=self.ui_schema,
                          errors=errors or {}, inherited=self.inherited, provenance=provenance,
                          readonly=readonly, current_layer=self.layer)


@dataclass
class LayerSubmission:
    overrides: dict[str, Any]  # sparse, ready to store when ``errors`` is empty and ``action`` is None
    display: Any  # what to re-render in the form
    errors: dict[str, list[str]] = field(default_factory=dict)
    action: tuple[str, str] | None = None  # an add/remove/reset that changed the form, not a save


def read_layer_form(context: LayerContext, formdata: Any, current_overrides: dict[str, Any] | None
                    ) -> LayerSubmission:
    """Parse a submitted layer form, apply its add/remove/reset action, validate the result."""
    inherited = context.inherited
    current_effective, _ = context.effective(current_overrides)
    parsed = parse_form(context.schema, formdata, current=current_effective)
    candidate = deep_merge(inherited, parsed.value)
    display = parsed.display
    if parsed.action is not None:
        verb, path = parsed.action
        if verb == "reset":
            candidate = set_path(candidate, path, get_path(inherited, path, None))
            display = set_path(display, path, get_path(inherited, path, None))
        return LayerSubmission(sparse_overrides(inherited, candidate), display, {}, parsed.action)
    overrides = sparse_overrides(inherited, candidate)
    problems = locked_override_errors(context.schema, overrides) or config_errors(context.schema, candidate)
    return LayerSubmission(overrides, display, merge_errors(parsed.errors, errors_by_path(problems)))
