from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.auth.models import ROLE_LABELS
from portal.forms import choices, coerce_id


class SignInForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."), Length(max=256)])


class CompanyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=255)])
    key = StringField("Key", validators=[Optional(), Length(max=100)],
                      description="Leave blank to generate it from the name. It cannot change later.")
    country = SelectField("Country", validators=[Optional()])
    industry = StringField("Industry", validators=[Optional(), Length(max=100)])


class UserForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(message="Enter an e-mail."), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(message="Enter a name."), Length(max=255)])
    role = SelectField("Role", choices=choices(ROLE_LABELS.items()))
    company_id = SelectField("Company", coerce=coerce_id,
                             description="Required for company admins.")
    password = PasswordField("Initial password", validators=[DataRequired(message="Enter a password."), Length(max=256)],
                             description="At least 10 characters. Share it privately.")


class VersionedActionForm(FlaskForm):
    """A button that changes a versioned row: carries the version the user saw."""

    lock_version = HiddenField()

    def expected_version(self) -> int | None:
        return int(self.lock_version.data) if (self.lock_version.data or "").isdigit() else None


class ResetPasswordForm(VersionedActionForm):
    password = PasswordField("New password", validators=[DataRequired(message="Enter a password."), Length(max=256)],
                             description="At least 10 characters. The user's open sessions end.")


class PageForm(FlaskForm):
    class Meta:
        csrf = False

    after = IntegerField(validators=[Optional()])
