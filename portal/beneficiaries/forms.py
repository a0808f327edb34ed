"""Beneficiary group forms. The form checks shapes (numbers, dates, lengths); the
operations check every rule, privacy included, so the seed, the CLI and these forms
share one path."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.auth.forms import VersionedActionForm
from portal.beneficiaries.models import GROUP_TYPE_LABELS, LANGUAGE_REQUIREMENT_LABELS
from portal.forms import LocalDateField, choices
from portal.i18n import _l
from portal.program_templates.forms import CheckboxesField
from portal.program_templates.models import CATEGORY_LABELS
from portal.reference import countries, languages


def clean_text(value: Any) -> Any:
    """Strip surrounding space and drop control characters (a NUL byte cannot be stored)."""
    if not isinstance(value, str):
        return value
    return "".join(ch for ch in value if ch.isprintable() or ch in "\n\t").strip()


def split_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]


def language_codes(text: str | None) -> list[str]:
    """ISO 639-1 codes from "uk, en" (an English language name such as "Ukrainian" is
    taken as its code). Unknown entries pass through for the operation to name."""
    by_name = {name.lower(): code for code, name in languages().items()}
    return [by_name.get(part.lower(), part.lower()) for part in split_list(text)]


def language_filter_choices(in_use: set[str] = frozenset()) -> list[tuple[str, list[tuple[str, str]]]]:
    """The language filter's option groups: "In use" (languages some group works in) first,
    then every other language; each (code, name) by name, without pycountry's qualifiers
    ("Swahili (macrolanguage)" → "Swahili") so the filter stays narrow."""
    named = sorted(((code, name.split(" (")[0]) for code, name in languages().items()), key=lambda item: item[1])
    groups = [(_l("In use"), [c for c in named if c[0] in in_use]),
              (_l("Other languages"), [c for c in named if c[0] not in in_use])]
    return [(label, options) for label, options in groups if options]


def country_choices():
    return choices([("", _l("— choose a country —"))] + sorted(countries().items(), key=lambda c: c[1]))


TEXT = {"filters": [clean_text]}


class GroupFieldsMixin:
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)], **TEXT,
                       description=_l("Describe the population, e.g. “Ukrainian refugees in Norway, 2026 cohort”."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)], **TEXT,
                                description=_l("Who the group is and what they need. No names, contact details "
                                               "or dates of birth."))
    group_type = SelectField(_l("Group type"), choices=choices(GROUP_TYPE_LABELS.items()))
    country = SelectField(_l("Country"), validators=[DataRequired(message=_l("Choose a country."))])
    region = StringField(_l("Region"), validators=[Optional(), Length(max=100)], **TEXT,
                         description=_l("Optional. A region or county, nothing finer than a city."))
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)], **TEXT)
    age_min = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(
        min=0, max=120, message=_l("Ages are between 0 and 120."))])
    age_max = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(
        min=0, max=120, message=_l("Ages are between 0 and 120."))])
    languages = StringField(_l("Working languages"), validators=[Optional(), Length(max=300)], **TEXT,
                            description=_l("ISO 639-1 codes separated by commas, e.g. uk, en, nb (at most 10)."))
    language_requirement = SelectField(_l("Language requirement"), choices=choices(LANGUAGE_REQUIREMENT_LABELS.items()),
                                       description=_l("The level beneficiaries need in a working language."))
    eligible_categories = CheckboxesField(_l("Eligible program categories"), choices=choices(CATEGORY_LABELS.items()))
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=1100)], **TEXT,
                       description=_l("Comma-separated, at most 20 tags of up to 50 characters."))
    active_from = LocalDateField(_l("Active from"), validators=[Optional()])
    active_until = LocalDateField(_l("Active until"), validators=[Optional()])
    retention_months = IntegerField(_l("Retention period (months)"), validators=[Optional()],
                                    description=_l("Optional. Months after a participant's last enrollment in this "
                                                   "group ended before their identity is erased. Blank: kept until "
                                                   "someone asks for erasure."))

    def values(self) -> dict[str, Any]:
        """The operation's keyword arguments."""
        return {
            "name": self.name.data or "", "description": self.description.data or "",
            "group_type": self.group_type.data, "country": self.country.data or "",
            "region": self.region.data or None, "city": self.city.data or None,
            "age_min": self.age_min.data, "age_max": self.age_max.data,
            "languages": language_codes(self.languages.data),
            "language_requirement": self.language_requirement.data,
            "eligible_categories": list(self.eligible_categories.data or []),
            "tags": split_list(self.tags.data), "active_from": self.active_from.data,
            "active_until": self.active_until.data, "retention_months": self.retention_months.data,
        }

    def fill_from(self, group: Any) -> None:
        """Show a saved group's lists as the text the inputs take."""
        self.languages.data = ", ".join(group.languages or [])
        self.tags.data = ", ".join(group.tags or [])


class NewGroupForm(GroupFieldsMixin, FlaskForm):
    key = StringField(_l("Key"), validators=[Optional(), Length(max=100)], **TEXT,
                      description=_l("Leave blank to generate it from the name. It cannot change later."))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class EditGroupForm(GroupFieldsMixin, VersionedActionForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class StatusForm(VersionedActionForm):
    """An Activate / Deactivate / Archive button: the target and the version the user saw."""

    target = SelectField(choices=choices([("active", _l("Activate")), ("inactive", _l("Deactivate")),
                                          ("archived", _l("Archive"))]))


class LivePrivacyForm(FlaskForm):
    """The texts the live privacy check reads (CSRF travels in the HTMX header)."""

    name = StringField(**TEXT)
    description = StringField(**TEXT)
    tags = StringField(**TEXT)
