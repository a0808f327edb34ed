from types import SimpleNamespace

from portal.campaigns.capacity import seats_allow
from portal.enrollments.operations import eligibility


def group(**kw):
    base = dict(age_min=None, age_max=None, languages=["uk", "en"], language_requirement="any")
    base.update(kw)
    return SimpleNamespace(**base)


def test_age_inside_range_is_eligible():
    assert eligibility(group(age_min=18, age_max=65), year_of_birth=1990, languages=[], today_year=2026).eligible


def test_too_young_and_too_old_are_refused_with_reasons():
    young = eligibility(group(age_min=18), year_of_birth=2010, languages=[], today_year=2026)
    old = eligibility(group(age_max=65), year_of_birth=1950, languages=[], today_year=2026)
    assert not young.eligible and "below" in young.reasons[0]
    assert not old.eligible and "above" in old.reasons[0]


def test_unknown_year_of_birth_is_not_held_against_anyone():
    assert eligibility(group(age_min=18, age_max=30), year_of_birth=None, languages=[]).eligible


def test_language_requirement_any_needs_no_shared_language():
    assert eligibility(group(language_requirement="any"), year_of_birth=None, languages=["ar"]).eligible


def test_language_requirement_above_any_needs_a_shared_language():
    refused = eligibility(group(language_requirement="conversational"), year_of_birth=None, languages=["ar"])
    assert not refused.eligible and "No shared working language" in refused.reasons[0]
    assert eligibility(group(language_requirement="fluent"), year_of_birth=None, languages=["ar", "en"]).eligible


def campaign(**kw):
    base = dict(max_enrollment=None, enrolled_count=0, seat_price=None, budget_allocated=None)
    base.update(kw)
    return SimpleNamespace(**base)


def test_seats_allow_respects_cap_and_budget():
    assert seats_allow(campaign())
    assert not seats_allow(campaign(max_enrollment=2, enrolled_count=2))
    assert seats_allow(campaign(max_enrollment=3, enrolled_count=2))
    assert seats_allow(campaign(seat_price=100, budget_allocated=300, enrolled_count=2))
    assert not seats_allow(campaign(seat_price=100, budget_allocated=300, enrolled_count=3))
    assert not seats_allow(campaign(max_enrollment=0))


def _campaign_for_decision(**kw):
    from portal.enrollments.operations import CampaignFacts

    the_group = group(age_min=18, age_max=65, language_requirement="beginner")
    base = dict(status="active", program_status="active", template_status="active", company_id=1,
                waitlist_enabled=False, group=the_group, max_enrollment=1, enrolled_count=0, seat_price=None,
                budget_allocated=None)
    base.update(kw)
    return CampaignFacts(**base)


def test_one_decision_rule_in_order():
    from portal.enrollments.operations import (
        AlreadyEnrolled,
        CapacityReached,
        NotAcceptingEnrollments,
        NotEligible,
        decide_enrollment,
    )

    def decide(campaign, **kw):
        kw.setdefault("role", "beneficiary")
        kw.setdefault("year_of_birth", 1990)
        kw.setdefault("languages", ["uk"])
        kw.setdefault("company_id", None)
        return decide_enrollment(campaign, **kw)

    assert decide(_campaign_for_decision()).status == "active"
    assert isinstance(decide(_campaign_for_decision(status="paused")).error, NotAcceptingEnrollments)
    # not already enrolled is checked before eligibility; eligibility before capacity
    assert isinstance(decide(_campaign_for_decision(), already_enrolled=True, year_of_birth=2020).error,
                      AlreadyEnrolled)
    assert isinstance(decide(_campaign_for_decision(enrolled_count=1), year_of_birth=2020).error, NotEligible)
    assert isinstance(decide(_campaign_for_decision(enrolled_count=1)).error, CapacityReached)
    assert decide(_campaign_for_decision(enrolled_count=1, waitlist_enabled=True)).status == "waitlisted"
    # volunteers: not capped, no eligibility, but only their own company's campaigns
    assert decide(_campaign_for_decision(enrolled_count=1), role="volunteer", year_of_birth=2020).status == "active"
    assert decide(_campaign_for_decision(), role="volunteer", company_id=2).error is not None
