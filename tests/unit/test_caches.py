"""The caches that keep first visits and saves fast must never serve something stale: a
draft's schema edited in place, or an edited template, is checked and rendered afresh."""

import copy

from portal.configuration.validation import config_errors, schema_errors, validator_for


def draft_schema(maximum=10):
    return {
        "type": "object",
        "properties": {
            "sessions": {"type": "integer", "minimum": 1, "maximum": maximum, "default": 3},
            "level": {"type": "string", "enum": ["a1", "a2", "b1"], "default": "a1"},
        },
        "required": ["sessions"],
        "additionalProperties": False,
    }


def test_config_check_follows_a_draft_schema_edited_in_place():
    """The validator is cached by the schema's content, not by the dict or the template: the
    same dict, edited as a draft is edited, is checked against its new content."""
    schema = draft_schema(maximum=10)
    assert config_errors(schema, {"sessions": 7}) == []
    schema["properties"]["sessions"]["maximum"] = 5
    assert [e.path for e in config_errors(schema, {"sessions": 7})] == ["sessions"]
    schema["properties"]["sessions"]["maximum"] = 10
    assert config_errors(schema, {"sessions": 7}) == []


def test_schema_check_follows_a_draft_schema_edited_in_place():
    schema = draft_schema()
    assert schema_errors(schema) == []
    schema["properties"]["sessions"]["type"] = "whole number"  # not a JSON Schema type
    assert [e.path for e in schema_errors(schema)] == ["properties.sessions.type"]
    assert [e.message for e in config_errors(schema, {"sessions": 1})] == [
        "The template's schema is not a valid JSON Schema."]


def test_equal_schemas_share_one_validator_and_different_ones_do_not():
    schema = draft_schema()
    assert validator_for(copy.deepcopy(schema)) is validator_for(schema)
    assert validator_for(draft_schema(maximum=5)) is not validator_for(schema)


def test_a_cached_validator_is_never_changed_by_later_edits():
    schema = draft_schema(maximum=10)
    before = validator_for(schema)
    schema["properties"]["sessions"]["maximum"] = 5
    assert before.schema["properties"]["sessions"]["maximum"] == 10
    assert not before.is_valid({"sessions": 11})
    assert before.is_valid({"sessions": 7})


# --- what the app does at start for the first requests ----------------------------------
def make_app(cache_dir, **settings):
    from portal import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://",
                      PORTAL_TEMPLATE_BYTECODE_CACHE=str(cache_dir), **settings)


def test_an_edited_template_is_recompiled_despite_the_bytecode_cache(tmp_path):
    """Compiled templates are kept on disk between workers, keyed by their source: a template
    changed since is compiled afresh, never served from the old bytecode."""
    from jinja2 import DictLoader

    first = make_app(tmp_path)
    first.jinja_env.loader = DictLoader({"screen.html": "before {{ n }}"})
    assert first.jinja_env.get_template("screen.html").render(n=1) == "before 1"
    assert list(tmp_path.iterdir()), "the compiled template was not kept"

    second = make_app(tmp_path)
    second.jinja_env.loader = DictLoader({"screen.html": "after {{ n }}"})
    assert second.jinja_env.get_template("screen.html").render(n=2) == "after 2"


def test_warm_start_compiles_every_template_before_the_first_request(tmp_path):
    import gc

    try:
        app = make_app(tmp_path, PORTAL_WARM_START=True)
    finally:
        gc.unfreeze()  # the test process is no worker
    env = app.jinja_env
    names = env.list_templates(extensions=("html",))
    assert names and "base.html" in names
    loaded = {key[1] for key in env.cache.keys()}
    assert set(names) <= loaded


def test_tests_start_cold_unless_asked(tmp_path):
    app = make_app(tmp_path)
    assert not app.jinja_env.cache
