"""The figures a campaign's impact page shows (SPEC §2.11): its points (portal.impact.points)
and its SROI under the valuation set its program pins, each with the "why this number"
rows, small cells withheld for company admins. A handful of bounded statements whatever the
campaign's size: the tallies grouped by month, the reach counters, the set's entries, the
campaign's L2I allocations."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa

from portal.db import db
from portal.i18n import _, _l
from portal.impact.models import (
    ACTIVE,
    COMPLETION,
    DELIVERY,
    MILESTONE,
    MILESTONE_REACHED,
    PROGRAM_COMPLETED,
    ValuationEntry,
    ValuationSet,
)
from portal.impact.points import (
    BENEFICIARY,
    WITHHELD_REASON,
    Bucket,
    Score,
    figures_from,
    program_settings,
    reach,
    tally_buckets,
    withhold_small_cells,
)
from portal.impact.sroi import CurrencyMismatch, OutcomeValue, SroiResult, Valuation, with_band


def outcome_key(outcome_type: str, outcome: str) -> str:
    return f"{outcome_type}:{outcome}"


def outcome_label(outcome_type: str, outcome: str, names: dict[str, str] | None = None) -> str:
    from portal.deliveries.kinds import kind_label

    if outcome_type == COMPLETION:
        return _("Program completed")
    if outcome_type == MILESTONE:
        return _("Milestone: %(name)s", name=(names or {}).get(outcome) or kind_label(outcome))
    return kind_label(outcome)


def beneficiary_outcomes(buckets: list[Bucket], delivery_reach: dict[str, int]
                         ) -> tuple[dict[str, Decimal], dict[str, int]]:
    """(quantity, beneficiaries) per outcome key from beneficiaries' events: a delivery kind's
    counted quantity, a milestone's reaches, completions. Outcomes are what happened to the
    beneficiaries, so a match session (one delivery on each side) is valued once."""
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    people: dict[str, int] = defaultdict(int)
    for b in buckets:
        if b.role != BENEFICIARY:
            continue
        if b.kind == MILESTONE_REACHED:
            key = outcome_key(MILESTONE, b.detail)
            people[key] += b.events
        elif b.kind == PROGRAM_COMPLETED:
            key = outcome_key(COMPLETION, PROGRAM_COMPLETED)
            people[key] += b.events
        else:
            key = outcome_key(DELIVERY, b.kind)
        quantities[key] += b.quantity if b.kind not in (MILESTONE_REACHED, PROGRAM_COMPLETED) else b.events
    for kind, n in delivery_reach.items():
        people[outcome_key(DELIVERY, kind)] = n
    return dict(quantities), dict(people)


def valuations_of(valuation_set: ValuationSet) -> list[Valuation]:
    return [Valuation(outcome_key(e.outcome_type, e.outcome), Decimal(e.proxy_minor), Decimal(e.deadweight),
                      Decimal(e.attribution), Decimal(e.displacement), Decimal(e.drop_off), e.duration_years)
            for e in valuation_set.entries]


@dataclass
class Investment:
    budget: int  # minor units
    l2i: list[tuple[Any, int]]  # (allocation, amount)
    currency: str

    @property
    def total(self) -> int:
        return self.budget + sum(amount for _, amount in self.l2i)


def campaign_investments(campaigns: Sequence[Any]) -> dict[int, Investment | CurrencyMismatch]:
    """Each campaign's investment: its budget allocated plus its L2I allocation amounts, read
    for all of them at once. An allocation from a subscription in another currency makes it a
    CurrencyMismatch (refused, never converted)."""
    from portal.l2i.models import L2IAllocation, L2ISubscription

    rows = db.session.execute(sa.select(L2IAllocation, L2ISubscription.currency)
                              .join(L2ISubscription, L2ISubscription.id == L2IAllocation.subscription_id)
                              .where(L2IAllocation.campaign_id.in_([c.id for c in campaigns]))
                              .order_by(L2IAllocation.id)).all()
    allocations: dict[int, list[tuple[Any, str]]] = {c.id: [] for c in campaigns}
    for allocation, currency in rows:
        allocations[allocation.campaign_id].append((allocation, currency))
    found: dict[int, Investment | CurrencyMismatch] = {}
    for campaign in campaigns:
        mine = allocations[campaign.id]
        other = next((currency for _, currency in mine if currency != campaign.currency), None)
        found[campaign.id] = (CurrencyMismatch(campaign.currency, other, CurrencyMismatch.ALLOCATION) if other
                              else Investment(campaign.budget_allocated or 0, [(a, a.amount) for a, _ in mine],
                                              campaign.currency))
    return found


@dataclass
class OutcomeRow:
    entry: ValuationEntry
    label: str
    value: OutcomeValue
    people: int
    withheld: bool = False


@dataclass
class SroiFigure:
    """The SROI of a campaign under its program's pinned set — or why there is none."""

    valuation_set: ValuationSet | None
    result: SroiResult | None = None
    rows: list[OutcomeRow] = field(default_factory=list)
    investment: Investment | None = None
    refusal: str | None = None  # a currency mismatch, no investment… (text in the reader's language)
    refusal_key: str | None = None  # which refusal: NO_SET, CURRENCY or NO_INVESTMENT
    refusal_currencies: tuple[str, str] | None = None  # (set, other) for CURRENCY
    refusal_what: str | None = None  # CurrencyMismatch.CAMPAIGN or .ALLOCATION
    withheld: bool = False  # the ratio, PV and band
    total_withheld: bool = False  # PV total beside its parts
    reason: str | None = None

    @property
    def currency(self) -> str | None:
        return self.valuation_set.currency if self.valuation_set else None


NO_SET, CURRENCY, NO_INVESTMENT = "no_set", "currency", "no_investment"
NO_SET_TEXT = _l("This program pins no valuation set: only points are shown.")
NO_INVESTMENT_TEXT = _l("No investment is recorded for this campaign (no budget allocated and no L2I allocation): "
                        "the present value is shown without a ratio.")


def _mismatch(valuation_set: ValuationSet, refused: CurrencyMismatch) -> SroiFigure:
    return SroiFigure(valuation_set, refusal=str(refused), refusal_key=CURRENCY,
                      refusal_currencies=(refused.set_currency, refused.campaign_currency), refusal_what=refused.what)


def load_set(set_id: int | None) -> ValuationSet | None:
    if set_id is None:
        return None
    return db.session.scalars(_set_statement(), {"set_id": set_id}).unique().first()


@cache
def _set_statement() -> sa.Select:
    """A valuation set with its entries in one read, built once (every campaign page reads
    its program's)."""
    return (sa.select(ValuationSet).where(ValuationSet.id == sa.bindparam("set_id"))
            .options(sa.orm.joinedload(ValuationSet.entries)))


def sroi_figure(campaign: Any, valuation_set: ValuationSet | None, buckets: list[Bucket],
                delivery_reach: dict[str, int], *, min_cohort: int | None = None,
                milestone_names: dict[str, str] | None = None,
                investment: Investment | CurrencyMismatch | None = None) -> SroiFigure:
    """SPEC §2.11's SROI of ``campaign`` from its events (``buckets``); ``investment`` when
    already read (:func:`campaign_investments`)."""
    if valuation_set is None:
        return SroiFigure(None, refusal=str(NO_SET_TEXT), refusal_key=NO_SET)
    if valuation_set.currency != campaign.currency:
        return _mismatch(valuation_set, CurrencyMismatch(valuation_set.currency, campaign.currency))
    if investment is None:
        investment = campaign_investments([campaign])[campaign.id]
    if isinstance(investment, CurrencyMismatch):
        return _mismatch(valuation_set, investment)
    quantities, people = beneficiary_outcomes(buckets, delivery_reach)
    valuations = valuations_of(valuation_set)
    result = with_band(valuations, quantities, Decimal(valuation_set.discount_rate), investment.total)
    rows = [OutcomeRow(entry, outcome_label(entry.outcome_type, entry.outcome, milestone_names), value,
                       people.get(value.valuation.outcome, 0))
            for entry, value in zip(valuation_set.entries, result.outcomes, strict=True)]
    figure = SroiFigure(valuation_set, result, rows, investment)
    if result.ratio is None:
        figure.refusal, figure.refusal_key = str(NO_INVESTMENT_TEXT), NO_INVESTMENT
    if min_cohort is not None and rows:
        hidden, total_hidden = withhold_small_cells([r.people for r in rows], min_cohort)
        for i in hidden:
            rows[i].withheld = True
        figure.total_withheld = total_hidden
        figure.withheld = max(r.people for r in rows) < min_cohort or total_hidden
        if hidden or figure.withheld:
            figure.reason = str(WITHHELD_REASON)
    return figure


def milestone_names(campaign: Any) -> dict[str, str]:
    from portal.deliveries.milestones import enrollment_milestones_of

    return {m.key: m.name for m in enrollment_milestones_of(campaign)}


@dataclass
class CampaignImpact:
    points: Score
    volunteers: Score
    sroi: SroiFigure
    settings: Any


def campaign_impact(campaign: Any, today: date, *, min_cohort: int | None = None,
                    valuation_set: ValuationSet | None | bool = True) -> CampaignImpact:
    """Everything the campaign's impact section shows. ``valuation_set``: True for the
    program's pin, or another set (the upgrade preview)."""
    settings = program_settings(campaign.program)
    buckets = [b for _, b in tally_buckets([campaign.id], today)]
    delivery_reach = reach([campaign.id])
    points, volunteers = figures_from(buckets, settings, delivery_reach, min_cohort)
    chosen = load_set(campaign.program.valuation_set_id) if valuation_set is True else valuation_set
    sroi = sroi_figure(campaign, chosen or None, buckets, delivery_reach, min_cohort=min_cohort,
                       milestone_names=milestone_names(campaign))
    return CampaignImpact(points, volunteers, sroi, settings)


# --- the program's pin ---------------------------------------------------------------------------
def active_sets() -> list[ValuationSet]:
    return list(db.session.scalars(sa.select(ValuationSet).where(ValuationSet.status == ACTIVE)
                                   .order_by(ValuationSet.name, ValuationSet.key)))


@dataclass(frozen=True)
class PinChange:
    """One campaign's figures under the current pin and under the candidate set."""

    campaign: Any
    before: SroiFigure
    after: SroiFigure


def pin_preview(program: Any, candidate: ValuationSet | None, today: date) -> list[PinChange]:
    """What re-pinning ``program`` to ``candidate`` does to each of its campaigns' SROI."""
    from portal.campaigns.models import Campaign

    current = load_set(program.valuation_set_id)
    candidate = load_set(candidate.id) if candidate is not None else None
    changes = []
    for campaign in db.session.scalars(sa.select(Campaign).where(Campaign.program_id == program.id)
                                       .order_by(Campaign.name, Campaign.id)):
        buckets = [b for _, b in tally_buckets([campaign.id], today)]
        delivery_reach = reach([campaign.id])
        names = milestone_names(campaign)
        changes.append(PinChange(campaign, sroi_figure(campaign, current, buckets, delivery_reach, milestone_names=names),
                                 sroi_figure(campaign, candidate, buckets, delivery_reach, milestone_names=names)))
    return changes


def known_outcomes() -> list[tuple[str, str]]:
    """Outcome choices for the entry form: the delivery kinds and milestone keys of the active
    and deprecated template versions, and program completion ("type:key", label)."""
    from portal.deliveries.kinds import DERIVED_KINDS, kind_label
    from portal.deliveries.milestones import milestone_list
    from portal.program_templates.models import ProgramTemplate

    kinds: dict[str, str] = {}
    milestones: dict[str, str] = {}
    for template in db.session.scalars(sa.select(ProgramTemplate).where(
            ProgramTemplate.status.in_(("active", "deprecated")))):
        config = template.default_config or {}
        weights = (config.get("impact") or {}).get("sroiWeights") if isinstance(config.get("impact"), dict) else None
        for kind in (weights or {}) if isinstance(weights, dict) else ():
            if kind not in DERIVED_KINDS:
                kinds.setdefault(str(kind), kind_label(str(kind)))
        for milestone in milestone_list(template.config_schema, config):
            milestones.setdefault(milestone.key, f"{milestone.name} ({template.name})")
    choices = [(outcome_key(DELIVERY, k), _("Delivery: %(name)s", name=label)) for k, label in sorted(kinds.items())]
    choices += [(outcome_key(MILESTONE, k), _("Milestone: %(name)s", name=label))
                for k, label in sorted(milestones.items())]
    choices.append((outcome_key(COMPLETION, PROGRAM_COMPLETED), _("Program completed")))
    return choices
