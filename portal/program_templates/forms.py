from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.auth.forms import VersionedActionForm
from portal.configuration.json_input import parse_json_document
from portal.errors import ConfigInvalid
from portal.forms import choices
from portal.program_templates.models import CATEGORY_LABELS

SDG_LABELS = {
    1: "No poverty", 2: "Zero hunger", 3: "Good health", 4: "Quality education", 5: "Gender equality",
    6: "Clean water", 7: "Clean energy", 8: "Decent work", 9: "Industry & innovation", 10: "Reduced inequalities",
    11: "Sustainable cities", 12: "Responsible consumption", 13: "Climate action", 14: "Life below water",
    15: "Life on land", 16: "Peace & justice", 17: "Partnerships",
}
START_FROM = {"": "Blank template", "mentorship": "Mentorship master", "language": "Language practice master",
              "buddy": "Buddy integration master"}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NewTemplateForm(FlaskForm):
    start_from = SelectField("Start from", choices=choices(START_FROM.items()),
                             description="A master template copies its full schema and defaults.")
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=255)])
    key = StringField("Key", validators=[Optional(), Length(max=100)],
                      description="Leave blank to generate it from the name. It cannot change later.")
    category = SelectField("Category", choices=choices(CATEGORY_LABELS.items()))
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])


class TemplateDetailsForm(VersionedActionForm):
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=255)])
    category = SelectField("Category", choices=choices(CATEGORY_LABELS.items()))
    description = TextAreaField("Description", validators=[Optional(), Length(max=5000)])
    tags = StringField("Tags", validators=[Optional(), Length(max=1100)],
                       description="Comma-separated, at most 20 tags of up to 50 characters.")
    sdg_goals = CheckboxesField("SDG goals", choices=choices((n, f"{n} · {label}") for n, label in SDG_LABELS.items()),
                                coerce=int, validate_choice=True)

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags.data or "").split(",") if t.strip()]


def _json_object(form: FlaskForm, field: Any) -> None:
    """A JSON object the portal can store (portal.configuration.limits.document_problems): every problem at the field,
    each with its JSON path."""
    if not (field.data or "").strip():
        if field.flags.required:
            raise ValidationError("Enter a JSON object.")
        return
    try:
        value = parse_json_document(field.data, field.name)
    except ConfigInvalid as exc:
        *others, last = [f"{p.path}: {p.message}" if p.path else p.message for p in exc.problems]
        field.errors.extend(others)  # WTForms keeps one message per ValidationError
        raise ValidationError(last) from None
    if not isinstance(value, dict):
        raise ValidationError("Enter a JSON object ({ … }).")


class TemplateSchemaForm(VersionedActionForm):
    config_schema = TextAreaField("Configuration schema (JSON Schema 2020-12)",
                                  validators=[DataRequired(message="Enter a JSON object."), _json_object],
                                  description="Defaults must still validate against the new schema.")
    ui_schema = TextAreaField("UI schema (labels, help, order)", validators=[Optional(), _json_object],
                              description='Optional, e.g. {"ui:order": ["session", "matching"]}.')

    def parsed(self) -> tuple[dict, dict | None]:
        """The two documents, once the form has validated."""
        ui = (self.ui_schema.data or "").strip()
        return (parse_json_document(self.config_schema.data, "config_schema"),
                parse_json_document(ui, "ui_schema") if ui else None)


class DefaultsForm(VersionedActionForm):
    """CSRF and version for the generated defaults form (the fields come from the schema)."""


class CompareForm(FlaskForm):
    class Meta:
        csrf = False

    base = HiddenField()
    other = HiddenField()
