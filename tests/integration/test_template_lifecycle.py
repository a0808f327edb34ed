"""SPEC §2.1: the template lifecycle, through the operations and through the screens."""
import copy
import re

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db, transaction
from portal.errors import ConfigInvalid, DomainError, InvalidTransition, StaleEdit
from portal.program_templates import operations as ops
from portal.program_templates.models import ProgramTemplate
from tests.factories import master
from tests.helpers import csrf_token


def load(app, template_id):
    with app.app_context():
        t = db.session.get(ProgramTemplate, template_id)
        db.session.expunge(t)
        return t


def run(app, fn):
    with app.app_context():
        with transaction():
            return fn()


def get(template_id):
    return db.session.get(ProgramTemplate, template_id)


def test_only_drafts_are_editable(app, make):
    active = make.template(status="active")
    with pytest.raises(DomainError, match="Only drafts can be edited"):
        run(app, lambda: ops.update_draft(None, get(active.id), expected_version=None, name="Changed"))
    assert load(app, active.id).name == active.name


def test_publishing_invalid_defaults_is_refused_with_their_paths(app, make):
    bad = copy.deepcopy(master("mentorship")["default_config"])
    bad["session"]["defaultDurationMinutes"] = 500
    draft = make.template(status="draft", default_config=bad)
    with pytest.raises(ConfigInvalid) as refused:
        run(app, lambda: ops.publish_template(None, get(draft.id)))
    assert [p.path for p in refused.value.problems] == ["session.defaultDurationMinutes"]
    assert load(app, draft.id).status == "draft"


def test_publishing_an_invalid_schema_is_refused(app, make):
    draft = make.template(status="draft", config_schema={"type": "object", "properties": {"x": {"type": "wat"}}},
                          default_config={})
    with pytest.raises(ConfigInvalid) as refused:
        run(app, lambda: ops.publish_template(None, get(draft.id)))
    assert refused.value.field == "config_schema"


def test_publishing_v2_deprecates_v1_and_links_it(app, make):
    v1 = make.template(status="draft")
    run(app, lambda: ops.publish_template(None, get(v1.id)))
    def make_v2():
        draft, _ = ops.new_version(None, get(v1.id))
        db.session.flush()
        return draft.id

    v2_id = run(app, make_v2)
    v2 = load(app, v2_id)
    assert (v2.key, v2.version, v2.status) == (v1.key, 2, "draft")
    run(app, lambda: ops.publish_template(None, get(v2_id)))
    old, new = load(app, v1.id), load(app, v2_id)
    assert (old.status, old.deprecated_by_id) == ("deprecated", v2_id)
    assert new.status == "active" and new.published_at is not None
    with app.app_context():
        types = db.session.scalars(sa.select(ActivityEvent.type).order_by(ActivityEvent.id)).all()
    assert types.count("program.template.published") == 2 and "program.template.deprecated" in types


def test_new_version_leads_to_the_existing_draft(app, make):
    v1 = make.template(status="active")
    def new_version_id():
        draft, created = ops.new_version(None, get(v1.id))
        db.session.flush()
        return draft.id, created

    first, created = run(app, new_version_id)
    again, created_again = run(app, new_version_id)
    assert created and not created_again and first == again


def test_new_version_numbers_continue_after_the_highest(app, make):
    v1 = make.template(status="deprecated")
    make.template(key=v1.key, version=2, status="archived")
    assert run(app, lambda: ops.new_version(None, get(v1.id))[0].version) == 3


def test_only_drafts_can_be_deleted(app, make):
    active = make.template(status="active")
    with pytest.raises(DomainError, match="Only drafts can be deleted"):
        run(app, lambda: ops.delete_draft(None, get(active.id)))
    draft = make.template(status="draft")
    run(app, lambda: ops.delete_draft(None, get(draft.id)))
    with app.app_context():
        assert db.session.get(ProgramTemplate, draft.id) is None


@pytest.mark.parametrize("status,operation", [("draft", ops.deprecate_template), ("archived", ops.archive_template),
                                              ("deprecated", ops.deprecate_template),
                                              ("archived", ops.publish_template)])
def test_refused_moves_name_the_allowed_ones(app, make, status, operation):
    template = make.template(status=status)
    with pytest.raises(InvalidTransition):
        run(app, lambda: operation(None, get(template.id)))


def test_stale_edit_is_refused(app, make):
    draft = make.template(status="draft")
    run(app, lambda: ops.update_draft(None, get(draft.id), expected_version=draft.lock_version, name="First"))
    with pytest.raises(StaleEdit):
        run(app, lambda: ops.update_draft(None, get(draft.id), expected_version=draft.lock_version, name="Second"))
    assert load(app, draft.id).name == "First"


def test_editing_a_template_never_touches_running_programs(app, make):
    template = make.template(status="active")
    program = make.program(template=template)
    def make_draft():
        draft, _ = ops.new_version(None, get(template.id))
        db.session.flush()
        return draft.id

    draft_id = run(app, make_draft)
    changed = copy.deepcopy(template.default_config)
    changed["session"]["defaultDurationMinutes"] = 90
    run(app, lambda: ops.update_draft(None, get(draft_id), expected_version=None, default_config=changed))
    run(app, lambda: ops.publish_template(None, get(draft_id)))
    with app.app_context():
        from portal.programs.models import Program

        assert db.session.get(Program, program.id).template_id == template.id
        assert get(template.id).default_config["session"]["defaultDurationMinutes"] == 60


# --- through the screens -------------------------------------------------------------
def test_company_admin_gets_403_on_every_template_screen_and_write(admin_a_client, make):
    t = make.template(status="draft")
    token = csrf_token(admin_a_client, "/home")
    for path in ("/templates/", "/templates/new", f"/templates/{t.key}", f"/templates/{t.key}/v1/edit",
                 f"/templates/{t.key}/compare"):
        assert admin_a_client.get(path).status_code == 403, path
    for action in ("details", "schema", "defaults", "publish", "deprecate", "archive", "delete", "new-version"):
        response = admin_a_client.post(f"/templates/{t.key}/v1/{action}", data={"csrf_token": token})
        assert response.status_code == 403, action
    assert admin_a_client.post("/templates/new", data={"csrf_token": token, "name": "X"}).status_code == 403


def test_create_from_master_then_publish_through_the_screens(app, pm_client):
    token = csrf_token(pm_client, "/templates/new")
    response = pm_client.post("/templates/new", data={"csrf_token": token, "start_from": "language",
                                                      "name": "Language Practice Nordics", "category": "language"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/templates/language-practice-nordics/v1/edit")
    assert pm_client.get("/templates/language-practice-nordics/v1/edit").status_code == 200
    with app.app_context():
        t = db.session.scalars(sa.select(ProgramTemplate).where(ProgramTemplate.key == "language-practice-nordics")).one()
        assert t.default_config == master("language")["default_config"]
        version = t.lock_version
    response = pm_client.post("/templates/language-practice-nordics/v1/publish",
                              data={"csrf_token": token, "lock_version": version})
    assert response.status_code == 200 and "Publish v1" in response.get_data(as_text=True)  # asks first
    response = pm_client.post("/templates/language-practice-nordics/v1/publish",
                              data={"csrf_token": token, "lock_version": version, "confirmed": "yes"})
    assert response.status_code == 303
    page = pm_client.get("/templates/language-practice-nordics").get_data(as_text=True)
    assert "is published and active" in page and "New version" in page and "Edit draft" not in page


def test_editing_an_active_version_through_the_screen_is_refused(app, pm_client, make):
    active = make.template(status="active")
    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/templates/{active.key}/v1/details", data={
        "csrf_token": token, "lock_version": active.lock_version, "name": "Sneaky", "category": "mentorship"})
    assert response.status_code == 422  # refused, not redirected: the version's page with the reason
    body = response.get_data(as_text=True)
    assert "only drafts can be edited" in body and "New version" in body
    assert load(app, active.id).name == active.name


def test_raw_schema_editor_refuses_invalid_json_and_schemas_the_defaults_do_not_fit(app, pm_client, make):
    draft = make.template(status="draft")
    token = csrf_token(pm_client, "/home")
    url = f"/templates/{draft.key}/v1/schema"
    bad_json = pm_client.post(url, data={"csrf_token": token, "lock_version": draft.lock_version,
                                         "config_schema": "{not json"})
    assert bad_json.status_code == 422 and "Not valid JSON" in bad_json.get_data(as_text=True)
    narrowed = copy.deepcopy(draft.config_schema)
    narrowed["properties"]["session"]["properties"]["defaultDurationMinutes"]["maximum"] = 30
    import json

    misfit = pm_client.post(url, data={"csrf_token": token, "lock_version": draft.lock_version,
                                       "config_schema": json.dumps(narrowed)})
    body = misfit.get_data(as_text=True)
    assert misfit.status_code == 422 and "session.defaultDurationMinutes" in body
    assert load(app, draft.id).config_schema == draft.config_schema


def test_compare_shows_the_diff(app, pm_client, make):
    v1 = make.template(status="deprecated")
    changed = copy.deepcopy(v1.default_config)
    changed["session"]["defaultDurationMinutes"] = 75
    make.template(key=v1.key, version=2, status="active", default_config=changed)
    body = pm_client.get(f"/templates/{v1.key}/compare?base=1&other=2").get_data(as_text=True)
    row = re.search(r'<tr class="diff--default_changed" data-path="session.defaultDurationMinutes">(.*?)</tr>', body, re.S)
    assert row, "no row for the changed default"
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]
    assert cells == ["Sessions › Default session duration (minutes)", "Default changed", "60", "75"]


def test_template_list_filters_and_searches(pm_client, make):
    make.template("language", name="Language Nordics", status="active")
    make.template("buddy", name="Buddy Berlin", status="draft")
    body = pm_client.get("/templates/?category=buddy").get_data(as_text=True)
    assert "Buddy Berlin" in body and "Language Nordics" not in body
    body = pm_client.get("/templates/?q=nordic").get_data(as_text=True)
    assert "Language Nordics" in body and "Buddy Berlin" not in body


def test_a_blank_template_grows_through_the_schema_editor(app, pm_client):
    import json

    token = csrf_token(pm_client, "/templates/new")
    pm_client.post("/templates/new", data={"csrf_token": token, "start_from": "", "name": "Upskilling Basics",
                                           "category": "upskilling"})
    with app.app_context():
        t = db.session.scalars(sa.select(ProgramTemplate).where(ProgramTemplate.key == "upskilling-basics")).one()
        assert t.default_config == {} and t.status == "draft"
        version = t.lock_version
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
              "additionalProperties": False, "required": ["hoursPerWeek"],
              "properties": {"hoursPerWeek": {"type": "integer", "minimum": 1, "maximum": 40, "default": 4,
                                              "title": "Hours per week"}}}
    response = pm_client.post("/templates/upskilling-basics/v1/schema", data={
        "csrf_token": token, "lock_version": version, "config_schema": json.dumps(schema)})
    assert response.status_code == 303
    with app.app_context():
        t = db.session.scalars(sa.select(ProgramTemplate).where(ProgramTemplate.key == "upskilling-basics")).one()
        assert t.default_config == {"hoursPerWeek": 4}
    edit = pm_client.get("/templates/upskilling-basics/v1/edit").get_data(as_text=True)
    assert "Hours per week" in edit


def test_template_details_save_sdg_goals_and_tags(app, pm_client, make):
    draft = make.template(status="draft")
    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/templates/{draft.key}/v1/details", data={
        "csrf_token": token, "lock_version": draft.lock_version, "name": "Mentoring Plus", "category": "mentorship",
        "description": "", "tags": "career, one-to-one", "sdg_goals": ["4", "5", "10"]})
    assert response.status_code == 303, response.get_data(as_text=True)[-500:]
    saved = load(app, draft.id)
    assert (saved.name, saved.tags, saved.sdg_goals) == ("Mentoring Plus", ["career", "one-to-one"], [4, 5, 10])
