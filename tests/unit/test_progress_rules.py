"""Progress rules (SPEC §2.10) on the three master templates' configurations: golden tables
of who is ready to complete and who needs attention, the CEFR level, and that the rules key
off the settings that exist rather than the template's name."""
from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.deliveries.progress import (
    EnrollmentFacts,
    attention_days,
    current_level,
    level_progress,
    months_between,
    progress_settings,
    ready_reasons,
)
from tests.factories import master

TODAY = date(2026, 11, 30)


def settings_of(name: str, **changes):
    m = master(name)
    config = copy.deepcopy(m["default_config"])
    for path, value in changes.items():
        section, key = path.split(".")
        config.setdefault(section, {})[key] = value
    return progress_settings(m["config_schema"], config)


def facts(enrolled=date(2026, 9, 1), sessions=0, last=None, reached=(), level=None):
    return EnrollmentFacts(enrolled, Decimal(sessions), last, frozenset(reached), level)


def test_each_master_yields_its_own_settings():
    mentorship, language, buddy = settings_of("mentorship"), settings_of("language"), settings_of("buddy")
    assert (mentorship.min_sessions, mentorship.rhythm_days, mentorship.target_level) == (10, 14, None)
    assert [m.key for m in mentorship.milestones][-1] == "completed"
    assert (language.min_sessions, language.rhythm_days, language.target_level, language.milestones) == (None, 7, "B2", ())
    assert (buddy.program_length_months, buddy.rhythm_days, buddy.last_milestone.key) == (6, 14, "thriving")


@pytest.mark.parametrize("sessions,ready", [(0, False), (9, False), (Decimal("9.5"), False), (10, True), (14, True)])
def test_mentorship_is_ready_at_its_minimum_of_sessions(sessions, ready):
    reasons = ready_reasons(settings_of("mentorship"), facts(sessions=sessions), TODAY)
    assert bool(reasons) is ready
    if ready:
        assert reasons[0] == f"{sessions} of 10 sessions"


def test_a_campaign_override_of_the_minimum_moves_the_line():
    assert ready_reasons(settings_of("mentorship", **{"session.minSessionsForCompletion": 12}), facts(sessions=11),
                         TODAY) == []


@pytest.mark.parametrize("enrolled,reached,ready", [
    (date(2026, 9, 1), (), False),  # 2 months in, no last stage
    (date(2026, 9, 1), ("integrated",), False),  # not the last stage
    (date(2026, 9, 1), ("thriving",), True),  # the last stage
    (date(2026, 5, 30), (), True),  # 30 May → 30 November: 6 whole months
    (date(2026, 5, 31), (), False),  # 31 May → 30 November: 5 months (the day is before the 31st)
])
def test_buddy_is_ready_at_its_last_stage_or_after_its_program_length(enrolled, reached, ready):
    assert bool(ready_reasons(settings_of("buddy"), facts(enrolled=enrolled, reached=reached), TODAY)) is ready


@pytest.mark.parametrize("level,ready", [(None, False), ("A2", False), ("B1", False), ("B2", True), ("C1", True)])
def test_language_is_ready_at_the_highest_target_level(level, ready):
    assert bool(ready_reasons(settings_of("language"), facts(level=level), TODAY)) is ready


def test_language_readiness_follows_an_overridden_target_list():
    settings = settings_of("language", **{"cefr.targetLevels": ["A1", "A2"]})
    assert ready_reasons(settings, facts(level="A2"), TODAY) == ["Level A2 reached (target A2)"]


@pytest.mark.parametrize("starting,advances,level", [
    ("A2", [], "A2"),
    (None, [], None),
    (None, [None], "A1"),  # no starting level: the first step is A1
    ("A2", [None, None], "B2"),  # one level per delivery naming none
    ("A1", ["B1"], "B1"),  # a named level
    ("B2", ["A2"], "B2"),  # a lower named level lowers nothing
    ("A1", ["A2", None], "B1"),  # in date order
    ("b1", ["Z9"], "B1"),  # an unknown level moves nothing; case is forgiven
    ("C2", [None], "C2"),  # the top stays the top
])
def test_the_current_level(starting, advances, level):
    assert current_level(starting, advances) == level


def test_level_progress_counts_toward_the_next_levels_threshold():
    settings = settings_of("language")
    progress = level_progress(settings, "A2", 12)
    assert (progress.next_level, progress.sessions, progress.needed) == ("B1", 12, 30)
    assert level_progress(settings, None, 3).next_level == "A1"
    assert level_progress(settings, "C2", 3).next_level is None


@pytest.mark.parametrize("name,last,enrolled,flagged", [
    ("mentorship", date(2026, 11, 16), None, None),  # weekly: 14 days is not more than 14
    ("mentorship", date(2026, 11, 15), None, 15),
    ("mentorship", None, date(2026, 11, 1), 29),  # none yet: counted from enrolled
    ("language", date(2026, 11, 23), None, None),  # every other day: 7
    ("language", date(2026, 11, 22), None, 8),
    ("buddy", date(2026, 11, 15), None, 15),  # weekly check-ins
])
def test_needs_attention_after_the_rhythm(name, last, enrolled, flagged):
    assert attention_days(settings_of(name), facts(enrolled=enrolled or date(2026, 1, 1), last=last), TODAY) == flagged


@pytest.mark.parametrize("frequency,allowed", [("daily", 7), ("biweekly", 28), ("monthly", 45)])
def test_each_frequency_has_its_rhythm(frequency, allowed):
    settings = settings_of("mentorship", **{"session.recommendedFrequency": frequency})
    assert settings.rhythm_days == allowed
    assert attention_days(settings, facts(last=date.fromordinal(TODAY.toordinal() - allowed)), TODAY) is None
    assert attention_days(settings, facts(last=date.fromordinal(TODAY.toordinal() - allowed - 1)), TODAY) == allowed + 1


def test_rules_key_off_settings_not_the_template_name():
    """A mentorship configuration given buddy's duration and check-ins follows those rules too;
    one without any completion setting is never ready, without a rhythm never flagged."""
    m = master("mentorship")
    config = copy.deepcopy(m["default_config"])
    config["duration"] = {"programLengthMonths": 2}
    assert ready_reasons(progress_settings(m["config_schema"], config),
                         facts(enrolled=date(2026, 9, 30)), TODAY) == ["2 months since enrolled"]
    bare = progress_settings({}, {})
    assert ready_reasons(bare, facts(sessions=100, level="C2"), TODAY) == []
    assert attention_days(bare, facts(last=date(2020, 1, 1)), TODAY) is None


@pytest.mark.parametrize("start,end,months", [
    (date(2026, 10, 31), date(2026, 11, 30), 0), (date(2026, 10, 31), date(2026, 12, 1), 1),
    (date(2025, 11, 30), date(2026, 11, 30), 12), (date(2026, 1, 15), date(2026, 1, 14), -1)])
def test_months_between(start, end, months):
    assert months_between(start, end) == months


@settings(max_examples=300, deadline=None)
@given(today=st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)), months=st.integers(1, 60))
def test_the_latest_start_the_sql_uses_is_exactly_where_the_months_rule_turns(today, months):
    """The campaign list finds program-length readiness with ``enrolled_at < months_before + 1 day``:
    that start still counts ``months`` whole months to today, the next day does not."""
    from datetime import timedelta

    from portal.deliveries.progress import months_before

    latest = months_before(today, months)
    assert months_between(latest, today) >= months
    assert months_between(latest + timedelta(days=1), today) < months
