"""SPEC §5: a refused button answers with a status that says so — 409 for a conflict
(InvalidTransition, StaleEdit), 422 for a rule — and the page again with the reason shown,
also without JavaScript. Only a success redirects (303). One test per kind of refusal."""
from __future__ import annotations

import copy
import html

import pytest
import sqlalchemy as sa

from portal.db import db
from portal.models import Program, ProgramTemplate, User
from tests.helpers import csrf_token


def assert_refused(response, status: int, message: str) -> str:
    """Refused: the given status, no redirect, a whole page (or fragment) carrying the message."""
    body = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, (response.status_code, body[-800:])
    assert "Location" not in response.headers and "HX-Redirect" not in response.headers
    assert message in body, body[-1500:]
    return body


def program_status(app, program_id: int) -> str:
    with app.app_context():
        return db.session.get(Program, program_id).status


# --- programs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("start,target", [("draft", "completed"), ("draft", "paused"), ("archived", "active")])
def test_an_illegal_program_move_is_409_with_the_page_and_the_allowed_moves(app, pm_client, make, start, target):
    program = make.program(status=start)
    token = csrf_token(pm_client, f"/programs/{program.id}")
    response = pm_client.post(f"/programs/{program.id}/status", data={
        "csrf_token": token, "target": target, "lock_version": program.lock_version})
    body = assert_refused(response, 409, f"Cannot move from {start} to {target}. Allowed from {start}:")
    assert f'action="/programs/{program.id}/status"' in body or start == "archived"  # the buttons are back
    assert program_status(app, program.id) == start


def test_a_stale_program_move_is_409(app, pm_client, make):
    program = make.program(status="active")
    token = csrf_token(pm_client, f"/programs/{program.id}")
    response = pm_client.post(f"/programs/{program.id}/status", data={
        "csrf_token": token, "target": "paused", "lock_version": program.lock_version + 7})
    assert_refused(response, 409, "Someone else changed program")
    assert program_status(app, program.id) == "active"


def test_starting_a_program_whose_template_version_is_archived_is_422(app, pm_client, make):
    program = make.program(template=make.template(status="archived"), status="draft")
    token = csrf_token(pm_client, f"/programs/{program.id}")
    response = pm_client.post(f"/programs/{program.id}/status", data={
        "csrf_token": token, "target": "active", "lock_version": program.lock_version})
    assert_refused(response, 422, "template version is archived; upgrade the program first")
    assert program_status(app, program.id) == "draft"


def test_a_successful_program_move_still_redirects(app, pm_client, make):
    program = make.program(status="draft")
    token = csrf_token(pm_client, f"/programs/{program.id}")
    response = pm_client.post(f"/programs/{program.id}/status", data={
        "csrf_token": token, "target": "active", "lock_version": program.lock_version})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/programs/{program.id}")


def _launch_form(token: str) -> dict:
    return {"csrf_token": token, "step": "create", "name": "Launched anyway", "visibility": "public",
            "overrides_json": "{}"}


def _program_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Program))


@pytest.mark.parametrize("htmx", [False, True])
def test_launching_from_a_non_active_template_version_is_422(app, pm_client, make, htmx):
    template = make.template("language", status="deprecated")
    group = make.group()
    token = csrf_token(pm_client, "/programs/new")
    response = pm_client.post(f"/programs/new?template={template.id}&group={group.id}", data=_launch_form(token),
                              headers={"HX-Request": "true"} if htmx else {})
    body = assert_refused(response, 422, "Template version 1 is deprecated; only active versions launch.")
    assert ('id="wizard"' in body) and (("<html" in body) != htmx)  # the wizard step, as a fragment for htmx
    assert _program_count(app) == 0


def test_launching_for_an_inactive_group_is_422(app, pm_client, make):
    template = make.template("language")
    group = make.group(status="inactive")
    token = csrf_token(pm_client, "/programs/new")
    response = pm_client.post(f"/programs/new?template={template.id}&group={group.id}", data=_launch_form(token))
    assert_refused(response, 422, "The group is inactive; only active groups receive new programs.")
    assert _program_count(app) == 0


def test_the_wizard_steps_are_plain_pages_on_get(pm_client, make):
    template = make.template("language", status="deprecated")
    assert pm_client.get(f"/programs/new?template={template.id}").status_code == 200


def _next_version(make, template, version: int) -> ProgramTemplate:
    return make.template("language", key=template.key, version=version, status="active")


def test_upgrading_when_no_newer_version_exists_is_409(app, pm_client, make):
    program = make.program(template=make.template("language"))
    token = csrf_token(pm_client, f"/programs/{program.id}")
    response = pm_client.post(f"/programs/{program.id}/upgrade", data={
        "csrf_token": token, "lock_version": program.lock_version, "template_id": "12345"})
    assert_refused(response, 409, "There is no newer active version of this program's template.")


def test_upgrading_to_a_version_superseded_meanwhile_is_409_and_offers_the_newest(app, pm_client, make):
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1)
    v2 = _next_version(make, v1, 2)
    token = csrf_token(pm_client, f"/programs/{program.id}/upgrade")
    with app.app_context():  # v3 is published while the manager looks at the v2 upgrade
        db.session.get(ProgramTemplate, v2.id).status = "deprecated"
        db.session.commit()
    v3 = _next_version(make, v1, 3)
    response = pm_client.post(f"/programs/{program.id}/upgrade", data={
        "csrf_token": token, "lock_version": program.lock_version, "template_id": v2.id})
    body = assert_refused(response, 409, "The newest active version is now")
    assert f'name="template_id" type="hidden" value="{v3.id}"' in body
    with app.app_context():
        assert db.session.get(Program, program.id).template_id == v1.id


# --- templates ------------------------------------------------------------------------------------------
def _template_action(client, template, action: str, lock_version=None):
    token = csrf_token(client, "/home")
    return client.post(f"/templates/{template.key}/v{template.version}/{action}", data={
        "csrf_token": token, "lock_version": template.lock_version if lock_version is None else lock_version,
        "confirmed": "yes"})  # the confirmation step is tested in test_confirmations.py


def _template_status(app, template_id: int) -> str:
    with app.app_context():
        return db.session.get(ProgramTemplate, template_id).status


@pytest.mark.parametrize("status,action,message", [
    ("active", "publish", "Cannot move from active to active"),
    ("draft", "deprecate", "Cannot move from draft to deprecated"),
    ("draft", "archive", "Cannot move from draft to archived"),
    ("archived", "archive", "Cannot move from archived to archived"),
    ("archived", "deprecate", "Cannot move from archived to deprecated"),
])
def test_a_template_action_in_the_wrong_state_is_409_with_the_version_page(app, pm_client, make, status, action,
                                                                         message):
    template = make.template(status=status)
    body = assert_refused(_template_action(pm_client, template, action), 409, message)
    buttons = (f"/templates/{template.key}/v1/publish", f"/templates/{template.key}/v1/new-version")
    assert any(f'action="{b}"' in body for b in buttons)  # the version's page, its buttons included
    assert _template_status(app, template.id) == status


def test_deleting_a_published_version_is_422(app, pm_client, make):
    template = make.template(status="active")
    assert_refused(_template_action(pm_client, template, "delete"), 422,
                   "Only drafts can be deleted; version 1 is active.")
    assert _template_status(app, template.id) == "active"


def test_a_stale_template_action_is_409(app, pm_client, make):
    template = make.template(status="draft")
    assert_refused(_template_action(pm_client, template, "publish", lock_version=template.lock_version + 3), 409,
                   "Someone else changed")
    assert _template_status(app, template.id) == "draft"


def test_publishing_defaults_that_do_not_validate_is_422(app, pm_client, make):
    draft = make.template(status="draft")
    broken = copy.deepcopy(draft.default_config)
    broken["session"]["defaultDurationMinutes"] = "long"
    with app.app_context():
        row = db.session.get(ProgramTemplate, draft.id)
        row.default_config = broken
        db.session.commit()
        version = row.lock_version
    assert_refused(_template_action(pm_client, draft, "publish", lock_version=version), 422,
                   "Cannot publish version 1:")
    assert _template_status(app, draft.id) == "draft"


@pytest.mark.parametrize("part,data", [
    ("details", {"name": "Sneaky", "category": "mentorship"}),
    ("schema", {"config_schema": "{}"}),
    ("defaults", {}),
])
def test_editing_a_non_draft_version_is_422_not_a_redirect(app, pm_client, make, part, data):
    template = make.template(status="deprecated")
    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/templates/{template.key}/v1/{part}", data={
        "csrf_token": token, "lock_version": template.lock_version, **data})
    assert_refused(response, 422, "only drafts can be edited")


def test_successful_template_actions_still_redirect(app, pm_client, make):
    template = make.template(status="draft")
    response = _template_action(pm_client, template, "publish")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/templates/{template.key}/v1")


# --- beneficiary groups, admin ------------------------------------------------------------------------
def test_an_illegal_group_move_is_409_with_the_page(app, pm_client, make):
    group = make.group(status="archived")
    token = csrf_token(pm_client, f"/groups/{group.id}")
    response = pm_client.post(f"/groups/{group.id}/status", data={
        "csrf_token": token, "target": "active", "lock_version": group.lock_version})
    assert_refused(response, 409, "Cannot move from archived to active")


def test_deactivating_yourself_is_422_with_the_page(app, pm_client, tenants):
    me = tenants["pm"]
    token = csrf_token(pm_client, f"/admin/users/{me.id}")
    response = pm_client.post(f"/admin/users/{me.id}/deactivate", data={
        "csrf_token": token, "lock_version": me.lock_version})
    assert_refused(response, 422, "You cannot deactivate yourself.")
    with app.app_context():
        assert db.session.get(User, me.id).is_enabled


def test_a_stale_user_action_is_409(app, pm_client, tenants):
    user = tenants["admin_b"]
    token = csrf_token(pm_client, f"/admin/users/{user.id}")
    response = pm_client.post(f"/admin/users/{user.id}/deactivate", data={
        "csrf_token": token, "lock_version": user.lock_version + 5})
    assert_refused(response, 409, "Someone else changed")
    with app.app_context():
        assert db.session.get(User, user.id).is_enabled
