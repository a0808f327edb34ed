"""The three seeded master templates (SPEC §3.1) are valid JSON Schema 2020-12 with valid defaults."""

import copy
import json
import math
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

MASTERS_DIR = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"
FILES = {
    "mentorship": "mentorship.json",
    "language-practice": "language.json",
    "buddy-integration": "buddy.json",
}


def load(key):
    return json.loads((MASTERS_DIR / FILES[key]).read_text(encoding="utf-8"))


def validator(doc):
    return Draft202012Validator(doc["config_schema"], format_checker=Draft202012Validator.FORMAT_CHECKER)


def error_paths(doc, config):
    return [list(e.absolute_path) for e in validator(doc).iter_errors(config)]


def set_path(config, path, value):
    target = config
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def walk_schema(schema, path=()):
    """Yield (path, subschema) for every object/array schema node below and including schema."""
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from walk_schema(sub, path + (name,))
    if isinstance(schema.get("items"), dict):
        yield from walk_schema(schema["items"], path + ("[]",))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk_schema(schema["additionalProperties"], path + ("*",))


ALL_KEYS = list(FILES)


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("key", ALL_KEYS)
def test_document_metadata(key):
    doc = load(key)
    assert doc["key"] == key
    assert set(doc) == {
        "key", "name", "category", "description", "sdg_goals", "tags",
        "config_schema", "default_config", "ui_schema",
    }
    assert 1 <= len(doc["name"]) <= 255
    assert 0 < len(doc["description"]) <= 5000
    assert all(1 <= g <= 17 for g in doc["sdg_goals"])
    assert len(doc["tags"]) <= 20 and all(0 < len(t) <= 50 for t in doc["tags"])


def test_names_categories_and_sdgs():
    m, lang, b = load("mentorship"), load("language-practice"), load("buddy-integration")
    assert (m["name"], m["category"], m["sdg_goals"]) == ("Mentorship", "mentorship", [4, 8, 10])
    assert (lang["name"], lang["category"], lang["sdg_goals"]) == ("Language Practice", "language", [4, 10, 16])
    assert (b["name"], b["category"], b["sdg_goals"]) == ("Buddy Integration", "buddy", [1, 10, 16, 17])


@pytest.mark.parametrize("key", ALL_KEYS)
def test_schema_is_valid_2020_12(key):
    schema = load(key)["config_schema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_default_config_validates(key):
    doc = load(key)
    validator(doc).validate(doc["default_config"])


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_object_is_closed_and_every_property_titled(key):
    schema = load(key)["config_schema"]
    for path, node in walk_schema(schema):
        if node.get("type") == "object":
            if "properties" in node:
                assert node.get("additionalProperties") is False, path
                assert set(node.get("required", [])) <= set(node["properties"]), path
            else:  # map of string -> number
                assert node["additionalProperties"]["type"] == "number", path
        for name, prop in node.get("properties", {}).items():
            assert prop.get("title"), path + (name,)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_leaf_defaults_match_default_config(key):
    doc = load(key)

    def check(schema, config, path):
        if "default" in schema:
            assert schema["default"] == config, path
            return
        assert schema["type"] == "object", path
        for name, sub in schema["properties"].items():
            if name in config:
                check(sub, config[name], path + (name,))
            else:
                assert name not in schema.get("required", []), path + (name,)
        assert set(config) <= set(schema["properties"]), path

    check(doc["config_schema"], doc["default_config"], ())


@pytest.mark.parametrize("key", ALL_KEYS)
def test_ui_order_lists_top_level_sections(key):
    doc = load(key)
    props = doc["config_schema"]["properties"]
    assert sorted(doc["ui_schema"]["ui:order"]) == sorted(props)
    for section, sub in doc["ui_schema"].items():
        if section == "ui:order":
            continue
        assert sorted(sub["ui:order"]) == sorted(props[section]["properties"])


def test_x_locked_only_on_mentorship_safety():
    locked = []
    for key in ALL_KEYS:
        for path, node in walk_schema(load(key)["config_schema"]):
            if node.get("x-locked"):
                locked.append((key,) + path)
    assert sorted(locked) == [
        ("mentorship", "safety", "minAge"),
        ("mentorship", "safety", "requireCodeOfConduct"),
    ]


# --------------------------------------------------------------------------- bad values

BAD_VALUES = [
    # (template, path to set, value, expected error path)
    ("mentorship", ["session", "defaultDurationMinutes"], 500, ["session", "defaultDurationMinutes"]),
    ("mentorship", ["session", "defaultDurationMinutes"], 10, ["session", "defaultDurationMinutes"]),
    ("mentorship", ["session", "recommendedFrequency"], "daily", ["session", "recommendedFrequency"]),
    ("mentorship", ["session", "minSessionsForCompletion"], 0, ["session", "minSessionsForCompletion"]),
    ("mentorship", ["matching", "maxMenteesPerMentor"], 11, ["matching", "maxMenteesPerMentor"]),
    ("mentorship", ["matching", "criteria", "careerStage"], "intern", ["matching", "criteria", "careerStage"]),
    ("mentorship", ["impact", "sroiWeights", "session_completed"], -5, ["impact", "sroiWeights", "session_completed"]),
    ("mentorship", ["impact", "decayFactorMonthly"], 1.5, ["impact", "decayFactorMonthly"]),
    ("mentorship", ["safety", "minAge"], 12, ["safety", "minAge"]),
    ("mentorship", ["safety", "requireCodeOfConduct"], "yes", ["safety", "requireCodeOfConduct"]),
    ("mentorship", ["session", "unknownField"], 1, ["session"]),
    ("language-practice", ["cefr", "targetLevels"], ["A1", "D1"], ["cefr", "targetLevels", 1]),
    ("language-practice", ["cefr", "assessmentIntervalDays"], 366, ["cefr", "assessmentIntervalDays"]),
    ("language-practice", ["cefr", "progressionThresholds", "A1"], 0, ["cefr", "progressionThresholds", "A1"]),
    ("language-practice", ["session", "recommendedFrequency"], "monthly", ["session", "recommendedFrequency"]),
    ("language-practice", ["session", "maxSessionsPerWeek"], 15, ["session", "maxSessionsPerWeek"]),
    ("language-practice", ["matching", "maxProficiencyGap"], 7, ["matching", "maxProficiencyGap"]),
    ("language-practice", ["impact", "visMultipliers", "session_completed"], -1, ["impact", "visMultipliers", "session_completed"]),
    ("language-practice", ["extra"], True, []),
    ("buddy-integration", ["matching", "maxAgeDifference"], -1, ["matching", "maxAgeDifference"]),
    ("buddy-integration", ["matching", "location"], "nearby", ["matching", "location"]),
    ("buddy-integration", ["matching", "weights", "interests"], 1.2, ["matching", "weights", "interests"]),
    ("buddy-integration", ["matching", "weights", "age"], 0.1, ["matching", "weights"]),
    ("buddy-integration", ["events", "minEventsPerMonth"], 21, ["events", "minEventsPerMonth"]),
    ("buddy-integration", ["impact", "sroiWeights", "match_created"], -5, ["impact", "sroiWeights", "match_created"]),
    ("buddy-integration", ["duration", "programLengthMonths"], 0, ["duration", "programLengthMonths"]),
]


@pytest.mark.parametrize(("key", "path", "value", "expected"), BAD_VALUES)
def test_bad_value_fails_at_its_path(key, path, value, expected):
    doc = load(key)
    config = copy.deepcopy(doc["default_config"])
    set_path(config, path, value)
    assert error_paths(doc, config) == [expected]


def test_bad_array_of_objects_rows_fail_at_their_path():
    m = load("mentorship")
    config = copy.deepcopy(m["default_config"])
    config["progression"]["milestones"][2]["sessionCount"] = 0
    assert error_paths(m, config) == [["progression", "milestones", 2, "sessionCount"]]

    lang = load("language-practice")
    config = copy.deepcopy(lang["default_config"])
    del config["matching"]["languagePairs"][0]["targetLanguage"]
    assert error_paths(lang, config) == [["matching", "languagePairs", 0]]

    b = load("buddy-integration")
    config = copy.deepcopy(b["default_config"])
    config["events"]["types"][0]["category"] = "party"
    config["milestones"]["integrationStages"][1]["criteria"]["daysActive"] = -3
    assert sorted(error_paths(b, config)) == [
        ["events", "types", 0, "category"],
        ["milestones", "integrationStages", 1, "criteria", "daysActive"],
    ]


def test_optional_criteria_may_be_omitted_or_given():
    m = load("mentorship")
    config = copy.deepcopy(m["default_config"])
    assert "location" not in config["matching"]["criteria"]
    config["matching"]["criteria"].update(location="Oslo", careerStage="early")
    assert error_paths(m, config) == []


def test_missing_required_field_fails():
    b = load("buddy-integration")
    config = copy.deepcopy(b["default_config"])
    del config["checkins"]["moodTracking"]
    assert error_paths(b, config) == [["checkins"]]


# --------------------------------------------------------------------------- SPEC defaults


def test_mentorship_defaults():
    c = load("mentorship")["default_config"]
    assert c["session"] == {
        "defaultDurationMinutes": 60,
        "recommendedFrequency": "weekly",
        "minSessionsForCompletion": 10,
        "maxSessionsPerMonth": 8,
        "allowVirtualSessions": True,
        "allowInPersonSessions": False,
    }
    assert c["matching"]["autoMatch"] is False
    assert c["matching"]["matchingAlgorithm"] == "hybrid"
    assert c["matching"]["maxMenteesPerMentor"] == 3
    assert c["matching"]["criteria"] == {"skills": [], "interests": [], "languages": [], "industry": []}
    assert c["progression"]["trackCEFR"] is False
    assert [(m["key"], m["name"], m["sessionCount"]) for m in c["progression"]["milestones"]] == [
        ("first_session", "First Session", 1),
        ("established", "Relationship Established", 5),
        ("progressing", "Progressing Well", 10),
        ("completed", "Program Completed", 15),
    ]
    assert c["impact"]["sroiWeights"] == {
        "session_completed": 10, "milestone_reached": 25, "goal_achieved": 50,
        "program_completed": 100, "mentee_employed": 500, "mentor_referral": 15,
    }
    assert c["impact"]["visMultipliers"] == {
        "session_completed": 5, "feedback_positive": 2, "feedback_exceptional": 5,
        "milestone_reached": 10, "goal_achieved": 20,
    }
    assert c["impact"]["decayFactorMonthly"] == 0.95
    assert c["safety"] == {"requireBackgroundCheck": False, "requireCodeOfConduct": True, "minAge": 18}
    # cross-field rule holds for the defaults: completion milestone >= minSessionsForCompletion
    assert c["progression"]["milestones"][-1]["sessionCount"] >= c["session"]["minSessionsForCompletion"]


def test_mentorship_bounds():
    props = load("mentorship")["config_schema"]["properties"]
    session = props["session"]["properties"]
    assert (session["defaultDurationMinutes"]["minimum"], session["defaultDurationMinutes"]["maximum"]) == (15, 180)
    assert (session["maxSessionsPerMonth"]["minimum"], session["maxSessionsPerMonth"]["maximum"]) == (1, 20)
    assert props["matching"]["properties"]["matchingAlgorithm"]["enum"] == [
        "manual", "skill_based", "interest_based", "hybrid",
    ]
    assert props["matching"]["properties"]["criteria"]["properties"]["careerStage"]["enum"] == [
        "student", "early", "mid", "senior", "executive",
    ]
    assert (props["safety"]["properties"]["minAge"]["minimum"], props["safety"]["properties"]["minAge"]["maximum"]) == (13, 100)


def test_language_defaults():
    c = load("language-practice")["default_config"]
    assert c["cefr"]["targetLevels"] == ["A1", "A2", "B1", "B2"]
    assert c["cefr"]["assessmentIntervalDays"] == 90
    assert c["cefr"]["progressionThresholds"] == {"A1": 20, "A2": 25, "B1": 30, "B2": 35, "C1": 40, "C2": 50}
    assert c["session"]["defaultDurationMinutes"] == 45
    assert c["session"]["recommendedFrequency"] == "every_other_day"
    assert (c["session"]["minSessionsPerWeek"], c["session"]["maxSessionsPerWeek"]) == (2, 5)
    assert c["session"]["minSessionsPerWeek"] <= c["session"]["maxSessionsPerWeek"]
    library = c["session"]["topicLibrary"]
    assert [t["category"] for t in library] == ["Daily Life", "Work & Career", "Culture & Society"]
    assert all(3 <= len(t["topics"]) <= 5 for t in library)
    assert c["matching"] == {
        "languagePairs": [{"nativeLanguage": "uk", "targetLanguage": "en"}],
        "matchByProficiencyGap": True,
        "maxProficiencyGap": 1,
        "preferNativeSpeakers": True,
    }
    assert c["impact"]["sroiWeights"] == {
        "session_completed": 8, "cefr_level_advanced": 50, "assessment_passed": 30,
        "vocabulary_milestone": 5, "program_completed": 100, "cultural_integration_event": 20,
    }
    assert c["impact"]["visMultipliers"] == {
        "session_completed": 4, "feedback_positive": 2, "cefr_level_advanced": 15, "consistent_attendance": 5,
    }
    assert c["impact"]["decayFactorMonthly"] == 0.93
    assert c["cultural"] == {"includeCulturalModules": True, "enableCulturalEvents": True}


def test_language_bounds():
    props = load("language-practice")["config_schema"]["properties"]
    assert props["cefr"]["properties"]["targetLevels"]["items"]["enum"] == ["A1", "A2", "B1", "B2", "C1", "C2"]
    session = props["session"]["properties"]
    assert (session["defaultDurationMinutes"]["minimum"], session["defaultDurationMinutes"]["maximum"]) == (15, 120)
    assert (session["minSessionsPerWeek"]["minimum"], session["minSessionsPerWeek"]["maximum"]) == (1, 7)
    assert (session["maxSessionsPerWeek"]["minimum"], session["maxSessionsPerWeek"]["maximum"]) == (1, 14)
    assert session["recommendedFrequency"]["enum"] == ["daily", "every_other_day", "weekly", "biweekly"]


def test_buddy_defaults():
    c = load("buddy-integration")["default_config"]
    matching = c["matching"]
    assert (matching["algorithm"], matching["location"], matching["maxAgeDifference"]) == ("hybrid", "same_region", 15)
    assert matching["weights"] == {"interests": 0.4, "location": 0.3, "language": 0.2, "demographics": 0.1}
    assert math.isclose(sum(matching["weights"].values()), 1.0)
    assert matching["requireMutualAcceptance"] is True
    assert c["checkins"] == {
        "frequency": "weekly",
        "moodTracking": True,
        "moodOptions": ["great", "good", "okay", "struggling", "difficult"],
    }
    assert [(t["key"], t["category"], t["impactWeight"]) for t in c["events"]["types"]] == [
        ("hangout", "social", 5),
        ("cultural_event", "cultural", 10),
        ("sports", "recreational", 7),
        ("workshop", "educational", 12),
        ("networking", "professional", 15),
    ]
    assert c["events"]["minEventsPerMonth"] == 2
    stages = {s["key"]: s for s in c["milestones"]["integrationStages"]}
    assert list(stages) == ["first_meeting", "connected", "integrated", "thriving"]
    assert {k: s["impactPoints"] for k, s in stages.items()} == {
        "first_meeting": 20, "connected": 50, "integrated": 150, "thriving": 300,
    }
    assert stages["first_meeting"]["criteria"] == {
        "eventsAttended": 1, "checkinsCompleted": 0, "skillSharesCompleted": 0, "daysActive": 0,
    }
    assert stages["connected"]["criteria"] == {
        "eventsAttended": 3, "checkinsCompleted": 4, "skillSharesCompleted": 0, "daysActive": 0,
    }
    assert stages["integrated"]["criteria"] == {
        "eventsAttended": 10, "checkinsCompleted": 12, "skillSharesCompleted": 0, "daysActive": 90,
    }
    assert stages["thriving"]["criteria"] == {
        "eventsAttended": 20, "checkinsCompleted": 0, "skillSharesCompleted": 3, "daysActive": 180,
    }
    assert c["impact"]["sroiWeights"] == {
        "match_created": 15, "event_attended": 8, "checkin_completed": 3,
        "skill_share_completed": 20, "milestone_reached": 25, "community_integration": 100,
    }
    assert c["impact"]["decayFactorMonthly"] == 0.9
    assert c["duration"] == {"programLengthMonths": 6, "allowExtension": True}


def test_buddy_bounds():
    props = load("buddy-integration")["config_schema"]["properties"]
    matching = props["matching"]["properties"]
    assert matching["algorithm"]["enum"] == ["manual", "algorithmic", "hybrid"]
    assert matching["location"]["enum"] == ["same_city", "same_region", "same_country", "any"]
    assert (matching["maxAgeDifference"]["minimum"], matching["maxAgeDifference"]["maximum"]) == (0, 50)
    weights = matching["weights"]
    assert weights["required"] == ["interests", "location", "language", "demographics"]
    assert all((w["minimum"], w["maximum"]) == (0, 1) for w in weights["properties"].values())
    assert props["events"]["properties"]["types"]["items"]["properties"]["category"]["enum"] == [
        "social", "cultural", "recreational", "educational", "professional",
    ]
    duration = props["duration"]["properties"]["programLengthMonths"]
    assert (duration["minimum"], duration["maximum"]) == (1, 24)


# --------------------------------------------------------------------------- cross-field rules (x-rules)


def test_cross_field_rules_declared_per_spec():
    rules = {key: [{k: v for k, v in r.items() if k not in ("message", "x-i18n")}
                   for r in load(key)["config_schema"]["x-rules"]]
             for key in ALL_KEYS}
    assert rules == {
        "mentorship": [{"rule": "max_item_gte", "path": "progression.milestones", "item_key": "sessionCount",
                        "min_path": "session.minSessionsForCompletion"}],
        "language-practice": [{"rule": "lte", "left": "session.minSessionsPerWeek",
                               "right": "session.maxSessionsPerWeek"}],
        "buddy-integration": [{"rule": "sum_equals", "path": "matching.weights", "value": 1, "tolerance": 1e-9}],
    }
    assert all(load(key)["config_schema"]["x-rules"][0]["message"] for key in ALL_KEYS)
    for key in ALL_KEYS:  # each rule's message in Norwegian and Ukrainian too (issue #19)
        translations = load(key)["config_schema"]["x-rules"][0]["x-i18n"]
        assert set(translations) == {"nb", "uk"} and all(t["message"] for t in translations.values())


# --------------------------------------------------------------------------- translations (issue #19)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_label_has_norwegian_and_ukrainian(key):
    """Every titled node (settings, array items, maps' values, the root) carries x-i18n with
    nb and uk titles, descriptions where it has one, every enum option and every map entry of
    the defaults (CEFR level codes excepted: they read the same in every language)."""
    schema = load(key)["config_schema"]
    for path, node in walk_schema(schema):
        if "title" not in node:
            continue
        block = node.get("x-i18n")
        assert block and set(block) == {"nb", "uk"}, path
        for language, entry in block.items():
            assert entry["title"].strip() and entry["title"] != node["title"], (path, language)
            assert ("description" in entry) == ("description" in node), (path, language)
            if "enum" in node:
                assert set(entry["enumNames"]) == set(node["enum"]), (path, language)
            if isinstance(node.get("default"), dict) and isinstance(node.get("additionalProperties"), dict) \
                    and not path[-1] == "progressionThresholds":
                assert set(entry["keyLabels"]) == set(node["default"]), (path, language)
    for path, node in walk_schema(schema):
        if "items" in node and isinstance(node["items"].get("enum"), list) and node["items"]["enum"][0] != "A1":
            assert "enumNames" in node["items"]["x-i18n"]["nb"], path


@pytest.mark.parametrize("key", ALL_KEYS)
def test_masters_translations_have_the_allowed_shape(key):
    from portal.configuration.schema_i18n import ui_i18n_problems
    from portal.configuration.validation import schema_errors

    doc = load(key)
    assert schema_errors(doc["config_schema"]) == []
    assert ui_i18n_problems(doc["ui_schema"]) == []


@pytest.mark.parametrize("key", ALL_KEYS)
def test_engine_accepts_schema_and_defaults(key):
    from portal.configuration.validation import config_errors, schema_errors

    doc = load(key)
    assert schema_errors(doc["config_schema"]) == []
    assert config_errors(doc["config_schema"], doc["default_config"]) == []
