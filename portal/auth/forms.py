from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.auth.models import ROLE_LABELS
from portal.forms import choices, coerce_id
from portal.i18n import _l, _lp


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("Enter your e-mail.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")), Length(max=256)])


class CompanyForm(FlaskForm):
    name = StringField(_lp("person", "Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)])
    key = StringField(_l("Key"), validators=[Optional(), Length(max=100)],
                      description=_l("Leave blank to generate it from the name. It cannot change later."))
    country = SelectField(_l("Country"), validators=[Optional()])
    industry = StringField(_l("Industry"), validators=[Optional(), Length(max=100)])


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("Enter an e-mail.")), Length(max=254)])
    name = StringField(_lp("person", "Name"), validators=[DataRequired(message=_l("Enter a name.")), Length(max=255)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    company_id = SelectField(_l("Company"), coerce=coerce_id,
                             description=_l("Required for company admins."))
    password = PasswordField(_l("Initial password"), validators=[DataRequired(message=_l("Enter a password.")), Length(max=256)],
                             description=_l("At least 10 characters. Share it privately."))


class VersionedActionForm(FlaskForm):
    """A button that changes a versioned row: carries the version the user saw."""

    lock_version = HiddenField()

    def expected_version(self) -> int | None:
        return int(self.lock_version.data) if (self.lock_version.data or "").isdigit() else None


class ResetPasswordForm(VersionedActionForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(message=_l("Enter a password.")), Length(max=256)],
                             description=_l("At least 10 characters. The user's open sessions end."))


class PageForm(FlaskForm):
    class Meta:
        csrf = False

    after = IntegerField(validators=[Optional()])
