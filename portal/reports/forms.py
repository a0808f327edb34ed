"""Forms of the report screens. The period is read by :func:`portal.reports.periods.parse_period`
(one rule for the page, the snapshot, the PDF and the API); these only carry it."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.i18n import _l
from portal.reports.operations import SHARE_DAYS_DEFAULT, SHARE_DAYS_MAX
from portal.reports.periods import Period, current_quarter, month, quarter, year


def period_choices(today: date) -> list[tuple[str, str]]:
    """Quick picks: this and the last five quarters, the last six months, this and last year."""
    picks: list[Period] = []
    q = current_quarter(today)
    for _ in range(6):
        picks.append(q)
        prev = q.start.replace(day=1)
        number = (prev.month - 1) // 3  # the quarter before, 0 meaning the last of the year before
        q = quarter(prev.year - 1, 4) if number == 0 else quarter(prev.year, number)
    y, m = today.year, today.month
    for _ in range(6):
        picks.append(month(y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    picks += [year(today.year), year(today.year - 1)]
    return [(p.key, p.label) for p in picks]


class SnapshotForm(FlaskForm):
    period = HiddenField(validators=[InputRequired()])
    start = HiddenField()
    end = HiddenField()


class ShareForm(FlaskForm):
    label = StringField(_l("Who it is for"), validators=[Optional(), Length(max=120)],
                        description=_l("For your own reference, e.g. “Acme CSR team, Q2 review”."))
    days = IntegerField(_l("Link works for (days)"), default=SHARE_DAYS_DEFAULT,
                        validators=[InputRequired(message=_l("Enter a number of days.")),
                                    NumberRange(min=1, max=SHARE_DAYS_MAX,
                                                message=_l("Enter 1 to %(max)s days.", max=SHARE_DAYS_MAX))])


class RevokeForm(FlaskForm):
    pass
