"""Schema-driven configuration forms: build → render → submit (as a browser would) → parse."""
from __future__ import annotations

import copy
import json
import random
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import render_template_string
from werkzeug.datastructures import MultiDict

from portal import create_app
from portal.configuration.form_build import FormNode, build_form, humanise
from portal.configuration.form_fields import errors_by_path
from portal.configuration.form_parse import (
    MSG_CHOICE,
    MSG_DUPLICATE_KEY,
    MSG_NUMBER,
    MSG_REQUIRED,
    MSG_WHOLE_NUMBER,
    parse_form,
)
from portal.configuration.locks import LOCKED_MESSAGE

MASTERS_DIR = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"
MASTERS = ["mentorship.json", "language.json", "buddy.json"]


def load(filename: str) -> dict:
    return json.loads((MASTERS_DIR / filename).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mentorship() -> dict:
    return load("mentorship.json")


@pytest.fixture(scope="module")
def flask_app():
    return create_app("testing")


def render(app, node: FormNode, macro: str = "config_form") -> str:
    with app.test_request_context():
        return render_template_string(
            '{% from "configuration/_config_form.html" import ' + macro + ' %}{{ ' + macro + '(node) }}', node=node)


# --------------------------------------------------------------------------- a tiny browser


class FormPage(HTMLParser):
    """Collects what a browser would submit, plus labels, ids and buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[tuple[str, str]] = []  # successful controls in document order
        self.ids: dict[str, str] = {}  # id → tag
        self.label_fors: list[str] = []
        self.buttons: list[dict[str, str | None]] = []
        self.labelable_ids: set[str] = set()
        self.unlabelled_inputs: list[str] = []
        self._select: dict | None = None
        self._textarea: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            assert a["id"] not in self.ids, f"duplicate id {a['id']}"
            self.ids[a["id"]] = tag
        if tag == "label" and a.get("for"):
            self.label_fors.append(a["for"])
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind != "hidden":
                self.labelable_ids.add(a.get("id") or "")
                if not a.get("id"):
                    self.unlabelled_inputs.append(a.get("name") or "?")
            if "disabled" in a or not a.get("name") or kind in ("submit", "button", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.controls.append((a["name"], a.get("value", "on")))
            else:
                self.controls.append((a["name"], a.get("value") or ""))
        elif tag == "select":
            self.labelable_ids.add(a.get("id") or "")
            self._select = {"name": a.get("name"), "disabled": "disabled" in a, "options": [], "selected": None}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self.labelable_ids.add(a.get("id") or "")
            self._textarea = {"name": a.get("name"), "disabled": "disabled" in a, "text": ""}
        elif tag == "button":
            self.buttons.append({"name": a.get("name"), "value": a.get("value"), "type": a.get("type"),
                                 "formnovalidate": "formnovalidate" in a})

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            s, self._select = self._select, None
            if s["disabled"] or not s["name"] or not s["options"]:
                return
            chosen = [o for o in s["options"] if o["selected"]] or s["options"][:1]
            o = chosen[-1]
            self.controls.append((s["name"], o["value"] if o["value"] is not None else o["text"]))
        elif tag == "textarea" and self._textarea is not None:
            t, self._textarea = self._textarea, None
            if not t["disabled"] and t["name"]:
                self.controls.append((t["name"], t["text"].removeprefix("\n")))


def page_of(html: str) -> FormPage:
    page = FormPage()
    page.feed(html)
    page.close()
    return page


def submit(html: str, action: str | None = None, **changes: str) -> MultiDict:
    """The MultiDict a browser posts: optional clicked `_action` button, field edits by name."""
    page = page_of(html)
    data = MultiDict(page.controls)
    for name, value in changes.items():
        data.setlist(name, [value])
    if action is not None:
        assert any(b["name"] == "_action" and b["value"] == action for b in page.buttons), action
        data.add("_action", action)
    return data


def parse_defaults(schema, data, **kw):
    """Parse a template's own defaults form (no layer above it: locks don't apply)."""
    return parse_form(schema, data, enforce_locks=False, **kw)


def roundtrip_form(app, doc: dict, values=None, **kw):
    node = build_form(doc["config_schema"], doc["default_config"] if values is None else values,
                      ui_schema=doc.get("ui_schema"), **kw)
    return node, render(app, node)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("filename", MASTERS)
def test_defaults_round_trip_exactly(flask_app, filename):
    doc = load(filename)
    _, html = roundtrip_form(flask_app, doc)
    parsed = parse_form(doc["config_schema"], submit(html), enforce_locks=False)
    assert parsed.errors == {}
    assert parsed.action is None
    assert parsed.value == doc["default_config"]
    # == treats 1 and 1.0 alike: compare the JSON text too, so ints stay ints and floats floats
    assert json.dumps(parsed.value, sort_keys=True) == json.dumps(doc["default_config"], sort_keys=True)


@pytest.mark.parametrize("filename", MASTERS)
def test_every_label_points_at_a_control_and_every_control_has_a_label(flask_app, filename):
    doc = load(filename)
    _, html = roundtrip_form(flask_app, doc)
    page = page_of(html)
    assert page.label_fors, "no labels rendered"
    for target in page.label_fors:
        assert page.ids.get(target) in ("input", "select", "textarea"), target
    assert page.unlabelled_inputs == []
    assert page.labelable_ids - {""} <= set(page.label_fors)


@pytest.mark.parametrize("filename", MASTERS)
def test_no_inline_style_or_script(flask_app, filename):
    doc = load(filename)
    node, html = roundtrip_form(flask_app, doc)
    readonly = render(flask_app, build_form(doc["config_schema"], doc["default_config"],
                                            ui_schema=doc["ui_schema"], readonly=True))
    oob = render(flask_app, node, "error_slots_oob")
    for text in (html, readonly, oob):
        assert "style=" not in text.lower()
        assert "<script" not in text.lower()
        assert " on" + "click" not in text.lower()


@pytest.mark.parametrize("filename", MASTERS)
def test_every_node_has_an_error_slot_and_oob_renders_them_all(flask_app, filename):
    doc = load(filename)
    node, html = roundtrip_form(flask_app, doc)
    page = page_of(html)
    oob = render(flask_app, node, "error_slots_oob")
    for n in node.walk():
        if n.has_error_slot:
            assert f"err-{n.id}" in page.ids, n.path
            assert f'id="err-{n.id}" hx-swap-oob="true"' in oob
    assert oob.count('hx-swap-oob="true"') == sum(1 for n in node.walk() if n.has_error_slot)


def test_names_ids_and_order(mentorship):
    node = build_form(mentorship["config_schema"], mentorship["default_config"], ui_schema=mentorship["ui_schema"])
    by_path = {n.path: n for n in node.walk() if n.path}
    duration = by_path["session.defaultDurationMinutes"]
    assert duration.name == "cfg.session.defaultDurationMinutes"
    assert duration.id == "cfg-session-defaultDurationMinutes"
    assert (duration.kind, duration.value, duration.min, duration.max, duration.step) == ("integer", "60", "15", "180",
                                                                                         "1")
    assert "15–180" in duration.help
    assert by_path["impact.decayFactorMonthly"].step == "any"
    assert by_path["progression.milestones.2.sessionCount"].name == "cfg.progression.milestones.2.sessionCount"
    sroi = by_path["impact.sroiWeights"]
    assert sroi.kind == "map"
    assert [c.name for c in sroi.children[0].children] == ["cfg.impact.sroiWeights.0.__key",
                                                           "cfg.impact.sroiWeights.0.__value"]
    # ui:order at two levels
    assert [c.path for c in node.children] == ["session", "matching", "progression", "impact", "safety"]
    matching = by_path["matching"]
    assert [c.path.split(".")[-1] for c in matching.children] == [
        "matchingAlgorithm", "autoMatch", "maxMenteesPerMentor", "criteria"]
    assert by_path["session.recommendedFrequency"].kind == "select"
    assert [o.value for o in by_path["session.recommendedFrequency"].options] == ["weekly", "biweekly", "monthly"]
    assert by_path["progression.milestones"].add_action == "add:cfg.progression.milestones"
    assert by_path["progression.milestones.1"].remove_action == "remove:cfg.progression.milestones.1"


def test_language_kinds():
    doc = load("language.json")
    node = build_form(doc["config_schema"], doc["default_config"], ui_schema=doc["ui_schema"])
    by_path = {n.path: n for n in node.walk() if n.path}
    levels = by_path["cefr.targetLevels"]
    assert levels.kind == "checkboxes"
    assert [(o.value, o.selected) for o in levels.options] == [
        ("A1", True), ("A2", True), ("B1", True), ("B2", True), ("C1", False), ("C2", False)]
    assert by_path["session.topicLibrary"].kind == "rows"
    assert by_path["session.topicLibrary.0.topics"].kind == "list"
    assert by_path["session.topicLibrary.0.topics.4"].value == "Weekend plans"


def test_ui_order_star_title_help_and_widget():
    schema = {"type": "object", "properties": {
        "a": {"type": "string"}, "b": {"type": "string", "enum": ["x", "y"]}, "c": {"type": "string"},
        "d": {"type": "string", "description": "schema help"}}}
    ui = {"ui:order": ["d", "*", "a"], "d": {"ui:title": "Dee", "ui:help": "ui help", "ui:widget": "textarea"},
          "b": {"ui:widget": "radio"}}
    node = build_form(schema, {}, ui_schema=ui)
    assert [c.path for c in node.children] == ["d", "b", "c", "a"]
    d = node.children[0]
    assert (d.label, d.help, d.kind) == ("Dee", "ui help", "textarea")
    assert node.children[1].kind == "radio"
    assert humanise("defaultDurationMinutes") == "Default duration minutes"
    assert humanise("trackCEFR") == "Track CEFR"


def test_textarea_and_radio_round_trip(flask_app):
    schema = {"type": "object", "required": ["note", "pick"], "properties": {
        "note": {"type": "string"}, "pick": {"type": "string", "enum": ["x", "y"]}}}
    ui = {"note": {"ui:widget": "textarea"}, "pick": {"ui:widget": "radio"}}
    values = {"note": "two\nlines", "pick": "y"}
    html = render(flask_app, build_form(schema, values, ui_schema=ui))
    assert parse_form(schema, submit(html)).value == values


# --------------------------------------------------------------------------- actions


def test_add_row_of_objects(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_form(mentorship["config_schema"], submit(html, "add:cfg.progression.milestones"),
                        enforce_locks=False)
    assert parsed.action == ("add", "progression.milestones")
    assert len(parsed.value["progression"]["milestones"]) == 5
    assert parsed.value["progression"]["milestones"][-1] == {}  # no item defaults in the schema
    assert parsed.errors == {}  # the new row is not validated yet
    # re-rendering the display shows the new empty row, ready to fill in
    again = render(flask_app, build_form(mentorship["config_schema"], parsed.display,
                                         ui_schema=mentorship["ui_schema"]))
    assert 'name="cfg.progression.milestones.4.key"' in again


def test_add_row_uses_item_defaults():
    schema = {"type": "object", "properties": {"rows": {"type": "array", "items": {
        "type": "object", "properties": {"a": {"type": "integer", "default": 3}, "b": {"type": "string"},
                                         "c": {"type": "array", "items": {"type": "string"}}}}}}}
    parsed = parse_form(schema, MultiDict([("_action", "add:cfg.rows")]))
    assert parsed.value == {"rows": [{"a": 3, "c": []}]}


def test_remove_row_keeps_order_and_renumbers(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_form(mentorship["config_schema"], submit(html, "remove:cfg.progression.milestones.1"),
                        enforce_locks=False)
    assert parsed.action == ("remove", "progression.milestones.1")
    assert [m["key"] for m in parsed.value["progression"]["milestones"]] == [
        "first_session", "progressing", "completed"]


def test_removed_row_is_not_validated(mentorship):
    data = MultiDict([
        ("cfg.progression.milestones.0.key", "a"), ("cfg.progression.milestones.0.name", "A"),
        ("cfg.progression.milestones.0.sessionCount", "1"),
        ("cfg.progression.milestones.1.key", ""), ("cfg.progression.milestones.1.name", ""),
        ("cfg.progression.milestones.1.sessionCount", "zz"),
        ("_action", "remove:cfg.progression.milestones.1"),
    ])
    parsed = parse_form(mentorship["config_schema"], data)
    assert parsed.value["progression"]["milestones"] == [{"key": "a", "name": "A", "sessionCount": 1}]
    assert not any(p.startswith("progression.milestones") for p in parsed.errors)


def test_rows_with_gaps_are_sorted_numerically_and_renumbered(mentorship):
    data = MultiDict()
    for index, key in [(10, "ten"), (2, "two"), (7, "seven")]:
        data.add(f"cfg.progression.milestones.{index}.key", key)
        data.add(f"cfg.progression.milestones.{index}.name", key.title())
        data.add(f"cfg.progression.milestones.{index}.sessionCount", str(index))
    parsed = parse_form(mentorship["config_schema"], data)
    assert parsed.value["progression"]["milestones"] == [
        {"key": "two", "name": "Two", "sessionCount": 2},
        {"key": "seven", "name": "Seven", "sessionCount": 7},
        {"key": "ten", "name": "Ten", "sessionCount": 10},
    ]


def test_add_and_remove_strings(flask_app, mentorship):
    values = copy.deepcopy(mentorship["default_config"])
    values["matching"]["criteria"]["skills"] = ["python", "sql", "excel"]
    _, html = roundtrip_form(flask_app, mentorship, values)
    parsed = parse_form(mentorship["config_schema"], submit(html, "remove:cfg.matching.criteria.skills.0"))
    assert parsed.value["matching"]["criteria"]["skills"] == ["sql", "excel"]
    parsed = parse_form(mentorship["config_schema"], submit(html, "add:cfg.matching.criteria.skills"))
    assert parsed.action == ("add", "matching.criteria.skills")
    assert parsed.value["matching"]["criteria"]["skills"] == ["python", "sql", "excel", ""]
    # a blank row left on a save is dropped from the value
    parsed = parse_form(mentorship["config_schema"], submit(html, **{"cfg.matching.criteria.skills.1": "  "}))
    assert parsed.value["matching"]["criteria"]["skills"] == ["python", "excel"]


def test_nested_list_inside_a_row(flask_app):
    doc = load("language.json")
    _, html = roundtrip_form(flask_app, doc)
    parsed = parse_form(doc["config_schema"], submit(html, "remove:cfg.session.topicLibrary.1.topics.0"))
    assert parsed.action == ("remove", "session.topicLibrary.1.topics.0")
    assert parsed.value["session"]["topicLibrary"][1]["topics"] == [
        "Writing a CV", "Talking to colleagues", "Workplace culture"]
    assert parsed.value["session"]["topicLibrary"][0] == doc["default_config"]["session"]["topicLibrary"][0]


def test_map_add_and_remove(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_form(mentorship["config_schema"], submit(html, "remove:cfg.impact.sroiWeights.0"))
    assert "session_completed" not in parsed.value["impact"]["sroiWeights"]
    assert len(parsed.value["impact"]["sroiWeights"]) == 5
    parsed = parse_form(mentorship["config_schema"], submit(html, "add:cfg.impact.sroiWeights"),
                        current=mentorship["default_config"])
    assert parsed.action == ("add", "impact.sroiWeights")
    assert parsed.value["impact"]["sroiWeights"] == mentorship["default_config"]["impact"]["sroiWeights"]
    again = build_form(mentorship["config_schema"], parsed.display)
    sroi = next(n for n in again.walk() if n.path == "impact.sroiWeights")
    assert len(sroi.children) == 7
    assert [c.value for c in sroi.children[-1].children] == ["", ""]


def test_reset_is_reported_not_applied(flask_app, mentorship):
    values = copy.deepcopy(mentorship["default_config"])
    values["session"]["defaultDurationMinutes"] = 90
    node, html = roundtrip_form(
        flask_app, mentorship, values, inherited=mentorship["default_config"], current_layer="program",
        provenance={"session.defaultDurationMinutes": "program"})
    parsed = parse_form(mentorship["config_schema"], submit(html, "reset:cfg.session.defaultDurationMinutes"))
    assert parsed.action == ("reset", "session.defaultDurationMinutes")
    assert parsed.value["session"]["defaultDurationMinutes"] == 90


@pytest.mark.parametrize("action", [
    "add:cfg.session.defaultDurationMinutes",  # not an array
    "remove:cfg.progression.milestones.99",  # no such row
    "add:other.progression.milestones",  # another form's prefix
    "explode:cfg.session",
    "add:cfg.safety.minAge",
    "reset:cfg.safety.minAge",  # locked: nothing to reset
    "",
])
def test_invalid_actions_are_ignored(flask_app, mentorship, action):
    _, html = roundtrip_form(flask_app, mentorship)
    data = submit(html)
    data.add("_action", action)
    parsed = parse_form(mentorship["config_schema"], data)
    assert parsed.action is None
    assert len(parsed.value["progression"]["milestones"]) == 4


def test_action_buttons_skip_browser_validation(flask_app, mentorship):
    values = copy.deepcopy(mentorship["default_config"])
    values["matching"]["criteria"]["skills"] = ["python"]
    _, html = roundtrip_form(flask_app, mentorship, values, current_layer="program",
                             provenance={"session.defaultDurationMinutes": "program"})
    buttons = [b for b in page_of(html).buttons if b["name"] == "_action"]
    assert {b["value"].split(":")[0] for b in buttons} == {"add", "remove", "reset"}
    assert all(b["formnovalidate"] and b["type"] == "submit" for b in buttons)
    # Enter in a text field "clicks" the first submit button: it must be a plain save
    first = page_of(html).buttons[0]
    assert first["type"] == "submit" and first["name"] is None


# --------------------------------------------------------------------------- parsing rules


def test_unchecked_boolean_is_false(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    data = submit(html)
    assert data.getlist("cfg.session.allowVirtualSessions") == ["false", "true"]
    data.setlist("cfg.session.allowVirtualSessions", ["false"])  # what the browser sends unchecked
    parsed = parse_form(mentorship["config_schema"], data)
    assert parsed.value["session"]["allowVirtualSessions"] is False
    assert parsed.value["session"]["allowInPersonSessions"] is False


@pytest.mark.parametrize("text,message", [("12.5", MSG_WHOLE_NUMBER), ("abc", MSG_WHOLE_NUMBER),
                                          ("1e3", MSG_WHOLE_NUMBER), ("9" * 5000, MSG_WHOLE_NUMBER),
                                          ("", MSG_REQUIRED), ("   ", MSG_REQUIRED)])
def test_invalid_integer_reports_error_at_path_and_is_omitted(flask_app, mentorship, text, message):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_defaults(mentorship["config_schema"], submit(html, **{"cfg.session.defaultDurationMinutes": text}))
    assert parsed.errors == {"session.defaultDurationMinutes": [message]}
    assert "defaultDurationMinutes" not in parsed.value["session"]
    assert parsed.display["session"]["defaultDurationMinutes"] == text.strip()  # what the user typed stays


def test_integer_text_is_int_and_number_text_keeps_its_kind(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_defaults(mentorship["config_schema"], submit(html, **{
        "cfg.session.defaultDurationMinutes": " 12 ", "cfg.impact.decayFactorMonthly": "1",
        "cfg.impact.sroiWeights.0.__value": "2.50"}))
    assert parsed.errors == {}
    assert type(parsed.value["session"]["defaultDurationMinutes"]) is int
    assert parsed.value["session"]["defaultDurationMinutes"] == 12
    assert type(parsed.value["impact"]["decayFactorMonthly"]) is int
    assert parsed.value["impact"]["sroiWeights"]["session_completed"] == 2.5
    assert type(parsed.value["impact"]["sroiWeights"]["session_completed"]) is float


@pytest.mark.parametrize("text", ["nan", "inf", "-Infinity", "1e999", "0,95", "1.2.3", "0x10"])
def test_invalid_numbers(flask_app, mentorship, text):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_defaults(mentorship["config_schema"], submit(html, **{"cfg.impact.decayFactorMonthly": text}))
    assert parsed.errors == {"impact.decayFactorMonthly": [MSG_NUMBER]}
    assert "decayFactorMonthly" not in parsed.value["impact"]


def test_empty_optional_fields_are_absent(flask_app, mentorship):
    values = copy.deepcopy(mentorship["default_config"])
    values["matching"]["criteria"]["location"] = "Kyiv"
    values["matching"]["criteria"]["careerStage"] = "mid"
    _, html = roundtrip_form(flask_app, mentorship, values)
    assert parse_form(mentorship["config_schema"], submit(html), enforce_locks=False).value == values
    parsed = parse_defaults(mentorship["config_schema"], submit(html, **{
        "cfg.matching.criteria.location": "  ", "cfg.matching.criteria.careerStage": ""}))
    assert parsed.errors == {}
    assert parsed.value["matching"]["criteria"] == {"skills": [], "interests": [], "languages": [], "industry": []}


def test_enum_outside_options(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_defaults(mentorship["config_schema"], submit(html, **{"cfg.session.recommendedFrequency": "hourly"}))
    assert parsed.errors == {"session.recommendedFrequency": [MSG_CHOICE]}
    assert "recommendedFrequency" not in parsed.value["session"]


def test_checkbox_group(flask_app):
    doc = load("language.json")
    _, html = roundtrip_form(flask_app, doc)
    data = submit(html)
    data.setlist("cfg.cefr.targetLevels", ["B1", "C2", "B1"])
    assert parse_form(doc["config_schema"], data).value["cefr"]["targetLevels"] == ["B1", "C2"]
    data.setlist("cfg.cefr.targetLevels", [])  # nothing ticked: the browser sends nothing
    assert parse_form(doc["config_schema"], data).value["cefr"]["targetLevels"] == []
    data.setlist("cfg.cefr.targetLevels", ["A1", "Z9"])
    parsed = parse_form(doc["config_schema"], data)
    assert parsed.errors == {"cefr.targetLevels": [MSG_CHOICE]}


def test_duplicate_map_key(flask_app, mentorship):
    _, html = roundtrip_form(flask_app, mentorship)
    parsed = parse_defaults(mentorship["config_schema"], submit(html, **{"cfg.impact.sroiWeights.1.__key": "session_completed"}))
    assert parsed.errors == {"impact.sroiWeights": [MSG_DUPLICATE_KEY]}


def test_map_blank_key_rows_ignored_and_empty_value_is_an_error(mentorship):
    data = MultiDict([
        ("cfg.impact.sroiWeights.0.__key", "a"), ("cfg.impact.sroiWeights.0.__value", "1"),
        ("cfg.impact.sroiWeights.1.__key", " "), ("cfg.impact.sroiWeights.1.__value", "7"),
        ("cfg.impact.sroiWeights.2.__key", "b"), ("cfg.impact.sroiWeights.2.__value", ""),
    ])
    parsed = parse_defaults(mentorship["config_schema"], data)
    assert parsed.value["impact"]["sroiWeights"] == {"a": 1}
    assert parsed.errors["impact.sroiWeights.b"] == [MSG_REQUIRED]


def test_locked_fields_are_not_read_and_a_forged_value_is_refused(flask_app, mentorship):
    node, html = roundtrip_form(flask_app, mentorship, current_layer="program")
    min_age = next(n for n in node.walk() if n.path == "safety.minAge")
    assert min_age.locked
    page = page_of(html)
    assert not any(name.startswith("cfg.safety.minAge") for name, _ in page.controls)
    assert "Locked by template" in html
    # a forged post cannot change it, and is told so at the field (never silently dropped)
    assert parse_form(mentorship["config_schema"], submit(html)).errors == {}
    data = submit(html)
    data.setlist("cfg.safety.minAge", ["13"])
    data.setlist("cfg.safety.requireCodeOfConduct", ["false"])
    parsed = parse_form(mentorship["config_schema"], data)
    assert parsed.errors == {"safety.minAge": [LOCKED_MESSAGE], "safety.requireCodeOfConduct": [LOCKED_MESSAGE]}
    assert parsed.value["safety"] == {"requireBackgroundCheck": False}
    # the template's own defaults form may change them
    assert parse_form(mentorship["config_schema"], data, enforce_locks=False).value["safety"]["minAge"] == 13
    # the display keeps the locked values when given what the form showed
    shown = parse_form(mentorship["config_schema"], data, current=mentorship["default_config"]).display
    assert shown["safety"]["minAge"] == 18


def test_defaults_form_does_not_lock(mentorship):
    node = build_form(mentorship["config_schema"], mentorship["default_config"])
    min_age = next(n for n in node.walk() if n.path == "safety.minAge")
    assert min_age.lockable and not min_age.locked


def test_fuzzed_input_never_raises(mentorship):
    schemas = [load(f)["config_schema"] for f in MASTERS]
    rng = random.Random(1234)
    names = [n.name for s, f in zip(schemas, MASTERS, strict=True)
             for n in build_form(s, load(f)["default_config"]).walk()]
    names += ["cfg", "cfg.", "cfg..", "cfg.progression.milestones.x.key", "cfg.progression.milestones.-1.key",
              "cfg.progression.milestones.99999999999.key", "cfg.impact.sroiWeights.0", "other", "_action"]
    junk = ["", " ", "0", "-1", "1e999", "nan", "true", "false", "x" * 100_000, "é🙂\u0000", "12.5", "[]", "{}",
            "add:cfg.progression.milestones", "remove:cfg.progression.milestones.0", "reset:cfg",
            "add:cfg.session.topicLibrary.0.topics", "remove:cfg.impact.sroiWeights.0", "add:cfg"]
    for _ in range(300):
        data = MultiDict()
        for _ in range(rng.randint(0, 40)):
            data.add(rng.choice(names) + rng.choice(["", ".0", ".__key", ".__value", ".1.key"]), rng.choice(junk))
        for schema in schemas:
            parsed = parse_form(schema, data)
            assert isinstance(parsed.value, dict)
            json.dumps(parsed.value)
    odd_inputs = [None, {}, {"cfg.session.defaultDurationMinutes": 5}, {"cfg.session.allowVirtualSessions": None},
                  {1: "x"}, {"cfg.session.defaultDurationMinutes": [b"7", object()]}, "not a mapping", 42]
    for formdata in odd_inputs:
        parse_form(schemas[0], formdata)
    assert parse_form(schemas[0], {"cfg.session.defaultDurationMinutes": ["7"]}).value["session"][
        "defaultDurationMinutes"] == 7
    assert parse_form({"type": "string"}, MultiDict()).value == {}
    assert parse_form({"type": "object", "properties": {"x": {"$ref": "#/nope"}}}, MultiDict()).value == {}


# --------------------------------------------------------------------------- errors, provenance, read-only


def test_errors_render_next_to_the_right_field(flask_app, mentorship):
    errors = errors_by_path([
        type("E", (), {"path": "progression.milestones.2.sessionCount", "message": "Must be at least 1."})(),
        ("impact", "Weights look odd."),
        ("session.defaultDurationMinutes.deeper", "Routed to the nearest field."),
        ("", "The whole config is wrong."),
    ])
    node, html = roundtrip_form(flask_app, mentorship, errors=errors)
    slot = 'id="err-cfg-progression-milestones-2-sessionCount"><p class="field__error" ' \
           'id="cfg-progression-milestones-2-sessionCount-error"><span>Must be at least 1.</span>'
    assert slot in html
    assert 'id="err-cfg-impact"><p class="field__error" id="cfg-impact-error"><span>Weights look odd.' in html
    assert 'id="cfg-session-defaultDurationMinutes-error"><span>Routed to the nearest field.' in html
    assert 'id="err-cfg"><p class="field__error" id="cfg-error"><span>The whole config is wrong.' in html
    assert html.count('class="field__error"') == 4
    field = html.split('id="cfg-progression-milestones-2-sessionCount"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in field
    assert "err-cfg-progression-milestones-2-sessionCount" in field  # aria-describedby
    oob = render(flask_app, node, "error_slots_oob")
    assert '<div class="cfg-errors" id="err-cfg-impact" hx-swap-oob="true"><p class="field__error"' in oob
    assert '<div class="cfg-errors" id="err-cfg-session" hx-swap-oob="true"></div>' in oob


def test_map_entry_errors_go_to_the_entry(mentorship):
    node = build_form(mentorship["config_schema"], mentorship["default_config"],
                      errors={"impact.sroiWeights.goal_achieved": ["-1 is less than the minimum of 0"]})
    sroi = next(n for n in node.walk() if n.path == "impact.sroiWeights")
    assert sroi.children[2].children[1].errors == ["-1 is less than the minimum of 0"]
    assert sroi.errors == []


def test_provenance_badges_inherited_value_and_reset(flask_app, mentorship):
    inherited = copy.deepcopy(mentorship["default_config"])
    values = copy.deepcopy(inherited)
    values["session"]["defaultDurationMinutes"] = 90
    values["impact"]["sroiWeights"]["goal_achieved"] = 60
    provenance = {"session.defaultDurationMinutes": "campaign", "session.maxSessionsPerMonth": "program",
                  "session.recommendedFrequency": "template", "impact.sroiWeights.goal_achieved": "campaign",
                  "impact.sroiWeights.session_completed": "program"}
    node, html = roundtrip_form(flask_app, mentorship, values, inherited=inherited, provenance=provenance,
                                current_layer="campaign")
    by_path = {n.path: n for n in node.walk() if n.path}
    duration = by_path["session.defaultDurationMinutes"]
    assert (duration.source, duration.is_overridden, duration.inherited_display) == ("campaign", True, "60")
    assert duration.reset_action == "reset:cfg.session.defaultDurationMinutes"
    assert by_path["session.maxSessionsPerMonth"].is_overridden is False
    assert by_path["session.maxSessionsPerMonth"].reset_action == ""
    sroi = by_path["impact.sroiWeights"]
    assert (sroi.source, sroi.is_overridden) == ("campaign", True)
    assert '<span class="prov prov--campaign">set in campaign</span>' in html
    assert '<span class="prov prov--program">set in program</span>' in html
    assert '<span class="prov prov--template">from template</span>' in html
    assert "Inherited: 60" in html
    assert 'value="reset:cfg.session.defaultDurationMinutes"' in html
    assert 'value="reset:cfg.session.maxSessionsPerMonth"' not in html
    assert 'value="reset:cfg.impact.sroiWeights"' in html
    assert html.count('value="reset:') == 2


def test_readonly_preview_shows_values_grouped(flask_app, mentorship):
    node = build_form(mentorship["config_schema"], mentorship["default_config"], ui_schema=mentorship["ui_schema"],
                      readonly=True)
    html = render(flask_app, node)
    assert "<input" not in html and "<select" not in html and "<button" not in html
    assert '<h3 class="cfg-section__title" id="cfg-session-title">Sessions</h3>' in html
    session = html.split('id="cfg-session-title"', 1)[1].split("</section>", 1)[0]
    assert "<dt>Default session duration (minutes)</dt>" in session
    assert "<dd>60</dd>" in session
    assert "<dd>Weekly</dd>" in session
    assert "<dd>Yes</dd>" in session and "<dd>No</dd>" in session
    assert "Relationship Established" in html
    assert "<dt>Mentee employed</dt><dd>500</dd>" in html  # map entries by label, not key
    assert "<dd>0.95</dd>" in html
    assert '<span class="cfg-lock">locked</span>' in html
    assert "Not set" not in session


def test_readonly_language_lists(flask_app):
    doc = load("language.json")
    html = render(flask_app, build_form(doc["config_schema"], doc["default_config"], readonly=True))
    assert "<dd>A1, A2, B1, B2</dd>" in html
    assert "<li>Shopping and groceries</li>" in html


def test_prefix_is_checked():
    with pytest.raises(ValueError):
        build_form({"type": "object", "properties": {}}, {}, prefix="")
    with pytest.raises(ValueError):
        parse_form({"type": "object", "properties": {}}, MultiDict(), prefix="a b")


def test_hostile_values_are_escaped(flask_app, mentorship):
    values = copy.deepcopy(mentorship["default_config"])
    values["matching"]["criteria"]["location"] = '"><script>alert(1)</script>'
    values["impact"]["sroiWeights"] = {'<script>x</script>': 1}
    for readonly in (False, True):
        html = render(flask_app, build_form(mentorship["config_schema"], values, readonly=readonly))
        assert "<script" not in html
    html = render(flask_app, build_form(mentorship["config_schema"], values))
    assert parse_form(mentorship["config_schema"], submit(html)).value["matching"]["criteria"]["location"] == \
        values["matching"]["criteria"]["location"]
