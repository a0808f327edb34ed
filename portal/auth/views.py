"""Sign-in/out and the program managers' users & companies screens. Thin: parse,
call an operation inside one transaction, render or redirect."""
from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from portal.activity.queries import describe, timeline
from portal.auth import operations as ops
from portal.auth.forms import CompanyForm, ResetPasswordForm, SignInForm, UserForm, VersionedActionForm
from portal.auth.models import PROGRAM_MANAGER, Company, User
from portal.auth.sessions import start_session
from portal.db import db, transaction
from portal.errors import DomainError
from portal.extensions import limiter
from portal.forms import choices, parse_id
from portal.i18n import LANGUAGES, SESSION_KEY, _
from portal.reference import countries
from portal.tenancy import get_visible_or_404
from portal.web import apply_domain_error, redirect_to, render, role_required

auth_bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _failed_sign_in(response: Response) -> bool:
    return response.status_code != 302  # successful sign-ins do not count toward the limits


def _signin_account_key() -> str:
    """The per-account sign-in limit's key: the submitted e-mail in its one normalized form
    (so look-alikes share a budget), hashed to keep addresses out of the limiter's store.
    Known and unknown addresses are counted alike: a throttled answer reveals nothing."""
    raw = (request.form.get("email") or "")[:320]
    try:
        email = ops.normalize_email(raw)
    except DomainError:
        email = raw.strip().lower()
    return "signin-account:" + hashlib.sha256(email.encode(errors="replace")).hexdigest()


@auth_bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed_sign_in)
@limiter.limit(lambda: current_app.config["SIGNIN_ACCOUNT_RATE_LIMIT"], methods=["POST"],
               key_func=_signin_account_key, deduct_when=_failed_sign_in)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = ops.authenticate(form.email.data, form.password.data)
        if user is not None:
            with transaction():
                user = db.session.get(User, user.id)
                ops.record_sign_in(user, form.password.data)
            language = session.get(SESSION_KEY)  # chosen on the sign-in page: kept
            session.clear()
            if language:
                session[SESSION_KEY] = language
            login_user(user)
            start_session(session)
            return redirect(_safe_next(request.args.get("next")) or url_for("dashboard.home"))
        form.form_errors.append(_("That e-mail and password do not match an active account."))
    status = 422 if request.method == "POST" else 200
    return render("auth/sign_in.html", form=form, status_code=status)


@auth_bp.post("/sign-out")
@login_required
def sign_out():
    with transaction():
        ops.sign_out(db.session.get(User, current_user.id))
    language = current_user.locale or session.get(SESSION_KEY)
    logout_user()
    session.clear()
    if language:
        session[SESSION_KEY] = language  # the sign-in page stays in the user's language
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.sign_in"))


@auth_bp.post("/language")
def choose_language():
    """The header's language switch: the signed-in user's setting, or (on the sign-in page)
    the session's; then back to the page it was used on."""
    language = request.form.get("locale", "")
    back = _safe_next(request.form.get("next")) or url_for("dashboard.root")
    if current_user.is_authenticated:
        try:
            with transaction():
                ops.choose_language(db.session.get(User, current_user.id), language)
        except DomainError as exc:
            flash(str(exc.message), "error")
            return redirect(back, 303)
    elif language in LANGUAGES:
        session[SESSION_KEY] = language
    return redirect(back, 303)


@auth_bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        return {"status": "ok", "database": "ok"}, 200
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503


# --- users & companies (program managers) ----------------------------------------
def _country_choices() -> list[SelectChoice]:
    return choices([("", "—")] + sorted(countries().items(), key=lambda c: c[1]))


def _company_choices() -> list[SelectChoice]:
    rows = db.session.execute(sa.select(Company.id, Company.name).order_by(Company.name)).all()
    return choices([("", _("— none (program managers) —"))] + [(r.id, r.name) for r in rows])


@admin_bp.get("/")
@role_required(PROGRAM_MANAGER)
def index():
    companies = db.session.execute(
        sa.select(Company, sa.func.count(User.id).label("user_count"))
        .outerjoin(User, User.company_id == Company.id)
        .group_by(Company.id)
        .order_by(Company.name)
    ).all()
    role = request.args.get("role") or None
    company_id = request.args.get("company", type=parse_id)
    users_q = sa.select(User).options(sa.orm.joinedload(User.company)).order_by(User.name, User.id)
    if role:
        users_q = users_q.where(User.role == role)
    if company_id:
        users_q = users_q.where(User.company_id == company_id)
    users = db.session.scalars(users_q).all()
    return render("admin/index.html", block="users_table", companies=companies, users=users,
                  filters={"role": role or "", "company": company_id or ""})


@admin_bp.route("/companies/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new_company():
    form = CompanyForm()
    form.country.choices = _country_choices()
    if form.validate_on_submit():
        try:
            with transaction():
                company = ops.create_company(current_user, name=form.name.data, key=form.key.data,
                                             country=form.country.data, industry=form.industry.data)
            flash(_("Company “%(name)s” created.", name=company.name), "success")
            return redirect_to(url_for("admin.index"))
        except DomainError as exc:
            apply_domain_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render("admin/company_form.html", block="form", form=form, status_code=status)


@admin_bp.route("/users/new", methods=["GET", "POST"])
@role_required(PROGRAM_MANAGER)
def new_user():
    form = UserForm()
    form.company_id.choices = _company_choices()
    if request.method == "GET" and request.args.get("company", type=parse_id):
        form.company_id.data = request.args.get("company", type=parse_id)
        form.role.data = "company_admin"
    if form.validate_on_submit():
        try:
            with transaction():
                user = ops.create_user(current_user, email=form.email.data, name=form.name.data,
                                       role=form.role.data, password=form.password.data,
                                       company_id=form.company_id.data)
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect_to(url_for("admin.user_detail", user_id=user.id))
        except DomainError as exc:
            apply_domain_error(form, exc)
    status = 422 if request.method == "POST" else 200
    return render("admin/user_form.html", block="form", form=form, status_code=status)


def _user_page(user: User, reset_form: ResetPasswordForm | None = None, status: int = 200):
    # formdata=None: the form not posted shows the user as saved, never the other form's submission.
    reset_form = reset_form or ResetPasswordForm(formdata=None, lock_version=user.lock_version)
    toggle_form = VersionedActionForm(formdata=None, lock_version=user.lock_version)
    return render("admin/user_detail.html", user=user, reset_form=reset_form, toggle_form=toggle_form,
                  events=timeline("users", user.id, current_user), describe_event=describe, status_code=status)


@admin_bp.get("/users/<int:user_id>")
@role_required(PROGRAM_MANAGER)
def user_detail(user_id: int):
    return _user_page(get_visible_or_404(User, user_id, current_user))


@admin_bp.post("/users/<int:user_id>/<any(deactivate, reactivate):action>")
@role_required(PROGRAM_MANAGER)
def set_enabled(user_id: int, action: str):
    form = VersionedActionForm()
    if not form.validate_on_submit():
        return _user_page(get_visible_or_404(User, user_id, current_user), status=400)
    try:
        with transaction():
            user = get_visible_or_404(User, user_id, current_user, for_update=True)
            ops.set_user_enabled(current_user, user, action == "reactivate", expected_version=form.expected_version())
        if action == "reactivate":
            flash(_("%(name)s is active again.", name=user.name), "success")
        else:
            flash(_("%(name)s is deactivated; their sessions ended.", name=user.name), "success")
    except DomainError as exc:
        flash(str(exc.message), "error")
        return _user_page(get_visible_or_404(User, user_id, current_user), status=exc.status_code)
    return redirect(url_for("admin.user_detail", user_id=user_id))


@admin_bp.post("/users/<int:user_id>/password")
@role_required(PROGRAM_MANAGER)
def reset_password(user_id: int):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            with transaction():
                user = get_visible_or_404(User, user_id, current_user, for_update=True)
                ops.reset_password(current_user, user, form.password.data, expected_version=form.expected_version())
            flash(_("Password reset for %(name)s. Their open sessions ended.", name=user.name), "success")
            return redirect(url_for("admin.user_detail", user_id=user_id))
        except DomainError as exc:
            apply_domain_error(form, exc)
            return _user_page(get_visible_or_404(User, user_id, current_user), form, status=exc.status_code)
    return _user_page(get_visible_or_404(User, user_id, current_user), form, status=422)
