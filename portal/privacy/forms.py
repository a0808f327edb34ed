"""Forms of the privacy screens. The rules (what the typed confirmation must say, who may
withdraw what) live in the operations; these only carry what was typed."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from portal.auth.forms import VersionedActionForm
from portal.beneficiaries.forms import TEXT
from portal.forms import LocalDateField, choices
from portal.i18n import _l
from portal.privacy.access import FORMATS
from portal.privacy.erasure import LOCAL_ERASE_WORD
from portal.privacy.models import NOTE_MAX, REFERENCE_MAX
from portal.privacy.requests import KIND_LABELS


class AccessForm(FlaskForm):
    """"Download JSON" / "Open the readable copy": the export is a logged action, so a post."""

    format = SelectField(_l("Format"), choices=choices((f, f) for f in FORMATS), default="json")


class EraseForm(FlaskForm):
    confirmation = StringField(_l("Type the participant's reference or %(word)s", word=LOCAL_ERASE_WORD),
                               validators=[Length(max=50)], **TEXT,
                               description=_l("This removes their identity for good; figures stay the same."))


class WithdrawConsentForm(VersionedActionForm):
    """The Withdraw consent button: carries the enrollment's version the user saw."""


class RequestForm(FlaskForm):
    """Record a data-subject request received (the rules: :func:`portal.privacy.requests.clean_request`)."""

    kind = SelectField(_l("Request"), choices=choices(KIND_LABELS.items()), validate_choice=False)
    received_on = LocalDateField(_l("Received on"), validators=[Optional()],
                                 description=_l("The answer is due one month later."))
    reference = StringField(_l("Your reference (optional)"), validators=[Optional(), Length(max=REFERENCE_MAX)],
                            **TEXT, description=_l("A case number of your own; no names, e-mail addresses or phone "
                                                   "numbers."))


class CloseRequestForm(VersionedActionForm):
    note = TextAreaField(_l("How it was answered"), validators=[Optional(), Length(max=NOTE_MAX)], **TEXT,
                         description=_l("e.g. corrected the year of birth; no e-mail addresses or phone numbers."))
