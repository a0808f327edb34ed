"""A report's content written for the reader, in the reader's language (SPEC §2.11).

The content (:mod:`portal.reports.content`) is frozen in English so a snapshot and its hash
never depend on who froze it; beside each text it keeps the plain values: counts, keys,
ISO dates, minor units and decimals. These helpers write those values for the page, the PDF
and the share page in the current language (a PDF is rendered in its requester's language),
and fall back to the frozen English text where a snapshot made before the values were kept
has only the text. Nothing here changes the content."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.deliveries.kinds import kind_label
from portal.i18n import _, number
from portal.impact.points import WITHHELD_REASON, layer_label, points_shown
from portal.impact.queries import CURRENCY, NO_INVESTMENT, NO_INVESTMENT_TEXT, NO_SET, NO_SET_TEXT, outcome_label
from portal.impact.sroi import CurrencyMismatch, money_text, percent_text, quantity_text, ratio_shown, sroi_money
from portal.reports.content import PEOPLE_LABELS
from portal.reports.periods import Period


def _decimal(text: Any) -> Decimal | None:
    """A number the content wrote in English ("1,234.5", "12") read back; None when it is not one."""
    if text is None:
        return None
    try:
        return Decimal(str(text).replace(",", ""))
    except InvalidOperation:
        return None


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def period_of(content: dict[str, Any]) -> Period:
    period = content["period"]
    return Period(period["kind"], _day(period["start"]), _day(period["end"]))


def period_label(content: dict[str, Any]) -> str:
    """"Q2 2026 (April–June)" / "2. kvartal 2026 (april–juni)"…"""
    try:
        return period_of(content).label
    except (KeyError, ValueError):
        return content["period"].get("label", "")


def title(content: dict[str, Any]) -> str:
    """The report's title in the reader's language, from its content (what the stored,
    English title says)."""
    from portal.reports.operations import title_of

    campaign = content["campaigns"][0]["name"] if content.get("scope") == "campaign" and content["campaigns"] \
        else None
    return title_of(content["company"]["name"], campaign, period_of(content))


def day(text: str | None) -> date | None:
    """An ISO date of the content as a date (for the ``date`` filter)."""
    return _day(text) if text else None


def moment(text: str | None) -> datetime | None:
    """An ISO timestamp of the content as a datetime (for the ``datetime`` filter)."""
    return datetime.fromisoformat(text) if text else None


def fewer_than(min_cohort: int) -> str:
    return _("fewer than %(num)s", num=number(min_cohort))


def cell(value: dict[str, Any], min_cohort: int) -> str:
    """A count of people: the number, or "fewer than 10" when it is withheld."""
    if value.get("value") is None:
        return fewer_than(min_cohort)
    return number(value["value"])


def people_label(key: str, stored: str) -> str:
    label = PEOPLE_LABELS.get(key)
    return str(label) if label is not None else stored


def hours(text: str) -> str:
    found = _decimal(text)
    return text if found is None else number(found, 1)


def points(text: str | None) -> str | None:
    """A score the content wrote ("1,234.5") for the reader ("1 234,5")."""
    found = _decimal(text)
    return None if found is None else points_shown(found)


def weight(text: str | None) -> str:
    found = _decimal(text)
    return "—" if found is None else quantity_text(found)


def layer(text: str | None) -> str:
    return layer_label(text) if text else _("no weight: scores 0")


def kind(row: dict[str, Any]) -> str:
    return kind_label(row["kind"]) if row.get("kind") else row.get("label", "")


def sroi_note(sroi: dict[str, Any]) -> str | None:
    """Why a campaign has no SROI or no ratio, in the reader's language."""
    key = sroi.get("note_key")
    if key == NO_SET:
        return str(NO_SET_TEXT)
    if key == NO_INVESTMENT:
        return str(NO_INVESTMENT_TEXT)
    if key == CURRENCY and sroi.get("note_currencies"):
        set_currency, other = sroi["note_currencies"]
        return str(CurrencyMismatch(set_currency, other, sroi.get("note_what") or CurrencyMismatch.CAMPAIGN))
    return sroi.get("note")


def sroi_view(sroi: dict[str, Any]) -> dict[str, Any]:
    """The texts of a campaign's SROI section in the reader's language (the frozen English
    texts where the content has no values)."""
    view: dict[str, Any] = {"note": sroi_note(sroi)}
    if not sroi.get("available"):
        return view
    cur = sroi.get("currency")
    if not cur:  # frozen before the values were kept: the English texts as they were
        view.update(sentence=sroi.get("sentence"), band=sroi.get("band"), set=sroi.get("set"), rate=sroi.get("rate"),
                    investment=sroi.get("investment"), present_value=sroi.get("present_value"),
                    reason=sroi.get("reason"), rows=[dict(r) for r in sroi.get("rows", [])])
        return view
    from portal.impact.sroi import sroi_sentence

    ratio = _decimal(sroi.get("ratio"))
    band = sroi.get("band_values")
    view.update(
        sentence=None if ratio is None else sroi_sentence(ratio, cur),
        band=None if not band else _("%(low)s to %(high)s", low=sroi_money(Decimal(band[0]), cur),
                                     high=ratio_shown(Decimal(band[1]))),
        set=_("%(name)s (version %(version)s)", name=sroi["set_name"], version=sroi["set_version"]),
        rate=percent_text(Decimal(sroi["rate_value"])),
        investment=money_text(sroi["investment_minor"], cur),
        present_value=None if sroi.get("present_value_minor") is None else money_text(sroi["present_value_minor"],
                                                                                      cur),
        reason=str(WITHHELD_REASON) if sroi.get("reason") else None,
        rows=[_outcome_view(r, cur) for r in sroi.get("rows", [])])
    return view


def _outcome_view(row: dict[str, Any], cur: str) -> dict[str, Any]:
    names = {row["outcome"]: row["outcome_name"]} if row.get("outcome_name") else None
    view = {"label": outcome_label(row["outcome_type"], row["outcome"], names), "withheld": row["withheld"]}
    if row["withheld"]:
        return view
    adjustments = [_("deadweight %(value)s", value=percent_text(Decimal(row["deadweight"]))),
                   _("displacement %(value)s", value=percent_text(Decimal(row["displacement"]))),
                   _("attribution %(value)s", value=percent_text(Decimal(row["attribution"]))),
                   _("drop-off %(value)s a year", value=percent_text(Decimal(row["drop_off"]))),
                   _n_years(row["duration_years"])]
    view.update(quantity=quantity_text(Decimal(row["quantity_value"])), proxy=money_text(row["proxy_minor"], cur),
                source=row.get("source", ""), adjustments=", ".join(adjustments),
                present_value=money_text(row["present_value_minor"], cur))
    return view


def _n_years(years: int) -> str:
    from portal.i18n import ngettext

    return ngettext("lasts %(count)s year", "lasts %(count)s years", years, count=number(years))


HELPERS = {
    "report_period_label": period_label, "report_title": title, "report_day": day, "report_moment": moment,
    "report_cell": cell, "report_people_label": people_label, "report_hours": hours, "report_points": points,
    "report_weight": weight, "report_layer": layer, "report_kind": kind, "report_sroi": sroi_view,
    "report_fewer_than": fewer_than,
}
