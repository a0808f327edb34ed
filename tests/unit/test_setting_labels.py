"""Issue 13, items 3 and 6, the pure rules: labels for settings and values (one place for
every screen), the campaign layer's closed impact section, the "Advanced" grouping, and
what an upgrade must drop."""
import copy
import json
from pathlib import Path

import pytest

from portal.configuration.form_build import build_form
from portal.configuration.form_parse import parse_form
from portal.configuration.labels import SettingLabels, humanise, option_label, value_text
from portal.configuration.layers import IMPACT_REFUSED_MESSAGE, LayerContext, layer_problems, read_layer_form
from portal.configuration.upgrades import review_upgrade, schema_diff

MASTERS = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"


def master(name):
    return json.loads((MASTERS / f"{name}.json").read_text())


@pytest.fixture(scope="module")
def language():
    return master("language")


def test_labels_come_from_titles_and_ui_schema(language):
    labels = SettingLabels(language["config_schema"], language["ui_schema"])
    assert labels.label("session.recommendedFrequency") == "Sessions › Recommended frequency"
    assert labels.label("impact.sroiWeights.cefr_level_advanced") == "Impact › SROI weights › CEFR level advanced"
    assert labels.label("session.topicLibrary.1.category") == "Sessions › Topic library › Topic category 2 › Category"
    assert labels.label("session.topicLibrary.*.category") == "Sessions › Topic library › Category"
    assert labels.label("no.suchSetting") == "No › Such setting"
    ui = {"session": {"recommendedFrequency": {"ui:title": "How often", "ui:enumNames": ["Every day"]}}}
    assert SettingLabels(language["config_schema"], ui).label("session.recommendedFrequency") == "Sessions › How often"
    assert SettingLabels(language["config_schema"], ui).value("session.recommendedFrequency", "daily") == "Every day"


def test_values_in_words(language):
    labels = SettingLabels(language["config_schema"], language["ui_schema"])
    assert labels.value("session.recommendedFrequency", "every_other_day") == "Every other day"
    assert labels.value("cultural.includeCulturalModules", False) == "No"
    assert labels.value("cefr.targetLevels", ["A1", "B2"]) == "A1, B2"
    assert labels.value("impact.visMultipliers", {"cefr_level_advanced": 15, "feedback_positive": 2.0}) == \
        "CEFR level advanced: 15, Feedback positive: 2"
    assert labels.value("session.topicLibrary", [{"category": "Daily Life", "topics": []}]) == "Daily Life"
    assert labels.value("session", {"minSessionsPerWeek": 3}) == "Minimum sessions per week: 3"


@pytest.mark.parametrize("schema,ui,value,expected", [
    ({"enum": ["a_b", "c"], "x-enumNames": ["Alpha", "Gamma"]}, None, "c", "Gamma"),
    ({"enum": ["a_b", "c"]}, {"ui:enumNames": ["Alpha", "Gamma"]}, "a_b", "Alpha"),
    ({"oneOf": [{"const": "same_city", "title": "In the same city"}]}, None, "same_city", "In the same city"),
    ({"enum": ["same_region"]}, None, "same_region", "Same region"),
    ({"enum": ["B2"]}, None, "B2", "B2"),
])
def test_option_labels(schema, ui, value, expected):
    assert option_label(value, schema, ui) == expected
    assert value_text(value, schema, ui) == expected


def test_humanise_keeps_acronyms():
    assert humanise("cefr_level_advanced") == "CEFR level advanced"
    assert humanise("trackCEFR") == "Track CEFR"
    assert humanise("defaultDurationMinutes") == "Default duration minutes"


def test_diff_entries_carry_words_for_both_sides(language):
    new_schema, new_defaults = copy.deepcopy(language["config_schema"]), copy.deepcopy(language["default_config"])
    new_schema["properties"]["session"]["properties"]["recommendedFrequency"]["enum"].append("monthly")
    new_defaults["session"]["recommendedFrequency"] = "weekly"
    new_schema["properties"]["cefr"]["properties"]["assessmentIntervalDays"]["x-locked"] = True
    words = {(e.kind, e.path): (e.label, e.kind_text, e.old_text, e.new_text) for e in schema_diff(
        language["config_schema"], language["default_config"], new_schema, new_defaults, new_ui=language["ui_schema"])}
    assert words[("default_changed", "session.recommendedFrequency")] == (
        "Sessions › Recommended frequency", "Default changed", "Every other day", "Weekly")
    assert words[("enum_changed", "session.recommendedFrequency")][3].endswith("Biweekly, Monthly")
    assert words[("locked_changed", "cefr.assessmentIntervalDays")][2:] == ("Not locked", "Locked")


# --- the campaign layer's closed impact section -----------------------------------------
def test_layer_problems_refuse_impact_overrides_for_campaigns_only(language):
    schema, defaults = language["config_schema"], language["default_config"]
    overrides = {"impact": {"decayFactorMonthly": 0.5}, "session": {"defaultDurationMinutes": 60}}
    problems = layer_problems(schema, defaults, overrides, "campaign")
    assert [(p.path, p.message) for p in problems] == [("impact.decayFactorMonthly", IMPACT_REFUSED_MESSAGE)]
    assert layer_problems(schema, defaults, overrides, "program") == []
    whole = layer_problems(schema, defaults, {"impact": "nothing"}, "campaign")
    assert [p.path for p in whole] == ["impact"]


def _campaign_context(doc, program_overrides=None):
    return LayerContext(doc["config_schema"], doc["ui_schema"], doc["default_config"],
                        [("program", program_overrides or {})], "campaign")


def test_campaign_form_has_no_impact_section_and_saves_without_one(language):
    context = _campaign_context(language)
    node = context.form({})
    assert "impact" not in [c.path for c in node.children]
    assert not any(n.path.startswith("impact") for n in node.walk())
    result = read_layer_form(context, _formdata(node, {"cfg.session.defaultDurationMinutes": "60"}), {})
    assert result.errors == {} and result.overrides == {"session": {"defaultDurationMinutes": 60}}


def _formdata(node, changes):
    """What a browser posts from the built form (text fields and checked boxes), with ``changes``."""
    from werkzeug.datastructures import MultiDict

    data = MultiDict()
    for n in node.walk():
        if n.kind in ("integer", "number", "string", "select", "textarea") and n.name and not n.locked:
            data.add(n.name, n.value)
        elif n.kind == "boolean" and not n.locked:
            data.add(n.name, "false")
            if n.checked:
                data.add(n.name, "true")
        elif n.kind == "checkboxes":
            for o in n.options:
                if o.selected:
                    data.add(n.name, o.value)
    for name, value in changes.items():
        data[name] = value
    return data


def test_campaign_impact_overrides_already_in_the_layer_are_refused_not_kept_silently(language):
    context = _campaign_context(language)
    stored = {"impact": {"decayFactorMonthly": 0.5}}
    result = read_layer_form(context, _formdata(context.form(stored), {}), stored)
    assert result.errors == {"impact.decayFactorMonthly": [IMPACT_REFUSED_MESSAGE]}


def test_parse_form_reads_an_omitted_section_only_when_posted(language):
    schema = language["config_schema"]
    quiet = parse_form(schema, {}, omit={"impact"})
    assert "impact" not in quiet.value and not any(p.startswith("impact") for p in quiet.errors)
    posted = parse_form(schema, {"cfg.impact.decayFactorMonthly": "0.5"}, omit={"impact"})
    assert posted.value["impact"]["decayFactorMonthly"] == 0.5


# --- "Advanced" grouping -----------------------------------------------------------------
def test_advanced_settings_are_flagged_from_ui_schema_with_impact_by_default(language):
    node = build_form(language["config_schema"], language["default_config"], ui_schema=language["ui_schema"])
    advanced = sorted(n.path for n in node.walk() if n.advanced)
    assert advanced == ["cefr.progressionThresholds", "impact"]
    bare = build_form(language["config_schema"], language["default_config"])
    assert [n.path for n in bare.walk() if n.advanced] == ["impact"]
    opted_out = build_form(language["config_schema"], language["default_config"],
                           ui_schema={"impact": {"ui:advanced": False}})
    assert not any(n.advanced for n in opted_out.walk())
    with_error = build_form(language["config_schema"], language["default_config"],
                            errors={"impact.decayFactorMonthly": ["Too big."]})
    assert next(c for c in with_error.children if c.path == "impact").has_errors_below


# --- upgrades: what must be dropped ------------------------------------------------------
def test_review_upgrade_lists_the_refused_overrides_and_what_they_become(language):
    schema, defaults = language["config_schema"], language["default_config"]
    new_schema, new_defaults = copy.deepcopy(schema), copy.deepcopy(defaults)
    del new_schema["properties"]["cultural"]["properties"]["enableCulturalEvents"]
    new_schema["properties"]["cultural"]["required"] = ["includeCulturalModules"]
    del new_defaults["cultural"]["enableCulturalEvents"]
    new_schema["properties"]["session"]["properties"]["defaultDurationMinutes"]["maximum"] = 50
    overrides = {"cultural": {"enableCulturalEvents": False}, "session": {"defaultDurationMinutes": 60,
                                                                          "minSessionsPerWeek": 3}}
    review = review_upgrade(schema, defaults, language["ui_schema"], new_schema, new_defaults, language["ui_schema"],
                            overrides)
    assert review.blocking_paths == ["cultural.enableCulturalEvents", "session.defaultDurationMinutes"]
    assert [(d.label, d.value_text, d.becomes_text, d.reason) for d in review.drops] == [
        ("Cultural integration › Enable cultural events", "No", "", "Removed from the template"),
        ("Sessions › Default session duration (minutes)", "60", "45", "Invalid in the new version")]
    assert review.kept_overrides == {"session": {"minSessionsPerWeek": 3}}
    assert review.can_drop and not review.can_apply
    clean = review_upgrade(schema, defaults, None, schema, defaults, None, {"session": {"minSessionsPerWeek": 3}})
    assert clean.can_apply and not clean.can_drop and clean.drops == []


def test_an_advanced_section_stays_open_for_what_was_just_changed_or_is_overridden(language):
    def impact(node):
        return next(c for c in node.children if c.path == "impact")

    schema, defaults, ui = language["config_schema"], language["default_config"], language["ui_schema"]
    assert not impact(build_form(schema, defaults, ui_schema=ui)).wants_open
    assert impact(build_form(schema, defaults, ui_schema=ui, focus="impact.sroiWeights")).wants_open
    context = LayerContext(schema, ui, defaults, [], "program")
    assert impact(context.form({"impact": {"decayFactorMonthly": 0.9}})).wants_open
    assert not impact(context.form({"session": {"defaultDurationMinutes": 60}})).wants_open
