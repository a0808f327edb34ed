"""Golden tests of SROI by the standard method (SPEC §2.11), every intermediate value
worked out by hand and written down here, and the sensitivity band."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.impact.sroi import (
    Valuation,
    band_valuations,
    compute_sroi,
    money_text,
    outcome_impact,
    present_value,
    ratio_text,
    round_minor,
    sroi_sentence,
    with_band,
)

D = Decimal
RATE = D("3.5")  # 3.5 % a year: discount factors 1.035, 1.035² = 1.071225, 1.035³ = 1.108717875

# A worked example (amounts in minor units, NOK øre):
#  sessions   40 × NOK 250.00, deadweight 20 %, displacement 10 %, attribution 25 %, 1 year
#  milestone   6 × NOK 5,000.00, deadweight 30 %, attribution 40 %, drop-off 50 %, 3 years
#  completion  3 × NOK 20,000.00, deadweight 50 %, 2 years
SESSIONS = Valuation("delivery:session_completed", D(25_000), deadweight=D(20), displacement=D(10),
                     attribution=D(25), drop_off=D(0), duration=1)
MILESTONE = Valuation("milestone:established", D(500_000), deadweight=D(30), displacement=D(0), attribution=D(40),
                      drop_off=D(50), duration=3)
COMPLETION = Valuation("completion:program_completed", D(2_000_000), deadweight=D(50), duration=2)
VALUATIONS = [SESSIONS, MILESTONE, COMPLETION]
QUANTITIES = {"delivery:session_completed": D(40), "milestone:established": D(6), "completion:program_completed": D(3)}
INVESTMENT = 4_500_000  # NOK 40,000.00 budget + NOK 5,000.00 of L2I


def q4(value: Decimal) -> Decimal:
    return value.quantize(D("0.0001"))


def test_impact_of_each_outcome_worked_by_hand():
    # 40 × 25 000 = 1 000 000; × 0.8 × 0.9 × 0.75 = 540 000
    assert outcome_impact(D(40), SESSIONS) == (D(1_000_000), D(540_000))
    # 6 × 500 000 = 3 000 000; × 0.7 × 1 × 0.6 = 1 260 000
    assert outcome_impact(D(6), MILESTONE) == (D(3_000_000), D(1_260_000))
    # 3 × 2 000 000 = 6 000 000; × 0.5 = 3 000 000
    assert outcome_impact(D(3), COMPLETION) == (D(6_000_000), D(3_000_000))


def test_present_value_year_by_year_worked_by_hand():
    years, pv = present_value(D(540_000), SESSIONS, RATE)
    assert [(y.year, y.value, q4(y.discounted)) for y in years] == [(1, D(540_000), D("521739.1304"))]  # 540 000 / 1.035
    assert q4(pv) == D("521739.1304")

    years, pv = present_value(D(1_260_000), MILESTONE, RATE)
    assert [y.value for y in years] == [D(1_260_000), D(630_000), D(315_000)]  # halves each year (drop-off 50 %)
    assert [q4(y.discounted) for y in years] == [D("1217391.3043"),  # 1 260 000 / 1.035
                                                 D("588111.7412"),  # 630 000 / 1.071225
                                                 D("284111.9523")]  # 315 000 / 1.108717875
    assert q4(pv) == D("2089614.9979")

    years, pv = present_value(D(3_000_000), COMPLETION, RATE)
    assert [q4(y.discounted) for y in years] == [D("2898550.7246"), D("2800532.1011")]
    assert q4(pv) == D("5699082.8257")


def test_the_whole_worked_example():
    result = compute_sroi(VALUATIONS, QUANTITIES, RATE, INVESTMENT)
    # PV = 521 739.1304 + 2 089 614.9979 + 5 699 082.8257 = 8 310 436.9540 (rounding each to 4 places first
    # would give …9540 too); SROI = 8 310 436.9540 / 4 500 000 = 1.8468
    assert q4(result.present_value) == D("8310436.9540")
    assert q4(result.ratio) == D("1.8468")
    assert round_minor(result.present_value) == 8_310_437  # half up, only when shown
    assert money_text(result.present_value, "NOK") == "NOK 83,104.37"
    assert sroi_sentence(result.ratio, "NOK") == "NOK 1.85 of social value per NOK 1 invested"
    assert [o.quantity for o in result.outcomes] == [D(40), D(6), D(3)]


def test_an_outcome_that_did_not_happen_is_worth_nothing_and_no_investment_means_no_ratio():
    result = compute_sroi([SESSIONS], {}, RATE, 0)
    assert result.present_value == 0 and result.ratio is None
    assert with_band([SESSIONS], {}, RATE, 0).band is None


def test_sensitivity_band_worked_by_hand():
    low = band_valuations(VALUATIONS, "low")
    # proxies × 0.8, deadweight and attribution + 10 points
    assert [(v.proxy, v.deadweight, v.attribution, v.displacement) for v in low] == [
        (D(20_000), D(30), D(35), D(10)), (D(400_000), D(40), D(50), D(0)), (D(1_600_000), D(60), D(10), D(0))]
    high = band_valuations(VALUATIONS, "high")
    # proxies × 1.2, deadweight and attribution − 10 points, clamped at 0
    assert [(v.proxy, v.deadweight, v.attribution) for v in high] == [
        (D(30_000), D(10), D(15)), (D(600_000), D(20), D(30)), (D(2_400_000), D(40), D(0))]
    result = with_band(VALUATIONS, QUANTITIES, RATE, INVESTMENT)
    # low impacts: 40×20 000×0.7×0.9×0.65 = 327 600; 6×400 000×0.6×0.5 = 720 000; 3×1 600 000×0.4×0.9 = 1 728 000
    # low PV = 327 600/1.035 + 720 000/1.035 + 360 000/1.071225 + 180 000/1.108717875
    #        + 1 728 000/1.035 + 1 728 000/1.071225 = 4 793 259.1598 → 1.0652
    # high impacts: 826 200; 2 016 000 (then 1 008 000, 504 000); 4 320 000 → PV 12 348 324.1352 → 2.7441
    assert (q4(result.band[0]), q4(result.band[1])) == (D("1.0652"), D("2.7441"))
    assert result.band[0] < result.ratio < result.band[1]
    assert ratio_text(result.band[0]) == "1.07"


@pytest.mark.parametrize("percent,low,high", [(D(0), D(10), D(0)), (D(95), D(100), D(85)), (D(100), D(100), D(90))])
def test_band_adjustments_are_clamped_to_0_100(percent, low, high):
    v = Valuation("x", D(100), deadweight=percent, attribution=percent)
    assert band_valuations([v], "low")[0].deadweight == low
    assert band_valuations([v], "high")[0].attribution == high


def test_money_is_rounded_half_up_only_when_shown():
    assert money_text(D("12.5"), "EUR") == "EUR 0.13"
    assert money_text(D("12.4999"), "EUR") == "EUR 0.12"
    assert money_text(D(123456789), "NOK") == "NOK 1,234,567.89"
    assert ratio_text(D("3.395")) == "3.40"


def test_a_drop_off_of_100_percent_keeps_the_first_year_only():
    years, pv = present_value(D(1035), Valuation("x", D(1), drop_off=D(100), duration=3), D("3.5"))
    assert [y.value for y in years] == [D(1035), D(0), D(0)] and pv == D(1000)
    years, pv = present_value(D(100), Valuation("x", D(1), duration=2), D(0))  # a rate of 0: no discounting
    assert pv == D(200)
