"""Social return on investment by the standard method (SPEC §2.11) — pure arithmetic, no
database. All in exact decimals (a local context of 50 significant digits, so a division
by (1 + rate)^t keeps far more digits than any figure shows); money is rounded half up to
minor units only when shown (:func:`money_text`).

For one outcome o valued at ``proxy`` minor units per unit:

    impact_o = quantity × proxy × (1 − deadweight)(1 − displacement)(1 − attribution)
    PV_o     = Σ_{t=1..duration} impact_o × (1 − drop_off)^(t−1) / (1 + rate)^t
    PV       = Σ_o PV_o ;  SROI = PV / investment

The figures are computed in exact decimals whatever the language; only the helpers at the end
write them for people, in the reader's language (:mod:`portal.i18n`; English keeps
"NOK 1,234.57", "3.40", "25 %"). :func:`ratio_text` stays the language-neutral text the API
and the frozen reports carry.

Percentages are stored and entered as percent (25.00 = 25 %). The sensitivity band
recomputes SROI with every proxy × 0.8 and deadweight and attribution + 10 points (low),
and proxies × 1.2 with deadweight and attribution − 10 points (high), clamped to 0–100 %.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from portal.i18n import _, _l, money, number, percent

PRECISION = 50
HUNDRED = Decimal(100)
ONE = Decimal(1)
BAND_PROXY_LOW, BAND_PROXY_HIGH = Decimal("0.8"), Decimal("1.2")
BAND_POINTS = Decimal(10)


class CurrencyMismatch(ValueError):
    """A valuation set and a campaign (or its L2I allocations) in different currencies:
    SROI is refused, never converted."""

    CAMPAIGN, ALLOCATION = "campaign", "allocation"

    def __init__(self, set_currency: str, campaign_currency: str, what: str = CAMPAIGN):
        if what == self.ALLOCATION:
            message = _l("The valuation set is in %(set_currency)s but one of its L2I allocations is in %(currency)s: "
                         "SROI is not computed, because amounts are never converted between currencies.",
                         set_currency=set_currency, currency=campaign_currency)
        else:
            message = _l("The valuation set is in %(set_currency)s but the campaign is in %(currency)s: SROI is not "
                         "computed, because amounts are never converted between currencies.",
                         set_currency=set_currency, currency=campaign_currency)
        super().__init__(message)
        self.message = message  # lazy: text in the language of whoever reads it (str(exc) too)
        self.set_currency, self.campaign_currency, self.what = set_currency, campaign_currency, what

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class Valuation:
    """One valuation entry as arithmetic sees it (percentages in percent)."""

    outcome: str
    proxy: Decimal  # minor units per unit
    deadweight: Decimal = Decimal(0)
    attribution: Decimal = Decimal(0)
    displacement: Decimal = Decimal(0)
    drop_off: Decimal = Decimal(0)
    duration: int = 1


@dataclass(frozen=True)
class YearValue:
    year: int
    value: Decimal  # minor units, unrounded: impact × (1 − drop-off)^(t−1)
    discounted: Decimal  # value / (1 + rate)^t


@dataclass(frozen=True)
class OutcomeValue:
    valuation: Valuation
    quantity: Decimal
    gross: Decimal  # quantity × proxy
    impact: Decimal  # after deadweight, displacement and attribution
    years: tuple[YearValue, ...]
    present_value: Decimal


@dataclass(frozen=True)
class SroiResult:
    outcomes: tuple[OutcomeValue, ...]
    present_value: Decimal
    investment: Decimal
    ratio: Decimal | None  # None when nothing was invested
    rate: Decimal  # percent
    band: tuple[Decimal, Decimal] | None = field(default=None)  # (low, high) ratios


def _context() -> Context:
    return Context(prec=PRECISION, rounding=ROUND_HALF_UP)


def _share(percent: Decimal) -> Decimal:
    return Decimal(percent) / HUNDRED


def outcome_impact(quantity: Decimal, valuation: Valuation) -> tuple[Decimal, Decimal]:
    """(gross, impact): quantity × proxy, and that less deadweight, displacement and attribution."""
    with localcontext(_context()):
        gross = Decimal(quantity) * Decimal(valuation.proxy)
        impact = (gross * (ONE - _share(valuation.deadweight)) * (ONE - _share(valuation.displacement))
                  * (ONE - _share(valuation.attribution)))
    return gross, impact


def present_value(impact: Decimal, valuation: Valuation, rate: Decimal) -> tuple[tuple[YearValue, ...], Decimal]:
    """Each year's value and its discounted value, and their sum (the outcome's PV)."""
    with localcontext(_context()):
        keep, discount = ONE - _share(valuation.drop_off), ONE + _share(rate)
        # (1 − drop-off)^(t − 1) is 1 in the first year, also for a drop-off of 100 % (0^0)
        remaining = [ONE if t == 1 else keep ** (t - 1) for t in range(1, valuation.duration + 1)]
        years = tuple(YearValue(t, impact * share, impact * share / discount ** t)
                      for t, share in enumerate(remaining, start=1))
        total = sum((y.discounted for y in years), Decimal(0))
    return years, total


def compute_sroi(valuations: Iterable[Valuation], quantities: Mapping[str, Decimal], rate: Decimal,
                 investment: Decimal | int) -> SroiResult:
    """PV of every valued outcome at its quantity (0 when none happened), their sum, and
    SROI = PV / investment (None with no investment). No band: see :func:`with_band`."""
    outcomes = []
    for valuation in valuations:
        quantity = Decimal(quantities.get(valuation.outcome, 0))
        gross, impact = outcome_impact(quantity, valuation)
        years, pv = present_value(impact, valuation, rate)
        outcomes.append(OutcomeValue(valuation, quantity, gross, impact, years, pv))
    with localcontext(_context()):
        total = sum((o.present_value for o in outcomes), Decimal(0))
        invested = Decimal(investment)
        ratio = total / invested if invested > 0 else None
    return SroiResult(tuple(outcomes), total, invested, ratio, Decimal(rate))


def _clamp(percent: Decimal) -> Decimal:
    return min(max(Decimal(percent), Decimal(0)), HUNDRED)


def band_valuations(valuations: Iterable[Valuation], side: str) -> list[Valuation]:
    """The valuations of the band's ``"low"`` or ``"high"`` side."""
    factor, points = (BAND_PROXY_LOW, BAND_POINTS) if side == "low" else (BAND_PROXY_HIGH, -BAND_POINTS)
    with localcontext(_context()):
        return [replace(v, proxy=Decimal(v.proxy) * factor, deadweight=_clamp(v.deadweight + points),
                        attribution=_clamp(v.attribution + points)) for v in valuations]


def with_band(valuations: list[Valuation], quantities: Mapping[str, Decimal], rate: Decimal,
              investment: Decimal | int) -> SroiResult:
    """:func:`compute_sroi` and its sensitivity band."""
    result = compute_sroi(valuations, quantities, rate, investment)
    if result.ratio is None:
        return result
    low = compute_sroi(band_valuations(valuations, "low"), quantities, rate, investment).ratio
    high = compute_sroi(band_valuations(valuations, "high"), quantities, rate, investment).ratio
    return replace(result, band=(low, high))


# --- showing figures -------------------------------------------------------------------------
def round_minor(amount: Decimal) -> int:
    """Minor units, rounded half up (only when shown)."""
    return int(Decimal(amount).quantize(ONE, rounding=ROUND_HALF_UP))


def money_text(amount_minor: Decimal | int, currency: str) -> str:
    """Minor units as money in the reader's language, rounded half up to the minor unit
    first: "NOK 1,234.57" (en), "1 234,57 kr" (nb), "1 234,57 NOK" (uk)."""
    return money(round_minor(Decimal(amount_minor)), currency)


def _two_places(ratio: Decimal) -> Decimal:
    return Decimal(ratio).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ratio_text(ratio: Decimal) -> str:
    """A ratio to two decimals, half up, language-neutral (the API and frozen reports): 3.395 → "3.40"."""
    return f"{_two_places(ratio):,}"


def ratio_shown(ratio: Decimal) -> str:
    """A ratio to two decimals for the reader: "3.40" (en), "3,40" (nb, uk)."""
    return number(_two_places(ratio), 2)


def sroi_money(ratio: Decimal, currency: str) -> str:
    """A ratio as the money one unit invested returns: "NOK 3.40" (en), "3,40 kr" (nb)."""
    return money(_two_places(ratio) * 100, currency)


def sroi_sentence(ratio: Decimal, currency: str) -> str:
    """"NOK 3.40 of social value per NOK 1 invested" in the reader's language."""
    return _("%(value)s of social value per %(one)s invested",
             value=sroi_money(ratio, currency), one=_one_unit(currency))


def _one_unit(currency: str) -> str:
    """One whole unit as the language writes money without decimals ("NOK 1", "1 kr")."""
    text = money(100, currency)
    return text.replace(number(Decimal(1), 2), "1", 1)


def percent_text(value: Decimal) -> str:
    """25.00 → "25 %", 3.50 → "3.5 %" (en); "3,5 %" (nb), "3,5%" (uk)."""
    return percent(Decimal(value).normalize())


def quantity_text(quantity: Decimal) -> str:
    """12.500 → "12.5", 10 → "10", 1234 → "1,234" (en); "1 234" and "12,5" (nb, uk)."""
    value = Decimal(quantity).normalize()
    places = max(0, -value.as_tuple().exponent) if isinstance(value.as_tuple().exponent, int) else 0
    return number(value, places)
