"""Cross-field rules that JSON Schema cannot say, declared with the schema's root keyword
``"x-rules"`` (SPEC §3.1): ``lte``, ``sum_equals`` and ``max_item_gte``. Checking that a schema's
rules are well formed, and checking a configuration against them, each error on the right field."""
from __future__ import annotations

import math
from typing import Any

from flask_babel.speaklater import LazyString

from portal.configuration.paths import ConfigError, get_path, is_number, schema_at
from portal.configuration.schema_i18n import I18N_KEY, i18n_problems, localized
from portal.configuration.schema_i18n import RULE_KEYS as I18N_RULE_KEYS
from portal.i18n import _l, current_language

RULE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # kind: (required keys, optional keys) besides "rule"; "x-i18n" translates the message
    "lte": (("left", "right"), ("path", "message", I18N_KEY)),
    "sum_equals": (("path", "value"), ("tolerance", "message", I18N_KEY)),
    "max_item_gte": (("path", "item_key", "min_path"), ("message", I18N_KEY)),
}
_RULE_PATH_KEYS = ("left", "right", "path", "min_path")


def rule_problems(schema: dict[str, Any]) -> list[ConfigError]:
    """What is wrong with the schema's ``x-rules`` themselves (unknown kind, missing or unknown
    keys, paths that are not properties): part of the validation module's ``schema_errors``."""
    if "x-rules" not in schema:
        return []
    rules = schema["x-rules"]
    if not isinstance(rules, list):
        return [ConfigError("x-rules", _l("x-rules must be a list of rules."))]
    problems = []
    for index, rule in enumerate(rules):
        where = f"x-rules.{index}"
        if not isinstance(rule, dict):
            problems.append(ConfigError(where, _l("A rule must be an object.")))
            continue
        kind = rule.get("rule")
        if kind not in RULE_KEYS:
            known = ", ".join(sorted(RULE_KEYS))
            problems.append(ConfigError(where, _l("Unknown rule kind %(kind)s (known kinds: %(known)s).",
                                                  kind=repr(kind), known=known)))
            continue
        required, optional = RULE_KEYS[kind]
        missing = [k for k in required if k not in rule]
        if missing:
            problems.append(ConfigError(where, _l("Rule '%(kind)s' needs %(keys)s.", kind=kind,
                                                  keys=", ".join(missing))))
        unknown = sorted(set(rule) - set(required) - set(optional) - {"rule"})
        if unknown:
            problems.append(ConfigError(where, _l("Rule '%(kind)s' does not take %(keys)s.", kind=kind,
                                                  keys=", ".join(unknown))))
        for key in _RULE_PATH_KEYS:
            if key not in rule or key not in required + optional:
                continue
            value = rule[key]
            if not isinstance(value, str) or not value:
                problems.append(ConfigError(where, _l("'%(key)s' must be a dotted path.", key=key)))
            elif schema_at(schema, value, maps=False) is None:
                problems.append(ConfigError(where, _l("'%(key)s': %(value)s is not a property of the schema.",
                                                      key=key, value=repr(value))))
        for key in ("value", "tolerance"):
            if key in rule and key in required + optional and not is_number(rule[key]):
                problems.append(ConfigError(where, _l("'%(key)s' must be a number.", key=key)))
        if "tolerance" in rule and is_number(rule["tolerance"]) and rule["tolerance"] < 0:
            problems.append(ConfigError(where, _l("'tolerance' must not be negative.")))
        if "message" in rule and not isinstance(rule["message"], str):
            problems.append(ConfigError(where, _l("'message' must be a string.")))
        if I18N_KEY in rule:
            problems += i18n_problems(rule[I18N_KEY], where, I18N_RULE_KEYS)
        if kind == "max_item_gte" and isinstance(rule.get("path"), str) and "item_key" in rule:
            array = schema_at(schema, rule["path"], maps=False)
            items = array.get("items") if isinstance(array, dict) else None
            item_props = items.get("properties") if isinstance(items, dict) else None
            if not isinstance(rule["item_key"], str):
                problems.append(ConfigError(where, _l("'item_key' must be a string.")))
            elif array is not None and (not isinstance(item_props, dict) or rule["item_key"] not in item_props):
                problems.append(ConfigError(where, _l(
                    "'item_key': %(key)s is not a property of the items at %(path)s.",
                    key=repr(rule["item_key"]), path=repr(rule["path"]))))
    return problems


def _title_now(schema: dict[str, Any], path: str) -> str:
    sub = schema_at(schema, path)
    if not isinstance(sub, dict):
        return path
    english = sub.get("title") if isinstance(sub.get("title"), str) else path
    return localized(sub, "title", english)


def _title(schema: dict[str, Any], path: str) -> LazyString:
    """The setting's title in the reader's language (its x-i18n title), when the message is read."""
    return LazyString(_title_now, schema, path)


def _fmt_now(number: float) -> str:
    text = f"{number:.10g}"
    return text if current_language() == "en" else text.replace(".", ",")


def _fmt(number: float) -> LazyString:
    """A rule's number as the reader writes it ("0.5"; "0,5" in nb and uk)."""
    return LazyString(_fmt_now, number)


def _custom_message(rule: dict[str, Any]) -> Any:
    """The rule's own message (translated by its x-i18n block when read), or None."""
    custom = rule.get("message")
    if not isinstance(custom, str) or not custom:
        return None
    if not isinstance(rule.get(I18N_KEY), dict):
        return custom
    return LazyString(localized, rule, "message", custom)


def cross_field_errors(schema: dict[str, Any], config: Any) -> list[ConfigError]:
    """Errors of the schema's ``x-rules`` against ``config``.

    A rule whose inputs are missing or of the wrong type is skipped (that is JSON Schema's job),
    as is a malformed rule (that is :func:`schema_errors`' job).
    """
    rules = schema.get("x-rules") if isinstance(schema, dict) else None
    if not isinstance(rules, list):
        return []
    errors = []
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("rule") not in RULE_KEYS:
            continue
        if any(k not in rule for k in RULE_KEYS[rule["rule"]][0]):
            continue
        try:
            error = _check_rule(schema, rule, config)
        except (TypeError, ValueError, AttributeError):  # malformed rule: schema_errors reports it
            error = None
        if error is not None:
            errors.append(error)
    return sorted(errors, key=lambda e: (e.path, e.message))


def _check_rule(schema: dict[str, Any], rule: dict[str, Any], config: Any) -> ConfigError | None:
    kind, custom = rule["rule"], _custom_message(rule)
    if kind == "lte":
        left, right = get_path(config, rule["left"], None), get_path(config, rule["right"], None)
        if not (is_number(left) and is_number(right)) or left <= right:
            return None
        message = custom or _l("Must be at most %(setting)s (%(limit)s); it is %(value)s.",
                               setting=_title(schema, rule["right"]), limit=_fmt(right), value=_fmt(left))
        return ConfigError(rule.get("path", rule["left"]), message)
    if kind == "sum_equals":
        values = get_path(config, rule["path"], None)
        if not isinstance(values, dict) or not all(is_number(v) for v in values.values()):
            return None
        total, tolerance = math.fsum(values.values()), rule.get("tolerance", 1e-9)
        if abs(total - rule["value"]) <= tolerance:
            return None
        return ConfigError(rule["path"], custom or _l("The values must add up to %(total)s; they add up to %(sum)s.",
                                                      total=_fmt(rule["value"]), sum=_fmt(round(total, 9))))
    if kind == "max_item_gte":
        items, minimum = get_path(config, rule["path"], None), get_path(config, rule["min_path"], None)
        key = rule["item_key"]
        if not isinstance(items, list) or not is_number(minimum):
            return None
        if not all(isinstance(item, dict) and is_number(item.get(key)) for item in items):
            return None
        if items and max(item[key] for item in items) >= minimum:
            return None
        return ConfigError(rule["path"], custom or _l(
            "The largest %(key)s must be at least %(setting)s (%(limit)s).", key=key,
            setting=_title(schema, rule["min_path"]), limit=_fmt(minimum)))
    return None
