"""Impact screens: valuation sets (program managers: list, detail, create, edit a draft and
its entries, activate, retire, new version, compare), a program's pin, and a campaign's
impact page with its "why this number" tables and the evidence behind each count. Thin:
parse → operation in one transaction → render."""
from __future__ import annotations

import base64
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user, login_required

from portal.activity.queries import describe, timeline
from portal.auth.models import PROGRAM_MANAGER
from portal.campaigns.models import Campaign
from portal.db import db, transaction, utcnow
from portal.errors import DomainError
from portal.forms import choices, parse_id
from portal.i18n import _
from portal.impact import operations as ops
from portal.impact.forms import EntryForm, NewValuationSetForm, PinForm, SetActionForm, ValuationSetForm
from portal.impact.models import (
    ACTIVE,
    COMPLETION,
    DELIVERY,
    DRAFT,
    MILESTONE,
    MILESTONE_REACHED,
    PROGRAM_COMPLETED,
    RETIRED,
    ValuationEntry,
    ValuationSet,
)
from portal.impact.operations import CHANGE_LABELS, FIELD_LABELS
from portal.impact.points import layer_label, points_shown
from portal.impact.queries import active_sets, campaign_impact, known_outcomes, load_set, outcome_label, pin_preview
from portal.impact.sroi import money_text, percent_text, quantity_text, ratio_shown, sroi_money, sroi_sentence
from portal.lifecycle import status_label
from portal.pagination import keyset_page
from portal.programs.models import Program
from portal.tenancy import get_visible_or_404
from portal.web import (
    Confirmation,
    apply_domain_error,
    confirmation_page,
    is_confirmed,
    redirect_to,
    render,
    role_required,
)

bp = Blueprint("impact", __name__)

# How figures are written, for every template (campaign and program pages include the cards),
# in the reader's language.
FIGURE_HELPERS = {"points_text": points_shown, "money_text": money_text, "ratio_text": ratio_shown,
                  "percent_text": percent_text, "sroi_sentence": sroi_sentence, "quantity_text": quantity_text,
                  "sroi_money": sroi_money, "layer_label": layer_label}
for _name, _helper in FIGURE_HELPERS.items():
    bp.add_app_template_global(_helper, _name)


def _today() -> date:
    return utcnow().date()


def _min_cohort() -> int | None:
    """Company admins see small cells withheld (SPEC §2.11); program managers see everything."""
    return None if current_user.is_program_manager else current_app.config["PORTAL_MIN_COHORT"]


def _set_or_404(set_id: int, *, for_update: bool = False) -> ValuationSet:
    stmt = sa.select(ValuationSet).where(ValuationSet.id == set_id)
    if for_update:
        stmt = stmt.with_for_update()
    found = db.session.scalars(stmt).first()
    if found is None:
        abort(404)
    return found


def _entry_or_404(valuation_set: ValuationSet, entry_id: int) -> ValuationEntry:
    entry = db.session.get(ValuationEntry, entry_id)
    if entry is None or entry.set_id != valuation_set.id:
        abort(404)
    return entry


def _versions(key: str) -> list[tuple[ValuationSet, int]]:
    """Every version of ``key``, newest first, with how many programs pin it."""
    pins = (sa.select(sa.func.count()).select_from(Program).where(Program.valuation_set_id == ValuationSet.id)
            .correlate(ValuationSet).scalar_subquery())
    return [(s, n) for s, n in db.session.execute(
        sa.select(ValuationSet, pins).where(ValuationSet.key == key).order_by(ValuationSet.version.desc()))]


# --- valuation sets --------------------------------------------------------------------------------
@bp.get("/valuation-sets/")
@role_required(PROGRAM_MANAGER)
def sets():
    page = keyset_page(sa.select(ValuationSet), ValuationSet, request.args.get("after"),
                       current_app.config["PORTAL_PAGE_SIZE"])
    return render("impact/sets.html", block="results", page=page)


@bp.route("/valuation-sets/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new_set():
    form = NewValuationSetForm()
    if form.validate_on_submit():
        try:
            with transaction():
                valuation_set = ops.create_valuation_set(
                    current_user, key=form.key.data or "", name=form.name.data, currency=form.currency.data,
                    discount_rate=form.discount_rate.data, description=form.description.data)
            flash(_("Draft “%(set)s” created. Add the outcomes it values, then activate it.",
                    set=valuation_set.label), "success")
            return redirect_to(url_for(".set_detail", set_id=valuation_set.id))
        except DomainError as exc:
            apply_domain_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render("impact/new_set.html", block="form", form=form, status_code=status)


def _set_page(valuation_set: ValuationSet, status_code: int = 200):
    versions = _versions(valuation_set.key)
    programs = list(db.session.scalars(sa.select(Program).where(Program.valuation_set_id == valuation_set.id)
                                       .order_by(Program.name).limit(50)))
    return render("impact/set_detail.html", vs=valuation_set, versions=versions, programs=programs,
                  events=timeline("valuation_sets", valuation_set.id, current_user), describe=describe,
                  action_form=SetActionForm(formdata=None, lock_version=valuation_set.lock_version),
                  outcome_label=outcome_label, status_code=status_code)


@bp.get("/valuation-sets/<int:set_id>")
@role_required(PROGRAM_MANAGER)
def set_detail(set_id: int):
    return _set_page(_set_or_404(set_id))


@bp.route("/valuation-sets/<int:set_id>/edit", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def edit_set(set_id: int):
    valuation_set = _set_or_404(set_id)
    if valuation_set.status != DRAFT:
        flash(_("Version %(version)s is %(status)s; only drafts change. Start a new version.",
                version=valuation_set.version, status=status_label(valuation_set.status)), "error")
        if request.method == "POST":
            return _set_page(valuation_set, 422)
        return redirect_to(url_for(".set_detail", set_id=set_id))
    if request.method == "GET":
        form = ValuationSetForm(formdata=None, lock_version=valuation_set.lock_version, name=valuation_set.name,
                                currency=valuation_set.currency, description=valuation_set.description,
                                discount_rate=f"{valuation_set.discount_rate.normalize():f}")
        return render("impact/edit_set.html", block="form", form=form, vs=valuation_set)
    form = ValuationSetForm()
    if form.validate_on_submit():
        try:
            with transaction():
                ops.update_valuation_set(current_user, _set_or_404(set_id, for_update=True),
                                         expected_version=form.expected_version(), name=form.name.data,
                                         currency=form.currency.data, discount_rate=form.discount_rate.data,
                                         description=form.description.data)
            flash(_("Valuation set saved."), "success")
            return redirect_to(url_for(".set_detail", set_id=set_id))
        except DomainError as exc:
            apply_domain_error(form, exc)
            return render("impact/edit_set.html", block="form", form=form, vs=_set_or_404(set_id),
                          status_code=exc.status_code)
    return render("impact/edit_set.html", block="form", form=form, vs=valuation_set, status_code=422)


def _entry_page(valuation_set: ValuationSet, form: EntryForm, entry: ValuationEntry | None, status_code: int = 200):
    options = known_outcomes()
    current = form.outcome.data
    if current and current not in {value for value, _label in options} and ops.parse_outcome(current):
        options.append((current, outcome_label(*ops.parse_outcome(current))))
    form.outcome.choices = choices([("", _("Choose an outcome…")), *options])
    return render("impact/entry.html", block="form", form=form, vs=valuation_set, entry=entry,
                  status_code=status_code)


@bp.route("/valuation-sets/<int:set_id>/entries/new", methods=["GET", "POST"])
@bp.route("/valuation-sets/<int:set_id>/entries/<int:entry_id>", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def entry(set_id: int, entry_id: int | None = None):
    valuation_set = _set_or_404(set_id)
    existing = _entry_or_404(valuation_set, entry_id) if entry_id is not None else None
    if valuation_set.status != DRAFT:
        flash(_("Version %(version)s is %(status)s; only drafts change. Start a new version.",
                version=valuation_set.version, status=status_label(valuation_set.status)), "error")
        if request.method == "POST":
            return _set_page(valuation_set, 422)
        return redirect_to(url_for(".set_detail", set_id=set_id))
    if request.method == "GET":
        values = {}
        if existing is not None:
            values = {"outcome": f"{existing.outcome_type}:{existing.outcome}",
                      "proxy": f"{existing.proxy_minor / 100:.2f}", "source_text": existing.source_text,
                      "source_url": existing.source_url, "duration_years": str(existing.duration_years),
                      **{name: f"{getattr(existing, name).normalize():f}" for name in ops.PERCENT_FIELDS}}
        form = EntryForm(formdata=None, lock_version=valuation_set.lock_version, **values)
        return _entry_page(valuation_set, form, existing)
    form = EntryForm()
    if not form.validate_on_submit():
        return _entry_page(valuation_set, form, existing, 422)
    try:
        with transaction():
            locked = _set_or_404(set_id, for_update=True)
            ops.save_entry(current_user, locked, expected_version=form.expected_version(),
                           entry=db.session.get(ValuationEntry, existing.id) if existing else None, **form.raw())
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _entry_page(_set_or_404(set_id), form, existing, exc.status_code)
    flash(_("Outcome saved.") if existing else _("Outcome added."), "success")
    return redirect_to(url_for(".set_detail", set_id=set_id))


@bp.post("/valuation-sets/<int:set_id>/entries/<int:entry_id>/remove")
@role_required(PROGRAM_MANAGER)
def remove_entry(set_id: int, entry_id: int):
    form = SetActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction():
            locked = _set_or_404(set_id, for_update=True)
            ops.remove_entry(current_user, locked, _entry_or_404(locked, entry_id),
                             expected_version=form.expected_version())
    except DomainError as exc:
        flash(exc.message, "error")
        return _set_page(_set_or_404(set_id), exc.status_code)
    flash(_("Outcome removed."), "success")
    return redirect_to(url_for(".set_detail", set_id=set_id))


def _lifecycle(set_id: int, operation, success, ask=None, target: str | None = None, done=None):
    form = SetActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if ask is not None and not is_confirmed():
            valuation_set = _set_or_404(set_id)
            if target is not None:
                ops._check_move(valuation_set, target)
            return confirmation_page(ask(valuation_set))
        with transaction():
            valuation_set = _set_or_404(set_id, for_update=True)
            label = valuation_set.label
            operation(current_user, valuation_set, expected_version=form.expected_version())
    except DomainError as exc:
        flash(exc.message, "error")
        return _set_page(_set_or_404(set_id), exc.status_code)
    flash(success(label), "success")
    return redirect_to(done() if done else url_for(".set_detail", set_id=set_id))


# The lifecycle buttons: what each asks (its title and button) and says when done, per verb.
ASK_TEXTS = {
    "activate": (lambda s: _("Activate %(set)s?", set=s.label), lambda s: _("Activate v%(version)s", version=s.version),
                 lambda s: _("Activate")),
    "retire": (lambda s: _("Retire %(set)s?", set=s.label), lambda s: _("Retire v%(version)s", version=s.version),
               lambda s: _("Retire")),
    "delete": (lambda s: _("Delete %(set)s?", set=s.label), lambda s: _("Delete v%(version)s", version=s.version),
               lambda s: _("Delete")),
}


def _asking(verb: str, sentences) -> callable:
    title, button, crumb = ASK_TEXTS[verb]

    def confirmation(valuation_set: ValuationSet) -> Confirmation:
        page = url_for(".set_detail", set_id=valuation_set.id)
        return Confirmation(title=title(valuation_set), confirm_label=button(valuation_set),
                            action=request.path, cancel_url=page, consequences=sentences(valuation_set),
                            danger=verb != "activate",
                            facts=[(_("Valuation set"), valuation_set.name),
                                   (_("Version"), f"v{valuation_set.version} ({status_label(valuation_set.status)})")],
                            crumbs=[(_("Valuation sets"), url_for(".sets")), (valuation_set.label, page),
                                    (crumb(valuation_set), None)])
    return confirmation


def _activate_sentences(valuation_set: ValuationSet) -> list[str]:
    said = [_("v%(version)s becomes the active version: programs can pin it. It can no longer be changed; later "
              "changes need a new version.", version=valuation_set.version)]
    active = next((s for s, _pins in _versions(valuation_set.key) if s.status == ACTIVE), None)
    if active is not None:
        said.append(_("v%(version)s, the active version now, is retired: programs pinned to it keep it until they "
                      "are upgraded.", version=active.version))
    return said


@bp.post("/valuation-sets/<int:set_id>/activate")
@role_required(PROGRAM_MANAGER)
def activate(set_id: int):
    return _lifecycle(set_id, ops.activate, lambda label: _("%(set)s is active: programs can pin it.", set=label),
                      ask=_asking("activate", _activate_sentences), target=ACTIVE)


@bp.post("/valuation-sets/<int:set_id>/retire")
@role_required(PROGRAM_MANAGER)
def retire(set_id: int):
    return _lifecycle(set_id, ops.retire, lambda label: _("%(set)s is retired.", set=label), target=RETIRED,
                      ask=_asking("retire", lambda s: [_("No program can pin it any more. Programs pinned to it keep "
                                                         "it until they are upgraded.")]))


@bp.post("/valuation-sets/<int:set_id>/delete")
@role_required(PROGRAM_MANAGER)
def delete_set(set_id: int):
    key = _set_or_404(set_id).key
    return _lifecycle(set_id, ops.delete_draft, lambda label: _("Draft %(set)s deleted.", set=label),
                      ask=_asking("delete", lambda s: [_("The draft and its outcomes are deleted for good.")]),
                      done=lambda: _latest_url(key))


def _latest_url(key: str) -> str:
    latest = db.session.scalar(sa.select(ValuationSet.id).where(ValuationSet.key == key)
                               .order_by(ValuationSet.version.desc()).limit(1))
    return url_for(".set_detail", set_id=latest) if latest else url_for(".sets")


@bp.post("/valuation-sets/<int:set_id>/new-version")
@role_required(PROGRAM_MANAGER)
def new_version(set_id: int):
    form = SetActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with transaction():
            draft, created = ops.new_version(current_user, _set_or_404(set_id))
    except sa.exc.IntegrityError:  # someone made the draft a moment ago
        key = _set_or_404(set_id).key
        draft = db.session.scalars(sa.select(ValuationSet).where(ValuationSet.key == key,
                                                                 ValuationSet.status == DRAFT)).first()
        if draft is None:
            abort(409)
        created = False
    flash(_("Draft v%(version)s created from v%(source)s.", version=draft.version,
            source=_set_or_404(set_id).version) if created
          else _("v%(version)s is already the draft of this set: continue there.", version=draft.version), "success")
    return redirect_to(url_for(".set_detail", set_id=draft.id))


@bp.get("/valuation-sets/<int:set_id>/compare")
@role_required(PROGRAM_MANAGER)
def compare(set_id: int):
    valuation_set = _set_or_404(set_id)
    versions = _versions(valuation_set.key)
    others = [s for s, _pins in versions if s.id != valuation_set.id]
    other_id = request.args.get("other", type=parse_id)
    other = next((s for s in others if s.id == other_id), others[0] if others else None)
    head, changes = ops.set_diff(other, valuation_set) if other is not None else ([], [])
    return render("impact/compare.html", vs=valuation_set, other=other, others=others, head=head, changes=changes,
                  outcome_label=outcome_label, field_labels=FIELD_LABELS, change_labels=CHANGE_LABELS)


# --- a program's pin -------------------------------------------------------------------------------
def _pin_page(program: Program, form: PinForm, candidate: ValuationSet | None, status_code: int = 200):
    options = active_sets()
    form.valuation_set_id.choices = choices([("", _("None: points only")),
                                             *((str(s.id), f"{s.label} ({s.currency})") for s in options)])
    preview = pin_preview(program, candidate, _today()) if candidate is not None or request.args.get("preview") \
        else None
    return render("impact/pin.html", program=program, form=form, current=load_set(program.valuation_set_id),
                  candidate=candidate, preview=preview, status_code=status_code)


@bp.route("/programs/<int:program_id>/valuation", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def pin(program_id: int):
    """Choose the valuation set a program's SROI uses: the page previews each campaign's
    figures under the current and the chosen version; only the post pins."""
    program = get_visible_or_404(Program, program_id, current_user)
    if request.method == "GET":
        chosen = request.args.get("valuation_set_id", type=parse_id)
        candidate = load_set(chosen) if chosen else None
        form = PinForm(formdata=None, lock_version=program.lock_version,
                       valuation_set_id=str(chosen or program.valuation_set_id or ""))
        return _pin_page(program, form, candidate)
    form = PinForm()
    if not form.validate_on_submit():
        return _pin_page(program, form, None, 422)
    raw = form.valuation_set_id.data
    chosen = parse_id(raw) if raw else None
    candidate = load_set(chosen) if chosen else None
    if raw and candidate is None:
        form.valuation_set_id.errors = [_("Choose one of the active valuation sets.")]
        return _pin_page(program, form, None, 422)
    try:
        with transaction():
            locked = get_visible_or_404(Program, program_id, current_user, for_update=True)
            ops.pin_program(current_user, locked, db.session.get(ValuationSet, chosen) if chosen else None,
                            expected_version=form.expected_version())
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _pin_page(get_visible_or_404(Program, program_id, current_user), form, candidate, exc.status_code)
    flash(_("%(program)s now values its outcomes with %(set)s.", program=program.name, set=candidate.label)
          if candidate else _("%(program)s pins no valuation set: only points are shown.", program=program.name),
          "success")
    return redirect_to(url_for("programs.detail", program_id=program_id))


def program_card(program: Program) -> dict:
    """What the program page shows about impact: the pin and the program's points."""
    from portal.impact.points import program_scores

    points, volunteers = program_scores(program, _today())
    return {"valuation_set": load_set(program.valuation_set_id), "points": points, "volunteers": volunteers}


# --- a campaign's impact ----------------------------------------------------------------------------
def campaign_card(campaign: Campaign) -> dict:
    """What the campaign page shows (the figures; the tables are on the impact page)."""
    return {"impact": campaign_impact(campaign, _today(), min_cohort=_min_cohort())}


@bp.get("/campaigns/<int:campaign_id>/impact")
@login_required
def campaign(campaign_id: int):
    found = get_visible_or_404(Campaign, campaign_id, current_user)
    return render("impact/campaign.html", campaign=found, program=found.program, today=_today(),
                  min_cohort=current_app.config["PORTAL_MIN_COHORT"], **campaign_card(found))


EVIDENCE_SIZE = 50


def _cursor(day: date, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{day.isoformat()}|{row_id}".encode()).decode().rstrip("=")


def _read_cursor(text: str | None) -> tuple[date, int] | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        day, _, row_id = raw.partition("|")
        number = parse_id(row_id)
        return (date.fromisoformat(day), number) if number else None
    except (ValueError, UnicodeDecodeError):
        return None


@bp.get("/campaigns/<int:campaign_id>/impact/evidence")
@login_required
def evidence(campaign_id: int):
    """The events behind one count of the "why this number" tables, newest first: a delivery
    kind's counted deliveries, a milestone's reaches, the completions. Company admins see
    beneficiaries as the company's pseudonyms, and nothing behind a withheld count."""
    from portal.deliveries.kinds import ATTENDANCE_LABELS
    from portal.deliveries.models import PRESENT, Delivery, EnrollmentMilestone
    from portal.enrollments.models import ROLE_LABELS, Enrollment, Participant
    from portal.enrollments.privacy import participant_label

    found = get_visible_or_404(Campaign, campaign_id, current_user)
    if not request.args.get("outcome"):  # which count? the impact page lists them
        return redirect_to(url_for(".campaign", campaign_id=campaign_id))
    outcome = ops.parse_outcome(request.args["outcome"])
    if outcome is None:
        abort(404)
    outcome_type, key = outcome
    impact = campaign_impact(found, _today(), min_cohort=_min_cohort())
    withheld = impact.points.withheld or _withheld(impact, outcome_type, key)
    position = _read_cursor(request.args.get("after"))
    rows: list = []
    if not withheld:
        if outcome_type == DELIVERY:
            stmt = (sa.select(Delivery.occurred_on, Delivery.id, Enrollment, Delivery.quantity, Delivery.attendance)
                    .join(Enrollment, Enrollment.id == Delivery.enrollment_id)
                    .where(Enrollment.campaign_id == found.id, Delivery.kind == key, Delivery.voided_at.is_(None),
                           sa.or_(Delivery.attendance.is_(None), Delivery.attendance == PRESENT)))
            day_col, id_col = Delivery.occurred_on, Delivery.id
        elif outcome_type == MILESTONE:
            stmt = (sa.select(EnrollmentMilestone.reached_on, Enrollment.id, Enrollment, sa.literal(1),
                              EnrollmentMilestone.name)
                    .join(Enrollment, Enrollment.id == EnrollmentMilestone.enrollment_id)
                    .where(Enrollment.campaign_id == found.id))
            if key != MILESTONE_REACHED:
                stmt = stmt.where(EnrollmentMilestone.key == key)
            day_col, id_col = EnrollmentMilestone.reached_on, Enrollment.id
        else:
            completed_on = sa.func.date(Enrollment.completed_at) if db.session.get_bind().dialect.name == "sqlite" \
                else sa.cast(sa.func.timezone("UTC", Enrollment.completed_at), sa.Date)
            stmt = (sa.select(completed_on, Enrollment.id, Enrollment, sa.literal(1), sa.literal(None))
                    .where(Enrollment.campaign_id == found.id, Enrollment.status == "completed"))
            day_col, id_col = Enrollment.completed_at, Enrollment.id
        if position is not None:
            stmt = stmt.where(sa.tuple_(day_col, id_col) < sa.tuple_(*position)) if outcome_type != COMPLETION \
                else stmt.where(sa.tuple_(completed_on, id_col) < sa.tuple_(*position))
        order = completed_on if outcome_type == COMPLETION else day_col
        stmt = stmt.options(sa.orm.joinedload(Enrollment.participant).load_only(Participant.id, Participant.company_id,
                                                                                Participant.display_name))
        rows = db.session.execute(stmt.order_by(order.desc(), id_col.desc()).limit(EVIDENCE_SIZE + 1)).all()
    more = len(rows) > EVIDENCE_SIZE
    rows = rows[:EVIDENCE_SIZE]
    next_cursor = None
    if more and rows:
        last_day = rows[-1][0]
        next_cursor = _cursor(last_day if isinstance(last_day, date) else date.fromisoformat(str(last_day)[:10]),
                              rows[-1][1])
    title = _("Program completed") if outcome_type == COMPLETION else (
        _("Milestones reached") if key == MILESTONE_REACHED else outcome_label(outcome_type, key))
    return render("impact/evidence.html", campaign=found, title=title, rows=rows, withheld=withheld,
                  outcome=f"{outcome_type}:{key}", outcome_type=outcome_type, next_cursor=next_cursor,
                  label=participant_label, min_cohort=current_app.config["PORTAL_MIN_COHORT"], as_day=_as_day,
                  role_labels=ROLE_LABELS, attendance_labels=ATTENDANCE_LABELS)


def _as_day(value) -> date:
    """A row's day as a date (SQLite's date() gives ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _withheld(impact, outcome_type: str, key: str) -> bool:
    """Whether the count behind this evidence is withheld from the viewer: its points row or
    its SROI row is; a single milestone's reaches (a count of people) show only through a
    valuation row that is not withheld."""
    kind = {COMPLETION: PROGRAM_COMPLETED}.get(outcome_type, MILESTONE_REACHED if outcome_type == MILESTONE else key)
    if outcome_type != MILESTONE or key == MILESTONE_REACHED:
        if any(r.withheld for r in impact.points.rows if r.kind == kind):
            return True
    valued = [r for r in impact.sroi.rows if (r.entry.outcome_type, r.entry.outcome) == (outcome_type, key)]
    if any(r.withheld for r in valued):
        return True
    return outcome_type == MILESTONE and key != MILESTONE_REACHED and not valued and _min_cohort() is not None
