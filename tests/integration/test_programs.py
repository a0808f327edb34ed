"""SPEC §2.3 and §3: launching programs, their lifecycle, configuration layer and upgrades."""
import copy
import json
import re

import pytest
import sqlalchemy as sa

from portal.db import db, transaction
from portal.errors import ConfigInvalid, DomainError, StaleEdit, ValidationFailed
from portal.program_templates.models import ProgramTemplate
from portal.programs import operations as ops
from portal.programs.models import Program
from tests.factories import master
from tests.helpers import browser_form, csrf_token


def run(app, fn):
    with app.app_context():
        with transaction():
            return fn()


def launch(app, template, group, **kw):
    kw.setdefault("name", "Language for Ukrainians")

    def go():
        p = ops.launch_program(None, template=db.session.get(ProgramTemplate, template.id),
                               group=db.session.get(type_of_group(), group.id), **kw)
        db.session.flush()
        return p.id

    return run(app, go)


def type_of_group():
    from portal.beneficiaries.models import BeneficiaryGroup

    return BeneficiaryGroup


# --- launch rules ---------------------------------------------------------------------
def test_launch_creates_a_draft_with_the_templates_sdgs_plus_added_ones(app, make):
    template = make.template("language")
    program_id = launch(app, template, make.group(), extra_sdg_goals=[5, 4])
    with app.app_context():
        program = db.session.get(Program, program_id)
        assert program.status == "draft" and program.template_id == template.id
        assert program.sdg_goals == sorted(set(master("language")["sdg_goals"]) | {5})
        assert program.key == "language-for-ukrainians"


@pytest.mark.parametrize("template_status,group_kw,fragment", [
    ("draft", {}, "only active versions launch"),
    ("deprecated", {}, "only active versions launch"),
    ("active", {"status": "inactive"}, "only active groups"),
    ("active", {"eligible_categories": ["buddy"]}, "not eligible for language"),
])
def test_launch_rules(app, make, template_status, group_kw, fragment):
    template = make.template("language", status=template_status)
    with pytest.raises(ValidationFailed) as refused:
        launch(app, template, make.group(**group_kw))
    assert fragment in " ".join(refused.value.errors["group_id"])


def test_launch_refuses_invalid_and_locked_overrides(app, make):
    language = make.template("language")
    with pytest.raises(ValidationFailed) as invalid:
        launch(app, language, make.group(), config_overrides={"session": {"minSessionsPerWeek": 6}})
    assert "session.minSessionsPerWeek" in invalid.value.errors["config_overrides"][0]
    mentorship = make.template("mentorship")
    with pytest.raises(ValidationFailed) as locked:
        launch(app, mentorship, make.group(), config_overrides={"safety": {"minAge": 16}})
    assert "locked" in locked.value.errors["config_overrides"][0]


# --- configuration layer ---------------------------------------------------------
def test_config_is_stored_sparse_and_stale_saves_are_refused(app, make):
    program = make.program(template=make.template("language"))
    desired = copy.deepcopy(master("language")["default_config"])
    desired["session"]["defaultDurationMinutes"] = 60

    def save(version):
        return lambda: ops.update_program_config(None, db.session.get(Program, program.id), desired,
                                                 expected_version=version)

    run(app, save(program.lock_version))
    with app.app_context():
        assert db.session.get(Program, program.id).config_overrides == {"session": {"defaultDurationMinutes": 60}}
    with pytest.raises(StaleEdit):
        run(app, save(program.lock_version))


# --- upgrade ------------------------------------------------------------------------
def _v2(make, v1, mutate):
    schema, defaults = copy.deepcopy(v1.config_schema), copy.deepcopy(v1.default_config)
    mutate(schema, defaults)
    return make.template(key=v1.key, version=2, status="active", config_schema=schema, default_config=defaults)


def test_upgrade_keeps_valid_overrides(app, make):
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1, config_overrides={"session": {"defaultDurationMinutes": 60}})
    v2 = _v2(make, v1, lambda s, d: d["session"].update(defaultDurationMinutes=50))
    run(app, lambda: ops.upgrade_program(None, db.session.get(Program, program.id),
                                         db.session.get(ProgramTemplate, v2.id), expected_version=None))
    with app.app_context():
        upgraded = db.session.get(Program, program.id)
        assert upgraded.template_id == v2.id
        assert upgraded.config_overrides == {"session": {"defaultDurationMinutes": 60}}


def test_upgrade_refuses_overrides_the_new_version_makes_invalid(app, make):
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1, config_overrides={"session": {"defaultDurationMinutes": 100}})
    v2 = _v2(make, v1, lambda s, d: s["properties"]["session"]["properties"]["defaultDurationMinutes"]
             .update(maximum=90))
    with pytest.raises(ConfigInvalid):
        run(app, lambda: ops.upgrade_program(None, db.session.get(Program, program.id),
                                             db.session.get(ProgramTemplate, v2.id), expected_version=None))
    with app.app_context():
        assert db.session.get(Program, program.id).template_id == v1.id


def test_upgrade_refuses_overrides_that_are_now_locked(app, make):
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1, config_overrides={"session": {"defaultDurationMinutes": 60}})
    v2 = _v2(make, v1, lambda s, d: s["properties"]["session"]["properties"]["defaultDurationMinutes"]
             .update({"x-locked": True}))
    with pytest.raises(ConfigInvalid) as refused:
        run(app, lambda: ops.upgrade_program(None, db.session.get(Program, program.id),
                                             db.session.get(ProgramTemplate, v2.id), expected_version=None))
    assert "locked" in refused.value.problems[0].message


def test_upgrade_only_forward_to_the_active_version_of_the_same_key(app, make):
    v1 = make.template("language", status="active")
    other = make.template("buddy", status="active")
    program = make.program(template=v1)
    with pytest.raises(DomainError):
        run(app, lambda: ops.upgrade_program(None, db.session.get(Program, program.id),
                                             db.session.get(ProgramTemplate, other.id), expected_version=None))


def test_upgrade_screen_shows_the_diff_and_the_override_report(pm_client, make):
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1, config_overrides={"session": {"defaultDurationMinutes": 100}})
    _v2(make, v1, lambda s, d: s["properties"]["session"]["properties"]["defaultDurationMinutes"].update(maximum=90))
    body = pm_client.get(f"/programs/{program.id}/upgrade").get_data(as_text=True)
    assert "Allowed values changed" in body and "Sessions › Default session duration (minutes)" in body
    assert "15–120" in body and "15–90" in body and "Invalid in the new version" in body
    assert "Upgrade to v2</button>" not in body  # only "Drop this override and upgrade" is offered


# --- screens --------------------------------------------------------------------------
def test_launch_wizard_through_the_screens(app, pm_client, make):
    template = make.template("language")
    compatible = make.group(name="Ukrainians in Bergen")
    make.group(name="Inactive group", status="inactive")
    make.group(name="Buddy-only group", eligible_categories=["buddy"])
    step2 = pm_client.get(f"/programs/new?template={template.id}").get_data(as_text=True)
    assert step2.index("Ukrainians in Bergen") < step2.index("Inactive group")
    assert "only active groups" in step2 and "not eligible for language" in step2
    url = f"/programs/new?template={template.id}&group={compatible.id}"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["name"], form["step"] = "Language in Bergen", "review"
    form["cfg.session.defaultDurationMinutes"] = "60"
    form.setlist("extra_sdgs", ["4", "10", "16", "5"])
    review = pm_client.post(url, data=form)
    body = review.get_data(as_text=True)
    assert review.status_code == 200, re.findall(r'field__error[^>]*>([^<]+)', body)
    assert "Review “Language in Bergen”" in body and "set in program" in body
    hidden = browser_form(body)
    hidden["step"] = "create"
    created = pm_client.post(url, data=hidden)
    assert created.status_code == 303
    with app.app_context():
        program = db.session.scalars(sa.select(Program).where(Program.name == "Language in Bergen")).one()
        assert program.config_overrides == {"session": {"defaultDurationMinutes": 60}}
        assert program.sdg_goals == [4, 5, 10, 16] and program.status == "draft"


def test_wizard_shows_config_errors_next_to_the_field_and_creates_nothing(app, pm_client, make):
    template = make.template("language")
    group = make.group()
    url = f"/programs/new?template={template.id}&group={group.id}"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["name"], form["step"] = "Too long sessions", "review"
    form["cfg.session.defaultDurationMinutes"] = "500"
    response = pm_client.post(url, data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "maximum of 120" in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Program)) == 0


@pytest.mark.parametrize("start,target,ok", [("draft", "active", True), ("active", "paused", True),
                                             ("paused", "active", True), ("draft", "paused", False),
                                             ("archived", "active", False), ("completed", "active", False)])
def test_lifecycle_buttons_follow_the_table(app, pm_client, make, start, target, ok):
    program = make.program(status=start)
    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/programs/{program.id}/status", data={"csrf_token": token, "target": target,
                                                                      "lock_version": program.lock_version})
    # A success redirects; a refused move answers 409 with the detail page and its reason.
    assert response.status_code == (303 if ok else 409)
    with app.app_context():
        assert db.session.get(Program, program.id).status == (target if ok else start)
    if not ok:
        body = response.get_data(as_text=True)
        assert f"Cannot move from {start} to {target}" in body and "Allowed from" in body
        assert "<h1" in body and program.name in body  # the detail page itself, not an error page


def test_config_screen_saves_sparse_overrides_and_resets(app, pm_client, make):
    program = make.program(template=make.template("language"))
    url = f"/programs/{program.id}/config"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["cfg.session.maxSessionsPerWeek"] = "6"
    assert pm_client.post(url, data=form).status_code == 303
    with app.app_context():
        saved = db.session.get(Program, program.id)
        assert saved.config_overrides == {"session": {"maxSessionsPerWeek": 6}}
    page = pm_client.get(url).get_data(as_text=True)
    assert "reset:cfg.session.maxSessionsPerWeek" in page
    form = browser_form(page)
    form["_action"] = "reset:cfg.session.maxSessionsPerWeek"
    reset = pm_client.post(url, data=form).get_data(as_text=True)
    form = browser_form(reset)
    assert form["cfg.session.maxSessionsPerWeek"] == str(master("language")["default_config"]["session"]
                                                         ["maxSessionsPerWeek"])
    assert pm_client.post(url, data=form).status_code == 303
    with app.app_context():
        assert db.session.get(Program, program.id).config_overrides == {}


def test_cross_field_rule_shows_on_the_right_field(pm_client, make):
    program = make.program(template=make.template("language"))
    url = f"/programs/{program.id}/config"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["cfg.session.minSessionsPerWeek"] = "6"
    form["cfg.session.maxSessionsPerWeek"] = "5"
    response = pm_client.post(url, data=form)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    slot = body.split('id="err-cfg-session-minSessionsPerWeek"', 1)[1].split("</div>", 1)[0]
    assert slot.strip() != ">" and "maximum" in slot.lower() or "at most" in slot.lower()


def test_program_list_filters(pm_client, make):
    make.program(template=make.template("buddy"), name="Buddy Oslo", status="active")
    make.program(template=make.template("language"), name="Language Bergen", status="draft")
    body = pm_client.get("/programs/?category=buddy").get_data(as_text=True)
    assert "Buddy Oslo" in body and "Language Bergen" not in body
    body = pm_client.get("/programs/?status=draft&q=bergen").get_data(as_text=True)
    assert "Language Bergen" in body and "Buddy Oslo" not in body


def test_company_admins_cannot_use_program_screens(admin_a_client, make):
    program = make.program()
    token = csrf_token(admin_a_client, "/home")
    for path in ("/programs/", "/programs/new", f"/programs/{program.id}", f"/programs/{program.id}/config",
                 f"/programs/{program.id}/upgrade"):
        assert admin_a_client.get(path).status_code == 403, path
    assert admin_a_client.post(f"/programs/{program.id}/status",
                               data={"csrf_token": token, "target": "paused"}).status_code == 403


def test_unknown_program_is_404(pm_client):
    assert pm_client.get("/programs/999999").status_code == 404
    assert json  # keep import used for readers extending these tests
