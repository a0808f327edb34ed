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


# --- issue 19: labels in the reader's language (x-i18n), English otherwise ------------------
@pytest.fixture
def reading_in():
    """Render in a language: a bare Flask app whose locale is fixed and which has no message
    catalogues, so only the schema's own x-i18n words change (the portal's words stay English)."""
    from flask import Flask
    from flask_babel import Babel

    contexts = []

    def use(language):
        app = Flask("labels-in-" + language)
        Babel(app, locale_selector=lambda: language)
        context = app.test_request_context()
        context.push()
        contexts.append(context)

    yield use
    for context in reversed(contexts):
        context.pop()


@pytest.mark.parametrize("language_code,expected", [
    ("nb", ("Økter › Anbefalt hyppighet", "Annenhver dag", "Effekt › SROI-vekter › Gått opp et CEFR-nivå",
            "Økter › Emnebibliotek › Emnekategori 2 › Kategori", "Gått opp et CEFR-nivå: 15, Positiv tilbakemelding: 2",
            "Minste antall økter per uke: 3")),
    ("uk", ("Заняття › Рекомендована частота", "Через день", "Вплив › Ваги SROI › Підвищено рівень CEFR",
            "Заняття › Бібліотека тем › Категорія тем 2 › Категорія", "Підвищено рівень CEFR: 15, Позитивний відгук: 2",
            "Мінімум занять на тиждень: 3")),
])
def test_master_labels_values_and_map_entries_in_the_readers_language(language, reading_in, language_code, expected):
    reading_in(language_code)
    labels = SettingLabels(language["config_schema"], language["ui_schema"])
    assert labels.label("session.recommendedFrequency") == expected[0]
    assert labels.value("session.recommendedFrequency", "every_other_day") == expected[1]
    assert labels.label("impact.sroiWeights.cefr_level_advanced") == expected[2]
    assert labels.label("session.topicLibrary.1.category") == expected[3]
    assert labels.value("impact.visMultipliers", {"cefr_level_advanced": 15, "feedback_positive": 2.0}) == expected[4]
    assert labels.value("session", {"minSessionsPerWeek": 3}) == expected[5]
    assert labels.value("impact.decayFactorMonthly", 0.93) == "0,93"  # the reader's decimal comma


def test_the_config_form_reads_titles_help_options_and_columns_in_norwegian(reading_in):
    reading_in("nb")
    mentorship = master("mentorship")
    form = build_form(mentorship["config_schema"], mentorship["default_config"], ui_schema=mentorship["ui_schema"])
    nodes = {n.path: n for n in form.walk() if n.path}
    assert form.label == "Konfigurasjon for mentorprogram"
    assert nodes["session"].label == "Økter"
    frequency = nodes["session.recommendedFrequency"]
    assert frequency.label == "Anbefalt hyppighet"
    assert frequency.help == "Hvor ofte mentor og mentee oppfordres til å møtes."
    assert [o.label for o in frequency.options] == ["Ukentlig", "Annenhver uke", "Månedlig"]
    assert nodes["progression.milestones"].item_label == "Milepæl"
    assert nodes["progression.milestones.0"].label == "Milepæl 1"
    assert nodes["progression.milestones.0.sessionCount"].label == "Nås etter antall økter"
    sroi = nodes["impact.sroiWeights"]
    assert sroi.column_labels[1] == "Vekt"
    assert sroi.children[0].children[0].display == "Økt gjennomført"
    assert nodes["impact.decayFactorMonthly"].display == "0,95"
    assert nodes["safety.minAge"].help.startswith("Laveste tillatte alder for deltakere.")
    assert "Default session duration" not in nodes["session.defaultDurationMinutes"].label


def test_the_upgrade_review_and_diff_speak_ukrainian(language, reading_in):
    reading_in("uk")
    schema, defaults = language["config_schema"], language["default_config"]
    new_schema, new_defaults = copy.deepcopy(schema), copy.deepcopy(defaults)
    new_defaults["session"]["recommendedFrequency"] = "weekly"
    del new_schema["properties"]["cultural"]["properties"]["enableCulturalEvents"]
    new_schema["properties"]["cultural"]["required"] = ["includeCulturalModules"]
    del new_defaults["cultural"]["enableCulturalEvents"]
    words = {(e.kind, e.path): (e.label, e.old_text, e.new_text) for e in schema_diff(schema, defaults, new_schema,
                                                                                        new_defaults)}
    assert words[("default_changed", "session.recommendedFrequency")] == (
        "Заняття › Рекомендована частота", "Через день", "Щотижня")
    review = review_upgrade(schema, defaults, None, new_schema, new_defaults, None,
                            {"cultural": {"enableCulturalEvents": False}})
    assert [d.label for d in review.drops] == ["Культурна інтеграція › Увімкнути культурні заходи"]


def test_a_language_without_translations_falls_back_to_the_schemas_own_words(reading_in):
    schema = {"type": "object", "properties": {
        "pace": {"type": "string", "title": "Pace", "description": "How fast.", "enum": ["slow", "fast"],
                 "x-i18n": {"nb": {"title": "Tempo", "enumNames": {"slow": "Sakte"}}}},
        "plain": {"type": "integer"}}}
    reading_in("uk")  # no Ukrainian at all: English
    assert SettingLabels(schema).label("pace") == "Pace"
    assert SettingLabels(schema).value("pace", "fast") == "Fast"
    reading_in("nb")  # Norwegian where given, English where not
    labels = SettingLabels(schema)
    assert (labels.label("pace"), labels.value("pace", "slow"), labels.value("pace", "fast")) == ("Tempo", "Sakte", "Fast")
    assert labels.label("plain") == "Plain"
    pace = next(n for n in build_form(schema, {"pace": "slow"}).walk() if n.path == "pace")
    assert pace.help == "How fast."


def test_ui_schema_translations_and_one_of_titles_are_used_too(reading_in):
    schema = {"type": "object", "properties": {
        "where": {"title": "Where", "oneOf": [
            {"const": "city", "title": "Same city", "x-i18n": {"uk": {"title": "Те саме місто"}}}]},
        "pace": {"type": "string", "title": "Pace", "enum": ["slow"], "x-i18n": {"uk": {"title": "Темп"}}}}}
    ui = {"pace": {"ui:title": "Speed", "x-i18n": {"uk": {"title": "Швидкість", "enumNames": {"slow": "Повільно"}}}}}
    reading_in("uk")
    labels = SettingLabels(schema, ui)
    assert labels.label("pace") == "Швидкість" and labels.value("pace", "slow") == "Повільно"
    assert labels.value("where", "city") == "Те саме місто"


def test_english_readers_see_exactly_what_they_saw_before(language, reading_in):
    reading_in("en")
    labels = SettingLabels(language["config_schema"], language["ui_schema"])
    assert labels.label("impact.sroiWeights.cefr_level_advanced") == "Impact › SROI weights › CEFR level advanced"
    assert labels.value("impact.decayFactorMonthly", 0.93) == "0.93"


def test_rule_messages_and_schema_errors_follow_the_reader(reading_in):
    from portal.configuration.validation import config_errors

    mentorship, lang = master("mentorship"), master("language")
    broken = copy.deepcopy(mentorship["default_config"])
    broken["session"]["minSessionsForCompletion"] = 50
    broken["impact"]["decayFactorMonthly"] = 1.5
    errors = {e.path: e.message for e in config_errors(mentorship["config_schema"], broken)}
    reading_in("nb")  # the messages are read, not frozen, in the reader's language
    assert str(errors["progression.milestones"]) == (
        "Den siste milepælen må kreve minst like mange økter som det som kreves for fullføring.")
    assert "1,5" in str(errors["impact.decayFactorMonthly"])
    schema = copy.deepcopy(lang["config_schema"])
    del schema["x-rules"][0]["message"]  # the portal's own sentence, with the setting's translated title
    config = copy.deepcopy(lang["default_config"])
    config["session"]["minSessionsPerWeek"] = 7
    [error] = config_errors(schema, config)
    assert "Maks antall økter per uke (5)" in str(error.message)
