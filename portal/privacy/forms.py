"""Forms of the privacy screens. The rules (what the typed confirmation must say, who may
withdraw what) live in the operations; these only carry what was typed."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length

from portal.auth.forms import VersionedActionForm
from portal.beneficiaries.forms import TEXT
from portal.forms import choices
from portal.i18n import _l
from portal.privacy.access import FORMATS
from portal.privacy.erasure import LOCAL_ERASE_WORD


class AccessForm(FlaskForm):
    """"Download JSON" / "Open the readable copy": the export is a logged action, so a post."""

    format = SelectField(_l("Format"), choices=choices((f, f) for f in FORMATS), default="json")


class EraseForm(FlaskForm):
    confirmation = StringField(_l("Type the participant's reference or %(word)s", word=LOCAL_ERASE_WORD),
                               validators=[Length(max=50)], **TEXT,
                               description=_l("This removes their identity for good; figures stay the same."))


class WithdrawConsentForm(VersionedActionForm):
    """The Withdraw consent button: carries the enrollment's version the user saw."""
