from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.auth.forms import VersionedActionForm
from portal.configuration.json_input import parse_json_document
from portal.errors import ConfigInvalid
from portal.forms import choices
from portal.i18n import _l
from portal.program_templates.models import CATEGORY_LABELS

SDG_LABELS = {
    1: _l("No poverty"), 2: _l("Zero hunger"), 3: _l("Good health"), 4: _l("Quality education"),
    5: _l("Gender equality"), 6: _l("Clean water"), 7: _l("Clean energy"), 8: _l("Decent work"),
    9: _l("Industry & innovation"), 10: _l("Reduced inequalities"), 11: _l("Sustainable cities"),
    12: _l("Responsible consumption"), 13: _l("Climate action"), 14: _l("Life below water"),
    15: _l("Life on land"), 16: _l("Peace & justice"), 17: _l("Partnerships"),
}
START_FROM = {"": _l("Blank template"), "mentorship": _l("Mentorship master"),
              "language": _l("Language practice master"), "buddy": _l("Buddy integration master")}


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NewTemplateForm(FlaskForm):
    start_from = SelectField(_l("Start from"), choices=choices(START_FROM.items()),
                             description=_l("A master template copies its full schema and defaults."))
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)])
    key = StringField(_l("Key"), validators=[Optional(), Length(max=100)],
                      description=_l("Leave blank to generate it from the name. It cannot change later."))
    category = SelectField(_l("Category"), choices=choices(CATEGORY_LABELS.items()))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])


class TemplateDetailsForm(VersionedActionForm):
    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)])
    category = SelectField(_l("Category"), choices=choices(CATEGORY_LABELS.items()))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=1100)],
                       description=_l("Comma-separated, at most 20 tags of up to 50 characters."))
    sdg_goals = CheckboxesField(_l("SDG goals"), choices=choices((n, _l("%(goal)s · %(name)s", goal=n, name=label))
                                                                for n, label in SDG_LABELS.items()),
                                coerce=int, validate_choice=True)

    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags.data or "").split(",") if t.strip()]


def _json_object(form: FlaskForm, field: Any) -> None:
    """A JSON object the portal can store (portal.configuration.limits.document_problems): every problem at the field,
    each with its JSON path."""
    if not (field.data or "").strip():
        if field.flags.required:
            raise ValidationError(_l("Enter a JSON object."))
        return
    try:
        value = parse_json_document(field.data, field.name)
    except ConfigInvalid as exc:
        *others, last = [str(_l("%(path)s: %(message)s", path=p.path, message=p.message)) if p.path
                         else str(p.message) for p in exc.problems]
        field.errors.extend(others)  # WTForms keeps one message per ValidationError
        raise ValidationError(last) from None
    if not isinstance(value, dict):
        raise ValidationError(_l("Enter a JSON object ({ … })."))


class TemplateSchemaForm(VersionedActionForm):
    config_schema = TextAreaField(_l("Configuration schema (JSON Schema 2020-12)"),
                                  validators=[DataRequired(message=_l("Enter a JSON object.")), _json_object],
                                  description=_l("Defaults must still validate against the new schema."))
    ui_schema = TextAreaField(_l("UI schema (labels, help, order)"), validators=[Optional(), _json_object],
                              description=_l('Optional, e.g. {"ui:order": ["session", "matching"]}.'))

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
