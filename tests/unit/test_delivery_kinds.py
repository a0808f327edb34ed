"""The recordable kinds of a delivery come from the template (SPEC §2.9): the keys of the
effective ``impact.sroiWeights`` less the two derived ones, on all three masters; attendance
applies to session kinds; a weight added in a new template version (or a program's override)
becomes a kind for the programs on it, and not for those still on the old version."""
from __future__ import annotations

import copy

import pytest

from portal.db import db
from portal.deliveries.kinds import DERIVED_KINDS, campaign_kinds, is_session_kind, kind_label, recordable_kinds
from portal.models import Campaign
from tests.factories import master

# Sessions first, then by name.
EXPECTED = {
    "mentorship": ["session_completed", "goal_achieved", "mentee_employed", "mentor_referral"],
    "language": ["session_completed", "assessment_passed", "cefr_level_advanced", "cultural_integration_event",
                 "vocabulary_milestone"],
    "buddy": ["checkin_completed", "community_integration", "event_attended", "match_created",
              "skill_share_completed"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_master_records_its_weights_less_the_derived_kinds(name):
    config = master(name)["default_config"]
    kinds = recordable_kinds(config)
    assert kinds == EXPECTED[name]
    assert set(kinds) == set(config["impact"]["sroiWeights"]) - DERIVED_KINDS
    assert not set(kinds) & DERIVED_KINDS


@pytest.mark.parametrize("name,sessions", [("mentorship", ["session_completed"]), ("language", ["session_completed"]),
                                           ("buddy", [])])
def test_session_kinds_take_attendance(name, sessions):
    assert [k for k in recordable_kinds(master(name)["default_config"]) if is_session_kind(k)] == sessions


@pytest.mark.parametrize("config", [None, {}, {"impact": None}, {"impact": {"sroiWeights": []}},
                                    {"impact": {"sroiWeights": {"milestone_reached": 1, "program_completed": 2}}}])
def test_no_weights_means_no_kinds(config):
    assert recordable_kinds(config) == []


def test_kind_labels_read_as_words():
    assert kind_label("session_completed") == "Session completed"
    assert kind_label("cefr_level_advanced") == "CEFR level advanced"
    assert kind_label("dance_class") == "Dance class"  # a kind a template adds reads as its words


def _kinds_of(app, campaign_id: int) -> list[str]:
    with app.app_context():
        return campaign_kinds(db.session.get(Campaign, campaign_id))


def test_a_weight_added_in_a_new_template_version_becomes_recordable(app, make, tenants):
    version1 = make.template("mentorship", status="deprecated")
    defaults = copy.deepcopy(version1.default_config)
    defaults["impact"]["sroiWeights"]["interview_practised"] = 20
    version2 = make.template("mentorship", key=version1.key, version=2, default_config=defaults)
    on_v1 = make.campaign(tenants["company_a"], make.program(template=version1))
    on_v2 = make.campaign(tenants["company_a"], make.program(template=version2))
    assert "interview_practised" not in _kinds_of(app, on_v1.id)
    assert _kinds_of(app, on_v2.id) == ["session_completed", "goal_achieved", "interview_practised",
                                        "mentee_employed", "mentor_referral"]


def test_a_program_override_adds_a_kind_for_its_campaigns(app, make, tenants):
    program = make.program(template=make.template("buddy"),
                           config_overrides={"impact": {"sroiWeights": {"hangout_hosted": 5}}})
    campaign = make.campaign(tenants["company_a"], program)
    assert _kinds_of(app, campaign.id) == sorted([*EXPECTED["buddy"], "hangout_hosted"])
