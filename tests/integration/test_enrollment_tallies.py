"""The campaign page counts from tallies kept with the enrollments (issue #14), and they always
equal a full count: after every operation of a random sequence (enroll, waitlist, promote,
complete, drop, import, a raw backdating UPDATE as the seed does, a DELETE), on both
databases. The campaign page shows the tallies' figures."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.csv.apply import apply_import
from portal.enrollments.csv.parse import parse_csv
from portal.enrollments.csv.plan import plan_import
from portal.enrollments.models import Enrollment, EnrollmentTally, Participant
from portal.enrollments.operations import (
    complete_enrollment,
    drop_enrollment,
    enroll_participant,
)
from portal.rollups import campaign_dashboard, campaign_tallies

ACTIONS = ("enroll", "volunteer", "complete", "drop", "import", "backdate", "delete")


def recount(campaign_id: int) -> Counter:
    """The tallies' key for every enrollment, counted one by one."""
    counted: Counter = Counter()
    for e in db.session.scalars(sa.select(Enrollment).where(Enrollment.campaign_id == campaign_id)):
        day = (e.enrolled_at or e.created_at).astimezone(UTC).date()
        counted[day, e.role, e.status] += 1
    return counted


def tallies(campaign_id: int) -> Counter:
    rows = db.session.execute(sa.select(EnrollmentTally.day, EnrollmentTally.role, EnrollmentTally.status,
                                        EnrollmentTally.enrollments)
                              .where(EnrollmentTally.campaign_id == campaign_id)).all()
    return Counter({(d, role, status): n for d, role, status, n in rows if n})


def _pick(campaign_id: int, index: int, **where) -> Enrollment | None:
    found = list(db.session.scalars(sa.select(Enrollment).filter_by(campaign_id=campaign_id, **where)
                                    .order_by(Enrollment.id)))
    return found[index % len(found)] if found else None


def _run(action: str, index: int, campaign_id: int, actor: User, serial: list[int]) -> None:
    serial[0] += 1
    n = serial[0]
    with transaction():
        if action in ("enroll", "volunteer"):
            person = Participant(display_name=f"Tally {n}", languages=["uk"], year_of_birth=1990)
            db.session.add(person)
            db.session.flush()
            enroll_participant(None, campaign_id, person, role="beneficiary" if action == "enroll" else "volunteer")
        elif action == "complete" and (e := _pick(campaign_id, index, status="active")):
            complete_enrollment(None, e)
        elif action == "drop" and (e := _pick(campaign_id, index, status="waitlisted" if index % 2 else "active")):
            drop_enrollment(None, e, "moved")  # an active one promotes the oldest waitlisted
        elif action == "import":
            data = "email,display_name,year_of_birth,languages\n" + "".join(
                f"tally{n}-{i}@example.org,Imported {n}-{i},1991,uk\n" for i in range(index % 4 + 1))
            parsed = parse_csv(data.encode())
            plan = plan_import(db.session.get(Campaign, campaign_id), parsed, actor)
            apply_import(actor, campaign_id, parsed, expected_fingerprint=plan.fingerprint,
                         expected_digest=plan.digest)
        elif action == "backdate" and (e := _pick(campaign_id, index)):
            # As the demo seed does: straight SQL, no operation involved.
            earlier = datetime.now(UTC) - timedelta(days=index % 40 + 1)
            db.session.execute(sa.update(Enrollment).where(Enrollment.id == e.id)
                               .values(created_at=earlier, enrolled_at=earlier if e.enrolled_at else None))
        elif action == "delete" and (e := _pick(campaign_id, index, status="dropped")):
            db.session.execute(sa.delete(Enrollment).where(Enrollment.id == e.id))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(steps=st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50)), min_size=4, max_size=14))
def test_tallies_equal_a_full_count_after_every_operation(app, make, tenants, steps):
    campaign = make.campaign(tenants["company_a"], max_enrollment=3, waitlist_enabled=True)
    pm = make.user(role="program_manager")
    serial = [0]
    with app.app_context():
        actor = db.session.get(User, pm.id)
        for action, index in steps:
            _run(action, index, campaign.id, actor, serial)
            assert tallies(campaign.id) == recount(campaign.id), (action, index)


def test_the_campaign_page_shows_the_tallies_figures(app, make, tenants, pm_client):
    campaign = make.campaign(tenants["company_a"], max_enrollment=2, waitlist_enabled=True)
    now = datetime.now(UTC)
    make.enrollment(campaign, status="active")
    make.enrollment(campaign, status="completed", completed_at=now)
    make.enrollment(campaign, status="waitlisted", enrolled_at=None, waitlisted_at=now)
    make.enrollment(campaign, role="volunteer")
    with app.app_context():
        board = campaign_dashboard(db.session.get(Campaign, campaign.id))
        assert board.by_status == {"active": 2, "completed": 1, "waitlisted": 1}
        assert board.by_role == {"beneficiary": 2, "volunteer": 1}
        assert campaign_tallies(campaign.id)[2] == {datetime.now(UTC).date(): 2}
        # A seat taken long ago moves to its day on the chart, with no operation involved.
        with transaction():
            db.session.execute(sa.update(Enrollment).where(Enrollment.campaign_id == campaign.id,
                                                           Enrollment.status == "completed")
                               .values(enrolled_at=datetime(2026, 1, 5, 12, tzinfo=UTC)))
        assert campaign_tallies(campaign.id)[2] == {date(2026, 1, 5): 1, datetime.now(UTC).date(): 1}
    page = pm_client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    for shown in ("<dt>Active</dt><dd>2</dd>", "<dt>Completed</dt><dd>1</dd>", "<dt>Waitlisted</dt><dd>1</dd>",
                  "<dt>Dropped</dt><dd>0</dd>", "<dt>Volunteers</dt><dd>1</dd>"):
        assert shown in page
