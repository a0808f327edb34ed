"""The tokens screen's forms: create (name, scopes, expiry) and revoke."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import Length

from portal.forms import choices
from portal.tokens.operations import DEFAULT_EXPIRY_DAYS, EXPIRY_DAYS, NAME_MAX_LENGTH, SCOPES


class ScopeBoxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):  # noqa: ANN001
        pass  # an unknown scope is the operation's error, worded there


class NewTokenForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=NAME_MAX_LENGTH)],
                       description="What uses it, e.g. “Kintell connector” or “HR report script”.")
    scopes = ScopeBoxes("Scopes", choices=choices([(key, f"{key} — {text}") for key, text in SCOPES.items()]),
                        description="What the token may do. It never does more than your role allows.")
    expires_days = SelectField("Expires after", choices=choices([(str(d), f"{d} days") for d in EXPIRY_DAYS]),
                               default=str(DEFAULT_EXPIRY_DAYS))

    def expiry(self) -> int | None:
        raw = self.expires_days.data or ""
        return int(raw) if raw.isdigit() and len(raw) <= 4 else None


class RevokeForm(FlaskForm):
    pass
