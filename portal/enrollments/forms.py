"""Forms of the enroll and participants screens. They read what was typed with the participant field
rules (:mod:`portal.enrollments.participant_fields`: the year-of-birth range, languages as
"uk, en"); the rest (unique e-mail, ISO codes, stale edits) is checked by
:func:`portal.enrollments.operations.update_participant`."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.auth.forms import VersionedActionForm
from portal.beneficiaries.forms import TEXT, country_choices
from portal.enrollments.models import DEFAULT_LEGAL_BASIS
from portal.enrollments.participant_fields import (
    FieldProblem,
    clean_year_of_birth,
    parse_languages,
    year_of_birth_bounds,
)
from portal.forms import LocalDateField, choices, coerce_id
from portal.i18n import _l, _lp
from portal.privacy.consent import LEGAL_BASIS_LABELS

SEARCH_FIELDS = {
    "any": _l("Name, or exact e-mail / reference"),
    "email": _l("E-mail starts with"),
    "external_ref": _l("External reference starts with"),
}


class YearOfBirth:
    """The participant rule for a year of birth (1900 to this year) as a form validator. The
    bounds are read when a form is built, so they also become the input's min and max
    attributes and never freeze at the year the server started."""

    @property
    def field_flags(self) -> dict[str, int]:
        low, high = year_of_birth_bounds()
        return {"min": low, "max": high}

    def __call__(self, form: Any, field: Any) -> None:
        if field.data is None:
            return
        try:
            clean_year_of_birth(field.data)
        except FieldProblem as exc:
            raise ValidationError(str(exc)) from None


class ParticipantForm(VersionedActionForm):
    display_name = StringField(_lp("person", "Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)],
                               **TEXT)
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)], **TEXT,
                        description=_l("Optional. Unique: no two participants share an address (case does not "
                                       "matter)."))
    year_of_birth = IntegerField(_l("Year of birth"), validators=[Optional(), YearOfBirth()])
    languages = StringField(_l("Languages"), validators=[Optional(), Length(max=300)], **TEXT,
                            description=_l("ISO 639-1 codes separated by commas, e.g. uk, en."))
    country = SelectField(_l("Country"), validators=[Optional()])
    external_ref = StringField(_l("External reference"), validators=[Optional(), Length(max=100)], **TEXT,
                               description=_l("Optional and unique, e.g. kintell:8812."))
    company_id = SelectField(_l("Company"), coerce=coerce_id, validators=[Optional()],
                             description=_l("Set for a company's employees who volunteer."))
    is_enabled = BooleanField(_l("Can be enrolled"), description=_l("Clear to deactivate: no new enrollments."))

    def __init__(self, *args: Any, companies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()
        self.company_id.choices = choices([("", _l("— none —")), *companies])

    def fill(self, participant: Any) -> None:
        """Show a stored participant (languages as text, blanks for missing values)."""
        self.display_name.data = participant.display_name
        self.email.data = participant.email or ""
        self.year_of_birth.data = participant.year_of_birth
        self.languages.data = ", ".join(participant.languages or [])
        self.country.data = participant.country or ""
        self.external_ref.data = participant.external_ref or ""
        self.company_id.data = participant.company_id
        self.is_enabled.data = participant.is_enabled
        self.lock_version.data = str(participant.lock_version)

    def values(self) -> dict[str, Any]:
        return {
            "display_name": self.display_name.data or "",
            "email": self.email.data or None,
            "year_of_birth": self.year_of_birth.data,
            "languages": parse_languages(self.languages.data),
            "country": self.country.data or None,
            "external_ref": self.external_ref.data or None,
            "company_id": self.company_id.data,
            "is_enabled": bool(self.is_enabled.data),
        }


class EnrollForm(FlaskForm):
    """Enroll one participant: pick an existing one (``participant_id``) or enter one. The
    same participant-field rules as everywhere (year of birth, languages, country select)."""

    participant_id = HiddenField()
    role = SelectField(_l("Role"), choices=[])
    display_name = StringField(_lp("person", "Name"), validators=[Optional(), Length(max=255)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    external_ref = StringField(_l("External reference"), validators=[Optional(), Length(max=100)],
                               description=_l("e.g. kintell:8812"))
    year_of_birth = IntegerField(_l("Year of birth"), validators=[Optional(), YearOfBirth()])
    languages = StringField(_l("Languages"), validators=[Optional(), Length(max=100)],
                            description=_l("ISO 639-1 codes separated by commas, e.g. uk, en."))
    country = SelectField(_l("Country"), validators=[Optional()])
    # The legal basis of this enrollment (SPEC §2.12; rules in portal.privacy.consent).
    legal_basis = SelectField(_l("Legal basis"), choices=choices(LEGAL_BASIS_LABELS.items()),
                              default=DEFAULT_LEGAL_BASIS,
                              description=_l("Why the portal may hold this person's data for the program."))
    consent_given_on = LocalDateField(_l("Consent given on"), validators=[Optional()],
                                 description=_l("Required for consent: the day the person agreed."))
    # Which button was pressed. "Check" (shown without JavaScript; htmx checks on every change)
    # only shows the outlook; "Enroll and add another" comes back to an empty form after saving.
    check = SubmitField(_l("Check"))
    add_another = SubmitField(_l("Enroll and add another"))

    PERSON_FIELDS = ("role", "display_name", "email", "external_ref", "year_of_birth", "languages", "country",
                     "legal_basis", "consent_given_on")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()

    def field_problems(self) -> list[str]:
        """Each field's errors as "Label: message", for the outlook (the fields show them too)."""
        return [f"{self[name].label.text}: {message}" for name in self.PERSON_FIELDS for message in self[name].errors]

    def legal_basis_values(self) -> dict[str, Any]:
        return {"legal_basis": self.legal_basis.data, "consent_given_on": self.consent_given_on.data}

    def language_list(self) -> list[str]:
        return parse_languages(self.languages.data)

    def new_participant(self) -> dict[str, Any]:
        """The typed-in participant, for :func:`portal.enrollments.intake.enroll_from_form`."""
        return {"display_name": self.display_name.data or "", "email": self.email.data or None,
                "external_ref": self.external_ref.data or None, "year_of_birth": self.year_of_birth.data,
                "languages": self.language_list(), "country": self.country.data or None}
