"""The webhook screens' forms: an endpoint (URL, description, event types, company filter,
enabled), and the bare forms of the buttons (test event, enable/disable, rotate, delete)."""
from __future__ import annotations

from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length

from portal.forms import choices, parse_id
from portal.i18n import _l
from portal.webhooks.addresses import MAX_URL_LENGTH
from portal.webhooks.events import EVENT_TYPES, type_label
from portal.webhooks.operations import DESCRIPTION_MAX_LENGTH


class EventTypeBoxes(SelectMultipleField):
    def pre_validate(self, form):  # noqa: ANN001
        pass  # an unknown type is the operation's error, worded there


class EndpointForm(FlaskForm):
    url = StringField(_l("URL"), validators=[Length(max=MAX_URL_LENGTH)],
                      description=_l("Where the portal POSTs each event: https:// and a public address."))
    description = StringField(_l("Description"), validators=[Length(max=DESCRIPTION_MAX_LENGTH)],
                              description=_l("What receives them, e.g. “Kintell connector” (optional)."))
    event_types = EventTypeBoxes(_l("Events"), choices=choices([(t, LazyString(type_label, t)) for t in EVENT_TYPES]))
    company_id = SelectField(_l("Company"), choices=[], validate_choice=False,  # an unknown id: the operation's error
                             description=_l("Only this company's events, or every company's."))
    enabled = BooleanField(_l("Enabled: send events to this endpoint"), default=True)
    lock_version = HiddenField()

    def __init__(self, *args, company_choices: list[tuple[int, str]] = (), **kwargs):  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.company_id.choices = choices([("", _l("All companies"))] + [(str(i), n) for i, n in company_choices])

    def chosen_company(self) -> int | None:
        if not self.company_id.data or self.company_id.data == "None":
            return None
        return parse_id(self.company_id.data) or 0  # 0: no such company, refused by the operation

    def expected_version(self) -> int | None:
        raw = self.lock_version.data or ""
        return int(raw) if raw.isdigit() and len(raw) <= 9 else None

    def values(self) -> dict:
        return {"url": self.url.data or "", "description": self.description.data or "",
                "event_types": list(self.event_types.data or []), "company_id": self.chosen_company()}


class ButtonForm(FlaskForm):
    """The CSRF token of a button that posts (test event, rotate, delete)."""


class EnabledForm(FlaskForm):
    enabled = HiddenField()
