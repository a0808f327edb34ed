"""The attendance sheet of a campaign (SPEC §2.9, §4 "Deliveries and progress"): pick a date
and a session kind, then every active enrollment — or, where the campaign has matches, every
active match (volunteer + beneficiary) and the unmatched active beneficiaries — is a row
with present / excused / unexcused / not held. Saving records the whole sheet through
:func:`~portal.deliveries.batch.record_batch` in one transaction ("not held" rows are
skipped); each row's delivery carries the source id ``sheet:<campaign>:<date>:<kind>:<row>``,
so posting the same sheet again adds nothing.

Program managers take every row. A company admin sees only rows of its own volunteers'
enrollments, a matched beneficiary only as the company's pseudonym, and records its
volunteers' own sessions (a match's session is the program team's, as on the enrollment
page). Rows already recorded for the date and kind are shown as recorded, not offered again.
The rows are read with a constant number of statements, whatever their number.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from portal.campaigns.models import Campaign
from portal.campaigns.settings import campaign_config
from portal.db import db, transaction, utcnow
from portal.deliveries.batch import BatchRefused, record_batch
from portal.deliveries.kinds import ATTENDANCE_LABELS, campaign_kinds, is_session_kind, kind_label, kind_words
from portal.deliveries.models import ATTENDANCES, EXCUSED, PRESENT, UNEXCUSED, Delivery
from portal.deliveries.operations import (
    ACCEPTING_CAMPAIGN_STATUSES,
    MATCH_BY_PROGRAM_TEAM,
    MAX_DURATION_MINUTES,
    campaign_refusal,
    minutes_range,
)
from portal.deliveries.views import bp
from portal.enrollments.models import Enrollment
from portal.enrollments.privacy import participant_label
from portal.errors import DomainError
from portal.forms import LocalDateField, choices, parse_id
from portal.i18n import _, _l, ngettext, number, show_date
from portal.matches.models import ACTIVE, Match
from portal.tenancy import get_visible_or_404
from portal.web import redirect_to, render

NOT_HELD = "none"
CHOICES = (*ATTENDANCE_LABELS.items(), (NOT_HELD, _l("Not held")))
SHEET_FIELDS = ("occurred_on", "kind", "duration_minutes")  # the same for every row: shown once, at the field
MAX_ROWS_POSTED = 2_000
_ROW_FIELD = re.compile(r"row-([em])(\d{1,10})")
RECORDED_HERE = _l("Recorded on this sheet.")
RECORDED_ELSEWHERE = _l("Recorded on the enrollment page or by an import.")


class SheetForm(FlaskForm):
    """The sheet's own fields; the rows' radio groups are read with plain code (one WTForms
    field per row would cost more than the save)."""

    occurred_on = LocalDateField(_l("Date"), validators=[Optional()])
    kind = SelectField(_l("Session kind"), choices=[], validate_choice=False)
    duration_minutes = IntegerField(_l("Duration (minutes)"), validators=[
        Optional(), NumberRange(min=0, max=MAX_DURATION_MINUTES, message=minutes_range())],
        description=_l("Optional: the same for every row."))


@dataclass
class SheetRow:
    key: str  # "e<enrollment id>" or "m<match id>"
    people: list[tuple[str, str]]  # (role, name or pseudonym)
    enrollment_id: int  # the enrollment whose delivery is the row's (a match: the beneficiary)
    match_id: int | None = None
    enrollment_url: str | None = None
    recordable: bool = True
    reason: str | None = None  # why the viewer cannot record it
    recorded: str | None = None  # what was already recorded for the date and kind (its attendance, or "recorded")
    recorded_here: bool = False  # by this sheet (the same row posted again adds nothing)
    chosen: str = NOT_HELD
    errors: list[str] = field(default_factory=list)

    @property
    def field_name(self) -> str:
        return f"row-{self.key}"

    @property
    def label(self) -> str:
        names = [name for _role, name in self.people]
        if len(names) == 2:
            return _("%(volunteer)s and %(beneficiary)s", volunteer=names[0], beneficiary=names[1])
        return ", ".join(names)

    @property
    def recorded_label(self) -> str:
        """What was recorded, as the row shows it: "Present", "Excused", … or "Recorded"."""
        known = ATTENDANCE_LABELS.get(self.recorded or "")
        return str(known) if known is not None else _("Recorded")


@dataclass
class Sheet:
    campaign: Campaign
    form: SheetForm
    kinds: list[str]
    day: date | None
    kind: str | None
    rows: list[SheetRow] = field(default_factory=list)
    paired: bool = False
    accepting: bool = True
    problems: list[str] = field(default_factory=list)  # sheet-level messages (the error summary)
    saved: str | None = None  # the message after an htmx save

    @property
    def recordable(self) -> int:
        return sum(1 for row in self.rows if row.recordable and row.recorded is None)


def sheet_source_id(campaign_id: int, day: date, kind: str, key: str) -> str:
    return f"sheet:{campaign_id}:{day.isoformat()}:{kind}:{key}"


def _default_duration(config: dict[str, Any]) -> int | None:
    session = config.get("session") if isinstance(config, dict) else None
    minutes = session.get("defaultDurationMinutes") if isinstance(session, dict) else None
    return minutes if isinstance(minutes, int) and not isinstance(minutes, bool) \
        and 0 <= minutes <= MAX_DURATION_MINUTES else None


def _own_volunteer(enrollment: Enrollment) -> bool:
    participant = enrollment.participant
    return enrollment.role == "volunteer" and participant.company_id is not None \
        and participant.company_id == current_user.company_id


def build_rows(campaign: Campaign, day: date, kind: str) -> tuple[list[SheetRow], bool]:
    """The sheet's rows for the viewer, and whether the campaign works in pairs. Three
    queries: the active enrollments with their people, the active matches, and what was
    already recorded for ``day`` and ``kind``."""
    enrollments = {e.id: e for e in db.session.scalars(
        sa.select(Enrollment).options(joinedload(Enrollment.participant))
        .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "active"))}
    matches = [m for m in db.session.execute(
        sa.select(Match.id, Match.volunteer_enrollment_id, Match.beneficiary_enrollment_id)
        .where(Match.campaign_id == campaign.id, Match.status == ACTIVE).order_by(Match.id)).all()
        if m.volunteer_enrollment_id in enrollments and m.beneficiary_enrollment_id in enrollments]
    recorded = {}
    for enrollment_id, attendance, source, source_id in db.session.execute(
            sa.select(Delivery.enrollment_id, Delivery.attendance, Delivery.source, Delivery.source_id)
            .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
            .where(Enrollment.campaign_id == campaign.id, Enrollment.status == "active", Delivery.kind == kind,
                   Delivery.occurred_on == day, Delivery.voided_at.is_(None)).order_by(Delivery.id)):
        recorded.setdefault(enrollment_id, (attendance, source, source_id))
    pm = current_user.is_program_manager

    def label(enrollment: Enrollment) -> str:
        return participant_label(current_user, enrollment.participant)

    def url(enrollment: Enrollment) -> str:
        return url_for("enrollments.detail", campaign_id=campaign.id, enrollment_id=enrollment.id)

    rows: list[SheetRow] = []
    if matches:
        matched: set[int] = set()
        for match_id, volunteer_id, beneficiary_id in matches:
            matched.add(beneficiary_id)
            volunteer, beneficiary = enrollments[volunteer_id], enrollments[beneficiary_id]
            if not pm and not _own_volunteer(volunteer):
                continue
            rows.append(SheetRow(key=f"m{match_id}", match_id=match_id, enrollment_id=beneficiary_id,
                                 people=[(_("Volunteer"), label(volunteer)), (_("Beneficiary"), label(beneficiary))],
                                 enrollment_url=url(beneficiary if pm else volunteer), recordable=pm,
                                 reason=None if pm else MATCH_BY_PROGRAM_TEAM))
        singles = [e for e in enrollments.values() if e.role == "beneficiary" and e.id not in matched]
    else:
        singles = list(enrollments.values())
    for enrollment in singles:
        if not pm and not _own_volunteer(enrollment):
            continue
        role = _("Volunteer") if enrollment.role == "volunteer" else _("Beneficiary")
        rows.append(SheetRow(key=f"e{enrollment.id}", enrollment_id=enrollment.id, people=[(role, label(enrollment))],
                             enrollment_url=url(enrollment)))
    for row in rows:
        found = recorded.get(row.enrollment_id)
        if found is not None:
            attendance, source, source_id = found
            row.recorded = attendance or "recorded"
            row.recorded_here = source == "manual" and source_id == sheet_source_id(campaign.id, day, kind, row.key)
            row.reason = RECORDED_HERE if row.recorded_here else RECORDED_ELSEWHERE
            row.chosen = attendance or NOT_HELD
    rows.sort(key=lambda r: (r.label.casefold(), r.key))
    return rows, bool(matches)


def _sheet(campaign: Campaign, form: SheetForm, *, day: date | None, kind: str | None) -> Sheet:
    config = campaign_config(campaign)
    kinds = [k for k in campaign_kinds(campaign) if is_session_kind(k)]
    form.kind.choices = choices([(k, kind_label(k)) for k in kinds])
    sheet = Sheet(campaign=campaign, form=form, kinds=kinds, day=day, kind=kind,
                  accepting=campaign.status in ACCEPTING_CAMPAIGN_STATUSES)
    if form.duration_minutes.data is None and not form.duration_minutes.raw_data:
        form.duration_minutes.data = _default_duration(config)
    if day is not None and kind in kinds:
        sheet.rows, sheet.paired = build_rows(campaign, day, kind)
    return sheet


def _chosen(form: SheetForm, kinds_source: Campaign) -> tuple[date | None, str | None]:
    """The date and kind asked for: today and the first session kind unless given; a date
    that is not one, or a kind that is not a session kind of this campaign, is an error at
    its field."""
    kinds = [k for k in campaign_kinds(kinds_source) if is_session_kind(k)]
    raw_day = (form.occurred_on.raw_data or [None])[0]
    day = form.occurred_on.data if raw_day else utcnow().date()
    if raw_day and day is None:
        form.occurred_on.errors = [_("Enter a date such as 2026-03-14.")]
    elif day is not None and form.occurred_on.data is None:
        form.occurred_on.data = day
    kind = form.kind.data or (kinds[0] if kinds else None)
    if form.kind.data and kind not in kinds:
        form.kind.errors = [_("Choose a session kind of this program: %(kinds)s (attendance is taken for sessions).",
                              kinds=", ".join(kind_label(k) for k in kinds)) if kinds else
                            _("Choose a session kind of this program: none (attendance is taken for sessions).")]
        kind = None
    form.kind.data = kind
    return day, kind


def marked_text(attendance: str, n: int) -> str:
    """How many were marked so: "2 present", "1 excused"."""
    if attendance == PRESENT:
        return ngettext("%(count)s present", "%(count)s present", n, count=number(n))
    if attendance == EXCUSED:
        return ngettext("%(count)s excused", "%(count)s excused", n, count=number(n))
    if attendance == UNEXCUSED:
        return ngettext("%(count)s unexcused", "%(count)s unexcused", n, count=number(n))
    return f"{number(n)} {attendance}"


def _page(sheet: Sheet, status_code: int = 200):
    return render("deliveries/attendance.html", block="sheet", sheet=sheet, campaign=sheet.campaign,
                  choices=CHOICES, closed_note=campaign_refusal(sheet.campaign.status), status_code=status_code)


@bp.get("/<int:campaign_id>/attendance")
@login_required
def attendance(campaign_id: int):
    """The sheet for a date (default today) and a session kind (default the first)."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = SheetForm(formdata=request.args, meta={"csrf": False})
    day, kind = _chosen(form, campaign)
    return _page(_sheet(campaign, form, day=day, kind=kind))


def _posted_rows() -> tuple[list[tuple[str, str]], list[str]]:
    """(row key, attendance) of every row not marked "not held", in the order posted."""
    posted, problems = [], []
    for name, value in request.form.items(multi=False):
        found = _ROW_FIELD.fullmatch(name)
        if found is None or value in ("", NOT_HELD):
            continue
        posted.append((found.group(1) + found.group(2), value))
    if len(posted) > MAX_ROWS_POSTED:
        problems.append(ngettext("Save at most %(count)s row at once.", "Save at most %(count)s rows at once.",
                                 MAX_ROWS_POSTED, count=number(MAX_ROWS_POSTED)))
        posted = []
    return posted, problems


def _item(key: str, value: str, day: date, kind: str, duration: int | None, campaign_id: int) -> dict[str, Any]:
    number = parse_id(key[1:])
    item: dict[str, Any] = {"kind": kind, "occurred_on": day, "quantity": 1, "duration_minutes": duration,
                            "attendance": value, "source_id": sheet_source_id(campaign_id, day, kind, key)}
    if key[0] == "m":
        item["match_id"] = number or -1
    else:
        item["enrollment_id"] = number or -1
    return item


def _place_errors(sheet: Sheet, keys: list[str], exc: BatchRefused) -> None:
    """Each refused item's messages at its row; those about the sheet's own fields (date,
    kind, duration — the same for every row) once, at the field; a row not on the sheet in
    the summary, named by its key."""
    by_key = {row.key: row for row in sheet.rows}
    form = sheet.form
    for index, problems in sorted(exc.errors.items()):
        key = keys[index]
        for name, messages in problems.items():
            if name in SHEET_FIELDS:
                target = getattr(form, name)
                target.errors = list(target.errors) + [m for m in messages if m not in target.errors]
                continue
            if name == "source_id" and key in by_key:
                messages = [_("Already recorded for %(date)s with other details: correct or void it on the "
                              "enrollment page to change it.", date=show_date(sheet.day))]
            row = by_key.get(key)
            if row is not None:
                row.errors.extend(m for m in messages if m not in row.errors)
            else:
                for message in messages:
                    if key.startswith("m"):
                        text = _("A row for match #%(id)s, which is not on this sheet: %(problem)s", id=key[1:],
                                 problem=message)
                    else:
                        text = _("A row for enrollment #%(id)s, which is not on this sheet: %(problem)s", id=key[1:],
                                 problem=message)
                    if text not in sheet.problems:
                        sheet.problems.append(text)


@bp.post("/<int:campaign_id>/attendance")
@login_required
def save_attendance(campaign_id: int):
    """Save the sheet: every row not "not held" through record_batch, in one transaction;
    any refused row saves nothing and the sheet comes back (422) with each row's problem."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = SheetForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
    day, kind = _chosen(form, campaign)
    if day is None and not form.occurred_on.errors:
        form.occurred_on.errors = [_("Enter the date of the session.")]
    if kind is None and not form.kind.errors:
        form.kind.errors = [_("This program records no sessions (its template's impact weights have no session "
                              "kind), so there is no attendance to take.")]
    sheet = _sheet(campaign, form, day=day, kind=kind)
    posted, problems = _posted_rows()
    sheet.problems.extend(problems)
    by_key = {row.key: row for row in sheet.rows}
    for key, value in posted:
        row = by_key.get(key)
        if row is not None:
            row.chosen = value if value in ATTENDANCES else row.chosen
            if row.recorded is not None and not row.recorded_here:
                row.errors.append(_("Already recorded for this date: correct it on the enrollment page."))
    if form.errors or sheet.problems or any(row.errors for row in sheet.rows) or day is None or kind is None:
        return _page(sheet, 422)
    if not posted:
        sheet.problems.append(_("Nothing to save: every row is marked “not held”. Mark who attended, then save."))
        return _page(sheet, 422)
    duration = form.duration_minutes.data
    keys = [key for key, _ in posted]
    items = [_item(key, value, day, kind, duration, campaign.id) for key, value in posted]
    label = f"Attendance sheet: {kind_words(kind)} on {day.isoformat()}"  # stored with the event: not translated
    try:
        with transaction():
            campaign = get_visible_or_404(Campaign, campaign_id, current_user)
            result = record_batch(current_user, campaign, items, source="manual", summary_label=label)
    except BatchRefused as exc:
        sheet = _sheet(get_visible_or_404(Campaign, campaign_id, current_user), form, day=day, kind=kind)
        for row in sheet.rows:
            row.chosen = dict(posted).get(row.key, row.chosen)
        _place_errors(sheet, keys, exc)
        return _page(sheet, 422)
    except DomainError as exc:
        sheet = _sheet(get_visible_or_404(Campaign, campaign_id, current_user), form, day=day, kind=kind)
        sheet.problems.append(str(exc.message))
        return _page(sheet, 422)
    replayed = set(result.replayed_items)
    marked = Counter(value for index, (_, value) in enumerate(posted) if index not in replayed)
    counted = ", ".join(marked_text(a, marked[a]) for a in ATTENDANCES if marked[a])
    message = _("Attendance saved for %(kind)s on %(date)s: %(counts)s.", kind=kind_label(kind), date=show_date(day),
                counts=counted or _("nothing new"))
    if result.replayed:
        message += " " + ngettext("%(count)s row had already been saved.", "%(count)s rows had already been saved.",
                                  result.replayed, count=number(result.replayed))
    if request.headers.get("HX-Request") == "true":
        fresh = SheetForm(formdata=None, occurred_on=day, kind=kind, duration_minutes=duration)
        sheet = _sheet(get_visible_or_404(Campaign, campaign_id, current_user), fresh, day=day, kind=kind)
        sheet.saved = message
        return _page(sheet)
    flash(message, "success")
    return redirect_to(url_for(".attendance", campaign_id=campaign_id, occurred_on=day.isoformat(), kind=kind))

