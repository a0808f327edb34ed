"""Milestones from the configuration (SPEC §2.10), never hard-coded per master template.

A milestone list is any array of the template's config schema marked ``"x-milestones": true``
(the masters: mentorship ``progression.milestones``, buddy ``milestones.integrationStages``);
its items, read from the enrollment's effective configuration, each have a ``key``, a ``name``
and thresholds: ``sessionCount`` (counted ``session_completed``), or ``criteria`` with
``eventsAttended``, ``checkinsCompleted``, ``skillSharesCompleted`` (counted deliveries of
those kinds) and ``daysActive`` (days since enrolled). The counts are the enrollment's
progress counters (quantities of counted deliveries), so nothing is recounted.

:func:`milestones_reached` is the pure rule; :func:`update_milestones` applies it in the
delivery's transaction: a milestone whose thresholds all hold is recorded once (primary key
enrollment + milestone key), and one whose thresholds no longer hold — the delivery that
reached it voided or corrected away — is un-reached. A milestone whose last threshold is
time (``daysActive``) is recorded by the daily job (:func:`record_days_active_milestones`),
dated the day it became true, with no delivery.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from portal.db import among, db, execute_rows, utcnow
from portal.i18n import _l

MILESTONE_MARK = "x-milestones"
# criteria name -> the delivery kind it counts
CRITERIA_KINDS = {"eventsAttended": "event_attended", "checkinsCompleted": "checkin_completed",
                  "skillSharesCompleted": "skill_share_completed"}
SESSION_KIND = "session_completed"

# The master templates' milestones, by (key, name as the master writes it): shown in the
# reader's language while a template keeps that name. A name someone typed (a renamed or a
# new milestone) is data and shows as typed.
MASTER_MILESTONE_NAMES = {
    ("first_session", "First Session"): _l("First Session"),
    ("established", "Relationship Established"): _l("Relationship Established"),
    ("progressing", "Progressing Well"): _l("Progressing Well"),
    ("completed", "Program Completed"): _l("Program Completed"),
    ("first_meeting", "First Meeting"): _l("First Meeting"),
    ("connected", "Connected"): _l("Connected"),
    ("integrated", "Integrated"): _l("Integrated"),
    ("thriving", "Thriving"): _l("Thriving"),
}


@dataclass(frozen=True)
class Milestone:
    key: str
    name: str
    thresholds: dict[str, Any]  # {"sessionCount": 5} or {"eventsAttended": 3, "daysActive": 90, …}


def milestone_label(key: str, name: str) -> str:
    """A milestone's name on screen: a master's own name in the reader's language, else as typed."""
    known = MASTER_MILESTONE_NAMES.get((key, name))
    return str(known) if known is not None else name


def milestone_paths(schema: dict[str, Any] | None, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The paths of every array in ``schema`` marked ``"x-milestones": true`` (through object
    properties), in schema order."""
    if not isinstance(schema, dict):
        return []
    if schema.get("type") == "array" and schema.get(MILESTONE_MARK) is True:
        return [path]
    found: list[tuple[str, ...]] = []
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            found.extend(milestone_paths(child, (*path, str(name))))
    return found


def _at(config: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(config, dict):
            return None
        config = config.get(part)
    return config


def milestone_list(schema: dict[str, Any] | None, config: dict[str, Any] | None) -> list[Milestone]:
    """Every milestone of the configuration's marked lists, in order."""
    milestones: list[Milestone] = []
    for path in milestone_paths(schema):
        items = _at(config or {}, path)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                continue
            thresholds: dict[str, Any] = {}
            if isinstance(item.get("sessionCount"), int | float):
                thresholds["sessionCount"] = item["sessionCount"]
            criteria = item.get("criteria")
            if isinstance(criteria, dict):
                thresholds.update({k: v for k, v in criteria.items()
                                   if isinstance(v, int | float) and not isinstance(v, bool)})
            milestones.append(Milestone(item["key"], str(item.get("name") or item["key"]), thresholds))
    return milestones


def threshold_holds(name: str, needed: Any, counts: dict[str, Decimal], days_active: int) -> bool:
    if name == "sessionCount":
        return counts.get(SESSION_KIND, Decimal(0)) >= Decimal(str(needed))
    if name in CRITERIA_KINDS:
        return counts.get(CRITERIA_KINDS[name], Decimal(0)) >= Decimal(str(needed))
    if name == "daysActive":
        return days_active >= needed
    return False  # a threshold the portal does not know is never taken as met


def milestones_reached(milestones: list[Milestone], counts: dict[str, Decimal], days_active: int) -> list[str]:
    """The keys of the milestones whose thresholds all hold (a milestone with none holds)."""
    return [m.key for m in milestones
            if all(threshold_holds(name, needed, counts, days_active) for name, needed in m.thresholds.items())]


def enrollment_milestones(enrollment: Any) -> list[Milestone]:
    from portal.campaigns.settings import campaign_config

    campaign = enrollment.campaign
    return milestone_list(campaign.program.template.config_schema, campaign_config(campaign))


def _counts(enrollment_id: int) -> dict[str, Decimal]:
    from portal.deliveries.models import EnrollmentProgress

    rows = db.session.execute(sa.select(EnrollmentProgress.kind, EnrollmentProgress.counted_quantity)
                              .where(EnrollmentProgress.enrollment_id == enrollment_id)).all()
    return {kind: Decimal(quantity) for kind, quantity in rows}


def days_active(enrollment: Any, today: date) -> int:
    return (today - enrollment.enrolled_at.date()).days if enrollment.enrolled_at is not None else 0


@dataclass(frozen=True)
class Reaching:
    """The delivery a milestone reached now is dated by (its id and date)."""

    id: int | None
    occurred_on: date


def update_milestones_many(people: dict[int, Any], reaching: dict[int, Any],
                           today: date) -> dict[int, tuple[list[str], list[str]]]:
    """The milestone rule applied to many enrollments at once, in the caller's transaction:
    for each enrollment of ``people`` (id → Enrollment), record the milestones its counters
    now reach that are not recorded yet, dated by ``reaching[id]`` (the delivery that reached
    them: anything with ``id`` and ``occurred_on``), and remove those it no longer reaches
    (that delivery voided or corrected away). Reads the counters and the recorded milestones
    in one query each and writes with one INSERT and one DELETE, whatever the number of
    enrollments; each campaign's milestone list is merged once. Returns
    {enrollment id: (reached keys, unreached keys)} for the enrollments where something moved."""
    from portal.deliveries.models import EnrollmentMilestone, EnrollmentProgress

    lists: dict[int, list[Milestone]] = {}
    for enrollment in people.values():
        if enrollment.campaign_id not in lists:
            lists[enrollment.campaign_id] = enrollment_milestones(enrollment)
    ids = sorted(i for i in people if i in reaching and lists[people[i].campaign_id])
    if not ids:
        return {}
    db.session.flush()  # the counters these deliveries moved
    counts: dict[int, dict[str, Decimal]] = {}
    for enrollment_id, kind, quantity in db.session.execute(
            sa.select(EnrollmentProgress.enrollment_id, EnrollmentProgress.kind, EnrollmentProgress.counted_quantity)
            .where(among(EnrollmentProgress.enrollment_id, ids))):
        counts.setdefault(enrollment_id, {})[kind] = Decimal(quantity)
    recorded: dict[int, set[str]] = {}
    for enrollment_id, key in db.session.execute(sa.select(EnrollmentMilestone.enrollment_id, EnrollmentMilestone.key)
                                                 .where(among(EnrollmentMilestone.enrollment_id, ids))):
        recorded.setdefault(enrollment_id, set()).add(key)
    moved: dict[int, tuple[list[str], list[str]]] = {}
    new_rows: list[dict[str, Any]] = []
    gone: list[dict[str, Any]] = []
    now = utcnow()
    for enrollment_id in ids:
        milestones = lists[people[enrollment_id].campaign_id]
        holding = set(milestones_reached(milestones, counts.get(enrollment_id, {}),
                                         days_active(people[enrollment_id], today)))
        had = recorded.get(enrollment_id, set())
        reached, unreached = [], []
        for milestone in milestones:
            if milestone.key in holding and milestone.key not in had:
                new_rows.append({"enrollment_id": enrollment_id, "key": milestone.key, "name": milestone.name[:255],
                                 "reached_on": reaching[enrollment_id].occurred_on,
                                 "delivery_id": reaching[enrollment_id].id, "created_at": now})
                reached.append(milestone.key)
            elif milestone.key not in holding and milestone.key in had:
                gone.append({"e": enrollment_id, "k": milestone.key})
                unreached.append(milestone.key)
        if reached or unreached:
            moved[enrollment_id] = (reached, unreached)
    table = EnrollmentMilestone.__table__
    execute_rows(sa.insert(table), new_rows)
    if gone:
        db.session.execute(sa.delete(table).where(table.c.enrollment_id == sa.bindparam("e"),
                                                  table.c.key == sa.bindparam("k")), gone)
        removed = {(g["e"], g["k"]) for g in gone}
        for obj in [o for o in db.session.identity_map.values() if isinstance(o, EnrollmentMilestone)]:
            if (obj.enrollment_id, obj.key) in removed:  # a copy read earlier would be a deleted row
                db.session.expunge(obj)
    return moved


def update_milestones(enrollment: Any, delivery: Any, today: date) -> tuple[list[str], list[str]]:
    """:func:`update_milestones_many` for one enrollment and the delivery that moved it.
    Returns (reached, unreached) keys."""
    return update_milestones_many({enrollment.id: enrollment}, {enrollment.id: delivery}, today).get(
        enrollment.id, ([], []))


def record_days_active_milestones(today: date) -> int:
    """The daily job's rule (SPEC §2.10): for every active enrollment, record each milestone
    with a ``daysActive`` threshold that all its thresholds now reach and that is not yet
    recorded, dated the day its time threshold was met (enrolled + ``daysActive``): had a
    delivery met the last count threshold after that day, that delivery would have recorded
    it, so time was the last to hold. Idempotent (once per enrollment and key). Returns how
    many it recorded; the caller commits."""
    from datetime import timedelta

    from portal.campaigns.models import Campaign
    from portal.deliveries.models import EnrollmentMilestone, EnrollmentProgress
    from portal.enrollments.models import Enrollment

    campaigns = db.session.scalars(
        sa.select(Campaign).where(Campaign.id.in_(
            sa.select(Enrollment.campaign_id).where(Enrollment.status == "active").distinct()))
        .options(sa.orm.joinedload(Campaign.program)).order_by(Campaign.id)).all()
    recorded = 0
    for campaign in campaigns:
        timed = [m for m in enrollment_milestones_of(campaign)
                 if isinstance(m.thresholds.get("daysActive"), int | float) and m.thresholds["daysActive"] > 0]
        if not timed:
            continue
        earliest = min(int(m.thresholds["daysActive"]) for m in timed)
        # Enrolled at least ``earliest`` days ago (on the enrollments' campaign-status-enrolled index).
        started_by = datetime.combine(today - timedelta(days=earliest - 1), datetime.min.time(), tzinfo=UTC)
        candidates = db.session.scalars(
            sa.select(Enrollment).where(Enrollment.campaign_id == campaign.id, Enrollment.status == "active",
                                        Enrollment.enrolled_at < started_by)
            .order_by(Enrollment.id)).all()
        candidates = [e for e in candidates if days_active(e, today) >= earliest]
        if not candidates:
            continue
        ids = [e.id for e in candidates]
        counts: dict[int, dict[str, Decimal]] = {}
        for enrollment_id, kind, quantity in db.session.execute(
                sa.select(EnrollmentProgress.enrollment_id, EnrollmentProgress.kind, EnrollmentProgress.counted_quantity)
                .where(among(EnrollmentProgress.enrollment_id, ids))):
            counts.setdefault(enrollment_id, {})[kind] = Decimal(quantity)
        have = set(db.session.execute(sa.select(EnrollmentMilestone.enrollment_id, EnrollmentMilestone.key)
                                      .where(among(EnrollmentMilestone.enrollment_id, ids))).tuples())
        for enrollment in candidates:
            active_days = days_active(enrollment, today)
            reached: list[tuple[Milestone, date]] = []
            for milestone in timed:
                if (enrollment.id, milestone.key) in have or not milestones_reached(
                        [milestone], counts.get(enrollment.id, {}), active_days):
                    continue
                became_true = enrollment.enrolled_at.date() + timedelta(days=int(milestone.thresholds["daysActive"]))
                db.session.add(EnrollmentMilestone(enrollment_id=enrollment.id, key=milestone.key,
                                                   name=milestone.name[:255], reached_on=min(became_true, today),
                                                   delivery_id=None))
                reached.append((milestone, min(became_true, today)))
            if reached:
                _days_active_event(campaign, enrollment, reached)
                recorded += len(reached)
    db.session.flush()
    return recorded


def _days_active_event(campaign: Any, enrollment: Any, reached: list[tuple[Milestone, date]]) -> None:
    """The activity event of milestones the daily job recorded for one enrollment: as the
    delivery path names the keys it reached (``milestones_reached``), with no delivery; the
    company sees it, so it names the person only by the company's pseudonym."""
    from portal.activity.operations import record_event
    from portal.enrollments.privacy import company_reference

    record_event("program.enrollment.milestone_reached", actor=None, subject=enrollment,
                 company_id=campaign.company_id,
                 label=f"{company_reference(campaign.company, enrollment.participant_id)} in {campaign.name}"[:255],
                 data={"campaign_id": campaign.id, "enrollment_id": enrollment.id, "by": "daysActive",
                       "milestones_reached": [m.key for m, _ in reached],
                       "milestone_names": [m.name for m, _ in reached],
                       "reached_on": {m.key: day.isoformat() for m, day in reached}})


def enrollment_milestones_of(campaign: Any) -> list[Milestone]:
    """The milestones of a campaign's effective configuration."""
    from portal.campaigns.settings import campaign_config

    return milestone_list(campaign.program.template.config_schema, campaign_config(campaign))
