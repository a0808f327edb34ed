"""Beneficiary group forms. The form checks shapes (numbers, dates, lengths); the
operations check every rule, privacy included, so the seed, the CLI and these forms
share one path."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.auth.forms import VersionedActionForm
from portal.beneficiaries.models import GROUP_TYPES, LANGUAGE_REQUIREMENTS
from portal.forms import choices
from portal.program_templates.forms import CheckboxesField
from portal.program_templates.models import CATEGORY_LABELS
from portal.reference import countries, languages

GROUP_TYPE_LABELS = {t: t.replace("_", " ").capitalize() for t in GROUP_TYPES}
GROUP_TYPE_LABELS["women_in_tech"] = "Women in tech"
LANGUAGE_REQUIREMENT_LABELS = {
    "any": "Any level", "beginner": "Beginner", "conversational": "Conversational", "fluent": "Fluent",
}
assert set(LANGUAGE_REQUIREMENT_LABELS) == set(LANGUAGE_REQUIREMENTS)


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
    groups = [("In use", [c for c in named if c[0] in in_use]), ("Other languages", [c for c in named if c[0] not in in_use])]
    return [(label, options) for label, options in groups if options]


def country_choices():
    return choices([("", "— choose a country —")] + sorted(countries().items(), key=lambda c: c[1]))


TEXT = {"filters": [clean_text]}


class GroupFieldsMixin:
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=255)], **TEXT,
                       description="Describe the population, e.g. “Ukrainian refugees in Norway, 2026 cohort”.")
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)], **TEXT,
                                description="Who the group is and what they need. No names, contact details "
                                            "or dates of birth.")
    group_type = SelectField("Group type", choices=choices(GROUP_TYPE_LABELS.items()))
    country = SelectField("Country", validators=[DataRequired(message="Choose a country.")])
    region = StringField("Region", validators=[Optional(), Length(max=100)], **TEXT,
                         description="Optional. A region or county, nothing finer than a city.")
    city = StringField("City", validators=[Optional(), Length(max=100)], **TEXT)
    age_min = IntegerField("Minimum age", validators=[Optional(), NumberRange(min=0, max=120,
                                                                             message="Ages are between 0 and 120.")])
    age_max = IntegerField("Maximum age", validators=[Optional(), NumberRange(min=0, max=120,
                                                                             message="Ages are between 0 and 120.")])
    languages = StringField("Working languages", validators=[Optional(), Length(max=300)], **TEXT,
                            description="ISO 639-1 codes separated by commas, e.g. uk, en, nb (at most 10).")
    language_requirement = SelectField("Language requirement", choices=choices(LANGUAGE_REQUIREMENT_LABELS.items()),
                                       description="The level beneficiaries need in a working language.")
    eligible_categories = CheckboxesField("Eligible program categories", choices=choices(CATEGORY_LABELS.items()))
    tags = StringField("Tags", validators=[Optional(), Length(max=1100)], **TEXT,
                       description="Comma-separated, at most 20 tags of up to 50 characters.")
    active_from = DateField("Active from", validators=[Optional()])
    active_until = DateField("Active until", validators=[Optional()])
    retention_months = IntegerField("Retention period (months)", validators=[Optional()],
                                    description="Optional. Months after a participant's last enrollment in this group "
                                                "ended before their identity is erased. Blank: kept until someone "
                                                "asks for erasure.")

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
    key = StringField("Key", validators=[Optional(), Length(max=100)], **TEXT,
                      description="Leave blank to generate it from the name. It cannot change later.")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class EditGroupForm(GroupFieldsMixin, VersionedActionForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices()


class StatusForm(VersionedActionForm):
    """An Activate / Deactivate / Archive button: the target and the version the user saw."""

    target = SelectField(choices=choices([("active", "Activate"), ("inactive", "Deactivate"),
                                          ("archived", "Archive")]))


class LivePrivacyForm(FlaskForm):
    """The texts the live privacy check reads (CSRF travels in the HTMX header)."""

    name = StringField(**TEXT)
    description = StringField(**TEXT)
    tags = StringField(**TEXT)
