"""Impact points (SPEC §2.11): whole months by the calendar, decay, weights with their
layer, and the small-cell rule for sponsors."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portal.impact.points import (
    VIS,
    VOLUNTEER,
    WEIGHTS,
    Bucket,
    KindPoints,
    Score,
    impact_settings,
    months_between,
    score,
    suppress,
    withhold_small_cells,
)
from tests.factories import master

D = Decimal


@pytest.mark.parametrize("start,end,months", [
    (date(2026, 10, 31), date(2026, 11, 30), 0),  # SPEC's own example
    (date(2026, 10, 31), date(2026, 12, 1), 1),
    (date(2026, 10, 31), date(2026, 10, 31), 0),
    (date(2026, 1, 15), date(2026, 2, 14), 0),
    (date(2026, 1, 15), date(2026, 2, 15), 1),
    (date(2025, 12, 31), date(2026, 1, 1), 0),
    (date(2025, 12, 1), date(2026, 12, 1), 12),
    (date(2024, 2, 29), date(2025, 2, 28), 11),
    (date(2024, 2, 29), date(2025, 3, 1), 12),
    (date(2026, 3, 1), date(2026, 2, 1), 0),  # never negative
])
def test_whole_months_since(start, end, months):
    assert months_between(start, end) == months


def test_mentorship_weights_and_decay_come_from_the_template_with_their_layer():
    m = master("mentorship")
    settings = impact_settings(m["default_config"], {"impact": {"sroiWeights": {"session_completed": 12}}})
    assert settings.weights["session_completed"] == D(12) and settings.weights["goal_achieved"] == D(50)
    assert settings.layer(WEIGHTS, "session_completed") == "program"
    assert settings.layer(WEIGHTS, "goal_achieved") == "template"
    assert settings.decay == D("0.95") and settings.vis["session_completed"] == D(5)


def test_points_decay_by_whole_months():
    settings = impact_settings(master("mentorship")["default_config"], {})
    buckets = [Bucket("beneficiary", "session_completed", "", 0, 3, D(3)),  # 3 × 10
               Bucket("beneficiary", "session_completed", "", 2, 1, D(1)),  # 10 × 0.95² = 9.025
               Bucket("beneficiary", "milestone_reached", "first_session", 1, 1, D(1)),  # 25 × 0.95 = 23.75
               Bucket("volunteer", "session_completed", "", 0, 3, D(3)),  # 3 × 10 again (both sides count)
               Bucket("beneficiary", "unweighted_kind", "", 0, 2, D(2))]  # no weight: 0, and said so
    result = score(buckets, settings)
    rows = {r.kind: r for r in result.rows}
    assert rows["session_completed"].events == 7 and rows["session_completed"].points == D("69.025")
    assert rows["milestone_reached"].points == D("23.75")
    assert rows["unweighted_kind"].weight is None and rows["unweighted_kind"].points == 0
    assert result.total == D("92.775")
    volunteers = score(buckets, settings, VIS, roles=(VOLUNTEER,))
    assert volunteers.total == D(15)  # visMultipliers.session_completed 5 × 3


def test_a_decay_of_zero_keeps_only_this_months_events():
    settings = impact_settings({"impact": {"sroiWeights": {"a": 4}, "decayFactorMonthly": 0}}, {})
    assert score([Bucket("beneficiary", "a", "", 0, 2, D(2)), Bucket("beneficiary", "a", "", 1, 5, D(5))],
                 settings).total == 8


@pytest.mark.parametrize("people,hidden,total_hidden", [
    ([40, 30, 20], set(), False),
    ([40, 30, 3], {2, 1}, False),  # one small row: the next smallest goes with it, so 3 cannot be subtracted out
    ([40, 3, 4, 12], {1, 2, 3}, False),  # 3 + 4 = 7 still < 10: one more
    ([12, 3], {0, 1}, False),
    ([5], {0}, True),
    ([9, 9], {0, 1}, True),  # nothing rests on 10
    ([40, 0], {1}, False),  # an empty row hides nothing: 0 behind it
])
def test_small_cells(people, hidden, total_hidden):
    assert withhold_small_cells(people, 10) == (hidden, total_hidden)


def test_a_sponsor_never_sees_a_small_row_nor_a_total_that_gives_it_away():
    rows = [KindPoints("session_completed", 200, D(10), "template", D(2000), people=40),
            KindPoints("mentee_employed", 2, D(500), "template", D(1000), people=2)]
    figure = suppress(Score(WEIGHTS, rows, D(3000), D("0.95"), "template"), 10)
    assert [r.withheld for r in figure.rows] == [True, True]
    assert not figure.withheld and not figure.total_withheld and figure.reason == "not enough participants to report"
    small = suppress(Score(WEIGHTS, [KindPoints("a", 5, D(1), "template", D(5), people=5)], D(5), D(1), None), 10)
    assert small.withheld and small.total_withheld
    unsuppressed = suppress(Score(WEIGHTS, [KindPoints("a", 5, D(1), "template", D(5), people=5)], D(5), D(1), None),
                            None)
    assert not unsuppressed.withheld and not unsuppressed.rows[0].withheld


def test_a_row_only_volunteers_contributed_to_is_not_a_small_cell():
    rows = [KindPoints("session_completed", 200, D(10), "template", D(2000), people=40),
            KindPoints("mentor_referral", 3, D(15), "template", D(45), people=0)]
    figure = suppress(Score(WEIGHTS, rows, D(2045), D("0.95"), "template"), 10)
    assert [r.withheld for r in figure.rows] == [False, False] and not figure.total_withheld
