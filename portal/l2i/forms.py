from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from portal.auth.forms import VersionedActionForm
from portal.forms import PlainDecimalField, choices, coerce_id
from portal.l2i.models import SKU_LEARNERS, SUBSCRIPTION_STATUSES
from portal.l2i.operations import SHARE_MESSAGE, without_percent_sign


class SubscriptionForm(FlaskForm):
    company_id = SelectField("Company", coerce=coerce_id)
    sku = SelectField("Bundle", choices=choices((sku, f"{sku} · {n:,} learners") for sku, n in SKU_LEARNERS.items()))
    # InputRequired, not DataRequired: a price of 0 is a price (a free bundle), not a missing one.
    annual_price = PlainDecimalField("Annual price", places=2, validators=[
        InputRequired(message="Enter the price."),
        NumberRange(min=0, max=10**13, message="Enter a price from 0 to 10,000,000,000,000.")])
    currency = StringField("Currency", default="EUR", validators=[DataRequired(), Length(min=3, max=3)])
    period_start = DateField("Period start", validators=[DataRequired(message="Enter the start.")])
    period_end = DateField("Period end", validators=[DataRequired(message="Enter the end.")])
    status = SelectField("Status", choices=choices((s, s.capitalize()) for s in SUBSCRIPTION_STATUSES))


class PercentField(PlainDecimalField):
    """A percentage as people type it ("45", "12.5", "12.5 %"): parse_decimal's rule after
    an optional trailing % sign. Range and decimals are the operation's rule (percent_to_bp)."""

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata([without_percent_sign(v) for v in valuelist])


class AllocationForm(FlaskForm):
    target = SelectField("Allocate to", validate_choice=False,
                         description="One of the company's campaigns, or a program it runs or finds in the catalog.")
    # places=None: the two-decimals rule and its message live in operations.percent_to_bp.
    share = PercentField("Share of the subscription (%)", places=None, invalid_value_message=SHARE_MESSAGE,
                         validators=[InputRequired(message="Enter a share.")],
                         widget=TextInput(), render_kw={"inputmode": "decimal", "autocomplete": "off"},
                         description="A percentage with up to two decimals: 25 is a quarter, 12.5 an eighth.")
    period_start = DateField("From", validators=[Optional()])
    period_end = DateField("Until", validators=[Optional()])


class AllocationEditForm(AllocationForm, VersionedActionForm):
    """The allocation form, carrying the version the user saw (stale saves are refused)."""


class RemoveAllocationForm(VersionedActionForm):
    """The confirmation's button: carries the version of the allocation the user confirmed."""
