from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.forms import choices, coerce_id
from portal.l2i.models import SKU_LEARNERS, SUBSCRIPTION_STATUSES


class SubscriptionForm(FlaskForm):
    company_id = SelectField("Company", coerce=coerce_id)
    sku = SelectField("Bundle", choices=choices((sku, f"{sku} · {n:,} learners") for sku, n in SKU_LEARNERS.items()))
    annual_price = DecimalField("Annual price", places=2, validators=[DataRequired(message="Enter the price."),
                                                                      NumberRange(min=0, max=10**13)])
    currency = StringField("Currency", default="EUR", validators=[DataRequired(), Length(min=3, max=3)])
    period_start = DateField("Period start", validators=[DataRequired(message="Enter the start.")])
    period_end = DateField("Period end", validators=[DataRequired(message="Enter the end.")])
    status = SelectField("Status", choices=choices((s, s.capitalize()) for s in SUBSCRIPTION_STATUSES))


class AllocationForm(FlaskForm):
    target = SelectField("Allocate to", validate_choice=False,
                         description="One of the company's campaigns, or a program it runs.")
    share = StringField("Share of the subscription", validators=[DataRequired(message="Enter a share.")],
                        description="A decimal between 0 and 1 with up to four decimals: 0.25 is 25 %.")
    period_start = DateField("From", validators=[Optional()])
    period_end = DateField("Until", validators=[Optional()])
