from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from portal.auth.forms import VersionedActionForm
from portal.forms import LocalDateField, PlainDecimalField, choices, coerce_id
from portal.i18n import _l, _n, number
from portal.l2i.models import SKU_LEARNERS, SUBSCRIPTION_STATUSES
from portal.l2i.operations import SHARE_MESSAGE, without_percent_sign

# What the status choices say (the codes stay in the database and the API).
SUBSCRIPTION_STATUS_LABELS = {"active": _l("Active"), "expired": _l("Expired"), "canceled": _l("Canceled")}


class _LazyNumber:
    """A count grouped for the reader's language when the lazy label is shown (not when built)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __str__(self) -> str:
        return number(self.value)


def bundle_label(sku: str, learners: int) -> object:
    """ "L2I-500 · 500 learners" in the reader's language (lazy: the choices are built once)."""
    return _n("%(sku)s · %(count)s learner", "%(sku)s · %(count)s learners", learners, sku=sku,
              count=_LazyNumber(learners))


class SubscriptionForm(FlaskForm):
    company_id = SelectField(_l("Company"), coerce=coerce_id)
    sku = SelectField(_l("Bundle"), choices=choices((sku, bundle_label(sku, n)) for sku, n in SKU_LEARNERS.items()))
    # InputRequired, not DataRequired: a price of 0 is a price (a free bundle), not a missing one.
    annual_price = PlainDecimalField(_l("Annual price"), places=2, validators=[
        InputRequired(message=_l("Enter the price.")),
        NumberRange(min=0, max=10**13, message=_l("Enter a price from 0 to 10,000,000,000,000."))])
    currency = StringField(_l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)])
    period_start = LocalDateField(_l("Period start"), validators=[DataRequired(message=_l("Enter the start."))])
    period_end = LocalDateField(_l("Period end"), validators=[DataRequired(message=_l("Enter the end."))])
    status = SelectField(_l("Status"), choices=choices((s, SUBSCRIPTION_STATUS_LABELS.get(s, s))
                                                       for s in SUBSCRIPTION_STATUSES))


class PercentField(PlainDecimalField):
    """A percentage as people type it ("45", "12.5", "12.5 %"): parse_decimal's rule after
    an optional trailing % sign. Range and decimals are the operation's rule (percent_to_bp)."""

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata([without_percent_sign(v) for v in valuelist])


class AllocationForm(FlaskForm):
    target = SelectField(_l("Allocate to"), validate_choice=False,
                         description=_l("One of the company's campaigns, or a program it runs or finds in the catalog."))
    # places=None: the two-decimals rule and its message live in operations.percent_to_bp.
    share = PercentField(_l("Share of the subscription (%)"), places=None, invalid_value_message=SHARE_MESSAGE,
                         validators=[InputRequired(message=_l("Enter a share."))],
                         widget=TextInput(), render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description=_l("A percentage with up to two decimals: 25 is a quarter, 12.5 an eighth."))
    period_start = LocalDateField(_l("From"), validators=[Optional()])
    period_end = LocalDateField(_l("Until"), validators=[Optional()])


class AllocationEditForm(AllocationForm, VersionedActionForm):
    """The allocation form, carrying the version the user saw (stale saves are refused)."""


class RemoveAllocationForm(VersionedActionForm):
    """The confirmation's button: carries the version of the allocation the user confirmed."""
