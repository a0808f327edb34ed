"""What an impact report says (SPEC §2.11 "Impact report"), as plain JSON-ready data.

A report is written for a sponsor: whoever asks for it (a program manager or the company's
admin), it holds only figures, with every count of people under ``PORTAL_MIN_COHORT``
withheld and no total beside parts that would give a withheld one away
(:func:`portal.disclosure.withheld_parts`). It never names a person. The same data is the
snapshot's frozen content, the page, the PDF and the share link's page, so a figure quoted
from any of them is the one the snapshot's hash stands for.

The content is written in English whatever the language of whoever asks (a snapshot, and so
its hash, never depends on who froze it); it keeps the plain values (counts, keys, dates)
beside each text, from which :mod:`portal.reports.present` writes it in the reader's language.

Every query is bounded by the campaigns in the report and the period, and grouped by
campaign, so a company's report over a hundred campaigns is one pass per figure."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from portal.auth.models import Company
from portal.campaigns.models import Campaign
from portal.db import db
from portal.deliveries.kinds import is_session_kind, kind_label
from portal.deliveries.models import Delivery, EnrollmentMilestone
from portal.disclosure import withheld_parts
from portal.enrollments.models import Enrollment
from portal.i18n import _, _l, force_locale, number
from portal.reports.impact import impact_section
from portal.reports.periods import Period

CONTENT_VERSION = 1
PEOPLE_FIGURES = ("taking_part", "new", "completed", "volunteers")
PEOPLE_LABELS = {
    "taking_part": _l("Beneficiaries taking part"),
    "new": _l("Beneficiaries who joined"),
    "completed": _l("Beneficiaries who completed"),
    "volunteers": _l("Volunteers taking part"),
}
CONTENT_LANGUAGE = "en"  # the language of a report's frozen texts


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _people_counts(campaign_ids: list[int], period: Period) -> dict[int, dict[str, int]]:
    """Per campaign: beneficiaries taking part at some time in the period, those who joined
    and those who completed in it, and the volunteers taking part."""
    begins, ends = _start(period.start), _start(date.fromordinal(period.end.toordinal() + 1))
    joined_by_end = sa.and_(Enrollment.enrolled_at.is_not(None), Enrollment.enrolled_at < ends)
    not_gone = sa.and_(sa.or_(Enrollment.completed_at.is_(None), Enrollment.completed_at >= begins),
                       sa.or_(Enrollment.dropped_at.is_(None), Enrollment.dropped_at >= begins))
    taking_part = sa.and_(joined_by_end, not_gone, Enrollment.status.in_(("active", "completed", "dropped")))
    beneficiary = Enrollment.role == "beneficiary"

    def count(condition: sa.ColumnElement[bool]) -> sa.Label[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    rows = db.session.execute(
        sa.select(Enrollment.campaign_id,
                  count(sa.and_(beneficiary, taking_part)).label("taking_part"),
                  count(sa.and_(beneficiary, Enrollment.enrolled_at >= begins, Enrollment.enrolled_at < ends))
                  .label("new"),
                  count(sa.and_(beneficiary, Enrollment.completed_at >= begins, Enrollment.completed_at < ends))
                  .label("completed"),
                  count(sa.and_(Enrollment.role == "volunteer", taking_part)).label("volunteers"))
        .where(Enrollment.campaign_id.in_(campaign_ids))
        .group_by(Enrollment.campaign_id)).mappings().all()
    found = {row["campaign_id"]: {k: int(row[k]) for k in PEOPLE_FIGURES} for row in rows}
    return {cid: found.get(cid, dict.fromkeys(PEOPLE_FIGURES, 0)) for cid in campaign_ids}


def _milestones(campaign_ids: list[int], period: Period) -> dict[int, dict[tuple[str, str], int]]:
    """Per campaign: beneficiaries who reached each milestone in the period."""
    rows = db.session.execute(
        sa.select(Enrollment.campaign_id, EnrollmentMilestone.key, EnrollmentMilestone.name, sa.func.count())
        .join(Enrollment, Enrollment.id == EnrollmentMilestone.enrollment_id)
        .where(Enrollment.campaign_id.in_(campaign_ids), Enrollment.role == "beneficiary",
               EnrollmentMilestone.reached_on.between(period.start, period.end))
        .group_by(Enrollment.campaign_id, EnrollmentMilestone.key, EnrollmentMilestone.name)).all()
    found: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for campaign_id, key, name, n in rows:
        found[campaign_id][(key, name)] = int(n)
    return found


def _activity(campaign_ids: list[int], period: Period) -> dict[int, dict[str, Any]]:
    """Per campaign, in one pass over the period's counted deliveries: the deliveries by kind
    (a session for a match is one delivery on each side, so sessions are counted on the
    beneficiary's side only), the minutes they took, and per kind how many beneficiaries had
    one (``reach``: the people the impact figures of the period rest on)."""
    rows = db.session.execute(
        sa.select(Enrollment.campaign_id, Enrollment.role, Delivery.kind, sa.func.count(),
                  sa.func.coalesce(sa.func.sum(Delivery.duration_minutes), 0),
                  sa.func.count(sa.distinct(Delivery.enrollment_id)))
        .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
        .where(Enrollment.campaign_id.in_(campaign_ids), Delivery.voided_at.is_(None),
               sa.or_(Delivery.attendance.is_(None), Delivery.attendance == "present"),
               Delivery.occurred_on.between(period.start, period.end))
        .group_by(Enrollment.campaign_id, Enrollment.role, Delivery.kind)).all()
    found: dict[int, dict[str, Any]] = defaultdict(lambda: {"kinds": defaultdict(int), "minutes": 0, "reach": {}})
    for campaign_id, role, kind, n, minutes, people in rows:
        if role == "beneficiary":
            found[campaign_id]["reach"][kind] = int(people)
        if is_session_kind(kind) and role == "volunteer":
            continue
        found[campaign_id]["kinds"][kind] += int(n)
        found[campaign_id]["minutes"] += int(minutes)
    return found


def _cells(counts: list[int], min_cohort: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """JSON cells for a breakdown of people counts and its total, small cells withheld."""
    hidden, total_hidden = withheld_parts(counts, min_cohort)
    withheld = {"value": None, "text": _fewer_than(min_cohort)}
    cells = [withheld if i in hidden else {"value": n, "text": number(n)} for i, n in enumerate(counts)]
    total = sum(counts)
    total_cell = withheld if total_hidden else {"value": total, "text": number(total)}
    return cells, total_cell


def _fewer_than(min_cohort: int) -> str:
    """How a withheld count of people reads: "fewer than 10"."""
    return _("fewer than %(num)s", num=number(min_cohort))


def _hours(minutes: int) -> str:
    return f"{(Decimal(minutes) / 60).quantize(Decimal('0.1'))}"


def build_report(company: Company, campaigns: Sequence[Campaign], period: Period, *, min_cohort: int,
                 now: datetime | None = None) -> dict[str, Any]:
    """The report on ``campaigns`` (one, or all of ``company``'s) for ``period``, its texts
    in English whatever the language of the request or job (see the module's docstring)."""
    with force_locale(CONTENT_LANGUAGE):
        return _build_report(company, campaigns, period, min_cohort=min_cohort, now=now)


def _build_report(company: Company, campaigns: Sequence[Campaign], period: Period, *, min_cohort: int,
                  now: datetime | None = None) -> dict[str, Any]:
    campaigns = sorted(campaigns, key=lambda c: (c.name.lower(), c.id))
    ids = [c.id for c in campaigns]
    people = _people_counts(ids, period)
    milestones = _milestones(ids, period)
    activity = _activity(ids, period)

    figures: dict[str, Any] = {}
    rows: list[dict[str, Any]] = [{"id": c.id, "name": c.name, "program": c.program.name, "status": c.status,
                                   "capacity": c.max_enrollment} for c in campaigns]
    # Seats held are people too: withheld like every other count of them.
    seat_cells, seats_taken = _cells([c.enrolled_count for c in campaigns], min_cohort)
    for row, cell in zip(rows, seat_cells, strict=True):
        row["seats_taken"] = cell
    for figure in PEOPLE_FIGURES:
        cells, total = _cells([people[cid][figure] for cid in ids], min_cohort)
        figures[figure] = {"label": str(PEOPLE_LABELS[figure]), "total": total}
        for row, cell in zip(rows, cells, strict=True):
            row[figure] = cell

    funnel: dict[tuple[str, str], int] = defaultdict(int)
    for cid in ids:
        for key, n in milestones.get(cid, {}).items():
            funnel[key] += n
    # Each milestone's count stands alone (no total, no parts per campaign beside it).
    funnel_rows = [{"key": key, "name": name, "value": None, "text": _fewer_than(min_cohort)} if n < min_cohort
                   else {"key": key, "name": name, "value": n, "text": number(n)} for (key, name), n in funnel.items()]

    kinds: dict[str, int] = defaultdict(int)
    minutes = 0
    for cid in ids:
        for kind, n in activity.get(cid, {"kinds": {}})["kinds"].items():
            kinds[kind] += n
        minutes += activity.get(cid, {"minutes": 0})["minutes"]
    sessions = sum(n for kind, n in kinds.items() if is_session_kind(kind))

    content: dict[str, Any] = {
        "version": CONTENT_VERSION,
        "scope": "campaign" if len(campaigns) == 1 else "company",
        "company": {"id": company.id, "name": company.name},
        "campaigns": rows,
        "period": {"kind": period.kind, "key": period.key, "label": period.label,
                   "start": period.start.isoformat(), "end": period.end.isoformat()},
        "generated_at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "min_cohort": min_cohort,
        "seats": {"capacity": None if any(c.max_enrollment is None for c in campaigns)
                  else sum(c.max_enrollment or 0 for c in campaigns),
                  "taken": seats_taken},
        "people": figures,
        "milestones": funnel_rows,
        "activity": {"sessions": sessions, "hours": _hours(minutes),
                     "kinds": [{"kind": k, "label": kind_label(k), "count": n} for k, n in sorted(kinds.items())]},
        "impact": impact_section(campaigns, period, min_cohort, today=(now or datetime.now(UTC)).date(),
                                 reach={cid: activity[cid]["reach"] for cid in ids if cid in activity}),
    }
    content["withheld"] = _anything_withheld(content)
    return content


def _anything_withheld(content: dict[str, Any]) -> bool:
    cells = [f["total"] for f in content["people"].values()] + list(content["milestones"]) + [content["seats"]["taken"]]
    cells += [row[f] for row in content["campaigns"] for f in (*PEOPLE_FIGURES, "seats_taken")]
    return any(cell.get("value") is None for cell in cells) or bool(content["impact"].get("withheld"))


def report_charts(content: dict[str, Any]) -> dict[str, Any]:
    """The report's charts, drawn from its content alone (so a snapshot's page and PDF draw
    exactly what was frozen), in the reader's language: the milestone funnel and what was
    done, by kind."""
    from portal.charts import bar_chart

    cohort = content["min_cohort"]
    charts: dict[str, Any] = {}
    if content["milestones"]:
        charts["milestones"] = bar_chart([(m["name"], m["value"] or 0) for m in content["milestones"]],
                                         title=_("Beneficiaries who reached each milestone in the period"),
                                         withhold_below=cohort, withheld_text=_fewer_than(cohort))
    if content["activity"]["kinds"]:
        charts["activity"] = bar_chart([(kind_label(k["kind"]), k["count"]) for k in content["activity"]["kinds"]],
                                       title=_("What was done in the period, by kind"))
    return charts
