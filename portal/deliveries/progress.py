"""Progress of an enrollment (SPEC §2.10): who is ready to complete, who needs attention,
and the language level — read from the effective configuration, never from the master
template's name. Each rule keys off the settings that exist in the configuration:

- ``session.minSessionsForCompletion``: ready when the counted ``session_completed``
  quantity reaches it (mentorship);
- a milestone list (any schema array marked ``x-milestones``): ready when its last
  milestone is reached (buddy's last integration stage; for mentorship the cross-field rule
  keeps the last milestone at or above the session minimum, so it adds nothing there);
- ``duration.programLengthMonths``: ready when that many whole months have passed since
  enrolled (months counted as for impact decay: 31 October → 30 November is 0 months);
- ``cefr.targetLevels``: ready when the current CEFR level reaches the highest target level.
  The current level starts at the enrollment's ``metadata.starting_cefr`` (none: below A1)
  and each counted ``cefr_level_advanced`` delivery, in date order, raises it: to the level
  its metadata names (``{"level": "B1"}``) when that is higher, else by one step when it
  names none. A delivery naming a level at or below the current one changes nothing.

An enrollment is ready when any rule its configuration has holds. It **needs attention**
when it has had no counted delivery (of any kind) for longer than its rhythm
(``session.recommendedFrequency`` or ``checkins.frequency``), counted from its last
delivery or, with none, from the day it was enrolled.

The top half are pure functions (the unit tests' golden tables); the queries below read
the progress counters kept with the deliveries, never recounting deliveries per page.
"""
from __future__ import annotations

import calendar
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as datetime_time
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import sqlalchemy as sa

from portal.db import db, read
from portal.deliveries.milestones import SESSION_KIND, Milestone, milestone_label, milestone_list
from portal.i18n import _, ngettext, number

CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
LEVEL_KIND = "cefr_level_advanced"
# The rhythm a frequency promises, as the days without a delivery after which someone is
# flagged: a little more than one missed beat for the slow rhythms, a week for the fast ones.
RHYTHM_DAYS = {"daily": 7, "every_other_day": 7, "weekly": 14, "biweekly": 28, "monthly": 45}
RHYTHM_SETTINGS = (("session", "recommendedFrequency"), ("checkins", "frequency"))


# --- pure rules --------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressSettings:
    """The settings of one effective configuration that progress reads (None: not set)."""

    min_sessions: Decimal | None = None
    program_length_months: int | None = None
    milestones: tuple[Milestone, ...] = ()
    target_level: str | None = None  # the highest of cefr.targetLevels
    level_thresholds: dict[str, int] = field(default_factory=dict)  # cefr.progressionThresholds
    rhythm_days: int | None = None

    @property
    def last_milestone(self) -> Milestone | None:
        return self.milestones[-1] if self.milestones else None

    @property
    def tracks_levels(self) -> bool:
        return self.target_level is not None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


def _section(config: dict[str, Any] | None, name: str) -> dict[str, Any]:
    section = (config or {}).get(name)
    return section if isinstance(section, dict) else {}


def level_index(level: Any) -> int | None:
    """A1 → 0 … C2 → 5; anything else (unknown, absent) → None."""
    text = level.strip().upper() if isinstance(level, str) else None
    return CEFR_LEVELS.index(text) if text in CEFR_LEVELS else None


def progress_settings(schema: dict[str, Any] | None, config: dict[str, Any] | None) -> ProgressSettings:
    """What the configuration says about completion, rhythm and levels."""
    session, duration, cefr = _section(config, "session"), _section(config, "duration"), _section(config, "cefr")
    minimum = _number(session.get("minSessionsForCompletion"))
    months = _number(duration.get("programLengthMonths"))
    targets = [i for i in (level_index(t) for t in cefr.get("targetLevels") or [] if isinstance(t, str))
               if i is not None] if isinstance(cefr.get("targetLevels"), list) else []
    thresholds = cefr.get("progressionThresholds")
    rhythm = None
    for section, key in RHYTHM_SETTINGS:
        frequency = _section(config, section).get(key)
        if isinstance(frequency, str) and frequency in RHYTHM_DAYS:
            rhythm = RHYTHM_DAYS[frequency]
            break
    return ProgressSettings(
        min_sessions=minimum if minimum is not None and minimum > 0 else None,
        program_length_months=int(months) if months is not None and months > 0 else None,
        milestones=tuple(milestone_list(schema, config)),
        target_level=CEFR_LEVELS[max(targets)] if targets else None,
        level_thresholds={str(k): int(v) for k, v in thresholds.items()
                          if _number(v) is not None} if isinstance(thresholds, dict) else {},
        rhythm_days=rhythm,
    )


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end``: 12 × years + months, less one when ``end``'s
    day of the month is before ``start``'s (31 October → 30 November is 0, → 1 December 1)."""
    months = 12 * (end.year - start.year) + (end.month - start.month)
    return months - 1 if end.day < start.day else months


def _raised(index: int | None, named: Any) -> int | None:
    """The level index after one counted ``cefr_level_advanced`` delivery naming ``named``."""
    target = level_index(named)
    if target is None and named not in (None, ""):
        return index  # a level the portal does not know moves nothing
    if target is None:
        return 0 if index is None else min(index + 1, len(CEFR_LEVELS) - 1)
    return target if index is None or target > index else index


def current_level(starting: Any, advances: Iterable[Any]) -> str | None:
    """The CEFR level after ``advances`` (each the level a counted ``cefr_level_advanced``
    delivery names, or None when it names none), in date order, from ``starting``."""
    index = level_index(starting)
    for named in advances:
        index = _raised(index, named)
    return CEFR_LEVELS[index] if index is not None else None


def level_since(starting: Any, advances: Iterable[tuple[Any, date]]) -> tuple[str | None, date | None]:
    """:func:`current_level` over (named level, date) pairs in date order, and the date of
    the delivery that last raised it (None: still the starting level)."""
    index, since = level_index(starting), None
    for named, day in advances:
        raised = _raised(index, named)
        if raised != index:
            index, since = raised, day
    return (CEFR_LEVELS[index] if index is not None else None), since


@dataclass(frozen=True)
class EnrollmentFacts:
    """What the rules need to know about one enrollment, all read from its counters."""

    enrolled_on: date | None
    sessions: Decimal = Decimal(0)  # counted session_completed quantity
    last_delivery_on: date | None = None  # latest counted delivery of any kind
    reached: frozenset[str] = frozenset()  # milestone keys reached
    level: str | None = None  # current CEFR level (see current_level)


def ready_reasons(settings: ProgressSettings, facts: EnrollmentFacts, today: date) -> list[str]:
    """Why the enrollment is ready to complete, one sentence per rule that holds (empty:
    not ready), in the reader's language."""
    reasons = []
    if settings.min_sessions is not None and facts.sessions >= settings.min_sessions:
        needed = settings.min_sessions
        reasons.append(ngettext("%(done)s of %(total)s session", "%(done)s of %(total)s sessions",
                                int(needed) if needed == needed.to_integral_value() else 2,
                                done=_plain(facts.sessions), total=_plain(needed)))
    last = settings.last_milestone
    if last is not None and last.key in facts.reached:
        reasons.append(_("Reached “%(milestone)s”", milestone=milestone_label(last.key, last.name)))
    if (settings.program_length_months is not None and facts.enrolled_on is not None
            and months_between(facts.enrolled_on, today) >= settings.program_length_months):
        months = settings.program_length_months
        reasons.append(ngettext("%(count)s month since enrolled", "%(count)s months since enrolled", months,
                                count=number(months)))
    if settings.target_level is not None:
        level = level_index(facts.level)
        if level is not None and level >= CEFR_LEVELS.index(settings.target_level):
            reasons.append(_("Level %(level)s reached (target %(target)s)", level=facts.level,
                             target=settings.target_level))
    return reasons


def days_without_delivery(facts: EnrollmentFacts, today: date) -> int | None:
    """Days since the last counted delivery, or since enrolled when there is none."""
    since = facts.last_delivery_on or facts.enrolled_on
    return max((today - since).days, 0) if since is not None else None


def attention_days(settings: ProgressSettings, facts: EnrollmentFacts, today: date) -> int | None:
    """The days without a delivery when they are more than the rhythm allows; else None
    (no rhythm in the configuration: never flagged)."""
    if settings.rhythm_days is None:
        return None
    days = days_without_delivery(facts, today)
    return days if days is not None and days > settings.rhythm_days else None


@dataclass(frozen=True)
class LevelProgress:
    level: str | None  # current
    next_level: str | None  # None: at the top (C2)
    sessions: Decimal | int  # sessions since the last level (counted session_completed quantity)
    needed: int | None  # cefr.progressionThresholds[next level]


def level_progress(settings: ProgressSettings, level: str | None, sessions_since_level: Decimal | int) -> LevelProgress:
    """Sessions since the last level against the threshold of the next one."""
    index = level_index(level)
    following = 0 if index is None else index + 1
    next_level = CEFR_LEVELS[following] if following < len(CEFR_LEVELS) else None
    return LevelProgress(level, next_level, sessions_since_level,
                         settings.level_thresholds.get(next_level) if next_level else None)


def enrollment_level_progress(settings: ProgressSettings, enrollment: Any) -> LevelProgress:
    """One enrollment's level and its sessions since the last level (counted
    ``session_completed`` quantity dated after the delivery that raised it; all of them when
    none did), against the next level's threshold. Two reads through the enrollment's
    delivery index (or its counter): the enrollment page, not a list."""
    from portal.deliveries.models import PRESENT, Delivery, EnrollmentProgress

    counted = sa.and_(Delivery.enrollment_id == enrollment.id, Delivery.voided_at.is_(None),
                      sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT))
    advances = [((meta or {}).get("level") if isinstance(meta, dict) else None, day)
                for meta, day in db.session.execute(
                    sa.select(Delivery.meta, Delivery.occurred_on).where(counted, Delivery.kind == LEVEL_KIND)
                    .order_by(Delivery.occurred_on, Delivery.id))]
    meta = enrollment.meta if isinstance(enrollment.meta, dict) else {}
    level, since = level_since(meta.get("starting_cefr"), advances)
    if since is None:
        sessions = db.session.scalar(sa.select(EnrollmentProgress.counted_quantity).where(
            EnrollmentProgress.enrollment_id == enrollment.id, EnrollmentProgress.kind == SESSION_KIND))
    else:
        sessions = db.session.scalar(sa.select(sa.func.sum(Delivery.quantity)).where(
            counted, Delivery.kind == SESSION_KIND, Delivery.occurred_on > since))
    return level_progress(settings, level, Decimal(str(sessions or 0)))


def _plain(value: Decimal) -> str:
    """A count of sessions as the reader writes numbers: 10, 2.5 (2,5 in nb and uk)."""
    value = value.normalize()
    return number(value, max(-value.as_tuple().exponent, 0))


# --- queries (counters, never a recount) ---------------------------------------------------
@dataclass(frozen=True)
class ListedParticipant:
    """What a list row shows of a participant: the label :func:`participant_label` makes."""

    id: int
    company_id: int | None
    display_name: str


@dataclass(frozen=True)
class ListedEnrollment:
    """What a list row shows of an enrollment (read as columns: a list is read on every
    campaign page, and loading whole enrollments and participants cost it milliseconds)."""

    id: int
    role: str
    enrolled_at: datetime | None
    participant: ListedParticipant


@dataclass(frozen=True)
class ProgressRow:
    enrollment: ListedEnrollment
    facts: EnrollmentFacts
    reasons: list[str] = field(default_factory=list)
    days: int | None = None  # days without a delivery (needs attention)


# Counts stop at this many: past it the page says "1,000 or more" instead of scanning a
# 200k-enrollment campaign (the campaign page must stay as quick as its enrollment list).
COUNT_CAP = 1_000
LIST_SIZE = 50  # rows of each list on the campaign's progress page
PREVIEW_SIZE = 10  # rows of each list on the campaign page, which links to the whole lists


@dataclass
class CampaignProgress:
    settings: ProgressSettings
    ready: list[ProgressRow]  # the first LIST_SIZE ready active enrollments, oldest enrollment first
    ready_count: int  # all of them, up to COUNT_CAP
    attention: list[ProgressRow]  # LIST_SIZE flagged ones (the longest-enrolled), longest silence first
    attention_count: int  # all of them, up to COUNT_CAP
    funnel: list[tuple[Milestone, int]]  # beneficiaries (any status) who reached each milestone

    @property
    def ready_capped(self) -> bool:
        return self.ready_count >= COUNT_CAP

    @property
    def attention_capped(self) -> bool:
        return self.attention_count >= COUNT_CAP


def _level_advances(enrollment_ids: list[int]) -> dict[int, list[Any]]:
    """The levels named by each enrollment's counted level deliveries, in date order (a rare
    kind: a few rows per enrollment, read through the enrollment's delivery index)."""
    advances: dict[int, list[Any]] = {}
    for enrollment_id, meta in read(_level_advances_statement(), {"ids": enrollment_ids}):
        advances.setdefault(enrollment_id, []).append((meta or {}).get("level") if isinstance(meta, dict) else None)
    return advances


@cache
def _level_advances_statement() -> sa.Select:
    from portal.deliveries.models import PRESENT, Delivery

    return (sa.select(Delivery.enrollment_id, Delivery.meta)
            .where(Delivery.enrollment_id.in_(sa.bindparam("ids", expanding=True)), Delivery.kind == LEVEL_KIND,
                   Delivery.voided_at.is_(None), sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT))
            .order_by(Delivery.enrollment_id, Delivery.occurred_on, Delivery.id))


@cache
def _active_rows_statement(tracks_levels: bool, has_last: bool) -> sa.Select:
    """What a list row shows of the enrollments bound as ``ids``, with their counted
    sessions and whether they reached the milestone bound as ``last_key``: built once per
    shape (the campaign page reads it on every visit)."""
    from portal.deliveries.models import EnrollmentMilestone, EnrollmentProgress
    from portal.enrollments.models import Enrollment, Participant

    ids = sa.bindparam("ids", expanding=True)
    counters = (
        sa.select(EnrollmentProgress.enrollment_id.label("enrollment_id"),
                  sa.func.sum(sa.case((EnrollmentProgress.kind == SESSION_KIND, EnrollmentProgress.counted_quantity),
                                      else_=0)).label("sessions"))
        .where(EnrollmentProgress.enrollment_id.in_(ids), EnrollmentProgress.deliveries > 0)
        .group_by(EnrollmentProgress.enrollment_id).subquery())
    reached_last = (sa.exists().where(EnrollmentMilestone.enrollment_id == Enrollment.id,
                                      EnrollmentMilestone.key == sa.bindparam("last_key")) if has_last else sa.false())
    return (sa.select(Enrollment.id, Enrollment.role, Enrollment.enrolled_at, Enrollment.last_counted_delivery_on,
                      Enrollment.meta if tracks_levels else sa.null(), Participant.id, Participant.company_id,
                      Participant.display_name, counters.c.sessions, reached_last)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .outerjoin(counters, counters.c.enrollment_id == Enrollment.id)
            .where(Enrollment.id.in_(ids))
            .order_by(Enrollment.enrolled_at, Enrollment.id))


def _active_rows(settings: ProgressSettings, enrollment_ids: list[int], today: date,
                 judged: Collection[int] | None = None) -> list[ProgressRow]:
    """Facts for the active enrollments ``enrollment_ids``: one grouped read of their
    counters (plus one of their level deliveries when levels are tracked). ``judged``: the
    ones whose completion rule is wanted (None: all); the others (listed only as needing
    attention) get no reasons, and their levels are not read."""
    last = settings.last_milestone
    judged = enrollment_ids if judged is None else [i for i in enrollment_ids if i in judged]
    levels = settings.tracks_levels and bool(judged)
    rows = read(_active_rows_statement(levels, last is not None),
                {"ids": enrollment_ids, **({"last_key": last.key} if last else {})}).tuples().all()
    advances = _level_advances(judged) if levels else {}
    judging = set(judged)
    result = []
    for (enrollment_id, role, enrolled_at, last_on, meta, participant_id, company_id, name, sessions,
         has_last) in rows:
        starting = meta.get("starting_cefr") if isinstance(meta, dict) else None
        facts = EnrollmentFacts(
            enrolled_on=enrolled_at.date() if enrolled_at else None,
            sessions=Decimal(str(sessions or 0)), last_delivery_on=last_on,
            reached=frozenset({last.key} if (last and has_last) else ()),
            level=current_level(starting, advances.get(enrollment_id, ()))
            if levels and enrollment_id in judging else None)
        listed = ListedEnrollment(enrollment_id, role, enrolled_at, ListedParticipant(participant_id, company_id, name))
        result.append(ProgressRow(listed, facts, ready_reasons(settings, facts, today) if enrollment_id in judging else [],
                                  attention_days(settings, facts, today)))
    return result


def campaign_settings(campaign: Any) -> ProgressSettings:
    from portal.campaigns.settings import campaign_config

    return progress_settings(campaign.program.template.config_schema, campaign_config(campaign))


def months_before(today: date, months: int) -> date:
    """The latest start date with ``months_between(start, today) >= months``."""
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime_time.min, tzinfo=UTC)


def _attention_cutoff(settings: ProgressSettings, today: date) -> date | None:
    return today - timedelta(days=settings.rhythm_days) if settings.rhythm_days is not None else None


def _active_ids() -> sa.Select:
    """Ids of the active enrollments of the campaign bound as ``campaign_id``."""
    from portal.enrollments.models import Enrollment

    return sa.select(Enrollment.id).where(Enrollment.campaign_id == sa.bindparam("campaign_id"),
                                          Enrollment.status == "active")


def _attention_parts() -> tuple[sa.Select, sa.Select]:
    """The flagged active enrollments as two selects of ids, each one range of
    ``ix_enrollments_campaign_attention`` (campaign, status, last counted, enrolled): those
    whose last counted delivery is before the cutoff (bound as ``cutoff``), in order of that
    date, and those with none who started before it (``cutoff_start``: its midnight), in
    order of their start — both longest silence first."""
    from portal.enrollments.models import Enrollment

    active, last = _active_ids(), Enrollment.last_counted_delivery_on
    lapsed = active.where(last < sa.bindparam("cutoff")).order_by(last, Enrollment.enrolled_at, Enrollment.id)
    silent = active.where(last.is_(None), Enrollment.enrolled_at < sa.bindparam("cutoff_start")).order_by(
        Enrollment.enrolled_at, Enrollment.id)
    return lapsed, silent


@cache
def _attention_statements() -> tuple[sa.Select, sa.CompoundSelect]:
    """How many need attention (up to COUNT_CAP); and the same counts with the first
    ``size`` of each part and the day its silence began, in one statement (a row of the two
    counts, then a row per id). Built once: the campaign page runs it on every visit, and
    building a statement anew cost more than running it."""
    from portal.enrollments.models import Enrollment

    lapsed, silent = _attention_parts()
    last, started = Enrollment.last_counted_delivery_on, Enrollment.enrolled_at
    size = sa.bindparam("size")
    no_id, no_day, no_start = (sa.cast(sa.null(), column.type) for column in (Enrollment.id, last, started))
    counts = sa.select(_bounded_count(lapsed), _bounded_count(silent))
    parts = [part.limit(size).subquery() for part in (
        lapsed.add_columns(last.label("since"), no_start.label("started")),
        silent.add_columns(no_day.label("since"), started.label("started")))]
    no_count = sa.cast(sa.null(), sa.Integer)
    return counts, sa.union_all(counts.add_columns(no_id, no_day, no_start),
                                *(sa.select(no_count, no_count, part) for part in parts))


def _attention_params(settings: ProgressSettings, today: date, campaign_id: int) -> dict[str, Any] | None:
    if (cutoff := _attention_cutoff(settings, today)) is None:
        return None
    return {"campaign_id": campaign_id, "cutoff": cutoff, "cutoff_start": _midnight(cutoff)}


# Up to this many seats, a campaign's ready candidates are found by probing each of its active
# enrollments' counter and milestone rows (primary-key lookups: the cost grows with the campaign,
# not with the portal); above it, by reading the matching rows of those tables across the portal
# and joining them to the campaign (a 200k campaign: 4 ms instead of 300).
PROBE_UP_TO = 20_000


def _campaign_recorded(campaign_id: int) -> set[tuple[str, str]]:
    """The (kind, milestone key or "") pairs anyone in the campaign has counted, from the
    campaign's impact rollups: a few rows in one read, not a scan of its enrollments."""
    return {(kind, detail) for kind, detail in read(_recorded_statement(), {"campaign_id": campaign_id})}


@cache
def _recorded_statement() -> sa.CompoundSelect:
    from portal.impact.models import MILESTONE_REACHED, ImpactReach, ImpactTally

    campaign_id = sa.bindparam("campaign_id")
    kinds = sa.select(ImpactReach.kind, sa.literal("")).where(ImpactReach.campaign_id == campaign_id,
                                                               ImpactReach.enrollments > 0)
    milestones = (sa.select(ImpactTally.kind, ImpactTally.detail).distinct()
                  .where(ImpactTally.campaign_id == campaign_id, ImpactTally.kind == MILESTONE_REACHED,
                         ImpactTally.events > 0))
    return sa.union(kinds, milestones)


def _ready_reads(active: sa.Select, *, sessions: Any, last_key: Any, started_before: Any, level: bool,
                 probe: bool) -> list[sa.Select]:
    """The reads (one or two) of the ``active`` enrollments (ids, with when they started)
    that the rules given can hold for: at least ``sessions`` counted sessions, the milestone
    ``last_key`` reached, enrolled before ``started_before``, a level recorded (None, False:
    no such rule). ``probe``: look each enrollment's counter and milestone rows up rather than
    joining those tables' matching rows (see PROBE_UP_TO)."""
    from portal.deliveries.models import EnrollmentMilestone, EnrollmentProgress
    from portal.enrollments.models import Enrollment

    driven: list[sa.Select] = []
    direct: list[sa.ColumnElement[bool]] = []
    if sessions is not None:
        driven.append(sa.select(EnrollmentProgress.enrollment_id).where(
            EnrollmentProgress.kind == SESSION_KIND, EnrollmentProgress.deliveries > 0,
            EnrollmentProgress.counted_quantity >= sessions))
    if last_key is not None:
        driven.append(sa.select(EnrollmentMilestone.enrollment_id).where(EnrollmentMilestone.key == last_key))
    if started_before is not None:
        direct.append(Enrollment.enrolled_at < started_before)
    if level:
        # Those with a level recorded. Someone who *starts* at the target is not listed: that
        # is an enrollment to look at, not a completion (and finding them would read every row).
        driven.append(sa.select(EnrollmentProgress.enrollment_id).where(
            EnrollmentProgress.kind == LEVEL_KIND, EnrollmentProgress.deliveries > 0))
    with_start = active.add_columns(Enrollment.enrolled_at)
    reads = []
    if driven and probe:
        probes = [sa.exists(query.where(query.selected_columns[0] == Enrollment.id)) for query in driven]
        reads.append(with_start.where(sa.or_(*probes, *direct)).limit(COUNT_CAP))  # the program length too: one read
        direct = []
    elif driven:
        ids = sa.union(*driven).subquery()
        reads.append(with_start.join(ids, ids.c.enrollment_id == Enrollment.id).limit(COUNT_CAP))
    if direct:
        reads.append(with_start.where(sa.or_(*direct)).limit(COUNT_CAP))
    return reads


@lru_cache(maxsize=64)
def _campaign_ready_reads(sessions: bool, last: bool, length: bool, level: bool, probe: bool) -> tuple[sa.Select, ...]:
    """:func:`_ready_reads` of the campaign bound as ``campaign_id``, with the rules' values
    bound too (``min_sessions``, ``last_key``, ``started_before``): built once per shape, as
    the campaign page runs them on every visit."""
    return tuple(_ready_reads(
        _active_ids(), sessions=sa.bindparam("min_sessions") if sessions else None,
        last_key=sa.bindparam("last_key") if last else None,
        started_before=sa.bindparam("started_before") if length else None, level=level, probe=probe))


def ready_candidates(settings: ProgressSettings, today: date, active: sa.Select | None,
                     seats: int | None = None, campaign_id: int | None = None) -> list[int] | None:
    """Ids of ``active`` enrollments (None: the active enrollments of ``campaign_id``) that
    may be ready (None: the configuration has no completion rule), up to COUNT_CAP: exactly
    those :func:`ready_reasons` accepts for sessions, the last milestone and the program
    length; for levels, everyone with a level delivery (the rule itself then decides).
    The counter and milestone rules are read from those small tables and joined to the
    campaign's enrollments, not probed once per enrollment (a 200k campaign: 4 ms, not 300);
    a large campaign's (over PROBE_UP_TO seats) rules nobody in it can meet yet (no such
    delivery or milestone in its rollups) are not read at all (200k enrollments: 18 ms → 0.1)."""
    from portal.impact.models import MILESTONE_REACHED

    large = campaign_id is not None and (seats is None or seats > PROBE_UP_TO)
    seen = _campaign_recorded(campaign_id) if large else set()

    def recorded(kind: str, detail: str = "") -> bool:
        return not large or (kind, detail) in seen

    if all(rule is None for rule in (settings.min_sessions, settings.last_milestone, settings.program_length_months,
                                     settings.target_level)):
        return None
    last = settings.last_milestone
    sessions = settings.min_sessions if settings.min_sessions is not None and recorded(SESSION_KIND) else None
    last_key = last.key if last is not None and recorded(MILESTONE_REACHED, last.key) else None
    started_before = None
    if settings.program_length_months is not None:
        started_before = _midnight(months_before(today, settings.program_length_months) + timedelta(days=1))
    level = settings.target_level is not None and recorded(LEVEL_KIND)
    if sessions is None and last_key is None and started_before is None and not level:
        return []  # rules, but nothing recorded yet that could meet them
    probe = seats is not None and seats <= PROBE_UP_TO
    if active is None:
        reads = _campaign_ready_reads(sessions is not None, last_key is not None, started_before is not None, level,
                                      probe)
        params = {"campaign_id": campaign_id, "min_sessions": sessions, "last_key": last_key,
                  "started_before": started_before}
    else:
        reads = tuple(_ready_reads(active, sessions=sessions, last_key=last_key, started_before=started_before,
                                   level=level, probe=probe))
        params = {}
    found: dict[int, Any] = {}
    for statement in reads:
        found.update(read(statement, params).tuples().all())
    # Oldest enrollment first (the lists' order), so the page loads only the rows it shows.
    return sorted(found, key=lambda i: (found[i] is None, found[i] or datetime.min.replace(tzinfo=UTC), i))[:COUNT_CAP]


def _seats(campaign: Any) -> int | None:
    """The campaign's size as its seat counters tell it (no query)."""
    counted = [getattr(campaign, name, None) for name in ("enrolled_count", "waitlisted_count")]
    return sum(n for n in counted if isinstance(n, int)) if isinstance(counted[0], int) else None


def _day(value: Any) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _bounded_count(ids: sa.Select) -> sa.ScalarSelect:
    return sa.select(sa.func.count()).select_from(ids.order_by(None).limit(COUNT_CAP).subquery()).scalar_subquery()


def _attention_count(params: dict[str, Any]) -> int:
    """How many have lapsed or stayed silent, up to COUNT_CAP, in one statement."""
    return _capped(read(_attention_statements()[0], params).one())


def _capped(counted: Sequence[int | None]) -> int:
    return min(sum(n or 0 for n in counted), COUNT_CAP)


def _attention_first(params: dict[str, Any], size: int) -> tuple[int, list[int]]:
    """How many have lapsed or stayed silent (up to COUNT_CAP) and the ``size`` longest
    silences, in one statement: the first ``size`` of each part merged by the day each
    silence began (the last counted delivery, or the enrollment)."""
    count, first = 0, []
    for lapsed, silent, enrollment_id, since, began in read(_attention_statements()[1], {**params, "size": size}):
        if enrollment_id is None:
            count = _capped((lapsed, silent))
        else:
            first.append((enrollment_id, since if since is not None else _day(began)))
    return count, [i for i, _ in sorted(first, key=lambda pair: (pair[1], pair[0]))[:size]]


@cache
def _funnel_statement() -> sa.Select:
    """Beneficiaries of the campaign bound as ``campaign_id`` who reached each milestone."""
    from portal.deliveries.models import EnrollmentMilestone
    from portal.enrollments.models import Enrollment

    return (sa.select(EnrollmentMilestone.key, sa.func.count())
            .join(Enrollment, Enrollment.id == EnrollmentMilestone.enrollment_id)
            .where(Enrollment.campaign_id == sa.bindparam("campaign_id"), Enrollment.role == "beneficiary")
            .group_by(EnrollmentMilestone.key))


def campaign_progress(campaign: Any, today: date, list_size: int = LIST_SIZE) -> CampaignProgress:
    """The campaign's ready and needs-attention lists (the first ``list_size`` of each) and
    its milestone funnel, in a few bounded reads whatever the campaign's size: SQL narrows to
    the enrollments a rule can hold for (counts stop at COUNT_CAP), the pure rules above
    judge the rows shown, which are read once for both lists."""
    settings = campaign_settings(campaign)
    ready_ids: list[int] = []
    ready_count = 0
    judge_all = False
    if (ids := ready_candidates(settings, today, None, _seats(campaign), campaign.id)) is not None:
        # The level rule reads each candidate's level deliveries; the other rules are exact in
        # SQL, so only the rows shown are loaded.
        judge_all = settings.tracks_levels
        ready_ids = ids if judge_all else ids[:list_size]
        ready_count = len(ids)
    attention_ids: list[int] = []
    attention_count = 0
    if (params := _attention_params(settings, today, campaign.id)) is not None:
        attention_count, attention_ids = _attention_first(params, list_size)
    rows = {row.enrollment.id: row for row in _active_rows(settings, list(dict.fromkeys(ready_ids + attention_ids)),
                                                           today, judged=set(ready_ids))} \
        if ready_ids or attention_ids else {}
    ready = [rows[i] for i in ready_ids if i in rows and rows[i].reasons]  # oldest enrollment first
    if judge_all:
        ready_count = len(ready)
    ready = ready[:list_size]
    attention = sorted((rows[i] for i in attention_ids if i in rows and rows[i].days is not None),
                       key=lambda row: (-row.days, row.enrollment.id))
    funnel: list[tuple[Milestone, int]] = []
    if settings.milestones:
        reached = dict(read(_funnel_statement(), {"campaign_id": campaign.id}).tuples().all())
        funnel = [(m, int(reached.get(m.key, 0))) for m in settings.milestones]
    return CampaignProgress(settings, ready, ready_count, attention, attention_count, funnel)


@dataclass(frozen=True)
class CampaignFlags:
    campaign: Any
    ready: int
    attention: int


def progress_counts(campaign: Any, today: date) -> tuple[int, int]:
    """How many are ready and how many need attention in ``campaign``, counted as the
    campaign page counts them (up to COUNT_CAP), without loading the rows unless the level
    rule needs them."""
    settings = campaign_settings(campaign)
    ready = attention = 0
    if (ids := ready_candidates(settings, today, None, _seats(campaign), campaign.id)) is not None:
        if settings.tracks_levels:  # the level rule reads each candidate's level deliveries
            ready = sum(1 for row in _active_rows(settings, ids, today) if row.reasons)
        else:  # the other rules are exact in SQL
            ready = len(ids)
    if (params := _attention_params(settings, today, campaign.id)) is not None:
        attention = _attention_count(params)
    return ready, attention


def progress_by_campaign(campaigns: list[Any], today: date) -> list[CampaignFlags]:
    """How many are ready and how many need attention in each of ``campaigns`` (their
    program and template loaded), each judged by its own settings. Campaigns with neither
    are left out."""
    flags = []
    for campaign in campaigns:
        ready, attention = progress_counts(campaign, today)
        if ready or attention:
            flags.append(CampaignFlags(campaign, ready, attention))
    return flags
