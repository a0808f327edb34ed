"""Configuration engine on a synthetic 1,000-leaf template: validation, provenance, sparse overrides."""
from __future__ import annotations

import random
import statistics
import time
from typing import Any

from bench.harness import Report, time_ms

SECTIONS, GROUPS, FIELDS = 10, 10, 10  # 10 × 10 × 10 = 1,000 leaves
ENUM = ["alpha", "beta", "gamma", "delta"]


def synthetic_template() -> tuple[dict[str, Any], dict[str, Any]]:
    """A schema with 1,000 leaves — bounded integers, booleans, enums and a few arrays — and its defaults."""
    sections: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    rules = []
    for s in range(SECTIONS):
        groups, group_defaults = {}, {}
        for g in range(GROUPS):
            fields, field_defaults = {}, {}
            for f in range(FIELDS):
                name, kind = f"f{f}", (s * 100 + g * 10 + f) % 10
                if kind == 9 and g % 3 == 0:  # a few arrays
                    fields[name] = {"type": "array", "title": name, "items": {"type": "string", "enum": ENUM},
                                    "maxItems": 4, "uniqueItems": True}
                    field_defaults[name] = ["alpha", "beta"]
                elif kind in (7, 8, 9):
                    fields[name] = {"type": "string", "title": name, "enum": ENUM}
                    field_defaults[name] = ENUM[f % 4]
                elif kind == 6:
                    fields[name] = {"type": "boolean", "title": name}
                    field_defaults[name] = bool(f % 2)
                else:
                    fields[name] = {"type": "integer", "title": name, "minimum": 0, "maximum": 1000}
                    field_defaults[name] = 10 * f
            groups[f"g{g}"] = {"type": "object", "title": f"g{g}", "properties": fields,
                               "required": list(fields), "additionalProperties": False}
            group_defaults[f"g{g}"] = field_defaults
            rules.append({"rule": "lte", "left": f"s{s}.g{g}.f0", "right": f"s{s}.g{g}.f1"})
        sections[f"s{s}"] = {"type": "object", "title": f"s{s}", "properties": groups,
                             "required": list(groups), "additionalProperties": False}
        defaults[f"s{s}"] = group_defaults
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "properties": sections, "required": list(sections), "additionalProperties": False,
              "x-rules": rules}
    return schema, defaults


def synthetic_overrides(defaults: dict[str, Any], seed: int, count: int = 50) -> dict[str, Any]:
    """Overrides changing ``count`` integer leaves to other valid values."""
    from portal.configuration.paths import iter_leaves, set_path

    rng = random.Random(seed)
    ints = [path for path, value in iter_leaves(defaults)
            if isinstance(value, int) and not isinstance(value, bool) and not path.endswith((".f0", ".f1"))]
    overrides: dict[str, Any] = {}
    for path in rng.sample(ints, count):
        overrides = set_path(overrides, path, rng.randrange(0, 1000))
    return overrides


def run(report: Report, repeat: int = 200) -> None:
    from portal.configuration import validation
    from portal.configuration.merge import effective_config, effective_with_provenance, sparse_overrides
    from portal.configuration.paths import count_leaves
    from portal.configuration.validation import config_errors

    schema, defaults = synthetic_template()
    assert count_leaves(schema) == SECTIONS * GROUPS * FIELDS
    program, campaign = synthetic_overrides(defaults, 1), synthetic_overrides(defaults, 2)
    inherited = effective_config(defaults, program)
    effective = effective_config(inherited, campaign)
    assert config_errors(schema, effective) == []

    # cold: compiled validator and schema check not cached yet (first request after a template changes)
    cold = []
    for _ in range(5):
        validation._validator.cache_clear()
        validation._schema_problems.cache_clear()
        start = time.perf_counter()
        config_errors(schema, effective)
        cold.append((time.perf_counter() - start) * 1000)
    report.add("config: config_errors 1,000 leaves (cold cache)", statistics.median(cold), None)

    report.add_samples("config: config_errors 1,000 leaves", time_ms(lambda: config_errors(schema, effective), repeat),
                       10)
    layers = (("program", program), ("campaign", campaign))
    report.add_samples("config: effective_with_provenance 3 layers",
                       time_ms(lambda: effective_with_provenance(defaults, *layers), repeat), 10)
    report.add_samples("config: sparse_overrides 1,000 leaves",
                       time_ms(lambda: sparse_overrides(inherited, effective), repeat), 10)
