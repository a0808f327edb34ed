"""Hostile template schemas and JSON documents (SPEC §3, §5): no network or file access
through ``$ref``, no regular expression that can freeze the process, bounded documents,
and text PostgreSQL can store. Every refusal is a ConfigError at a JSON path, never an
exception."""

import json

import pytest

from portal.configuration.json_input import parse_json_document
from portal.configuration.limits import MAX_DEPTH, MAX_DOCUMENT_BYTES, document_problems
from portal.configuration.paths import ConfigError
from portal.configuration.validation import config_errors, schema_errors
from portal.errors import ConfigInvalid
from tests.helpers import deadline, refuse_fetching

HOSTILE_VALUE = "a" * 40 + "!"  # 2^40 steps for a backtracking engine against ^(a+)+$


@pytest.fixture(autouse=True)
def no_network_or_files(monkeypatch):
    refuse_fetching(monkeypatch)


def obj(**properties):
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": properties}


def paths(errors):
    return [e.path for e in errors]


# --------------------------------------------------------------------------- $ref


@pytest.mark.parametrize("ref", [
    "https://example.invalid/schema.json", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd",
    "other.json", "/etc/passwd", "https://json-schema.org/draft/2020-12/schema",
])
def test_a_ref_that_is_not_local_is_refused_at_its_path_and_never_fetched(ref):
    schema = obj(x={"$ref": ref})
    problems = schema_errors(schema)
    assert paths(problems) == ["properties.x.$ref"]
    assert ref in problems[0].message and "#/$defs/" in problems[0].message
    # validating against it does not fetch either: the schema is simply not usable
    assert config_errors(schema, {"x": 1}) == [ConfigError("", "The template's schema is not a valid JSON Schema.")]


def test_dynamic_refs_follow_the_same_rule():
    assert paths(schema_errors(obj(x={"$dynamicRef": "https://example.invalid/s#meta"}))) == ["properties.x.$dynamicRef"]


def test_local_refs_resolve_and_validate():
    schema = obj(a={"$ref": "#/$defs/minutes"}, b={"$ref": "#minutes"})
    schema["$defs"] = {"minutes": {"$anchor": "minutes", "type": "integer", "minimum": 15, "maximum": 180}}
    assert schema_errors(schema) == []
    assert config_errors(schema, {"a": 60, "b": 60}) == []
    assert paths(config_errors(schema, {"a": 500, "b": 5})) == ["a", "b"]


def test_a_local_ref_to_nothing_is_refused_with_its_name():
    [problem] = schema_errors(obj(x={"$ref": "#/$defs/missing"}))
    assert problem.path == "properties.x.$ref" and "#/$defs/missing" in problem.message


def test_a_ref_that_only_refers_to_itself_is_refused_not_a_recursion_error():
    schema = obj(x={"$ref": "#/$defs/loop"})
    schema["$defs"] = {"loop": {"$ref": "#/$defs/loop"}}
    problems = schema_errors(schema)
    assert problems and "itself" in problems[0].message
    assert config_errors(schema, {"x": 1}) == [ConfigError("", "The template's schema is not a valid JSON Schema.")]


# --------------------------------------------------------------------------- patterns


def test_a_catastrophic_pattern_validates_promptly():
    schema = obj(code={"type": "string", "pattern": "^(a+)+$"})
    assert schema_errors(schema) == []  # RE2 can run it in linear time, so it is allowed
    with deadline(5):
        errors = config_errors(schema, {"code": HOSTILE_VALUE})
    assert paths(errors) == ["code"] and "does not match" in errors[0].message
    assert config_errors(schema, {"code": "aaaa"}) == []


def test_catastrophic_pattern_properties_validate_promptly():
    schema = obj(weights={"type": "object", "patternProperties": {"^(a+)+$": {"type": "number"}},
                          "additionalProperties": False})
    assert schema_errors(schema) == []
    with deadline(5):
        errors = config_errors(schema, {"weights": {HOSTILE_VALUE: 1, "aaa": "x"}})
    assert sorted(paths(errors)) == ["weights", "weights.aaa"]
    assert config_errors(schema, {"weights": {"aaa": 1}}) == []


@pytest.mark.parametrize(("pattern", "why"), [
    (r"(a)\1", "\\1"), (r"^(?=a)a$", "(?="), (r"(?<!x)y", "(?<"), (r"a{2000}", "{2000}"), (r"(", "missing )"),
    ("a" * 2001, "longer than 2,000 characters"),
])
def test_a_pattern_re2_cannot_run_is_refused_at_its_path(pattern, why):
    [problem] = schema_errors(obj(code={"type": "string", "pattern": pattern}))
    assert problem.path == "properties.code.pattern"
    assert why in problem.message and "backreferences" in problem.message


def test_a_pattern_property_re2_cannot_run_is_refused_at_its_path():
    [problem] = schema_errors(obj(m={"type": "object", "patternProperties": {r"(a)\1": {"type": "number"}}}))
    assert problem.path == "properties.m.patternProperties" and r"(a)\1" in problem.message


def test_patterns_inside_defs_and_combinators_are_checked_too():
    schema = obj(x={"anyOf": [{"type": "string", "pattern": r"(?=x)"}, {"type": "null"}]})
    schema["$defs"] = {"code": {"type": "string", "pattern": r"(b)\1"}}
    assert sorted(paths(schema_errors(schema))) == ["$defs.code.pattern", "properties.x.anyOf.0.pattern"]


def test_format_regex_values_are_checked_with_re2():
    schema = obj(rx={"type": "string", "format": "regex"})
    assert config_errors(schema, {"rx": "^[a-z]+$"}) == []
    assert paths(config_errors(schema, {"rx": r"(a)\1"})) == ["rx"]


def test_unevaluated_properties_cannot_be_combined_with_pattern_properties():
    schema = obj(m={"type": "object", "patternProperties": {"^a": {"type": "number"}}, "unevaluatedProperties": False})
    [problem] = schema_errors(schema)
    assert problem.path == "properties.m.unevaluatedProperties"


def test_the_masters_patterns_still_work():
    schema = obj(key={"type": "string", "pattern": "^[a-z0-9]+(_[a-z0-9]+)*$"})
    assert config_errors(schema, {"key": "first_session"}) == []
    assert paths(config_errors(schema, {"key": "First Session"})) == ["key"]


# --------------------------------------------------------------------------- limits


def nested(depth):
    schema = {"type": "object"}
    node = schema
    for _ in range(depth - 1):
        node["properties"] = {"n": {"type": "object"}}
        node = node["properties"]["n"]
    return schema


def test_nesting_deeper_than_the_limit_is_refused_at_the_deepest_allowed_path():
    assert schema_errors(nested(10)) == []
    problems = schema_errors(nested(MAX_DEPTH))
    assert problems and "levels" in problems[0].message and problems[0].path.startswith("properties.n.properties")
    # a deeply nested document is refused without recursing through all of it
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert "levels" in document_problems(deep)[0].message


def test_a_schema_larger_than_the_limit_is_refused():
    schema = obj(**{f"p{i}": {"type": "string", "description": "x" * 1000} for i in range(300)})
    assert len(json.dumps(schema)) > MAX_DOCUMENT_BYTES
    [problem] = schema_errors(schema)
    assert problem.path == "" and "256 KB" in problem.message


@pytest.mark.parametrize(("value", "path"), [
    (10**16, "properties.x.maximum"), (-1e16, "properties.x.maximum"), (float("inf"), "properties.x.maximum"),
    (float("nan"), "properties.x.maximum"),
])
def test_numbers_out_of_range_or_not_finite_are_refused(value, path):
    [problem] = schema_errors(obj(x={"type": "number", "maximum": value}))
    assert problem.path == path


@pytest.mark.parametrize(("schema", "path"), [
    (obj(x={"type": "string", "default": "a\x00b"}), "properties.x.default"),
    (obj(x={"type": "string", "title": "\ud800"}), "properties.x.title"),
    (obj(**{"a\x00": {"type": "string"}}), "properties.a\\u0000"),
    (obj(**{"\udfff": {"type": "string"}}), "properties.\\udfff"),
])
def test_nul_and_lone_surrogates_are_refused_at_a_printable_path(schema, path):
    [problem] = schema_errors(schema)
    assert problem.path == path
    problem.path.encode("utf-8")  # the path itself can be rendered in a page


def test_configs_with_text_postgresql_cannot_store_are_refused_at_their_path():
    schema = obj(name={"type": "string"})
    assert paths(config_errors(schema, {"name": "x\x00y"})) == ["name"]
    assert paths(config_errors(schema, {"name": "\ud83d"})) == ["name"]
    assert paths(config_errors(schema, {"name": "ok", "n": float("nan")})) == ["n"]


# --------------------------------------------------------------------------- raw JSON text


def refused(text, field="config_schema"):
    with pytest.raises(ConfigInvalid) as exc:
        parse_json_document(text, field)
    assert exc.value.field == field
    return exc.value.problems


def test_parse_json_document_returns_ordinary_json():
    assert parse_json_document('{"a": [1, 2.5, "é", null, true]}', "x") == {"a": [1, 2.5, "é", None, True]}


@pytest.mark.parametrize(("text", "path"), [
    ('{"a": NaN}', "a"), ('{"a": [1, Infinity]}', "a.1"), ("-Infinity", ""), ('{"a": 1e999}', "a"),
    ('{"a": 10000000000000001}', "a"), ('{"a": ' + "9" * 5000 + "}", "a"),
    ('{"a": "\\ud800"}', "a"), ('{"a": "x\\u0000"}', "a"), ('{"k\\u0000": 1}', "k\\u0000"),
    ('{"\\udc00": 1}', "\\udc00"),
])
def test_hostile_values_are_refused_at_their_path(text, path):
    problems = refused(text)
    assert paths(problems) == [path]


@pytest.mark.parametrize("text", ["{not json", "[" * 100_000 + "]" * 100_000, "", "   "])
def test_unreadable_or_too_deep_text_is_a_field_error(text):
    [problem] = refused(text)
    assert problem.path == ""
    assert "JSON" in problem.message or "levels" in problem.message


def test_text_over_the_size_limit_is_refused_before_parsing():
    [problem] = refused('{"a": "' + "x" * (5 * MAX_DOCUMENT_BYTES) + '"}')
    assert "256 KB" in problem.message


def test_messages_name_the_field_and_path():
    with pytest.raises(ConfigInvalid) as exc:
        parse_json_document('{"a": {"b": NaN}}', "ui_schema")
    assert exc.value.errors == {"ui_schema": ["a.b: " + exc.value.problems[0].message]}


# --------------------------------------------------------------------------- x-i18n (issue #19)
LABELS = {"nb": {"title": "Tempo", "description": "Hvor fort.", "enumNames": {"slow": "Sakte"}},
          "uk": {"title": "Темп", "enumNames": {"slow": "Повільно"}}}


def test_translations_of_the_allowed_shape_are_accepted_anywhere_and_schemas_without_them_too():
    pace = {"type": "string", "title": "Pace", "enum": ["slow"], "x-i18n": LABELS}
    schema = obj(pace=pace, rows={"type": "array", "items": {"type": "object", "title": "Row", "x-i18n": {
        "nb": {"title": "Rad"}}, "properties": {"x": {"type": "integer"}}}},
        weights={"type": "object", "additionalProperties": {"type": "number"},
                 "x-i18n": {"uk": {"keyLabels": {"a_b": "А Б"}}}})
    schema["x-i18n"] = {"nb": {"title": "Innstillinger"}}
    assert schema_errors(schema) == []
    assert config_errors(schema, {"pace": "slow"}) == []  # x-i18n is an annotation: nothing to validate
    assert schema_errors(obj(pace={"type": "string", "title": "Pace"})) == []


@pytest.mark.parametrize(("block", "path"), [
    ("Tempo", "properties.pace.x-i18n"),
    ({"de": {"title": "Tempo"}}, "properties.pace.x-i18n.de"),
    ({"nb": "Tempo"}, "properties.pace.x-i18n.nb"),
    ({"nb": {"label": "Tempo"}}, "properties.pace.x-i18n.nb.label"),
    ({"nb": {"message": "Tempo"}}, "properties.pace.x-i18n.nb.message"),
    ({"nb": {"title": 3}}, "properties.pace.x-i18n.nb.title"),
    ({"nb": {"title": "  "}}, "properties.pace.x-i18n.nb.title"),
    ({"nb": {"title": "x" * 256}}, "properties.pace.x-i18n.nb.title"),
    ({"uk": {"description": "x" * 2001}}, "properties.pace.x-i18n.uk.description"),
    ({"uk": {"enumNames": ["Повільно"]}}, "properties.pace.x-i18n.uk.enumNames"),
    ({"uk": {"enumNames": {"slow": 1}}}, "properties.pace.x-i18n.uk.enumNames.slow"),
    ({"uk": {"keyLabels": {"k" * 256: "Ключ"}}}, "properties.pace.x-i18n.uk.keyLabels"),
    ({"uk": {"keyLabels": {str(i): "x" for i in range(501)}}}, "properties.pace.x-i18n.uk.keyLabels"),
])
def test_translations_of_another_shape_are_refused_at_their_path(block, path):
    problems = schema_errors(obj(pace={"type": "string", "title": "Pace", "x-i18n": block}))
    assert paths(problems) == [path]


def test_translations_inside_items_combinators_and_defs_are_checked_too():
    schema = obj(rows={"type": "array", "items": {"x-i18n": {"fr": {}}}},
                 either={"oneOf": [{"const": "a", "x-i18n": {"nb": {"title": ""}}}]})
    schema["$defs"] = {"d": {"x-i18n": []}}
    assert sorted(paths(schema_errors(schema))) == [
        "$defs.d.x-i18n", "properties.either.oneOf.0.x-i18n.nb.title", "properties.rows.items.x-i18n.fr"]


def test_a_rule_may_translate_its_message_and_nothing_else():
    schema = obj(a={"type": "integer"}, b={"type": "integer"})
    schema["x-rules"] = [{"rule": "lte", "left": "a", "right": "b", "message": "a ≤ b",
                          "x-i18n": {"nb": {"message": "a ≤ b"}, "uk": {"message": "a ≤ b"}}}]
    assert schema_errors(schema) == []
    schema["x-rules"][0]["x-i18n"] = {"nb": {"title": "a ≤ b"}}
    assert paths(schema_errors(schema)) == ["x-rules.0.x-i18n.nb.title"]


def test_ui_schema_translations_are_checked_wherever_they_sit():
    from portal.configuration.schema_i18n import ui_i18n_problems

    assert ui_i18n_problems(None) == [] and ui_i18n_problems({"ui:order": ["a"]}) == []
    assert ui_i18n_problems({"session": {"pace": {"x-i18n": LABELS}}}) == []
    assert paths(ui_i18n_problems({"session": {"pace": {"x-i18n": {"sv": {}}}}})) == ["session.pace.x-i18n.sv"]
