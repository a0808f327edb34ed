"""Forms of the impact screens. They only carry what was typed (and CSRF, and the version the
user saw): every rule is checked by :mod:`portal.impact.operations`, which puts each problem
at its field, so the screens, the seed and the tests share one set of rules."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField

from portal.auth.forms import VersionedActionForm
from portal.i18n import _l


class NewValuationSetForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("E.g. “Mentorship outcomes, Norway”."))
    key = StringField(_l("Key"), description=_l("Leave blank to generate it from the name. It cannot change later."))
    currency = StringField(_l("Currency"), default="NOK",
                           description=_l("ISO 4217 code. SROI is shown only for campaigns in this currency."))
    discount_rate = StringField(_l("Discount rate (% a year)"), default="3.5",
                                description=_l("0 to 20 %. 3.5 % is the UK Green Book's social time preference rate."))
    description = TextAreaField(_l("Description"))


class ValuationSetForm(VersionedActionForm):
    name = StringField(_l("Name"))
    currency = StringField(_l("Currency"), description=_l("ISO 4217 code, e.g. NOK or EUR."))
    discount_rate = StringField(_l("Discount rate (% a year)"), description=_l("0 to 20 %."))
    description = TextAreaField(_l("Description"))


class EntryForm(VersionedActionForm):
    outcome = SelectField(_l("Outcome"), validate_choice=False,
                          description=_l("What is valued: a delivery kind, a milestone, or completing the program."))
    proxy = StringField(_l("Financial proxy per unit"),
                        description=_l("The value of one unit of the outcome in the set's currency, e.g. 1250.00 "
                                    "(at most 10,000,000)."))
    source_text = TextAreaField(_l("Source"), description=_l("Where the figure comes from: the study, statistic or price."))
    source_url = StringField(_l("Source address (URL)"), description=_l("Optional, https://…"))
    deadweight = StringField(_l("Deadweight (%)"), default="0",
                             description=_l("How much would have happened anyway, 0–100 %."))
    displacement = StringField(_l("Displacement (%)"), default="0",
                               description=_l("How much of it displaced other good outcomes, 0–100 %."))
    attribution = StringField(_l("Attribution (%)"), default="0",
                              description=_l("How much others (not this program) caused, 0–100 %."))
    drop_off = StringField(_l("Drop-off per year (%)"), default="0",
                           description=_l("How much of the outcome fades each year after the first, 0–100 %."))
    duration_years = StringField(_l("Duration (years)"), default="1", description=_l("How many years it lasts, 1–10."))

    def raw(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("outcome", "proxy", "source_text", "source_url", "deadweight", "displacement", "attribution",
                 "drop_off", "duration_years")}


class PinForm(VersionedActionForm):
    valuation_set_id = SelectField(_l("Valuation set"), validate_choice=False)


class SetActionForm(VersionedActionForm):
    """CSRF and version for a valuation set's buttons."""
