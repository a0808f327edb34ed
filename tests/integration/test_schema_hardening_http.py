"""Hostile template schemas through the screens (SPEC §3, §5): a program manager posting a
schema or UI schema that would fetch, freeze, overflow or not store gets a 422 with the
message at the field, never a 500, on SQLite and PostgreSQL; a company admin checking a
campaign's configuration against such a template gets an answer, never a hang."""
import copy
import html
import json
import re

import pytest

from portal.db import db
from portal.program_templates.models import ProgramTemplate
from tests.helpers import csrf_token, deadline, refuse_fetching

HOSTILE_VALUE = "a" * 40 + "!"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    refuse_fetching(monkeypatch)


def field_errors(body: str, field: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(rf'<p class="field__error" id="{field}-error">(.*?)</p>', body, re.S)]


def load(app, template_id):
    with app.app_context():
        t = db.session.get(ProgramTemplate, template_id)
        db.session.expunge(t)
        return t


def blank_schema(**properties):
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "additionalProperties": False, "properties": properties}


def post_schema(client, draft, config_schema: str, ui_schema: str = ""):
    token = csrf_token(client, f"/templates/{draft.key}/v1/edit")
    return client.post(f"/templates/{draft.key}/v1/schema", data={
        "csrf_token": token, "lock_version": draft.lock_version, "config_schema": config_schema,
        "ui_schema": ui_schema})


def deep_json(levels: int) -> str:
    return '{"type": "object", "x": ' + "[" * levels + "]" * levels + "}"


HOSTILE_SCHEMAS = {
    "remote ref": (json.dumps(blank_schema(x={"$ref": "https://example.invalid/evil.json"})),
                   "https://example.invalid/evil.json"),
    "file ref": (json.dumps(blank_schema(x={"$ref": "file:///etc/passwd"})), "file:///etc/passwd"),
    "backreference": (json.dumps(blank_schema(x={"type": "string", "pattern": r"(a)\1"})), "properties.x.pattern"),
    "lookahead": (json.dumps(blank_schema(x={"type": "string", "pattern": "(?=a)a"})), "(?="),
    "pattern property": (json.dumps(blank_schema(m={"type": "object", "patternProperties": {"(?<!x)y": {}}})),
                         "properties.m.patternProperties"),
    "ref loop": (json.dumps({**blank_schema(x={"$ref": "#/$defs/a"}), "$defs": {"a": {"$ref": "#/$defs/a"}}}),
                 "leads back to itself"),
    "NaN": ('{"type": "object", "properties": {"x": {"type": "number", "maximum": NaN}}}',
            "properties.x.maximum: NaN and Infinity"),
    "Infinity": ('{"type": "object", "properties": {"x": {"type": "number", "minimum": -Infinity}}}', "Infinity"),
    "lone surrogate": ('{"type": "object", "properties": {"x": {"type": "string", "title": "\\ud800"}}}',
                       "unpaired surrogate"),
    "NUL value": ('{"type": "object", "properties": {"x": {"type": "string", "default": "a\\u0000b"}}}',
                  "properties.x.default: This text contains a NUL"),
    "NUL key": ('{"type": "object", "properties": {"x\\u0000": {"type": "string"}}}', "NUL"),
    "huge integer": ('{"type": "object", "properties": {"x": {"type": "integer", "maximum": ' + "9" * 5000 + "}}}",
                     "properties.x.maximum: Numbers must be between"),
    "large number": ('{"type": "object", "properties": {"x": {"type": "number", "maximum": 1e16}}}',
                     "Numbers must be between"),
    "too deep": (deep_json(40), "levels deep"),
    "recursion-deep": (deep_json(100_000), "levels deep"),
    "too large": (json.dumps(blank_schema(**{f"p{i}": {"type": "string", "description": "x" * 1000}
                                              for i in range(300)})), "256 KB"),
}


@pytest.mark.parametrize("case", HOSTILE_SCHEMAS)
def test_a_hostile_schema_is_a_422_at_the_schema_field(app, pm_client, make, case):
    text, expected = HOSTILE_SCHEMAS[case]
    draft = make.template(status="draft")
    with deadline(10):
        response = post_schema(pm_client, draft, text)
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "config_schema")
    assert any(expected in e for e in errors), errors
    assert load(app, draft.id).config_schema == draft.config_schema


@pytest.mark.parametrize(("ui_schema", "expected"), [
    ('{"ui:order": [NaN]}', "ui:order.0: NaN"), ('{"x": {"ui:help": "\\udfff"}}', "unpaired surrogate"),
    ('{"x": {"ui:help": "\\u0000"}}', "NUL"), ("[" * 50_000 + "]" * 50_000, "levels deep"),
])
def test_a_hostile_ui_schema_is_a_422_at_its_field(app, pm_client, make, ui_schema, expected):
    draft = make.template(status="draft")
    response = post_schema(pm_client, draft, json.dumps(draft.config_schema), ui_schema)
    assert response.status_code == 422
    assert any(expected in e for e in field_errors(response.get_data(as_text=True), "ui_schema"))
    assert load(app, draft.id).ui_schema == draft.ui_schema


def test_a_schema_with_local_refs_and_linear_patterns_saves(app, pm_client, make):
    draft = make.template(status="draft", default_config={})
    schema = blank_schema(code={"$ref": "#/$defs/code"})
    schema["$defs"] = {"code": {"type": "string", "pattern": "^[a-z]+(_[a-z]+)*$", "default": "first_step"}}
    response = post_schema(pm_client, draft, json.dumps(schema, indent=2))
    assert response.status_code == 303, field_errors(response.get_data(as_text=True), "config_schema")
    saved = load(app, draft.id)
    assert saved.config_schema == schema


def test_publishing_a_stored_hostile_schema_is_refused_without_a_500(app, pm_client, make):
    """A draft saved before these checks existed: publishing runs them."""
    schema = copy.deepcopy(blank_schema(x={"type": "string", "pattern": r"(a)\1"},
                                        y={"$ref": "https://example.invalid/y.json"}))
    draft = make.template(status="draft", config_schema=schema, default_config={})
    token = csrf_token(pm_client, f"/templates/{draft.key}/v1")
    with deadline(10):
        response = pm_client.post(f"/templates/{draft.key}/v1/publish",
                                  data={"csrf_token": token, "lock_version": draft.lock_version,
                                        "confirmed": "yes"}, follow_redirects=True)
    assert response.status_code in (200, 409, 422)
    body = html.unescape(response.get_data(as_text=True))
    assert "Cannot publish version 1" in body and "properties.x.pattern" in body
    assert load(app, draft.id).status == "draft"


def campaign_with(make, tenants, schema, defaults):
    template = make.template(status="active", config_schema=schema, default_config=defaults, ui_schema=None)
    program = make.program(template=template, visibility="public")
    return make.campaign(tenants["company_a"], program=program)


def test_a_catastrophic_pattern_never_hangs_a_company_admins_campaign_config(app, admin_a_client, make, tenants):
    """The pattern is legal (RE2 runs it in linear time), so a program manager can publish it;
    checking the admin's value against it must not backtrack."""
    schema = blank_schema(code={"type": "string", "title": "Code", "pattern": "^(a+)+$"},
                          tags={"type": "object", "patternProperties": {"^(a+)+$": {"type": "integer"}},
                                "additionalProperties": False})
    campaign = campaign_with(make, tenants, schema, {"code": "aaa", "tags": {}})
    url = f"/campaigns/{campaign.id}/config"
    token = csrf_token(admin_a_client, url)
    with deadline(10):
        response = admin_a_client.post(url, data={
            "csrf_token": token, "lock_version": campaign.lock_version, "cfg.code": HOSTILE_VALUE,
            "cfg.tags.0.__key": HOSTILE_VALUE, "cfg.tags.0.__value": "1"})
    assert response.status_code == 422
    body = html.unescape(response.get_data(as_text=True))
    assert f"'{HOSTILE_VALUE}' does not match '^(a+)+$'" in body
    with app.app_context():
        from portal.campaigns.models import Campaign

        assert db.session.get(Campaign, campaign.id).config_overrides in (None, {})


def test_a_stored_remote_ref_is_never_fetched_for_a_campaign_config(app, admin_a_client, make, tenants):
    schema = blank_schema(code={"$ref": "https://example.invalid/code.json"})
    campaign = campaign_with(make, tenants, schema, {"code": "x"})
    url = f"/campaigns/{campaign.id}/config"
    token = csrf_token(admin_a_client, url)
    response = admin_a_client.post(url, data={"csrf_token": token, "lock_version": campaign.lock_version})
    assert response.status_code == 422
    assert "not a valid JSON Schema" in response.get_data(as_text=True)


@pytest.mark.parametrize("carried", ["{not json", "{\"a\": NaN}", "[" * 50_000, "{\"x\": \"\\ud800\"}",
                                     "{\"x\": " + "9" * 5000 + "}"])
def test_a_tampered_overrides_field_in_the_campaign_wizard_is_not_a_500(admin_a_client, make, tenants, carried):
    program = make.program(visibility="public")
    url = f"/campaigns/new?program={program.id}"
    token = csrf_token(admin_a_client, url)
    response = admin_a_client.post(url, data={"csrf_token": token, "program_id": program.id,
                                              "company_id": tenants["company_a"].id, "overrides_json": carried})
    assert response.status_code in (303, 422)


@pytest.mark.parametrize("carried", ["{\"x\": " + "9" * 5000 + "}", "[" * 50_000, "{\"a\": \"\\u0000\"}",
                                     "{\"session\": {\"defaultDurationMinutes\": NaN}}"])
def test_a_tampered_overrides_field_in_the_program_wizard_is_not_a_500(app, pm_client, make, carried):
    template, group = make.template(status="active"), make.group()
    url = f"/programs/new?template={template.id}&group={group.id}"
    token = csrf_token(pm_client, url)
    response = pm_client.post(url, data={"csrf_token": token, "step": "create", "name": "Tampered",
                                         "visibility": "public", "overrides_json": carried})
    assert response.status_code in (303, 422)
    if response.status_code == 303:  # the unreadable overrides were dropped, not stored
        from portal.programs.models import Program

        with app.app_context():
            program = db.session.get(Program, int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1]))
            assert program.config_overrides in (None, {})
