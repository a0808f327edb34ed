"""The impact section of a report (SPEC §2.11): impact points and SROI of each campaign for
the period, worked out by :mod:`portal.impact` (the same rules as the campaign's impact
page) and written down as plain English text, so a frozen snapshot says exactly what was
shown, beside the plain values (keys, minor units, decimals) the page, the PDF and the share
page write in the reader's language (:mod:`portal.reports.present`). It is built in English
whatever the language of whoever asks, so the snapshot and its hash never depend on it.

The people a figure rests on are counted within the period (beneficiaries with a counted
delivery of that kind in it, read with the report's activity), never all time: a quarter's points resting on three people
are withheld even when the campaign has reached hundreds."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from portal.campaigns.models import Campaign
from portal.disclosure import withheld_parts
from portal.impact.points import WITHHELD_REASON, figures_from, points_text, program_settings, tally_buckets
from portal.impact.queries import campaign_investments, load_set, milestone_names, sroi_figure
from portal.impact.sroi import money_text, percent_text, quantity_text, ratio_text, round_minor, sroi_sentence
from portal.reports.periods import Period


def _points(score: Any) -> dict[str, Any]:
    if score.withheld:
        return {"text": None, "withheld": True, "rows": [], "people": score.people}
    rows = [{"label": r.label, "kind": r.kind, "withheld": True} if r.withheld else
            {"label": r.label, "kind": r.kind, "events": r.events, "weight": None if r.weight is None else str(r.weight.normalize()),
             "layer": r.layer, "points": points_text(r.points), "withheld": False} for r in score.rows]
    return {"text": None if score.total_withheld else points_text(score.total), "withheld": score.total_withheld,
            "rows": rows, "people": score.people, "value": str(score.total)}


def _plain(value: Any) -> str:
    """A decimal as plain text ("3.5", "12"): how the values beside the texts are kept."""
    return format(Decimal(value).normalize(), "f")


def _note(figure: Any) -> dict[str, Any]:
    """Why there is no SROI (or no ratio), as text and as a key the page words in its language."""
    note: dict[str, Any] = {"note": figure.refusal, "note_key": figure.refusal_key}
    if figure.refusal_currencies:
        note.update(note_currencies=list(figure.refusal_currencies), note_what=figure.refusal_what)
    return note


def _outcome(row: Any, names: dict[str, str]) -> dict[str, Any]:
    entry = row.entry
    found = {"label": row.label, "outcome_type": entry.outcome_type, "outcome": entry.outcome,
             "withheld": row.withheld}
    if entry.outcome in names:
        found["outcome_name"] = names[entry.outcome]
    return found


def _sroi(figure: Any, names: dict[str, str]) -> dict[str, Any]:
    if figure.valuation_set is None or figure.result is None:
        return {"available": False, **_note(figure)}
    cur, result, vs = figure.currency, figure.result, figure.valuation_set
    section: dict[str, Any] = {"available": True, "set": f"{vs.name} (version {vs.version})",
                               "set_name": vs.name, "set_version": vs.version, "currency": cur,
                               "rate": percent_text(vs.discount_rate), "rate_value": _plain(vs.discount_rate),
                               **_note(figure), "investment": money_text(result.investment, cur),
                               "investment_minor": round_minor(result.investment), "withheld": figure.withheld}
    if figure.withheld:
        return {**section, "reason": str(WITHHELD_REASON), "rows": []}
    rows = []
    for r in figure.rows:
        row = _outcome(r, names)
        if not r.withheld:
            e = r.entry
            row.update(
                quantity=quantity_text(r.value.quantity), quantity_value=_plain(r.value.quantity),
                proxy=money_text(e.proxy_minor, cur), proxy_minor=e.proxy_minor, source=e.source_text,
                adjustments=f"deadweight {percent_text(e.deadweight)}, displacement {percent_text(e.displacement)}, "
                            f"attribution {percent_text(e.attribution)}, drop-off {percent_text(e.drop_off)} a year, "
                            f"{e.duration_years} yr",
                deadweight=_plain(e.deadweight), displacement=_plain(e.displacement),
                attribution=_plain(e.attribution), drop_off=_plain(e.drop_off), duration_years=e.duration_years,
                present_value=money_text(r.value.present_value, cur),
                present_value_minor=round_minor(r.value.present_value))
        rows.append(row)
    section.update(
        sentence=sroi_sentence(result.ratio, cur) if result.ratio is not None else None,
        ratio=None if result.ratio is None else ratio_text(result.ratio).replace(",", ""),
        band=(f"{ratio_text(result.band[0])} to {ratio_text(result.band[1])}" if result.band else None),
        band_values=[ratio_text(b).replace(",", "") for b in result.band] if result.band else None,
        present_value=None if figure.total_withheld else money_text(result.present_value, cur),
        present_value_minor=None if figure.total_withheld else round_minor(result.present_value),
        rows=rows)
    return section


def impact_section(campaigns: Sequence[Campaign], period: Period, min_cohort: int, today: date,
                   reach: dict[int, dict[str, int]]) -> dict[str, Any]:
    """Points and SROI per campaign for ``period``, small cells withheld; for several
    campaigns also the points of all of them, withheld where it would give a campaign away.
    ``reach``: per campaign and kind, the beneficiaries with a counted delivery in the period."""
    ids = [c.id for c in campaigns]
    buckets: dict[int, list[Any]] = defaultdict(list)
    for campaign_id, bucket in tally_buckets(ids, today, start=period.start, end=period.end, group_by_campaign=True):
        buckets[campaign_id].append(bucket)
    investments = campaign_investments(campaigns)
    # A company's campaigns share a few programs, valuation sets and milestone lists: read each once.
    settings, sets, names = {}, {}, {}
    rows = []
    for campaign in campaigns:
        program = campaign.program
        if program.id not in settings:
            settings[program.id] = program_settings(program)
        if program.valuation_set_id not in sets:
            sets[program.valuation_set_id] = load_set(program.valuation_set_id)
        layer = (program.id, json.dumps(campaign.config_overrides or {}, sort_keys=True))
        if layer not in names:
            names[layer] = milestone_names(campaign)
        points, _ = figures_from(buckets[campaign.id], settings[program.id], reach.get(campaign.id, {}), min_cohort)
        sroi = sroi_figure(campaign, sets[program.valuation_set_id], buckets[campaign.id], reach.get(campaign.id, {}),
                           min_cohort=min_cohort, milestone_names=names[layer], investment=investments[campaign.id])
        rows.append({"id": campaign.id, "name": campaign.name, "points": _points(points),
                     "sroi": _sroi(sroi, names[layer])})
    section: dict[str, Any] = {"campaigns": rows}
    if len(rows) > 1:
        hidden, total_hidden = withheld_parts([r["points"]["people"] for r in rows], min_cohort)
        for i in hidden:
            rows[i]["points"].update(text=None, withheld=True, rows=[])
        total = sum((Decimal(r["points"].get("value") or 0) for r in rows), Decimal(0))
        section["points_total"] = None if total_hidden else points_text(total)
    for row in rows:
        row["points"].pop("value", None)
        row["points"].pop("people", None)
    section["withheld"] = any(r["points"]["withheld"] or r["sroi"].get("withheld")
                              or any(x.get("withheld") for x in r["points"]["rows"] + r["sroi"].get("rows", []))
                              for r in rows) or section.get("points_total", "") is None
    return section
