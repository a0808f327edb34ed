"""The configuration engine (SPEC §3): cross-field rules, locks, sparse overrides, provenance, upgrades."""

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.configuration.locks import LOCKED_MESSAGE, locked_override_errors, locked_paths
from portal.configuration.merge import (
    deep_merge,
    effective_config,
    effective_with_provenance,
    remove_override,
    sparse_overrides,
)
from portal.configuration.paths import ConfigError, count_leaves, get_path, iter_leaves, iter_schema_leaves, set_path
from portal.configuration.rules import cross_field_errors
from portal.configuration.upgrades import REMOVED_MESSAGE, DiffEntry, override_report, schema_diff
from portal.configuration.validation import config_errors, schema_errors

MASTERS_DIR = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"


def master(name):
    doc = json.loads((MASTERS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return doc["config_schema"], doc["default_config"]


def paths(errors):
    return [e.path for e in errors]


def unchanged(fn, *args):
    """Call fn(*args) and assert none of the arguments was mutated."""
    before = copy.deepcopy(args)
    result = fn(*args)
    assert args == before
    return result


SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "session": {
            "type": "object",
            "title": "Session",
            "properties": {
                "min": {"type": "integer", "title": "Minimum", "minimum": 0},
                "max": {"type": "integer", "title": "Maximum", "maximum": 10},
            },
        },
        "weights": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        },
        "milestones": {
            "type": "array",
            "items": {"type": "object", "properties": {"key": {"type": "string"}, "count": {"type": "integer"}}},
        },
        "completion": {"type": "integer"},
    },
    "x-rules": [
        {"rule": "lte", "left": "session.min", "right": "session.max"},
        {"rule": "sum_equals", "path": "weights", "value": 1},
        {"rule": "max_item_gte", "path": "milestones", "item_key": "count", "min_path": "completion"},
    ],
}
GOOD = {
    "session": {"min": 2, "max": 5},
    "weights": {"a": 0.7, "b": 0.3},
    "milestones": [{"key": "a", "count": 1}, {"key": "b", "count": 8}],
    "completion": 8,
}


# --------------------------------------------------------------------------- path helpers


def test_get_path():
    doc = {"a": {"b": [10, {"c": None}]}, "x.y": 1}
    assert get_path(doc, "a.b.0") == 10
    assert get_path(doc, "a.b.1.c") is None
    assert get_path(doc, ["a", "b", 1, "c"]) is None
    assert get_path(doc, ["x.y"]) == 1
    assert get_path(doc, "") is doc
    assert get_path(doc, "a.zz", "dflt") == "dflt"
    assert get_path(doc, "a.b.5", None) is None
    assert get_path(doc, "a.b.x", None) is None
    assert get_path(doc, "a.b.0.deeper", None) is None
    with pytest.raises(KeyError):
        get_path(doc, "a.missing")


def test_set_path_returns_a_new_doc():
    doc = {"a": {"b": 1}, "l": [1, 2]}
    new = unchanged(set_path, doc, "a.c.d", [1])
    assert new == {"a": {"b": 1, "c": {"d": [1]}}, "l": [1, 2]}
    assert unchanged(set_path, doc, "l.1", 5) == {"a": {"b": 1}, "l": [1, 5]}
    assert set_path(doc, ["l", 2], 3)["l"] == [1, 2, 3]  # the next index appends
    assert set_path(doc, "", {"z": 1}) == {"z": 1}
    assert set_path({}, "a", None) == {"a": None}
    value = {"deep": [1]}
    new = set_path({}, "v", value)
    new["v"]["deep"].append(2)
    assert value == {"deep": [1]}  # the value is copied in
    with pytest.raises(TypeError):
        set_path(doc, "a.b.c", 1)
    with pytest.raises(IndexError):
        set_path(doc, "l.5", 1)


def test_remove_override_prunes_empty_parents():
    overrides = {"a": {"b": {"c": 1}}, "d": {"e": 1, "f": 2}}
    assert unchanged(remove_override, overrides, "a.b.c") == {"d": {"e": 1, "f": 2}}
    assert unchanged(remove_override, overrides, "d.e") == {"a": {"b": {"c": 1}}, "d": {"f": 2}}
    assert remove_override(overrides, "a") == {"d": {"e": 1, "f": 2}}
    assert remove_override(overrides, "a.b.zz") == overrides
    assert remove_override(overrides, "d.e.deeper") == overrides
    assert remove_override({}, "a") == {}
    assert remove_override({"a": {"b": 1, "c": {}}}, "a.b") == {"a": {"c": {}}}  # only the path's parents
    assert remove_override({"l": [1, 2]}, "l") == {}
    assert remove_override(overrides, "") == {}


def test_iter_leaves():
    doc = {"a": {"x": 1, "y": {}}, "l": [{"k": 1}], "n": None}
    assert list(iter_leaves(doc)) == [("a.x", 1), ("a.y", {}), ("l", [{"k": 1}]), ("n", None)]
    assert list(iter_leaves({})) == [("", {})]


# --------------------------------------------------------------------------- cross-field rules


def test_cross_field_rules_pass_on_good_config():
    assert unchanged(cross_field_errors, SCHEMA, GOOD) == []
    assert config_errors(SCHEMA, GOOD) == []


def test_lte_reports_at_the_left_path():
    config = set_path(GOOD, "session.min", 6)
    assert cross_field_errors(SCHEMA, config) == [
        ConfigError("session.min", "Must be at most Maximum (5); it is 6."),
    ]
    assert cross_field_errors(SCHEMA, set_path(GOOD, "session.min", 5)) == []  # equal is fine
    schema = copy.deepcopy(SCHEMA)
    schema["x-rules"] = [{"rule": "lte", "left": "session.min", "right": "session.max", "path": "session.max",
                          "message": "Too few."}]
    assert cross_field_errors(schema, config) == [ConfigError("session.max", "Too few.")]


def test_sum_equals_reports_at_the_object():
    config = set_path(GOOD, "weights.b", 0.2)
    assert cross_field_errors(SCHEMA, config) == [
        ConfigError("weights", "The values must add up to 1; they add up to 0.9."),
    ]
    # floating point sums within the tolerance are fine: 0.1 + 0.2 + 0.7 != 1.0 exactly
    assert cross_field_errors(SCHEMA, set_path(GOOD, "weights", {"a": 0.1, "b": 0.2, "c": 0.7})) == []
    assert paths(cross_field_errors(SCHEMA, set_path(GOOD, "weights", {}))) == ["weights"]  # sums to 0
    schema = copy.deepcopy(SCHEMA)
    schema["x-rules"][1]["tolerance"] = 0.2
    assert cross_field_errors(schema, config) == []


def test_max_item_gte_reports_at_the_array():
    config = set_path(GOOD, "completion", 9)
    assert cross_field_errors(SCHEMA, config) == [
        ConfigError("milestones", "The largest count must be at least completion (9)."),
    ]
    # the largest item counts, wherever it is in the array
    assert cross_field_errors(SCHEMA, set_path(GOOD, "milestones", [{"count": 9}, {"count": 1}])) == []
    # an empty array has no item that reaches the minimum
    assert paths(cross_field_errors(SCHEMA, set_path(GOOD, "milestones", []))) == ["milestones"]


@pytest.mark.parametrize(("path", "value"), [
    ("session.min", None),
    ("session.min", "6"),
    ("session.min", True),  # booleans are not numbers
    ("session", 7),
    ("weights", [0.5]),
    ("weights.a", "0.1"),
    ("weights.a", None),
    ("milestones", {"count": 1}),
    ("milestones", [{"count": "8"}]),
    ("milestones", [{"key": "x"}]),
    ("milestones", [7]),
    ("completion", None),
    ("completion", "9"),
])
def test_rules_with_missing_or_mistyped_inputs_are_skipped(path, value):
    config = set_path(GOOD, path, value)
    assert cross_field_errors(SCHEMA, config) == []


def test_rules_with_absent_inputs_are_skipped():
    assert cross_field_errors(SCHEMA, {}) == []
    assert cross_field_errors(SCHEMA, None) == []
    assert cross_field_errors(SCHEMA, {"session": {"min": 9}}) == []


def test_malformed_or_unknown_rules_are_skipped_by_the_checker():
    schema = {"type": "object", "x-rules": [{"rule": "gte"}, {"rule": "lte", "left": "a"}, "nope", None]}
    assert cross_field_errors(schema, {"a": 5}) == []
    assert cross_field_errors({"x-rules": "bad"}, {}) == []
    assert cross_field_errors({}, {}) == []


def test_config_errors_merges_schema_and_cross_field_errors_in_path_order():
    config = copy.deepcopy(GOOD)
    config["session"] = {"min": 12, "max": 11}  # max out of range; min > max
    config["weights"]["a"] = 0.9
    assert paths(config_errors(SCHEMA, config)) == ["session.max", "session.min", "weights"]


# --------------------------------------------------------------------------- schema_errors for x-rules


def test_schema_errors_accepts_good_rules():
    assert schema_errors(SCHEMA) == []
    for name in ("mentorship", "language", "buddy"):
        assert schema_errors(master(name)[0]) == []


@pytest.mark.parametrize(("rules", "expected"), [
    ("not a list", ["x-rules"]),
    ([{"rule": "gte", "left": "session.min", "right": "session.max"}], ["x-rules.0"]),
    ([{"left": "session.min"}], ["x-rules.0"]),
    (["lte"], ["x-rules.0"]),
    ([{"rule": "lte", "left": "session.min"}], ["x-rules.0"]),  # right is missing
    ([{"rule": "lte", "left": "session.min", "right": "session.nope"}], ["x-rules.0"]),
    ([{"rule": "lte", "left": "session.min", "right": "session.max", "extra": 1}], ["x-rules.0"]),
    ([{"rule": "lte", "left": "session.min", "right": "session.max", "message": 5}], ["x-rules.0"]),
    ([{"rule": "lte", "left": 3, "right": "session.max"}], ["x-rules.0"]),
    ([{"rule": "sum_equals", "path": "weights"}], ["x-rules.0"]),  # value is missing
    ([{"rule": "sum_equals", "path": "weights", "value": "1"}], ["x-rules.0"]),
    ([{"rule": "sum_equals", "path": "weights", "value": 1, "tolerance": -1}], ["x-rules.0"]),
    ([{"rule": "sum_equals", "path": "nowhere", "value": 1}], ["x-rules.0"]),
    ([{"rule": "max_item_gte", "path": "milestones", "item_key": "count"}], ["x-rules.0"]),
    ([{"rule": "max_item_gte", "path": "milestones", "item_key": "size", "min_path": "completion"}], ["x-rules.0"]),
    ([{"rule": "max_item_gte", "path": "milestones", "item_key": "count", "min_path": "completion.x"}], ["x-rules.0"]),
    ([{"rule": "lte", "left": "session.min", "right": "session.max"}, {"rule": "bogus"}], ["x-rules.1"]),
])
def test_schema_errors_reports_bad_rules(rules, expected):
    schema = copy.deepcopy(SCHEMA)
    schema["x-rules"] = rules
    problems = schema_errors(schema)
    assert sorted(set(paths(problems))) == expected
    assert all(p.message for p in problems)
    # a template with bad rules validates nothing
    assert config_errors(schema, GOOD) == [ConfigError("", "The template's schema is not a valid JSON Schema.")]


def test_schema_errors_still_checks_json_schema():
    assert paths(schema_errors({"type": "object", "properties": {"a": {"type": "intgr"}}})) == ["properties.a.type"]
    assert schema_errors([]) == [ConfigError("", "The schema must be a JSON object.")]
    assert paths(schema_errors({"x-rules": [{"rule": "nope"}]})) == ["x-rules.0"]


def test_unknown_rule_kind_message_names_it():
    [problem] = schema_errors({"type": "object", "x-rules": [{"rule": "gte"}]})
    assert problem.path == "x-rules.0" and "'gte'" in problem.message


# --------------------------------------------------------------------------- locks

LOCK_SCHEMA = {
    "type": "object",
    "properties": {
        "safety": {
            "type": "object",
            "properties": {
                "minAge": {"type": "integer", "x-locked": True},
                "check": {"type": "boolean"},
            },
        },
        "policy": {"type": "object", "x-locked": True, "properties": {"text": {"type": "string"}}},
        "deep": {"type": "object", "properties": {"er": {"type": "object", "properties": {
            "x": {"type": "integer", "x-locked": True}, "y": {"type": "integer", "x-locked": False}}}}},
        "free": {"type": "integer"},
    },
}


def test_locked_paths_descend_nested_objects():
    assert locked_paths(LOCK_SCHEMA) == {"safety.minAge", "policy", "deep.er.x"}
    assert locked_paths({"type": "object"}) == set()
    assert locked_paths(master("mentorship")[0]) == {"safety.minAge", "safety.requireCodeOfConduct"}
    assert locked_paths(master("language")[0]) == set()


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, []),
    (None, []),
    ({"free": 1, "safety": {"check": True}}, []),
    ({"safety": {"minAge": 16}}, ["safety.minAge"]),
    ({"safety": {"minAge": None}}, ["safety.minAge"]),
    ({"policy": {"text": "x"}}, ["policy.text"]),  # beneath a locked object
    ({"policy": "x"}, ["policy"]),
    ({"safety": None}, ["safety"]),  # replacing a parent with a scalar replaces the locked value too
    ({"safety": {}}, []),  # merging an empty object changes nothing
    ({"deep": {"er": {"x": 1, "y": 2}}, "free": 3}, ["deep.er.x"]),
])
def test_locked_override_errors(overrides, expected):
    errors = unchanged(locked_override_errors, LOCK_SCHEMA, overrides)
    assert paths(errors) == expected
    assert all(e.message == LOCKED_MESSAGE for e in errors)


def test_locked_override_on_mentorship_min_age_is_refused():
    schema, defaults = master("mentorship")
    assert locked_override_errors(schema, {"safety": {"minAge": 16}}) == [
        ConfigError("safety.minAge", "This setting is locked by the template and cannot be overridden."),
    ]
    assert locked_override_errors(schema, {"safety": {"requireBackgroundCheck": True}}) == []


# --------------------------------------------------------------------------- sparse overrides


def test_sparse_overrides_keeps_only_differing_leaves():
    inherited = {"a": {"x": 1, "y": {"z": 2}}, "l": [1, 2], "s": "v", "n": None, "b": True}
    desired = {"a": {"x": 1, "y": {"z": 3}}, "l": [1, 2], "s": "w", "n": None, "b": True}
    assert unchanged(sparse_overrides, inherited, desired) == {"a": {"y": {"z": 3}}, "s": "w"}


def test_sparse_overrides_edge_cases():
    assert sparse_overrides({"a": 1}, {"a": 1}) == {}
    assert sparse_overrides({}, {}) == {}
    assert sparse_overrides({"a": {"x": 1}}, {}) == {}  # missing keys are not deletions
    assert sparse_overrides({"a": {"x": 1, "y": 2}}, {"a": {"x": 5}}) == {"a": {"x": 5}}
    assert sparse_overrides({}, {"new": {"x": 1}}) == {"new": {"x": 1}}
    assert sparse_overrides({"l": [1, 2, 3]}, {"l": [1, 2]}) == {"l": [1, 2]}  # arrays whole
    assert sparse_overrides({"l": [{"k": 1}, {"k": 2}]}, {"l": [{"k": 1}, {"k": 3}]}) == {"l": [{"k": 1}, {"k": 3}]}
    assert sparse_overrides({"a": 1}, {"a": None}) == {"a": None}  # None is a value
    assert sparse_overrides({"a": None}, {"a": 0}) == {"a": 0}
    assert sparse_overrides({"a": 1}, {"a": True}) == {"a": True}  # True is not 1
    assert sparse_overrides({"a": False}, {"a": 0}) == {"a": 0}
    assert sparse_overrides({"a": 1}, {"a": 1.0}) == {}  # same JSON number
    assert sparse_overrides({"a": {"x": 1}}, {"a": 5}) == {"a": 5}
    assert sparse_overrides({"a": 5}, {"a": {"x": 1}}) == {"a": {"x": 1}}
    assert sparse_overrides({"a": {"x": 1}}, {"a": {}}) == {}
    assert sparse_overrides(None, {"a": 1}) == {"a": 1}
    assert sparse_overrides({"a": 1}, None) == {}


def test_sparse_overrides_result_does_not_share_state_with_inputs():
    desired = {"l": [[1]], "o": {"new": {"x": [1]}}}
    result = sparse_overrides({}, desired)
    result["l"][0].append(2)
    result["o"]["new"]["x"].append(2)
    assert desired == {"l": [[1]], "o": {"new": {"x": [1]}}}


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from([0.5, 1.5]),
                         st.sampled_from(["", "a", "b"]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.sampled_from("abcd"), children, max_size=4)),
    max_leaves=12,
)
json_objects = st.dictionaries(st.sampled_from("abcde"), json_values, max_size=5)


@st.composite
def inherited_and_desired(draw):
    """An inherited doc and a desired doc that has every key it has (changed, kept or added to)."""
    inherited = draw(json_objects)

    def mutate(node):
        if isinstance(node, dict) and draw(st.booleans()):
            out = {k: mutate(v) for k, v in node.items()}
            extra = draw(st.dictionaries(st.sampled_from("cdefg"), json_values, max_size=2))
            out.update({k: v for k, v in extra.items() if k not in node})
            return out
        # an object may be replaced by a non-object, not by an object lacking its keys
        others = json_values.filter(lambda v: not (isinstance(node, dict) and isinstance(v, dict)))
        return draw(st.one_of(st.just(node), others))

    desired = {k: mutate(v) for k, v in inherited.items()}
    desired.update(draw(st.dictionaries(st.sampled_from("vwxyz"), json_values, max_size=2)))
    return inherited, desired


@settings(max_examples=300, deadline=None)
@given(inherited_and_desired())
def test_sparse_overrides_round_trip_property(pair):
    inherited, desired = pair
    before = copy.deepcopy(pair)
    sparse = sparse_overrides(inherited, desired)
    assert (inherited, desired) == before
    assert deep_merge(inherited, sparse) == desired
    assert sparse_overrides(desired, desired) == {}
    assert sparse_overrides(inherited, deep_merge(inherited, sparse)) == sparse  # already minimal
    for path, _ in iter_leaves(sparse) if sparse else []:
        assert get_path(desired, path) == get_path(sparse, path)


@pytest.mark.parametrize(("name", "changes"), [
    ("mentorship", {"matching.criteria.skills": ["python"], "impact.sroiWeights.goal_achieved": 75}),
    ("language", {"cefr.progressionThresholds.C2": 60, "session.topicLibrary": []}),
    ("buddy", {"matching.weights.location": 0.25, "events.types": [{"key": "walk", "name": "Walk",
                                                                   "category": "social", "impactWeight": 1}]}),
])
def test_sparse_overrides_round_trip_on_masters(name, changes):
    schema, defaults = master(name)
    desired = defaults
    for path, value in changes.items():
        desired = set_path(desired, path, value)
    sparse = unchanged(sparse_overrides, defaults, desired)
    assert dict(iter_leaves(sparse)) == changes
    assert deep_merge(defaults, sparse) == desired
    assert effective_config(defaults, sparse) == desired
    for path in changes:
        assert deep_merge(defaults, remove_override(sparse, path)) == set_path(desired, path, get_path(defaults, path))


# --------------------------------------------------------------------------- provenance


def test_provenance_example_from_the_brief():
    defaults = {"a": {"x": 1, "y": 2}, "l": [1]}
    layers = (("program", {"a": {"x": 5}}), ("campaign", {"l": [2]}))
    effective, provenance = unchanged(effective_with_provenance, defaults, *layers)
    assert effective == {"a": {"x": 5, "y": 2}, "l": [2]}
    assert provenance == {"a.x": "program", "a.y": "template", "l": "campaign"}


def test_provenance_edge_cases():
    assert effective_with_provenance({}) == ({}, {})
    assert effective_with_provenance({"a": 1}, ("program", None), ("campaign", {})) == ({"a": 1}, {"a": "template"})
    # empty objects are leaves; a merged-in empty object changes nothing
    assert effective_with_provenance({"o": {}}, ("program", {"o": {}}))[1] == {"o": "program"}
    assert effective_with_provenance({"o": {"x": 1}}, ("program", {"o": {}}))[1] == {"o.x": "template"}
    # arrays are one leaf, even arrays of objects
    effective, provenance = effective_with_provenance({"l": [{"k": 1}]}, ("program", {"l": [{"k": 2}, {"k": 3}]}))
    assert effective == {"l": [{"k": 2}, {"k": 3}]} and provenance == {"l": "program"}
    # a scalar replaced by an object, then merged into
    effective, provenance = effective_with_provenance(
        {"a": 1, "b": {"x": 1}}, ("program", {"a": {"x": 1, "y": 2}, "b": 0}), ("campaign", {"a": {"y": 3}}))
    assert effective == {"a": {"x": 1, "y": 3}, "b": 0}
    assert provenance == {"a.x": "program", "a.y": "campaign", "b": "program"}
    # an object replaced by a scalar, then by an object again: only the last layer's keys remain
    effective, provenance = effective_with_provenance(
        {"a": {"x": 1}}, ("program", {"a": 7}), ("campaign", {"a": {"y": 3}}))
    assert effective == {"a": {"y": 3}} and provenance == {"a.y": "campaign"}
    # None is a value, set by whoever set it
    assert effective_with_provenance({"a": 1}, ("program", {"a": None})) == ({"a": None}, {"a": "program"})
    # a later layer setting the same value still counts as the setter
    assert effective_with_provenance({"a": 1}, ("p", {"a": 2}), ("c", {"a": 2}))[1] == {"a": "c"}


def test_provenance_result_is_independent_of_inputs():
    defaults, program = {"a": {"l": [1]}}, {"b": {"l": [2]}}
    effective, _ = effective_with_provenance(defaults, ("program", program))
    effective["a"]["l"].append(9)
    effective["b"]["l"].append(9)
    assert defaults == {"a": {"l": [1]}} and program == {"b": {"l": [2]}}


@settings(max_examples=200, deadline=None)
@given(json_objects, json_objects, json_objects)
def test_provenance_covers_every_leaf_with_the_value_its_layer_set(defaults, program, campaign):
    layers = {"template": defaults, "program": program, "campaign": campaign}
    effective, provenance = effective_with_provenance(defaults, ("program", program), ("campaign", campaign))
    assert effective == effective_config(defaults, program, campaign)
    leaves = dict(iter_leaves(effective)) if effective else {}
    assert set(provenance) == set(leaves)
    for path, layer in provenance.items():
        assert get_path(layers[layer], path) == leaves[path]


def test_three_layer_merge_and_provenance_on_the_language_master():
    schema, defaults = master("language")
    program = {
        "session": {"defaultDurationMinutes": 60, "maxSessionsPerWeek": 7},
        "cefr": {"targetLevels": ["B1", "B2", "C1"]},
        "cultural": {"enableCulturalEvents": False},
    }
    campaign = {
        "session": {"defaultDurationMinutes": 30},
        "matching": {"languagePairs": [{"nativeLanguage": "uk", "targetLanguage": "de"},
                                       {"nativeLanguage": "ru", "targetLanguage": "de"}]},
        "impact": {"sroiWeights": {"session_completed": 10}},
    }
    effective, provenance = unchanged(effective_with_provenance, defaults, ("program", program), ("campaign", campaign))
    assert effective == {
        "cefr": {
            "targetLevels": ["B1", "B2", "C1"],
            "assessmentIntervalDays": 90,
            "progressionThresholds": {"A1": 20, "A2": 25, "B1": 30, "B2": 35, "C1": 40, "C2": 50},
        },
        "session": {
            "defaultDurationMinutes": 30,
            "recommendedFrequency": "every_other_day",
            "minSessionsPerWeek": 2,
            "maxSessionsPerWeek": 7,
            "topicLibrary": [
                {"category": "Daily Life", "topics": ["Shopping and groceries", "Public transport",
                                                      "Visiting the doctor", "Renting a home", "Weekend plans"]},
                {"category": "Work & Career", "topics": ["Job interviews", "Writing a CV", "Talking to colleagues",
                                                         "Workplace culture"]},
                {"category": "Culture & Society", "topics": ["Holidays and traditions", "Local news",
                                                             "Food and cooking", "Volunteering in the community"]},
            ],
        },
        "matching": {
            "languagePairs": [{"nativeLanguage": "uk", "targetLanguage": "de"},
                              {"nativeLanguage": "ru", "targetLanguage": "de"}],
            "matchByProficiencyGap": True,
            "maxProficiencyGap": 1,
            "preferNativeSpeakers": True,
        },
        "impact": {
            "sroiWeights": {"session_completed": 10, "cefr_level_advanced": 50, "assessment_passed": 30,
                            "vocabulary_milestone": 5, "program_completed": 100, "cultural_integration_event": 20},
            "visMultipliers": {"session_completed": 4, "feedback_positive": 2, "cefr_level_advanced": 15,
                               "consistent_attendance": 5},
            "decayFactorMonthly": 0.93,
        },
        "cultural": {"includeCulturalModules": True, "enableCulturalEvents": False},
    }
    expected = {
        "session.defaultDurationMinutes": "campaign",  # program set it, campaign set it again
        "session.maxSessionsPerWeek": "program",
        "session.minSessionsPerWeek": "template",
        "session.topicLibrary": "template",
        "cefr.targetLevels": "program",
        "cefr.progressionThresholds.C2": "template",
        "matching.languagePairs": "campaign",
        "impact.sroiWeights.session_completed": "campaign",
        "impact.sroiWeights.assessment_passed": "template",
        "cultural.enableCulturalEvents": "program",
        "cultural.includeCulturalModules": "template",
    }
    assert {path: provenance[path] for path in expected} == expected
    assert len(provenance) == 30
    assert sorted(p for p, layer in provenance.items() if layer != "template") == sorted(
        p for p, layer in expected.items() if layer != "template")
    assert config_errors(schema, effective) == []
    # the stored overrides are sparse
    assert sparse_overrides(defaults, effective_config(defaults, program)) == program


# --------------------------------------------------------------------------- schema leaves


def test_iter_schema_leaves_and_count():
    schema, _ = master("mentorship")
    leaves = dict(iter_schema_leaves(schema))
    assert "session.defaultDurationMinutes" in leaves
    assert "matching.criteria.careerStage" in leaves
    assert "progression.milestones" in leaves  # an array of objects is one leaf
    assert "impact.sroiWeights" in leaves  # a map is one leaf
    assert "session" not in leaves and "matching.criteria" not in leaves
    assert leaves["safety.minAge"]["x-locked"] is True
    assert count_leaves(schema) == len(leaves) == 25
    assert [count_leaves(master(n)[0]) for n in ("language", "buddy")] == [17, 18]
    assert list(iter_schema_leaves({"type": "object"})) == []
    assert list(iter_schema_leaves({"properties": {"o": {"type": "object", "properties": {}}}})) == [
        ("o", {"type": "object", "properties": {}})]


# --------------------------------------------------------------------------- schema diff


def modified_mentorship():
    schema, defaults = master("mentorship")
    schema, defaults = copy.deepcopy(schema), copy.deepcopy(defaults)
    session = schema["properties"]["session"]
    session["properties"]["allowHybridSessions"] = {"type": "boolean", "title": "Allow hybrid sessions",
                                                    "default": False}
    session["required"].append("allowHybridSessions")
    defaults["session"]["allowHybridSessions"] = False
    progression = schema["properties"]["progression"]
    del progression["properties"]["trackCEFR"]
    progression["required"].remove("trackCEFR")
    del defaults["progression"]["trackCEFR"]
    session["properties"]["defaultDurationMinutes"]["default"] = 45
    defaults["session"]["defaultDurationMinutes"] = 45
    schema["properties"]["matching"]["properties"]["maxMenteesPerMentor"]["maximum"] = 12
    assert schema_errors(schema) == [] and config_errors(schema, defaults) == []
    return schema, defaults


def test_schema_diff_between_mentorship_versions():
    old_schema, old_defaults = master("mentorship")
    new_schema, new_defaults = modified_mentorship()
    diff = unchanged(schema_diff, old_schema, old_defaults, new_schema, new_defaults)
    assert diff == [
        DiffEntry("bounds_changed", "matching.maxMenteesPerMentor", {"maximum": 10}, {"maximum": 12}),
        DiffEntry("removed", "progression.trackCEFR", False, None),
        DiffEntry("added", "session.allowHybridSessions", None, False),
        DiffEntry("default_changed", "session.defaultDurationMinutes", 60, 45),
    ]
    assert schema_diff(old_schema, old_defaults, old_schema, old_defaults) == []


def test_schema_diff_kinds_and_nesting():
    old = {"type": "object", "properties": {
        "a": {"type": "integer", "minimum": 0},
        "e": {"type": "string", "enum": ["x", "y"]},
        "lock": {"type": "boolean"},
        "rows": {"type": "array", "items": {"type": "object", "properties": {
            "k": {"type": "string", "maxLength": 5}, "gone": {"type": "integer"}}}},
        "sub": {"type": "object", "properties": {"deep": {"type": "integer"}, "old": {"type": "object", "properties": {
            "x": {"type": "integer"}}}}},
    }}
    new = {"type": "object", "properties": {
        "a": {"type": "number", "minimum": 1, "exclusiveMaximum": 9},
        "e": {"type": "string", "enum": ["x", "y", "z"]},
        "lock": {"type": "boolean", "x-locked": True},
        "rows": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
            "k": {"type": "string", "maxLength": 10}, "new": {"type": "integer"}}}},
        "sub": {"type": "object", "properties": {"deep": {"type": "integer"}, "fresh": {"type": "object", "properties": {
            "y": {"type": "integer"}}}}},
    }}
    old_defaults = {"a": 1, "e": "x", "lock": True, "rows": [], "sub": {"deep": 1, "old": {"x": 1}}}
    new_defaults = {"a": 1.0, "e": "z", "lock": True, "rows": [], "sub": {"deep": 2, "fresh": {"y": 2}}}
    assert schema_diff(old, old_defaults, new, new_defaults) == [
        DiffEntry("bounds_changed", "a", {"minimum": 0, "exclusiveMaximum": None}, {"minimum": 1, "exclusiveMaximum": 9}),
        DiffEntry("type_changed", "a", "integer", "number"),
        DiffEntry("default_changed", "e", "x", "z"),
        DiffEntry("enum_changed", "e", ["x", "y"], ["x", "y", "z"]),
        DiffEntry("locked_changed", "lock", False, True),
        DiffEntry("bounds_changed", "rows", {"minItems": None}, {"minItems": 1}),
        DiffEntry("removed", "rows.*.gone", None, None),
        DiffEntry("bounds_changed", "rows.*.k", {"maxLength": 5}, {"maxLength": 10}),
        DiffEntry("added", "rows.*.new", None, None),
        DiffEntry("default_changed", "sub.deep", 1, 2),
        DiffEntry("added", "sub.fresh", None, {"y": 2}),  # only the topmost added property
        DiffEntry("removed", "sub.old", {"x": 1}, None),
    ]


def test_diff_entries_are_frozen():
    entry = DiffEntry("added", "a", None, 1)
    with pytest.raises(AttributeError):
        entry.kind = "removed"


# --------------------------------------------------------------------------- override report


def test_override_report_classifies_overrides_for_an_upgrade():
    new_schema, new_defaults = modified_mentorship()
    overrides = {
        "session": {"maxSessionsPerMonth": 12, "defaultDurationMinutes": 200, "minSessionsForCompletion": 20},
        "progression": {"trackCEFR": True},
        "safety": {"minAge": 21, "requireBackgroundCheck": True},
        "matching": {"maxMenteesPerMentor": 12, "criteria": {"skills": ["python"]}},
        "impact": {"sroiWeights": {"goal_achieved": -1, "brand_new": 3}},
    }
    report = unchanged(override_report, new_schema, new_defaults, overrides)
    assert [(path, status) for path, status, _ in report] == [
        ("impact.sroiWeights.brand_new", "kept"),  # maps accept new keys
        ("impact.sroiWeights.goal_achieved", "invalid"),
        ("matching.criteria.skills", "kept"),
        ("matching.maxMenteesPerMentor", "kept"),  # valid now that the maximum is 12
        ("progression.trackCEFR", "removed"),
        ("safety.minAge", "locked"),
        ("safety.requireBackgroundCheck", "kept"),
        ("session.defaultDurationMinutes", "invalid"),
        ("session.maxSessionsPerMonth", "kept"),
        # the cross-field error is reported on progression.milestones, but this override causes it
        ("session.minSessionsForCompletion", "invalid"),
    ]
    messages = {path: message for path, _, message in report}
    assert messages["session.defaultDurationMinutes"] == "200 is greater than the maximum of 180"
    assert messages["impact.sroiWeights.goal_achieved"] == "-1 is less than the minimum of 0"
    assert "milestone" in messages["session.minSessionsForCompletion"]
    assert messages["safety.minAge"] == LOCKED_MESSAGE
    assert messages["progression.trackCEFR"] == REMOVED_MESSAGE
    assert messages["session.maxSessionsPerMonth"] == ""


def test_override_report_edge_cases():
    schema, defaults = master("buddy")
    assert override_report(schema, defaults, {}) == []
    assert override_report(schema, defaults, None) == []
    # an error on the containing object (the weights must sum to 1) is blamed on the overrides inside it
    report = override_report(schema, defaults, {"matching": {"weights": {"interests": 0.5}, "maxAgeDifference": 20}})
    assert report == [
        ("matching.maxAgeDifference", "kept", ""),
        ("matching.weights.interests", "invalid", "The matching weights must add up to 1."),
    ]
    assert override_report(schema, defaults, {"matching": {"weights": {"interests": 0.5, "location": 0.2}}}) == [
        ("matching.weights.interests", "kept", ""),
        ("matching.weights.location", "kept", ""),
    ]
    # an array override is one leaf; an error inside it belongs to it
    rows = copy.deepcopy(defaults["events"]["types"])
    rows[1]["category"] = "party"
    assert [s for _, s, _ in override_report(schema, defaults, {"events": {"types": rows}})] == ["invalid"]
    # an object where the schema has a scalar has no such path any more
    assert override_report(schema, defaults, {"duration": {"allowExtension": {"x": 1}}}) == [
        ("duration.allowExtension.x", "removed", REMOVED_MESSAGE)]


def test_language_min_max_rule_blamed_on_the_override_that_breaks_it():
    schema, defaults = master("language")
    report = override_report(schema, defaults, {"session": {"maxSessionsPerWeek": 1, "defaultDurationMinutes": 30}})
    assert [(p, s) for p, s, _ in report] == [
        ("session.defaultDurationMinutes", "kept"),
        ("session.maxSessionsPerWeek", "invalid"),
    ]


# --------------------------------------------------------------------------- golden tests on the masters


@pytest.mark.parametrize("name", ["mentorship", "language", "buddy"])
def test_master_defaults_validate(name):
    schema, defaults = master(name)
    assert config_errors(schema, defaults) == []
    assert cross_field_errors(schema, defaults) == []


@pytest.mark.parametrize(("name", "changes", "expected"), [
    ("language", {"session.minSessionsPerWeek": 6, "session.maxSessionsPerWeek": 5}, ["session.minSessionsPerWeek"]),
    ("language", {"session.minSessionsPerWeek": 5, "session.maxSessionsPerWeek": 5}, []),
    ("language", {"session.defaultDurationMinutes": 121}, ["session.defaultDurationMinutes"]),
    ("language", {"session.maxSessionsPerWeek": 15}, ["session.maxSessionsPerWeek"]),
    ("buddy", {"matching.weights.demographics": 0.0}, ["matching.weights"]),
    ("buddy", {"matching.weights": {"interests": 0.4, "location": 0.3, "language": 0.1, "demographics": 0.1}},
     ["matching.weights"]),
    ("buddy", {"matching.weights": {"interests": 0.25, "location": 0.25, "language": 0.25, "demographics": 0.25}},
     []),
    ("buddy", {"matching.weights.interests": 1.2}, ["matching.weights", "matching.weights.interests"]),
    ("mentorship", {"session.minSessionsForCompletion": 20}, ["progression.milestones"]),
    ("mentorship", {"session.minSessionsForCompletion": 15}, []),
    ("mentorship", {"progression.milestones.3.sessionCount": 9, "progression.milestones.2.sessionCount": 8},
     ["progression.milestones"]),
    ("mentorship", {"progression.milestones": []}, ["progression.milestones"]),
    ("mentorship", {"session.defaultDurationMinutes": 500}, ["session.defaultDurationMinutes"]),
    ("mentorship", {"session.defaultDurationMinutes": 14}, ["session.defaultDurationMinutes"]),
    ("mentorship", {"progression.milestones.2.sessionCount": 0}, ["progression.milestones.2.sessionCount"]),
])
def test_master_bad_values_fail_on_the_expected_paths(name, changes, expected):
    schema, defaults = master(name)
    config = defaults
    for path, value in changes.items():
        config = set_path(config, path, value)
    assert paths(unchanged(config_errors, schema, config)) == expected


def test_master_rule_messages():
    schema, defaults = master("language")
    [error] = config_errors(schema, set_path(defaults, "session.minSessionsPerWeek", 6))
    assert error.message == "The minimum sessions per week must not be more than the maximum sessions per week."


# --------------------------------------------------------------------------- existing functions


def test_deep_merge_and_effective_config_never_mutate():
    base = {"a": {"x": [1, 2], "y": 1}, "n": None}
    override = {"a": {"x": [3]}, "n": {"k": 1}}
    merged = unchanged(deep_merge, base, override)
    assert merged == {"a": {"x": [3], "y": 1}, "n": {"k": 1}}
    merged["a"]["x"].append(4)
    assert override == {"a": {"x": [3]}, "n": {"k": 1}}
    assert unchanged(effective_config, base, None, {}, override) == {"a": {"x": [3], "y": 1}, "n": {"k": 1}}
    assert effective_config(base) == base and effective_config(base) is not base


def test_reconcile_defaults_fills_new_properties_and_drops_removed_ones():
    from portal.configuration.upgrades import reconcile_defaults
    from portal.configuration.validation import config_errors

    schema = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "kept": {"type": "integer", "default": 1},
            "added": {"type": "integer", "minimum": 0, "default": 5},
            "nested": {"type": "object", "additionalProperties": False,
                       "properties": {"flag": {"type": "boolean", "default": True}}, "required": ["flag"]},
            "weights": {"type": "object", "additionalProperties": {"type": "number"}},
        },
        "required": ["kept", "added", "nested"],
    }
    old = {"kept": 7, "gone": "x", "weights": {"a": 0.5}}
    frozen = copy.deepcopy(old)
    assert reconcile_defaults(schema, old) == {"kept": 7, "added": 5, "nested": {"flag": True}, "weights": {"a": 0.5}}
    assert old == frozen
    assert config_errors(schema, reconcile_defaults(schema, old)) == []
