"""The tokens screen's forms: create (name, scopes, expiry) and revoke."""
from __future__ import annotations

from flask_babel import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import Length

from portal.forms import choices
from portal.i18n import _l, _n
from portal.tokens.operations import DEFAULT_EXPIRY_DAYS, EXPIRY_DAYS, NAME_MAX_LENGTH, SCOPES


class ScopeBoxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):  # noqa: ANN001
        pass  # an unknown scope is the operation's error, worded there


def _scope_choice(key: str) -> Markup:
    """"read — Read what your role may see: …": the code as it is (marked as code, it is not
    translated), what it allows in words, in the reader's language."""
    return Markup("<code>{}</code> — {}").format(key, SCOPES[key])


class NewTokenForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=NAME_MAX_LENGTH)],
                       description=_l("What uses it, e.g. “Kintell connector” or “HR report script”."))
    scopes = ScopeBoxes(_l("Scopes"), choices=choices([(key, LazyString(_scope_choice, key)) for key in SCOPES]),
                        description=_l("What the token may do. It never does more than your role allows."))
    expires_days = SelectField(_l("Expires after"),
                               choices=choices([(str(d), _n("%(num)s day", "%(num)s days", d)) for d in EXPIRY_DAYS]),
                               default=str(DEFAULT_EXPIRY_DAYS))

    def expiry(self) -> int | None:
        raw = self.expires_days.data or ""
        return int(raw) if raw.isdigit() and len(raw) <= 4 else None


class RevokeForm(FlaskForm):
    pass
