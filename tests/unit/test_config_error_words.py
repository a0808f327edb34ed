"""Issue #13 item 3: a configuration form's error summary says each problem once, in the
field's words. JSON Schema's "'key' is a required property" on a milestone becomes the
milestone's Key field saying "Enter a value." — said once, though the form's own check of the
empty field says the same — and a field the form could not read keeps the form's words only."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from portal import create_app
from portal.configuration.form_fields import errors_by_path, form_errors
from portal.configuration.form_parse import parse_form
from portal.configuration.paths import ConfigError, get_path
from portal.configuration.validation import config_errors

MASTER = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters" / "mentorship.json"


@pytest.fixture(scope="module")
def app():
    return create_app("testing")


@pytest.fixture(scope="module")
def mentorship() -> dict:
    return json.loads(MASTER.read_text(encoding="utf-8"))


def form_data(config: dict, prefix: str = "cfg") -> MultiDict:
    """The configuration as a browser submits it: one control per leaf."""
    data = MultiDict()

    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for i, item in enumerate(value):
                walk(item, f"{path}.{i}")
        elif isinstance(value, list):
            for item in value:
                data.add(path, str(item))
        elif isinstance(value, bool):
            if value:
                data.add(path, "on")
        else:
            data.add(path, "" if value is None else str(value))

    walk(config, prefix)
    return data


def test_a_missing_required_property_is_its_fields_enter_a_value(app, mentorship):
    schema = mentorship["config_schema"]
    config = json.loads(json.dumps(mentorship["default_config"]))
    del config["progression"]["milestones"][1]["key"]
    with app.test_request_context():
        errors = config_errors(schema, config)
        required = [e for e in errors if e.missing]
        assert [(e.path, e.missing) for e in required] == [("progression.milestones.1", "key")]
        assert "is a required property" in str(required[0].message)  # the API's words stay as they were
        assert errors_by_path(errors) == {"progression.milestones.1.key": ["Enter a value."]}


def test_the_milestone_key_left_empty_is_said_once_in_the_fields_words(app, mentorship):
    """The reported summary: "Milestone 2: 'key' is a required property" beside "Milestone 2 › Key:
    Enter a value." Now only the second, once."""
    schema = mentorship["config_schema"]
    config = json.loads(json.dumps(mentorship["default_config"]))
    config["progression"]["milestones"][1]["key"] = ""
    config["session"]["defaultDurationMinutes"] = 500
    with app.test_request_context():
        parsed = parse_form(schema, form_data(config), enforce_locks=False)
        assert "key" not in get_path(parsed.value, "progression.milestones.1")  # left out: it is empty
        errors = form_errors(parsed.errors, config_errors(schema, parsed.value))
        shown = {path: [str(m) for m in messages] for path, messages in errors.items()}
    assert shown["progression.milestones.1.key"] == ["Enter a value."]
    assert "progression.milestones.1" not in shown
    assert shown["session.defaultDurationMinutes"] == ["500 is greater than the maximum of 180"]
    assert not [m for messages in shown.values() for m in messages if "required property" in m]


def test_a_field_the_form_could_not_read_keeps_its_own_words_only(app):
    schema = {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 1}}}
    with app.test_request_context():
        parsed = parse_form(schema, MultiDict({"cfg.count": "many"}))
        errors = form_errors(parsed.errors, config_errors(schema, parsed.value))
        assert {p: [str(m) for m in ms] for p, ms in errors.items()} == {"count": ["Enter a whole number."]}


def test_a_required_error_compares_equal_to_the_plain_error_it_was():
    assert ConfigError("a", "x", missing="key") == ConfigError("a", "x")
