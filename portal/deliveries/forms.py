"""The delivery form of the enrollment page, and the void button's form. The kind choices
come from the enrollment's effective configuration (set by the view), never from code."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.auth.forms import VersionedActionForm
from portal.deliveries.kinds import ATTENDANCE_LABELS, kind_label
from portal.deliveries.operations import MAX_DURATION_MINUTES, MAX_NOTE_LENGTH, MAX_VOID_REASON, minutes_range
from portal.forms import LocalDateField, PlainDecimalField, choices, parse_id
from portal.i18n import _, _l

ATTENDANCE_CHOICES = choices([("", _l("— not a session —")), *ATTENDANCE_LABELS.items()])


class DeliveryFieldsMixin:
    # The choices are the program's kinds; an unknown one reaches the operation, whose message lists them.
    kind = SelectField(_l("Kind"), choices=[], validate_choice=False,
                       validators=[DataRequired(message=_l("Choose what happened."))])
    occurred_on = LocalDateField(_l("Date"), validators=[DataRequired(message=_l("Enter the date it happened."))])
    occurred_time = TimeField(_l("Time"), validators=[Optional()], description=_l("Optional."))
    quantity = PlainDecimalField(_l("Quantity"), places=3, default=1, validators=[Optional()],
                                 description=_l("How many (1 for one session). Up to 3 decimals."))
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[
        Optional(), NumberRange(min=0, max=MAX_DURATION_MINUTES, message=minutes_range())])
    attendance = SelectField(_l("Attendance"), choices=ATTENDANCE_CHOICES, validate_choice=False,
                             description=_l("For sessions only: only “present” counts."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_NOTE_LENGTH)],
                         description=_l("For the program team only; no e-mail addresses or phone numbers."))

    def set_kinds(self, kinds: list[str]) -> None:
        self.kind.choices = choices([("", _("Choose…")), *((k, kind_label(k)) for k in kinds)])

    def values(self, *, with_note: bool) -> dict:
        values = {"kind": self.kind.data or None, "occurred_on": self.occurred_on.data,
                  "occurred_time": self.occurred_time.data, "quantity": self.quantity.data,
                  "duration_minutes": self.duration_minutes.data, "attendance": self.attendance.data or None}
        if with_note:
            values["note"] = self.note.data or None
        return values


NO_MATCH = ""


class DeliveryForm(DeliveryFieldsMixin, FlaskForm):
    # The enrollment's active matches (set by the view); an unknown id reaches the operation,
    # which refuses it at this field.
    match_id = SelectField(_l("Session of a match"), choices=[], validate_choice=False,
                           description=_l("A match's session is recorded on both enrollments of the pair."))

    def set_matches(self, matches: list[tuple[int, str]]) -> None:
        """``matches``: (match id, the partner's label for this viewer)."""
        self.match_id.choices = choices([(NO_MATCH, _("None: only this enrollment")),
                                         *((str(i), _("With %(partner)s", partner=label)) for i, label in matches)])

    def values(self, *, with_note: bool) -> dict:
        values = super().values(with_note=with_note)
        raw = (self.match_id.data or "").strip()
        if raw:  # a number that is not an id of ours is refused by the operation, at the field
            values["match_id"] = parse_id(raw) or raw
        return values


class CorrectDeliveryForm(DeliveryFieldsMixin, VersionedActionForm):
    pass


class VoidDeliveryForm(VersionedActionForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=MAX_VOID_REASON)])
