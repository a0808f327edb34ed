"""Impact points (SPEC §2.11): an engagement score, never money.

    points = Σ over counted deliveries and derived events of
             weight[kind] × decayFactorMonthly ^ (whole months since it happened)

Counted deliveries are those progress counts (not void; present where attendance applies);
the derived events are the milestones an enrollment reached (``milestone_reached``, dated the
day it was reached) and its completion (``program_completed``, dated the day it completed).
Each event counts once whatever its quantity (quantities are what SROI values). The weights
are ``impact.sroiWeights``; a volunteer's own score weighs the volunteer's events the same
way with ``impact.visMultipliers``. A kind without a weight scores 0 and says so.

Impact settings come from the template and the program only (a campaign's overrides of
``impact.*`` are refused, and old ones were dropped by migration ``c7e4b2a9d815``), so one
program's campaigns share one set of weights; each weight knows the layer it came from.

The top half is pure (the unit tests' golden tables). The bottom half reads the rollups of
:mod:`portal.impact.models` grouped in SQL by (role, kind, detail, month, and whether the
day of the month is after today's) — exactly what the whole-months rule needs — so a
campaign's points are one grouped read of a few hundred rows, whatever its deliveries.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from portal.configuration.merge import effective_with_provenance
from portal.db import db, read
from portal.deliveries.kinds import kind_label
from portal.disclosure import withheld_parts
from portal.i18n import _l, number
from portal.impact.models import MILESTONE_REACHED, PROGRAM_COMPLETED, ImpactReach, ImpactTally
from portal.impact.sroi import _context

BENEFICIARY, VOLUNTEER = "beneficiary", "volunteer"
WEIGHTS, VIS = "sroiWeights", "visMultipliers"
# Why a figure is withheld, in the reader's language (``str()`` it where text is stored or serialised).
WITHHELD_REASON = _l("not enough participants to report")


# --- pure rules ------------------------------------------------------------------------------
def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end``: 12 × years + months, less one when ``end``'s
    day of the month is before ``start``'s (31 October → 30 November is 0, → 1 December 1).
    Never negative."""
    months = 12 * (end.year - start.year) + (end.month - start.month)
    return max(0, months - 1 if end.day < start.day else months)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(str(value))
    return number if number.is_finite() else None


@dataclass(frozen=True)
class ImpactSettings:
    """A program's effective ``impact`` settings with the layer each came from."""

    weights: dict[str, Decimal]
    vis: dict[str, Decimal]
    decay: Decimal
    layers: dict[str, str] = field(default_factory=dict)  # "sroiWeights.session_completed" -> "template"

    def table(self, name: str) -> dict[str, Decimal]:
        return self.weights if name == WEIGHTS else self.vis

    def layer(self, name: str, kind: str) -> str | None:
        return self.layers.get(f"{name}.{kind}")


def impact_settings(defaults: dict[str, Any] | None, program_overrides: dict[str, Any] | None) -> ImpactSettings:
    """The ``impact`` section of template defaults ← program overrides, with provenance. A
    weight that is not a finite number ≥ 0 is left out (it scores nothing); a decay outside
    0–1 counts as 1 (no decay) — the template's schema already refuses both."""
    effective, provenance = effective_with_provenance(defaults or {}, ("program", program_overrides or {}))
    impact = effective.get("impact") if isinstance(effective.get("impact"), dict) else {}

    def weights(name: str) -> dict[str, Decimal]:
        table = impact.get(name)
        found = {}
        for kind, value in (table.items() if isinstance(table, dict) else []):
            number = _decimal(value)
            if number is not None and number >= 0:
                found[str(kind)] = number
        return found

    decay = _decimal(impact.get("decayFactorMonthly"))
    layers = {path.removeprefix("impact."): layer for path, layer in provenance.items() if path.startswith("impact.")}
    return ImpactSettings(weights(WEIGHTS), weights(VIS), decay if decay is not None and 0 <= decay <= 1 else Decimal(1),
                          layers)


def program_settings(program: Any) -> ImpactSettings:
    return impact_settings(program.template.default_config, program.config_overrides)


@dataclass(frozen=True)
class Bucket:
    """Events of one kind that happened the same whole number of months ago."""

    role: str
    kind: str
    detail: str  # a milestone's key; "" otherwise
    months: int
    events: int
    quantity: Decimal


@dataclass
class KindPoints:
    """One line of the "why this number" table."""

    kind: str
    events: int
    weight: Decimal | None  # None: the configuration gives this kind no weight
    layer: str | None  # "template" or "program"
    points: Decimal
    people: int = 0  # beneficiaries it rests on (a lower bound for milestone_reached)
    withheld: bool = False

    @property
    def label(self) -> str:
        return kind_label(self.kind)


@dataclass
class Score:
    """A points figure and its breakdown by kind."""

    table: str  # WEIGHTS or VIS
    rows: list[KindPoints]
    total: Decimal
    decay: Decimal
    decay_layer: str | None
    people: int = 0
    withheld: bool = False  # the whole figure (and every row)
    total_withheld: bool = False  # the total only (a withheld row would follow by subtraction)
    reason: str | None = None

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def events(self) -> int:
        return sum(r.events for r in self.rows)


@lru_cache(maxsize=4096)
def decay_factor(decay: Decimal, months: int) -> Decimal:
    """decay^months; this month's events keep their whole weight (0^0 is 1 here). Cached: a
    company's report asks for the same few powers thousands of times."""
    if months <= 0:
        return Decimal(1)
    with localcontext(_context()):
        return Decimal(decay) ** months


def score(buckets: Iterable[Bucket], settings: ImpactSettings, table: str = WEIGHTS,
          roles: Sequence[str] | None = None) -> Score:
    """Σ events × weight × decay^months per kind (``roles``: only those roles' events)."""
    weights = settings.table(table)
    events: dict[str, int] = defaultdict(int)
    points: dict[str, Decimal] = defaultdict(Decimal)
    with localcontext(_context()):
        for bucket in buckets:
            if roles is not None and bucket.role not in roles:
                continue
            events[bucket.kind] += bucket.events
            weight = weights.get(bucket.kind)
            if weight is not None:
                points[bucket.kind] += bucket.events * weight * decay_factor(settings.decay, bucket.months)
    rows = [KindPoints(kind, n, weights.get(kind), settings.layer(table, kind) if kind in weights else None,
                       points.get(kind, Decimal(0)))
            for kind, n in events.items() if n]
    rows.sort(key=lambda r: (-r.points, r.kind))
    with localcontext(_context()):
        total = sum((r.points for r in rows), Decimal(0))
    return Score(table, rows, total, settings.decay, settings.layers.get("decayFactorMonthly"))


def _one_place(points: Decimal) -> Decimal:
    return Decimal(points).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# The layers a weight can come from, as the "why this number" table names them.
LAYER_LABELS = {"template": _l("template"), "program": _l("program"), "campaign": _l("campaign")}


def layer_label(layer: str | None) -> str:
    """"template" → "template" / "mal" / "шаблон"; an unknown layer as it is."""
    found = LAYER_LABELS.get(layer or "")
    return str(found) if found is not None else (layer or "")


def points_text(points: Decimal) -> str:
    """A score to one decimal, half up, language-neutral ("1,234.5"): what the API and
    frozen reports carry. Screens show :func:`points_shown`."""
    return f"{_one_place(points):,}"


def points_shown(points: Decimal) -> str:
    """A score to one decimal for the reader: "1,234.5" (en), "1 234,5" (nb, uk)."""
    return number(_one_place(points), 1)


def withhold_small_cells(people: Sequence[int], min_cohort: int) -> tuple[set[int], bool]:
    """:func:`portal.disclosure.withheld_parts` for rows by kind, which share people (one
    beneficiary has sessions and milestones): the whole rests on at least the largest row."""
    return withheld_parts(people, min_cohort, total_people=max(people, default=0))


def suppress(figure: Score, min_cohort: int | None) -> Score:
    """``figure`` as a company admin may see it (``min_cohort`` None: as it is)."""
    figure.people = max((r.people for r in figure.rows), default=0)
    if min_cohort is None or not figure.rows:
        return figure
    # A row no beneficiary contributed to (a kind only volunteers record) says nothing about
    # beneficiaries: it stays, and is left out of the rule.
    about_beneficiaries = [i for i, r in enumerate(figure.rows) if r.people > 0]
    hidden, total_hidden = withhold_small_cells([figure.rows[i].people for i in about_beneficiaries], min_cohort)
    for i in hidden:
        figure.rows[about_beneficiaries[i]].withheld = True
    figure.total_withheld = total_hidden
    if figure.people < min_cohort:
        figure.withheld = figure.total_withheld = True
    if hidden or figure.total_withheld:
        figure.reason = str(WITHHELD_REASON)
    return figure


# --- reading the rollups -----------------------------------------------------------------------
def _grouped(day: Any, today: date) -> tuple[Any, Any]:
    """SQL for a date column's month ("2026-11" on SQLite, whose dates are ISO text, so cheap
    string slices instead of strftime; the month's first day on PostgreSQL) and whether its
    day of the month is after today's (then one whole month fewer has passed)."""
    return _grouped_by(day, _dialect(), sa.literal(_day_of_month(today, _dialect())))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _day_of_month(today: date, dialect: str) -> Any:
    return f"{today.day:02d}" if dialect == "sqlite" else today.day


def _grouped_by(day: Any, dialect: str, day_of_month: Any) -> tuple[Any, Any]:
    if dialect == "sqlite":
        return sa.func.substr(day, 1, 7), sa.case((sa.func.substr(day, 9, 2) > day_of_month, 1), else_=0)
    return sa.func.date_trunc("month", day), sa.case((sa.extract("day", day) > day_of_month, 1), else_=0)


def _months(month: Any, later: Any, today: date) -> int:
    year, number = (int(month[:4]), int(month[5:7])) if isinstance(month, str) else (month.year, month.month)
    return max(0, 12 * (today.year - year) + (today.month - number) - int(later))


def tally_buckets(campaign_ids: Sequence[int] | sa.Select, today: date, *, start: date | None = None,
                  end: date | None = None, group_by_campaign: bool = False) -> list[tuple[int | None, Bucket]]:
    """The campaigns' events from ``impact_tallies`` as buckets (one grouped read), each with
    its campaign id when ``group_by_campaign``."""
    dialect = _dialect()
    params = {"day_of_month": _day_of_month(today, dialect), "start": start, "end": end}
    shape = (dialect, group_by_campaign, start is not None, end is not None)
    if isinstance(campaign_ids, list | tuple | set | frozenset):
        statement, params["ids"] = _buckets_of_ids(*shape), list(campaign_ids)
    else:  # a query of ids
        statement = _buckets_select(*shape, ImpactTally.campaign_id.in_(campaign_ids))
    rows = read(statement, params).all()
    found = []
    for row in rows:
        campaign_id, rest = (row[0], row[1:]) if group_by_campaign else (None, row)
        role, kind, detail, m, late, events, quantity = rest
        if events:
            found.append((campaign_id, Bucket(role, kind, detail, _months(m, late, today), int(events),
                                              _quantity(quantity))))
    return found


def _buckets_select(dialect: str, group_by_campaign: bool, has_start: bool, has_end: bool,
                    among: sa.ColumnElement[bool]) -> sa.Select:
    """The tallies of the campaigns ``among`` grouped into buckets; ``day_of_month`` (and
    ``start``, ``end`` when there are such bounds) are bound when it runs."""
    month, later = _grouped_by(ImpactTally.day, dialect, sa.bindparam("day_of_month"))
    keys = [ImpactTally.role, ImpactTally.kind, ImpactTally.detail, month, later]
    if group_by_campaign:
        keys.insert(0, ImpactTally.campaign_id)
    bounds = ([ImpactTally.day >= sa.bindparam("start")] if has_start else []) + (
        [ImpactTally.day <= sa.bindparam("end")] if has_end else [])
    return (sa.select(*keys, sa.func.sum(ImpactTally.events), sa.func.sum(ImpactTally.quantity))
            .where(among, *bounds).group_by(*keys))


@lru_cache(maxsize=32)
def _buckets_of_ids(dialect: str, group_by_campaign: bool, has_start: bool, has_end: bool) -> sa.Select:
    """:func:`_buckets_select` for the campaigns bound as ``ids``, built once per shape:
    every campaign page reads it, and building a statement cost more than running it."""
    return _buckets_select(dialect, group_by_campaign, has_start, has_end,
                           ImpactTally.campaign_id.in_(sa.bindparam("ids", expanding=True)))


def _quantity(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.001"))


def reach(campaign_ids: Sequence[int] | sa.Select, role: str = BENEFICIARY) -> dict[str, int]:
    """Enrollments of ``role`` with at least one counted delivery, per kind."""
    if isinstance(campaign_ids, list | tuple | set | frozenset):
        rows = read(_reach_of_ids(), {"role": role, "ids": list(campaign_ids)}).all()
    else:  # a query of ids
        rows = db.session.execute(_reach_select(ImpactReach.campaign_id.in_(campaign_ids)), {"role": role}).all()
    return {kind: int(n) for kind, n in rows if n}


def _reach_select(among: sa.ColumnElement[bool]) -> sa.Select:
    return (sa.select(ImpactReach.kind, sa.func.sum(ImpactReach.enrollments))
            .where(among, ImpactReach.role == sa.bindparam("role")).group_by(ImpactReach.kind))


@lru_cache(maxsize=1)
def _reach_of_ids() -> sa.Select:
    return _reach_select(ImpactReach.campaign_id.in_(sa.bindparam("ids", expanding=True)))


def people_per_kind(buckets: Iterable[Bucket], delivery_reach: dict[str, int]) -> dict[str, int]:
    """Beneficiaries each points row rests on: a delivery kind's reach; for milestones the
    most who reached any one milestone (a lower bound of who reached any); completions count
    people already."""
    per_milestone: dict[str, int] = defaultdict(int)
    people: dict[str, int] = dict(delivery_reach)
    for b in buckets:
        if b.role != BENEFICIARY:
            continue
        if b.kind == MILESTONE_REACHED:
            per_milestone[b.detail] += b.events
        elif b.kind == PROGRAM_COMPLETED:
            people[PROGRAM_COMPLETED] = people.get(PROGRAM_COMPLETED, 0) + b.events
    if per_milestone:
        people[MILESTONE_REACHED] = max(per_milestone.values())
    return people


def campaign_scores(campaign: Any, today: date, *, min_cohort: int | None = None) -> tuple[Score, Score]:
    """(impact points, volunteers' score) of one campaign, each with its breakdown; with
    ``min_cohort`` (company admins) small cells withheld."""
    settings = program_settings(campaign.program)
    buckets = [b for _, b in tally_buckets([campaign.id], today)]
    return figures_from(buckets, settings, reach([campaign.id]), min_cohort)


def figures_from(buckets: list[Bucket], settings: ImpactSettings, delivery_reach: dict[str, int],
                 min_cohort: int | None) -> tuple[Score, Score]:
    people = people_per_kind(buckets, delivery_reach)
    points = score(buckets, settings, WEIGHTS)
    for row in points.rows:
        row.people = people.get(row.kind, 0)
    volunteers = score(buckets, settings, VIS, roles=(VOLUNTEER,))
    # The volunteers' score is about the company's own employees (seen by name): no small cells.
    return suppress(points, min_cohort), suppress(volunteers, None)


def program_scores(program: Any, today: date) -> tuple[Score, Score]:
    """A program's points over all its campaigns (program managers' view)."""
    from portal.campaigns.models import Campaign

    ids = sa.select(Campaign.id).where(Campaign.program_id == program.id).scalar_subquery()
    buckets = [b for _, b in tally_buckets(ids, today)]
    return figures_from(buckets, program_settings(program), reach(ids), None)


def company_points(company_id: int, today: date) -> tuple[Decimal, Decimal]:
    """(impact points, volunteers' score) over a company's campaigns: each campaign weighed by
    its own program's settings. Totals only, unsuppressed: callers showing them to a
    company admin pass them through :func:`suppress` per campaign first."""
    from portal.campaigns.models import Campaign
    from portal.programs.models import Program

    campaigns = db.session.execute(sa.select(Campaign.id, Campaign.program_id)
                                   .where(Campaign.company_id == company_id)).all()
    if not campaigns:
        return Decimal(0), Decimal(0)
    program_of = dict(campaigns)
    programs = {p.id: program_settings(p) for p in db.session.scalars(
        sa.select(Program).where(Program.id.in_(set(program_of.values())))
        .options(sa.orm.joinedload(Program.template)))}
    by_program: dict[int, list[Bucket]] = defaultdict(list)
    ids = sa.select(Campaign.id).where(Campaign.company_id == company_id).scalar_subquery()
    for campaign_id, bucket in tally_buckets(ids, today, group_by_campaign=True):
        by_program[program_of[campaign_id]].append(bucket)
    points = volunteers = Decimal(0)
    with localcontext(_context()):
        for program_id, buckets in by_program.items():
            points += score(buckets, programs[program_id], WEIGHTS).total
            volunteers += score(buckets, programs[program_id], VIS, roles=(VOLUNTEER,)).total
    return points, volunteers


# --- one enrollment or one match: straight from its deliveries (a handful of rows) -------------
def _counted(model: Any) -> list[Any]:
    from portal.deliveries.models import PRESENT

    return [model.voided_at.is_(None), sa.or_(model.attendance.is_(None), model.attendance == PRESENT)]


def enrollment_buckets(enrollment: Any, today: date) -> list[Bucket]:
    """One enrollment's counted deliveries, milestones and completion as buckets."""
    from portal.deliveries.models import Delivery, EnrollmentMilestone

    month, later = _grouped(Delivery.occurred_on, today)
    rows = db.session.execute(
        sa.select(Delivery.kind, month, later, sa.func.count(), sa.func.sum(Delivery.quantity))
        .where(Delivery.enrollment_id == enrollment.id, *_counted(Delivery))
        .group_by(Delivery.kind, month, later)).all()
    buckets = [Bucket(enrollment.role, kind, "", _months(m, late, today), int(n), _quantity(q))
               for kind, m, late, n, q in rows]
    for key, reached_on in db.session.execute(sa.select(EnrollmentMilestone.key, EnrollmentMilestone.reached_on)
                                              .where(EnrollmentMilestone.enrollment_id == enrollment.id)):
        buckets.append(Bucket(enrollment.role, MILESTONE_REACHED, key, months_between(reached_on, today), 1,
                              Decimal(1)))
    if enrollment.status == "completed" and enrollment.completed_at is not None:
        completed_on = enrollment.completed_at.astimezone(UTC).date()
        buckets.append(Bucket(enrollment.role, PROGRAM_COMPLETED, "", months_between(completed_on, today), 1,
                              Decimal(1)))
    return buckets


def enrollment_scores(enrollment: Any, today: date) -> tuple[Score, Score]:
    """An enrollment's impact points and (a volunteer's) own score. One person's figure:
    shown only to those who may see that enrollment's page."""
    buckets = enrollment_buckets(enrollment, today)
    settings = program_settings(enrollment.campaign.program)
    return score(buckets, settings, WEIGHTS), score(buckets, settings, VIS, roles=(VOLUNTEER,))


def match_scores(match: Any, today: date) -> tuple[Score, Score]:
    """A match's points: the counted deliveries recorded for it, on both sides (a session is
    one delivery on each of the pair's enrollments), and the volunteer side's own score."""
    from portal.deliveries.models import Delivery
    from portal.enrollments.models import Enrollment

    month, later = _grouped(Delivery.occurred_on, today)
    rows = db.session.execute(
        sa.select(Enrollment.role, Delivery.kind, month, later, sa.func.count(), sa.func.sum(Delivery.quantity))
        .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
        .where(Delivery.match_id == match.id, *_counted(Delivery))
        .group_by(Enrollment.role, Delivery.kind, month, later)).all()
    buckets = [Bucket(role, kind, "", _months(m, late, today), int(n), _quantity(q))
               for role, kind, m, late, n, q in rows]
    from portal.campaigns.models import Campaign

    settings = program_settings(db.session.get(Campaign, match.campaign_id).program)
    return score(buckets, settings, WEIGHTS), score(buckets, settings, VIS, roles=(VOLUNTEER,))

