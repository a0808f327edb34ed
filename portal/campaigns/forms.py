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
from portal.i18n import _l

MONEY = {"places": 2, "validators": [Optional(), NumberRange(min=0, max=10**13, message=_l("Enter zero or more."))]}


def to_minor_units(amount: Decimal | None) -> int | None:
    """Major units from the form (12.50) to integer minor units (1250), exactly."""
    return None if amount is None else int((amount * 100).to_integral_value())


def from_minor_units(amount: int | None) -> Decimal | None:
    return None if amount is None else Decimal(amount) / 100


class CampaignFieldsMixin:
    name = StringField(_l("Campaign name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    start_date = DateField(_l("Start date"), validators=[DataRequired(message=_l("Enter a start date."))])
    end_date = DateField(_l("End date"), validators=[Optional()])
    target_enrollment = IntegerField(_l("Target enrollment"), validators=[Optional(), NumberRange(min=0, max=10**7)],
                                     description=_l("The goal: beneficiaries you aim to reach."))
    max_enrollment = IntegerField(_l("Maximum enrollment"), validators=[Optional(), NumberRange(min=0, max=10**7)],
                                  description=_l("Hard cap on active + completed beneficiaries. Blank: no cap."))
    waitlist_enabled = BooleanField(_l("Waitlist when full"))
    target_volunteers = IntegerField(_l("Target volunteers"), validators=[Optional(), NumberRange(min=0, max=10**7)])
    currency = StringField(_l("Currency"), default="EUR", validators=[DataRequired(), Length(min=3, max=3)],
                           description=_l("ISO 4217 code, e.g. EUR, NOK."))
    budget_allocated = PlainDecimalField(_l("Budget allocated"), **MONEY, description=_l("Blank: no budget limit."))
    seat_price = PlainDecimalField(_l("Seat price"), **MONEY, description=_l("Cost of one beneficiary seat."))
    internal_code = StringField(_l("Internal code"), validators=[Optional(), Length(max=100)],
                                description=_l("Your company's own project code."))
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=1100)], description=_l("Comma-separated."))

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
    program_id = SelectField(_l("Program"), coerce=coerce_id)
    company_id = SelectField(_l("Company"), coerce=coerce_id)
    key = StringField(_l("Key"), validators=[Optional(), Length(max=100)],
                      description=_l("Leave blank to generate it from the name."))
    overrides_json = HiddenField()


class EditCampaignForm(CampaignFieldsMixin, VersionedActionForm):
    pass


class DropForm(VersionedActionForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])


class BulkForm(FlaskForm):
    enrollment_ids = SelectMultipleField(_l("Enrollments"), coerce=coerce_id, validate_choice=False)
    # "All on this page" without JavaScript: the box, and the page's selectable ids it stands for.
    all_on_page = BooleanField(_l("Select all on this page"))
    page_ids = SelectMultipleField(coerce=coerce_id, validate_choice=False)
    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    reason = StringField(_l("Reason for dropping"), validators=[Optional(), Length(max=500)])
