"""One configuration layer (a program's or a campaign's overrides): the rule every layer
must satisfy (:func:`layer_problems`), and editing a layer through the schema-driven form,
the one path that program and campaign screens share.

The form shows the full effective value of every field, where it comes from, and a
reset control on the fields this layer overrides; what is stored is sparse: only the
leaves that differ from what the layer inherits."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal.configuration.form_build import FormNode, build_form
from portal.configuration.form_fields import errors_by_path, merge_errors
from portal.configuration.form_parse import parse_form
from portal.configuration.locks import locked_override_errors
from portal.configuration.merge import deep_merge, effective_config, effective_with_provenance, sparse_overrides
from portal.configuration.paths import ConfigError, get_path, set_path
from portal.configuration.validation import config_errors


def layer_problems(schema: dict[str, Any], inherited: dict[str, Any], overrides: dict[str, Any] | None
                   ) -> list[ConfigError]:
    """A layer's overrides may not touch a locked setting, and what they make of the config
    they inherit (template defaults, plus the program's layer for a campaign) must validate.
    Lock errors come alone: the effective config is checked only when there are none."""
    return locked_override_errors(schema, overrides) or config_errors(schema, effective_config(inherited, overrides))


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
    problems = layer_problems(context.schema, inherited, overrides)
    return LayerSubmission(overrides, display, merge_errors(parsed.errors, errors_by_path(problems)))
