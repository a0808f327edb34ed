"""Milestone rules from the configuration (SPEC §2.10), golden tables on the three masters:
the lists are the schema arrays marked "x-milestones" (mentorship progression.milestones,
buddy milestones.integrationStages, none for language practice), and a milestone is reached
when all its thresholds hold."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.deliveries.milestones import milestone_list, milestone_paths, milestones_reached
from tests.factories import master


def milestones(name: str):
    doc = master(name)
    return milestone_list(doc["config_schema"], doc["default_config"])


def test_the_masters_mark_their_milestone_lists():
    assert milestone_paths(master("mentorship")["config_schema"]) == [("progression", "milestones")]
    assert milestone_paths(master("buddy")["config_schema"]) == [("milestones", "integrationStages")]
    assert milestone_paths(master("language")["config_schema"]) == []
    assert [m.key for m in milestones("mentorship")] == ["first_session", "established", "progressing", "completed"]
    assert [m.key for m in milestones("buddy")] == ["first_meeting", "connected", "integrated", "thriving"]


@pytest.mark.parametrize("sessions,reached", [
    (0, []), (1, ["first_session"]), (4, ["first_session"]), (5, ["first_session", "established"]),
    (10, ["first_session", "established", "progressing"]),
    (15, ["first_session", "established", "progressing", "completed"]),
])
def test_mentorship_milestones_follow_completed_sessions(sessions, reached):
    counts = {"session_completed": Decimal(sessions), "goal_achieved": Decimal(99)}
    assert milestones_reached(milestones("mentorship"), counts, days_active=400) == reached


@pytest.mark.parametrize("events,checkins,shares,days,reached", [
    (0, 0, 0, 0, []),
    (1, 0, 0, 0, ["first_meeting"]),
    (3, 3, 0, 0, ["first_meeting"]),
    (3, 4, 0, 0, ["first_meeting", "connected"]),
    (10, 12, 0, 89, ["first_meeting", "connected"]),
    (10, 12, 0, 90, ["first_meeting", "connected", "integrated"]),
    (20, 12, 2, 400, ["first_meeting", "connected", "integrated"]),
    (20, 12, 3, 179, ["first_meeting", "connected", "integrated"]),
    (20, 0, 3, 180, ["first_meeting", "thriving"]),
    (20, 12, 3, 180, ["first_meeting", "connected", "integrated", "thriving"]),
])
def test_buddy_stages_need_every_criterion(events, checkins, shares, days, reached):
    counts = {"event_attended": Decimal(events), "checkin_completed": Decimal(checkins),
              "skill_share_completed": Decimal(shares)}
    assert milestones_reached(milestones("buddy"), counts, days_active=days) == reached


def test_an_unmarked_array_is_no_milestone_list():
    schema = {"type": "object", "properties": {"stages": {"type": "array", "items": {"type": "object"}}}}
    assert milestone_list(schema, {"stages": [{"key": "a", "name": "A", "sessionCount": 1}]}) == []
    schema["properties"]["stages"]["x-milestones"] = True
    [only] = milestone_list(schema, {"stages": [{"key": "a", "name": "A", "sessionCount": 1}, "junk"]})
    assert (only.key, only.thresholds) == ("a", {"sessionCount": 1})
