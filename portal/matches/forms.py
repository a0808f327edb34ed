"""Forms of the match screens: each button posts one of these (CSRF included)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from portal.auth.forms import VersionedActionForm
from portal.forms import parse_id
from portal.i18n import _l


class ProposeForm(FlaskForm):
    """Propose a volunteer for a beneficiary (the Propose button of a suggestion)."""

    volunteer_enrollment_id = HiddenField()
    beneficiary_enrollment_id = HiddenField()

    def ids(self) -> tuple[int | None, int | None]:
        return parse_id(self.volunteer_enrollment_id.data), parse_id(self.beneficiary_enrollment_id.data)


class ConfirmMatchForm(VersionedActionForm):
    pass


class EndMatchForm(VersionedActionForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
