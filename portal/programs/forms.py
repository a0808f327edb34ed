from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import FieldList, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.auth.forms import VersionedActionForm
from portal.configuration.json_input import parse_json_document
from portal.errors import ConfigInvalid
from portal.forms import LocalDateField, choices
from portal.i18n import _l
from portal.program_templates.forms import SDG_LABELS, CheckboxesField


class ProgramDetailsForm(FlaskForm):
    """Step 3 of the launch wizard (details); the configuration comes from the generated form."""

    name = StringField(_l("Program name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)])
    key = StringField(_l("Key"), validators=[Optional(), Length(max=100)],
                      description=_l("Leave blank to generate it from the name. It cannot change after creation."))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    start_date = LocalDateField(_l("Start date"), validators=[Optional()])
    end_date = LocalDateField(_l("End date"), validators=[Optional()])
    visibility = SelectField(_l("Visibility"), choices=choices([
        ("public", _l("Public — companies see it in the catalog")), ("private", _l("Private — not in the catalog"))]))
    extra_sdgs = CheckboxesField(_l("SDG goals"), coerce=int,
                                 choices=choices((n, _l("%(goal)s · %(name)s", goal=n, name=label))
                                                 for n, label in SDG_LABELS.items()),
                                 description=_l("The template's goals always apply; you may add more."))
    external_id = StringField(_l("External id"), validators=[Optional(), Length(max=100)],
                              description=_l("An id in a connected system, if any."))
    overrides_json = HiddenField()
    step = HiddenField()

    def validate_end_date(self, field):  # noqa: ANN001
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date must be on or after the start date."))

    def overrides(self) -> dict:
        try:
            value = parse_json_document(self.overrides_json.data or "{}", "overrides_json")
        except ConfigInvalid:
            return {}
        return value if isinstance(value, dict) else {}


class ConfigLayerForm(VersionedActionForm):
    """CSRF + version for a generated configuration form."""


class TransitionForm(VersionedActionForm):
    target = HiddenField()


class UpgradeForm(VersionedActionForm):
    template_id = HiddenField()
    # "Drop these overrides and upgrade" posts the paths the review listed, one per field.
    drop_override = FieldList(HiddenField(), max_entries=500)
    action = StringField()  # the pressed button's value; not a hidden field (hidden_tag would repeat it)

    def overrides_to_drop(self) -> list[str] | None:
        """The overrides the review said it drops, when that button was pressed (else None)."""
        if self.action.data != "drop":
            return None
        return [entry.data for entry in self.drop_override if isinstance(entry.data, str) and entry.data]
