"""Match screens (SPEC §4 "Matches", inside a campaign): the campaign's matches, each
volunteer's load against ``maxMenteesPerMentor``, suggestions for a beneficiary with their
reasons, and propose / confirm / end. Thin: parse → operation in one transaction → redirect.

Program managers do everything. A company admin sees its own campaigns' matches read-only,
beneficiaries only as the company's pseudonym (never names, languages, age, country or end
reasons), and no suggestions (they are made from the beneficiary's personal data).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_login import current_user, login_required

from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment
from portal.enrollments.privacy import participant_label
from portal.errors import DomainError
from portal.forms import parse_id
from portal.i18n import _, _l
from portal.matches import operations as ops
from portal.matches import queries
from portal.matches.forms import ConfirmMatchForm, EndMatchForm, ProposeForm
from portal.matches.models import Match
from portal.privacy.consent import processing_refusal
from portal.tenancy import get_visible_or_404
from portal.web import Confirmation, confirmation_page, is_confirmed, redirect_to, refused_action, render, role_required

bp = Blueprint("matches", __name__, url_prefix="/campaigns")

PROGRAM_MANAGER = "program_manager"
# A match's status as its badge says it, and as a fact of the end confirmation.
STATUS_WORDS = {"proposed": _l("proposed"), "active": _l("active"), "ended": _l("ended")}
STATUS_LABELS = {"proposed": _l("Proposed"), "active": _l("Active"), "ended": _l("Ended")}


def _chosen_beneficiary(campaign: Campaign, value: object) -> Enrollment | None:
    """The beneficiary picked for suggestions (program managers only; none when not the
    campaign's, or when they may no longer be matched: consent withdrawn, data erased)."""
    enrollment_id = parse_id(value)
    if enrollment_id is None or not current_user.is_program_manager:
        return None
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.campaign_id != campaign.id or enrollment.role != "beneficiary" \
            or enrollment.status != "active" or processing_refusal(enrollment) is not None:
        return None
    return enrollment


def _page(campaign: Campaign, status_code: int = 200, beneficiary_id: object = None):
    limit = queries.campaign_limit(campaign)
    loads = queries.volunteer_loads(campaign, limit)
    pm = current_user.is_program_manager
    chosen = _chosen_beneficiary(campaign, beneficiary_id if beneficiary_id is not None
                                 else request.args.get("beneficiary"))
    suggestions = queries.suggestions_for(campaign, chosen, loads) if chosen is not None else []
    by_enrollment = {load.enrollment.id: load for load in loads}
    return render("matches/index.html", block="suggestions" if request.args.get("block") == "suggestions" else None,
                  campaign=campaign, matches=queries.campaign_matches(campaign.id), loads=loads,
                  load_of=by_enrollment, limit=limit, pm=pm,
                  beneficiaries=queries.active_beneficiaries(campaign.id) if pm else [],
                  chosen=chosen, suggestions=suggestions, label=participant_label, status_words=STATUS_WORDS,
                  propose_form=ProposeForm(), confirm_form=ConfirmMatchForm(), end_form=EndMatchForm(),
                  status_code=status_code)


@bp.get("/<int:campaign_id>/matches")
@login_required
def index(campaign_id: int):
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    return _page(campaign)


def _back(campaign_id: int, beneficiary_id: int | None = None) -> str:
    return url_for(".index", campaign_id=campaign_id, beneficiary=beneficiary_id) if beneficiary_id \
        else url_for(".index", campaign_id=campaign_id)


@bp.post("/<int:campaign_id>/matches")
@role_required(PROGRAM_MANAGER)
def propose(campaign_id: int):
    """Propose the chosen volunteer for the chosen beneficiary (from a suggestion)."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = ProposeForm()
    if not form.validate_on_submit():
        abort(400)
    volunteer_id, beneficiary_id = form.ids()
    back = _back(campaign_id, beneficiary_id)
    try:
        with transaction():
            campaign = get_visible_or_404(Campaign, campaign_id, current_user)
            volunteer = db.session.get(Enrollment, volunteer_id) if volunteer_id else None
            beneficiary = db.session.get(Enrollment, beneficiary_id) if beneficiary_id else None
            match = ops.propose_match(current_user, campaign, volunteer, beneficiary)
            who = participant_label(current_user, match.volunteer.participant)
            whom = participant_label(current_user, match.beneficiary.participant)
    except DomainError as exc:
        status = exc.status_code
        return refused_action(str(exc.message), lambda: _page(get_visible_or_404(Campaign, campaign_id, current_user),
                                                              status, beneficiary_id), back)
    flash(_("Proposed %(volunteer)s as the partner of %(beneficiary)s. Confirm the match to start it.", volunteer=who,
            beneficiary=whom), "success")
    return redirect_to(_back(campaign_id))


def _match_or_404(campaign_id: int, match_id: int, *, for_update: bool = False) -> Match:
    match = queries.pair_match(campaign_id, match_id, for_update=for_update)
    if match is None:
        abort(404)
    return match


@bp.post("/<int:campaign_id>/matches/<int:match_id>/confirm")
@role_required(PROGRAM_MANAGER)
def confirm(campaign_id: int, match_id: int):
    """Start a proposed match: the volunteer takes a slot (refused when they have none)."""
    get_visible_or_404(Campaign, campaign_id, current_user)
    form = ConfirmMatchForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction():
            get_visible_or_404(Campaign, campaign_id, current_user)
            ops.confirm_match(current_user, _match_or_404(campaign_id, match_id, for_update=True),
                              expected_version=form.expected_version())
    except DomainError as exc:
        status = exc.status_code
        return refused_action(str(exc.message), lambda: _page(get_visible_or_404(Campaign, campaign_id, current_user),
                                                              status), _back(campaign_id))
    flash(_("Match confirmed: it is active now."), "success")
    return redirect_to(_back(campaign_id))


def _end_confirmation(campaign: Campaign, match: Match, reason: str) -> Confirmation:
    who = participant_label(current_user, match.volunteer.participant)
    whom = participant_label(current_user, match.beneficiary.participant)
    back = _back(campaign.id)
    consequences = [_("The pair stays in the history as ended, with the reason given.")]
    if match.status == "active":
        consequences.append(_("%(volunteer)s gets a free slot for another match.", volunteer=who))
    status = STATUS_LABELS.get(match.status)
    return Confirmation(
        title=_("End the match of %(volunteer)s and %(beneficiary)s?", volunteer=who, beneficiary=whom),
        confirm_label=_("End the match"),
        action=url_for(".end", campaign_id=campaign.id, match_id=match.id), cancel_url=back,
        cancel_label=_("Keep it"),
        facts=[(_("Campaign"), campaign.name),
               (_("Status now"), str(status) if status is not None else match.status.capitalize()),
               (_("Reason"), reason.strip() or _("None given"))],
        consequences=consequences,
        crumbs=[(_("Campaigns"), url_for("campaigns.index")),
                (campaign.name, url_for("campaigns.detail", campaign_id=campaign.id)), (_("Matches"), back),
                (_("End a match"), None)])


@bp.post("/<int:campaign_id>/matches/<int:match_id>/end")
@role_required(PROGRAM_MANAGER)
def end(campaign_id: int, match_id: int):
    """End a proposed or active match, once confirmed (until then: the confirmation page)."""
    campaign = get_visible_or_404(Campaign, campaign_id, current_user)
    form = EndMatchForm()
    if not form.validate_on_submit():
        abort(400)
    reason = form.reason.data or ""
    try:
        if not is_confirmed():  # a move that would be refused is refused now, not after asking
            match = _match_or_404(campaign_id, match_id)
            ops.check_match_move(match, "ended", form.expected_version())
            return confirmation_page(_end_confirmation(campaign, match, reason))
        with transaction():
            get_visible_or_404(Campaign, campaign_id, current_user)
            ops.end_match(current_user, _match_or_404(campaign_id, match_id, for_update=True), reason,
                          expected_version=form.expected_version())
    except DomainError as exc:
        status = exc.status_code
        return refused_action(str(exc.message), lambda: _page(get_visible_or_404(Campaign, campaign_id, current_user),
                                                              status), _back(campaign_id))
    flash(_("Match ended."), "success")
    return redirect_to(_back(campaign_id))
