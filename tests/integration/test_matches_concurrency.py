"""The volunteer's limit is exact under concurrency (SPEC §2.8): 200 confirms racing for one
mentor whose campaign allows 3 active matches end with exactly 3, on SQLite and PostgreSQL.
Same harness as tests/integration/test_concurrency.py: a fresh database migrated to head,
threads with their own sessions released together by a barrier, real commits."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa

from portal.db import db, transaction, utcnow
from portal.enrollments.models import Enrollment
from portal.errors import DomainError
from portal.matches.models import Match, MatchLoad
from portal.matches.operations import VolunteerFull, confirm_match, end_match
from tests.integration import test_concurrency
from tests.integration.test_concurrency import RACERS, RaceWorld, race

world = test_concurrency.world  # its module-scoped race database and app, here too

LIMIT = 3  # the mentorship master's maxMenteesPerMentor


def _scene(world: RaceWorld, label: str) -> tuple[int, int, list[int]]:
    """A campaign of the (mentorship) race program with one volunteer and RACERS proposed matches."""
    campaign = world.campaign()
    people = world.participants(RACERS + 1, label)
    now = utcnow()
    with world.app.app_context():
        with transaction():
            rows = [{"campaign_id": campaign.id, "participant_id": pid, "role": "beneficiary", "status": "active",
                     "enrolled_at": now} for pid in people[1:]]
            db.session.execute(sa.insert(Enrollment), [
                {"campaign_id": campaign.id, "participant_id": people[0], "role": "volunteer", "status": "active",
                 "enrolled_at": now}, *rows])
            ids = dict(db.session.execute(sa.select(Enrollment.participant_id, Enrollment.id)
                                          .where(Enrollment.campaign_id == campaign.id)).all())
            mentor = ids[people[0]]
            db.session.execute(sa.insert(MatchLoad), [{"volunteer_enrollment_id": mentor, "active_matches": 0}])
            db.session.execute(sa.insert(Match), [
                {"campaign_id": campaign.id, "volunteer_enrollment_id": mentor, "beneficiary_enrollment_id": ids[pid],
                 "status": "proposed", "proposed_at": now} for pid in people[1:]])
        matches = list(db.session.scalars(sa.select(Match.id).where(Match.campaign_id == campaign.id)
                                          .order_by(Match.id)))
    return campaign.id, mentor, matches


def _confirm(match_ids: list[int]) -> Callable[[int], str]:
    def attempt(i: int) -> str:
        try:
            with transaction():
                match = db.session.get(Match, match_ids[i])
                return confirm_match(None, match).status
        except VolunteerFull as exc:
            return type(exc).__name__
    return attempt


def _stored(world: RaceWorld, campaign_id: int, mentor: int) -> tuple[Counter[str], int]:
    with world.app.app_context():
        statuses = Counter(db.session.scalars(sa.select(Match.status).where(Match.campaign_id == campaign_id)))
        load = db.session.scalar(sa.select(MatchLoad.active_matches).where(MatchLoad.volunteer_enrollment_id == mentor))
        return statuses, load


def test_two_hundred_confirms_for_one_mentor_with_a_limit_of_three_end_with_three(world: RaceWorld) -> None:
    campaign_id, mentor, matches = _scene(world, "mentor-limit")

    outcomes = race(world.app, RACERS, _confirm(matches))

    assert outcomes == Counter({"active": LIMIT, "VolunteerFull": RACERS - LIMIT}), outcomes
    statuses, load = _stored(world, campaign_id, mentor)
    assert statuses == Counter({"active": LIMIT, "proposed": RACERS - LIMIT})
    assert load == LIMIT


def test_racing_ends_and_confirms_keep_the_counter_equal_to_the_active_matches(world: RaceWorld) -> None:
    """Half the racers end one of the three active matches, half confirm: whatever the order,
    the counter equals the active rows and never exceeds the limit."""
    campaign_id, mentor, matches = _scene(world, "mentor-churn")
    first = _confirm(matches)
    with world.app.app_context():
        for i in range(LIMIT):
            first(i)
    active = matches[:LIMIT]

    def attempt(i: int) -> str:
        try:
            with transaction():
                if i < LIMIT:
                    return end_match(None, db.session.get(Match, active[i]), "race").status
                return confirm_match(None, db.session.get(Match, matches[i])).status
        except DomainError as exc:
            return type(exc).__name__

    outcomes = race(world.app, 60, attempt)

    assert outcomes["ended"] == LIMIT and outcomes["active"] <= LIMIT, outcomes
    statuses, load = _stored(world, campaign_id, mentor)
    assert statuses["active"] == load == outcomes["active"] <= LIMIT
