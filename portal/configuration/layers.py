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
from portal.configuration.form_fields import form_errors
from portal.configuration.form_parse import parse_form
from portal.configuration.labels import SettingLabels
from portal.configuration.locks import locked_override_errors, touches_lock
from portal.configuration.merge import deep_merge, effective_config, effective_with_provenance, sparse_overrides
from portal.configuration.paths import ConfigError, get_path, has_path, iter_leaves, set_path
from portal.configuration.validation import config_errors
from portal.i18n import _l

IMPACT_REFUSED_MESSAGE = _l("Impact settings come from the template and the program only: a campaign's sponsor "
                            "never sets the weights its own impact is measured with.")
# Settings a layer may not override, with the reason (SPEC §2.11: impact.* comes from the
# template and program layers only). Their forms leave them out altogether.
CLOSED_SECTIONS: dict[str, dict[str, Any]] = {"campaign": {"impact": IMPACT_REFUSED_MESSAGE}}


def closed_sections(layer: str | None) -> dict[str, Any]:
    """{dotted path: reason} of the settings ``layer`` may not override."""
    return CLOSED_SECTIONS.get(layer or "", {})


def closed_override_errors(layer: str | None, overrides: dict[str, Any] | None) -> list[ConfigError]:
    """One error per override leaf that changes a setting closed to ``layer``."""
    closed = closed_sections(layer)
    if not closed or not overrides:
        return []
    return sorted({ConfigError(path, reason) for path, value in iter_leaves(overrides)
                   for section, reason in closed.items() if touches_lock(path, value, section)},
                  key=lambda e: e.path)


def layer_problems(schema: dict[str, Any], inherited: dict[str, Any], overrides: dict[str, Any] | None,
                   layer: str | None = None) -> list[ConfigError]:
    """A layer's overrides may not touch a locked setting nor one closed to the layer (a
    campaign's impact settings), and what they make of the config they inherit (template
    defaults, plus the program's layer for a campaign) must validate. Lock and closed-setting
    errors come alone: the effective config is checked only when there are none."""
    refused = sorted({*locked_override_errors(schema, overrides), *closed_override_errors(layer, overrides)},
                     key=lambda e: (e.path, e.message))
    return refused or config_errors(schema, effective_config(inherited, overrides))


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
             errors: dict[str, list[str]] | None = None, readonly: bool = False,
             focus: str | None = None) -> FormNode:
        effective, provenance = self.effective(overrides)
        return build_form(self.schema, effective if values is None else values, ui_schema=self.ui_schema,
                          errors=errors or {}, inherited=self.inherited, provenance=provenance,
                          readonly=readonly, current_layer=self.layer, omit=self.omitted, focus=focus)

    @property
    def labels(self) -> SettingLabels:
        return SettingLabels(self.schema, self.ui_schema)

    @property
    def omitted(self) -> frozenset[str]:
        """Settings this layer's form leaves out (closed to the layer)."""
        return frozenset(closed_sections(self.layer))


@dataclass
class LayerSubmission:
    overrides: dict[str, Any]  # sparse, ready to store when ``errors`` is empty and ``action`` is None
    display: Any  # what to re-render in the form
    errors: dict[str, list[str]] = field(default_factory=dict)
    action: tuple[str, str] | None = None  # an add/remove/reset that changed the form, not a save

    @property
    def focus(self) -> str | None:
        """The dotted path the add/remove/reset acted on (its section stays open)."""
        return self.action[1] if self.action else None


def read_layer_form(context: LayerContext, formdata: Any, current_overrides: dict[str, Any] | None
                    ) -> LayerSubmission:
    """Parse a submitted layer form, apply its add/remove/reset action, validate the result.
    Settings the form leaves out keep what the layer already had: an override of a closed
    setting (posted, or carried in the layer) is refused by :func:`layer_problems`, never
    silently dropped."""
    inherited = context.inherited
    current_effective, _ = context.effective(current_overrides)
    parsed = parse_form(context.schema, formdata, current=current_effective, omit=context.omitted)
    candidate = deep_merge(inherited, parsed.value)
    for path in context.omitted:
        if has_path(current_overrides or {}, path) and not has_path(parsed.value, path):
            candidate = set_path(candidate, path, get_path(current_effective, path))
    display = parsed.display
    if parsed.action is not None:
        verb, path = parsed.action
        if verb == "reset":
            candidate = set_path(candidate, path, get_path(inherited, path, None))
            display = set_path(display, path, get_path(inherited, path, None))
        return LayerSubmission(sparse_overrides(inherited, candidate), display, {}, parsed.action)
    overrides = sparse_overrides(inherited, candidate)
    problems = layer_problems(context.schema, inherited, overrides, context.layer)
    return LayerSubmission(overrides, display, form_errors(parsed.errors, problems))
