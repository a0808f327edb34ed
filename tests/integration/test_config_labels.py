"""Issue 13, items 3 and 6 through the screens and operations: an upgrade that drops the
overrides the new version refuses (one change, one event, only what the review listed);
settings in people's words on compare, upgrade and the launch review; advanced settings
collapsed; a campaign never overrides the impact settings it is measured with (SPEC §2.11)."""
import copy
import json
import re

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns import operations as campaign_ops
from portal.campaigns.models import Campaign
from portal.configuration.layers import IMPACT_REFUSED_MESSAGE
from portal.db import db, transaction
from portal.errors import ConfigInvalid, ValidationFailed
from portal.program_templates.models import ProgramTemplate
from portal.programs import operations as ops
from portal.programs.models import Program
from tests.helpers import browser_form

IMPACT_WORDS = ("SROI", "VIS multipliers", "Monthly decay factor", "cefr_level_advanced", "CEFR level advanced")


def _v2(make, v1, mutate):
    schema, defaults = copy.deepcopy(v1.config_schema), copy.deepcopy(v1.default_config)
    mutate(schema, defaults)
    return make.template(key=v1.key, version=2, status="active", config_schema=schema, default_config=defaults,
                         ui_schema=copy.deepcopy(v1.ui_schema))


def _lock_duration_and_cap_per_week(schema, defaults):
    session = schema["properties"]["session"]["properties"]
    session["defaultDurationMinutes"]["x-locked"] = True
    session["maxSessionsPerWeek"]["maximum"] = 4
    defaults["session"]["maxSessionsPerWeek"] = 4


@pytest.fixture
def blocked(make):
    """A language program whose two overrides v2 refuses (duration now locked, 5 sessions a
    week over the new maximum of 4) and one it keeps (the frequency)."""
    v1 = make.template("language", status="deprecated")
    program = make.program(template=v1, config_overrides={
        "session": {"defaultDurationMinutes": 60, "maxSessionsPerWeek": 5, "recommendedFrequency": "weekly"}})
    v2 = _v2(make, v1, _lock_duration_and_cap_per_week)
    return program, v1, v2


def _program(app, program_id):
    with app.app_context():
        program = db.session.get(Program, program_id)
        db.session.expunge(program)
        return program


def _events(app, subject_id, event_type="program.updated"):
    with app.app_context():
        return [e.data for e in db.session.scalars(sa.select(ActivityEvent).where(
            ActivityEvent.subject_type == "programs", ActivityEvent.subject_id == subject_id,
            ActivityEvent.type == event_type).order_by(ActivityEvent.id))]


# --- item 3: drop the refused overrides and upgrade -----------------------------------
def test_upgrade_dropping_exactly_the_reviewed_overrides_is_one_change_with_one_event(app, blocked):
    program, v1, v2 = blocked
    with app.app_context():
        review = ops.upgrade_review(db.session.get(Program, program.id), db.session.get(ProgramTemplate, v2.id))
        assert review.blocking_paths == ["session.defaultDurationMinutes", "session.maxSessionsPerWeek"]
        assert review.can_drop and not review.can_apply
    with app.app_context(), transaction():
        ops.upgrade_program(None, db.session.get(Program, program.id), db.session.get(ProgramTemplate, v2.id),
                            expected_version=program.lock_version,
                            drop_overrides=["session.maxSessionsPerWeek", "session.defaultDurationMinutes"])
    upgraded = _program(app, program.id)
    assert upgraded.template_id == v2.id
    assert upgraded.config_overrides == {"session": {"recommendedFrequency": "weekly"}}
    [event] = _events(app, program.id)
    assert event["dropped_overrides"] == ["session.defaultDurationMinutes", "session.maxSessionsPerWeek"]
    assert event["template_version"] == {"from": 1, "to": 2}
    assert event["config_overrides"]["to"] == {"session": {"recommendedFrequency": "weekly"}}


@pytest.mark.parametrize("drop", [[], ["session.defaultDurationMinutes"],
                                  ["session.defaultDurationMinutes", "session.maxSessionsPerWeek",
                                   "session.recommendedFrequency"]])
def test_upgrade_refuses_a_drop_list_other_than_the_review_and_changes_nothing(app, blocked, drop):
    program, v1, v2 = blocked
    with pytest.raises(ops.ReviewOutdated) as refused, app.app_context(), transaction():
        ops.upgrade_program(None, db.session.get(Program, program.id), db.session.get(ProgramTemplate, v2.id),
                            expected_version=None, drop_overrides=drop)
    assert refused.value.status_code == 409
    unchanged = _program(app, program.id)
    assert (unchanged.template_id, unchanged.config_overrides) == (v1.id, program.config_overrides)
    assert _events(app, program.id) == []


def test_upgrade_without_dropping_is_still_refused_when_overrides_do_not_fit(app, blocked):
    program, v1, v2 = blocked
    with pytest.raises(ConfigInvalid), app.app_context(), transaction():
        ops.upgrade_program(None, db.session.get(Program, program.id), db.session.get(ProgramTemplate, v2.id),
                            expected_version=None)
    assert _program(app, program.id).template_id == v1.id


def test_upgrade_review_lists_what_is_dropped_in_words_and_the_button_drops_it(app, pm_client, blocked):
    program, v1, v2 = blocked
    url = f"/programs/{program.id}/upgrade"
    page = pm_client.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    drop = body.split('class="upgrade-drop__list"', 1)[1].split("</ul>", 1)[0]
    assert "Sessions › Default session duration (minutes)</strong>: 60 → 45" in drop
    assert "Sessions › Maximum sessions per week</strong>: 5 → 4" in drop
    assert "Recommended frequency" not in drop
    assert "Locked in the new version" in body and "Drop these overrides and upgrade" in body
    assert "Sessions › Recommended frequency</span>: Weekly" in body  # kept, in words
    form = browser_form(body)
    form["action"] = "drop"
    done = pm_client.post(url, data=form)
    assert done.status_code == 303, done.get_data(as_text=True)[-600:]
    upgraded = _program(app, program.id)
    assert upgraded.template_id == v2.id and upgraded.config_overrides == {"session": {"recommendedFrequency": "weekly"}}
    assert "2 overrides dropped" in pm_client.get(done.headers["Location"]).get_data(as_text=True)


def test_a_stale_drop_is_refused_with_409_and_the_review_shown_again(app, pm_client, blocked):
    program, v1, v2 = blocked
    url = f"/programs/{program.id}/upgrade"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["action"] = "drop"
    form["drop_override-0"] = "session.recommendedFrequency"  # not what the review listed
    refused = pm_client.post(url, data=form)
    assert refused.status_code == 409
    assert "changed since you reviewed it" in refused.get_data(as_text=True)
    assert _program(app, program.id).template_id == v1.id


# --- item 6: words for the audience ---------------------------------------------------
def test_compare_shows_labels_and_option_names_not_paths_and_raw_values(pm_client, make):
    v1 = make.template("language", status="deprecated")

    def change(schema, defaults):
        defaults["session"]["recommendedFrequency"] = "weekly"
        schema["properties"]["session"]["properties"]["defaultDurationMinutes"]["maximum"] = 90

    _v2(make, v1, change)
    body = pm_client.get(f"/templates/{v1.key}/compare?base=1&other=2").get_data(as_text=True)
    table = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "Sessions › Recommended frequency" in table and "Every other day" in table and "Weekly" in table
    assert "Allowed values changed" in table and "15–120" in table and "15–90" in table
    visible = re.sub(r"<[^>]+>", " ", table)
    assert "every_other_day" not in visible and "session.recommendedFrequency" not in visible


def test_launch_review_lists_overrides_in_words_not_json(pm_client, make):
    template, group = make.template("language"), make.group()
    url = f"/programs/new?template={template.id}&group={group.id}"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["name"], form["step"] = "Language in Bergen", "review"
    form["cfg.session.recommendedFrequency"] = "weekly"
    body = pm_client.post(url, data=form).get_data(as_text=True)
    overridden = body.split("<dt>Overridden settings</dt>", 1)[1].split("</dd>", 1)[0]
    assert "Sessions › Recommended frequency</span>: Weekly" in overridden
    assert "{" not in overridden and "recommendedFrequency" not in re.sub(r'data-path="[^"]*"', "", overridden)


def test_program_config_form_collapses_the_advanced_settings(pm_client, make):
    program = make.program(template=make.template("language"))
    body = pm_client.get(f"/programs/{program.id}/config").get_data(as_text=True)
    advanced = re.findall(r'<details class="cfg-advanced"( open)?>(.*?)</details>', body, re.S)
    assert advanced and not any(is_open for is_open, _ in advanced)
    inside = " ".join(html for _, html in advanced)
    assert 'name="cfg.impact.decayFactorMonthly"' in inside
    assert 'name="cfg.cefr.progressionThresholds.0.__key"' in inside
    assert 'name="cfg.session.defaultDurationMinutes"' not in inside


def test_an_advanced_section_with_an_error_opens_by_itself(pm_client, make):
    program = make.program(template=make.template("language"))
    url = f"/programs/{program.id}/config"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["cfg.impact.decayFactorMonthly"] = "7"
    response = pm_client.post(url, data=form)
    assert response.status_code == 422
    assert re.search(r'<details class="cfg-advanced" open>.*?name="cfg.impact.decayFactorMonthly"',
                     response.get_data(as_text=True), re.S)


def test_adding_a_row_inside_the_advanced_section_keeps_it_open_without_javascript(pm_client, make):
    program = make.program(template=make.template("language"))
    url = f"/programs/{program.id}/config"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["_action"] = "add:cfg.impact.sroiWeights"
    body = pm_client.post(url, data=form).get_data(as_text=True)
    assert re.search(r'<details class="cfg-advanced" open>.*?name="cfg.impact.sroiWeights.6.__key"', body, re.S)


# --- item 6: the campaign layer never overrides impact settings (SPEC §2.11) ------------
def test_campaign_config_form_and_preview_leave_the_impact_section_out(admin_a_client, make, tenants):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("language")))
    for url in (f"/campaigns/{camp.id}/config", f"/campaigns/{camp.id}"):
        body = admin_a_client.get(url).get_data(as_text=True)
        assert "cfg.impact" not in body and "cfg-impact" not in body
        for word in IMPACT_WORDS:
            assert word not in body, (url, word)


@pytest.mark.parametrize("field,value", [("cfg.impact.decayFactorMonthly", "0.5"),
                                         ("cfg.impact.sroiWeights.0.__key", "session_completed")])
def test_a_forged_impact_override_is_refused_with_a_clear_message(app, admin_a_client, make, tenants, field, value):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("language")))
    url = f"/campaigns/{camp.id}/config"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    form[field] = value
    if field.endswith("__key"):
        form["cfg.impact.sroiWeights.0.__value"] = "999"
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 422
    assert IMPACT_REFUSED_MESSAGE.split(":")[0] in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Campaign, camp.id).config_overrides == {}


def test_new_campaign_refuses_impact_overrides_carried_as_json(app, admin_a_client, language_program):
    url = f"/campaigns/new?program={language_program.id}"
    form = browser_form(admin_a_client.get(url).get_data(as_text=True))
    for name, value in {"name": "Acme sneaky weights", "start_date": "2026-01-15", "currency": "EUR",
                        "overrides_json": json.dumps({"impact": {"decayFactorMonthly": 0.5}})}.items():
        form[name] = value
    response = admin_a_client.post(url, data=form)
    assert response.status_code == 422
    assert IMPACT_REFUSED_MESSAGE.split(":")[0] in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_the_operations_refuse_campaign_impact_overrides_whatever_the_caller(app, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    impact = {"impact": {"sroiWeights": {"session_completed": 80}}}
    with pytest.raises(ConfigInvalid) as refused, app.app_context(), transaction():
        campaign_ops.update_campaign_config(None, db.session.get(Campaign, camp.id), impact, expected_version=None)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("impact.sroiWeights.session_completed", IMPACT_REFUSED_MESSAGE)]
    with pytest.raises(ValidationFailed) as refused_new, app.app_context(), transaction():
        campaign_ops.create_campaign(None, program=db.session.get(Program, language_program.id),
                                     company=db.session.get(type(tenants["company_a"]), tenants["company_a"].id),
                                     name="Direct", start_date=camp.start_date, config_overrides=impact)
    assert "impact.sroiWeights.session_completed" in refused_new.value.errors["config_overrides"][0]
    with app.app_context():
        assert db.session.get(Campaign, camp.id).config_overrides == {}


def test_a_program_may_still_override_its_impact_weights(app, make):
    program = make.program(template=make.template("language"))
    with app.app_context():
        p = db.session.get(Program, program.id)
        desired = copy.deepcopy(p.template.default_config)
    desired["impact"]["decayFactorMonthly"] = 0.9
    with app.app_context(), transaction():
        ops.update_program_config(None, db.session.get(Program, program.id), desired, expected_version=None)
    assert _program(app, program.id).config_overrides == {"impact": {"decayFactorMonthly": 0.9}}


# --- the data migration: campaign impact overrides already stored are dropped, with an event
IMPACT_MIGRATION, BEFORE_IT = "c7e4b2a9d815", "a3c1f0d9b7e2"


def test_the_migration_drops_stored_campaign_impact_overrides_with_an_event(fresh_database_url):
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from tests.factories import Factory

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=fresh_database_url("impact_migration"))
    try:
        with app.app_context():
            upgrade()
        make = Factory(app)
        company = make.company(name="Legacy Sponsor")
        program = make.program(template=make.template("language"))
        sneaky = make.campaign(company, program, name="Legacy weights")
        clean = make.campaign(company, program, name="Legacy clean", config_overrides={"session": {"minSessionsPerWeek": 3}})
        with app.app_context():
            downgrade(revision=BEFORE_IT)
            db.session.execute(sa.update(Campaign).where(Campaign.id == sneaky.id).values(config_overrides={
                "impact": {"decayFactorMonthly": 0.5, "sroiWeights": {"session_completed": 80}},
                "session": {"minSessionsPerWeek": 3}}))
            db.session.commit()
            upgrade(revision=IMPACT_MIGRATION)
            fixed, untouched = db.session.get(Campaign, sneaky.id), db.session.get(Campaign, clean.id)
            assert fixed.config_overrides == {"session": {"minSessionsPerWeek": 3}}
            assert fixed.lock_version == sneaky.lock_version + 1
            assert untouched.config_overrides == {"session": {"minSessionsPerWeek": 3}}
            assert untouched.lock_version == clean.lock_version
            [event] = db.session.scalars(sa.select(ActivityEvent).where(
                ActivityEvent.subject_type == "campaigns", ActivityEvent.subject_id == sneaky.id)).all()
            assert (event.type, event.company_id) == ("program.campaign.updated", company.id)
            assert event.data["dropped_overrides"] == ["impact.decayFactorMonthly", "impact.sroiWeights.session_completed"]
            assert event.data["config_overrides"]["to"] == {"session": {"minSessionsPerWeek": 3}}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_seeded_campaigns_override_no_impact_setting(app, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        layers = db.session.scalars(sa.select(Campaign.config_overrides)).all()
    assert layers and not any("impact" in (overrides or {}) for overrides in layers)
