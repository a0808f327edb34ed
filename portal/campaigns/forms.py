from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.auth.forms import VersionedActionForm
from portal.forms import PlainDecimalField, coerce_id

MONEY = {"places": 2, "validators": [Optional(), NumberRange(min=0, max=10**13, message="Enter zero or more.")]}


def to_minor_units(amount: Decimal | None) -> int | None:
    """Major units from the form (12.50) to integer minor units (1250), exactly."""
    return None if amount is None else int((amount * 100).to_integral_value())


def from_minor_units(amount: int | None) -> Decimal | None:
    return None if amount is None else Decimal(amount) / 100


class CampaignFieldsMixin:
    name = StringField("Campaign name", validators=[DataRequired(message="Enter a name."), Length(max=255)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    start_date = DateField("Start date", validators=[DataRequired(message="Enter a start date.")])
    end_date = DateField("End date", validators=[Optional()])
    target_enrollment = IntegerField("Target enrollment", validators=[Optional(), NumberRange(min=0, max=10**7)],
                                     description="The goal: beneficiaries you aim to reach.")
    max_enrollment = IntegerField("Maximum enrollment", validators=[Optional(), NumberRange(min=0, max=10**7)],
                                  description="Hard cap on active + completed beneficiaries. Blank: no cap.")
    waitlist_enabled = BooleanField("Waitlist when full")
    target_volunteers = IntegerField("Target volunteers", validators=[Optional(), NumberRange(min=0, max=10**7)])
    currency = StringField("Currency", default="EUR", validators=[DataRequired(), Length(min=3, max=3)],
                           description="ISO 4217 code, e.g. EUR, NOK.")
    budget_allocated = PlainDecimalField("Budget allocated", **MONEY, description="Blank: no budget limit.")
    seat_price = PlainDecimalField("Seat price", **MONEY, description="Cost of one beneficiary seat.")
    internal_code = StringField("Internal code", validators=[Optional(), Length(max=100)],
                                description="Your company's own project code.")
    tags = StringField("Tags", validators=[Optional(), Length(max=1100)], description="Comma-separated.")

    def values(self) -> dict:
        return {
            "name": self.name.data, "description": self.description.data or "", "start_date": self.start_date.data,
            "end_date": self.end_date.data, "target_enrollment": self.target_enrollment.data,
            "max_enrollment": self.max_enrollment.data, "waitlist_enabled": bool(self.waitlist_enabled.data),
            "target_volunteers": self.target_volunteers.data, "currency": (self.currency.data or "").upper(),
            "budget_allocated": to_minor_units(self.budget_allocated.data),
            "seat_price": to_minor_units(self.seat_price.data), "internal_code": self.internal_code.data or None,
            "tags": [t.strip() for t in (self.tags.data or "").split(",") if t.strip()],
        }


class NewCampaignForm(CampaignFieldsMixin, FlaskForm):
    program_id = SelectField("Program", coerce=coerce_id)
    company_id = SelectField("Company", coerce=coerce_id)
    key = StringField("Key", validators=[Optional(), Length(max=100)],
                      description="Leave blank to generate it from the name.")
    overrides_json = HiddenField()


class EditCampaignForm(CampaignFieldsMixin, VersionedActionForm):
    pass


class DropForm(VersionedActionForm):
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class BulkForm(FlaskForm):
    enrollment_ids = SelectMultipleField("Enrollments", coerce=coerce_id, validate_choice=False)
    # "All on this page" without JavaScript: the box, and the page's selectable ids it stands for.
    all_on_page = BooleanField("Select all on this page")
    page_ids = SelectMultipleField(coerce=coerce_id, validate_choice=False)
    action = SelectField("Action", choices=[], validate_choice=False)
    reason = StringField("Reason for dropping", validators=[Optional(), Length(max=500)])
