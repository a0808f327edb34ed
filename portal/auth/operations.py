"""Companies and users: create, deactivate, reactivate, reset password, sign in/out.

Each function changes the session and writes its activity event; the caller wraps it
in :func:`portal.db.transaction`.
"""
from __future__ import annotations

import unicodedata
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from portal.activity.operations import record_event
from portal.auth.models import COMPANY_ADMIN, PROGRAM_MANAGER, ROLES, Company, User, new_session_token
from portal.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from portal.db import db, utcnow
from portal.errors import DomainError, Forbidden, StaleEdit, ValidationFailed
from portal.i18n import SESSION_KEY, _l
from portal.keys import key_from_name, key_problem, unique_key
from portal.reference import country_problem


def normalize_email(raw: str) -> str:
    """The one form an e-mail address is stored and compared in: Unicode NFKC, lowercased,
    syntax-checked (no DNS lookups: this machine has no network).

    NFKC folds compatibility look-alikes (fullwidth ``ａｄｍｉｎ``, the ``ﬁ`` ligature,
    ``＠``) into the plain characters they stand for, so a look-alike address can neither
    create a second user or participant nor sign in as a different one."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    try:
        normalized = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise DomainError(_l("Enter a valid e-mail address (%(problem)s).", problem=str(exc)), "email") from None
    # Lowercasing can leave a non-NFKC sequence behind (e.g. "İ"): normalize again, so the result is stable.
    return unicodedata.normalize("NFKC", normalized.lower())


def _require_program_manager(actor: User | None) -> None:
    if actor is not None and not actor.is_program_manager:
        raise Forbidden(_l("Only program managers manage companies and users."))


def create_company(actor: User | None, *, name: str, key: str = "", country: str | None = None,
                   industry: str | None = None) -> Company:
    _require_program_manager(actor)
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 255:
        errors.setdefault("name", []).append(_l("Enter a name of 1 to 255 characters."))
    elif db.session.scalar(sa.select(Company.id).where(sa.func.lower(Company.name) == name.lower())):
        errors.setdefault("name", []).append(_l("A company with this name already exists."))
    key = (key or "").strip()
    if key and (problem := key_problem(key, Company.key)):
        errors["key"] = [problem]
    country = (country or "").strip().upper() or None
    if country and (problem := country_problem(country)):
        errors.setdefault("country", []).append(problem)
    if errors:
        raise ValidationFailed(errors)
    company = Company(
        name=name,
        key=key or unique_key(Company.key, key_from_name(name)),
        country=country,
        industry=(industry or "").strip()[:100] or None,
    )
    db.session.add(company)
    record_event("company.created", actor=actor, subject=company, company_id=None,
                 data={"name": name, "country": country})
    return company


def create_user(actor: User | None, *, email: str, name: str, role: str, password: str,
                company_id: int | None = None) -> User:
    """Create a user. Company admins need a company; program managers have none."""
    _require_program_manager(actor)
    errors: dict[str, list[str]] = {}
    try:
        email = normalize_email(email or "")
        if db.session.scalar(sa.select(User.id).where(User.email == email)):
            errors.setdefault("email", []).append(_l("A user with this e-mail already exists."))
    except DomainError as exc:
        errors.setdefault("email", []).append(exc.message)
    name = (name or "").strip()
    if not name or len(name) > 255:
        errors.setdefault("name", []).append(_l("Enter a name of 1 to 255 characters."))
    if role not in ROLES:
        errors.setdefault("role", []).append(_l("Choose a role."))
    if role == COMPANY_ADMIN:
        if company_id is None or db.session.get(Company, company_id) is None:
            errors.setdefault("company_id", []).append(_l("Company admins belong to a company: choose one."))
    elif role == PROGRAM_MANAGER:
        company_id = None
    if problem := password_problem(password or ""):
        errors.setdefault("password", []).append(problem)
    if errors:
        raise ValidationFailed(errors)
    user = User(email=email, name=name, role=role, company_id=company_id, password_hash=hash_password(password))
    db.session.add(user)
    record_event("user.created", actor=actor, subject=user, company_id=company_id,
                 data={"email": email, "role": role}, label=name)
    return user


def _check_version(user: User, expected_version: int | None) -> None:
    if expected_version is not None and user.lock_version != expected_version:
        raise StaleEdit(_l("this user"))


def set_user_enabled(actor: User, user: User, enabled: bool, *, expected_version: int | None = None) -> None:
    """Deactivating ends the user's sessions at once (their session token rotates)."""
    _require_program_manager(actor)
    _check_version(user, expected_version)
    if not enabled and user.id == actor.id:
        raise DomainError(_l("You cannot deactivate yourself."), "is_enabled")
    if user.is_enabled == enabled:
        return
    user.is_enabled = enabled
    user.session_token = new_session_token()
    record_event("user.reactivated" if enabled else "user.deactivated", actor=actor, subject=user,
                 company_id=user.company_id, label=user.name)


def reset_password(actor: User, user: User, new_password: str, *, expected_version: int | None = None) -> None:
    _require_program_manager(actor)
    _check_version(user, expected_version)
    if problem := password_problem(new_password or ""):
        raise DomainError(problem, "password")
    user.password_hash = hash_password(new_password)
    user.session_token = new_session_token()
    record_event("user.password_reset", actor=actor, subject=user, company_id=user.company_id, label=user.name)


def authenticate(email: str, password: str) -> User | None:
    """The enabled user with these credentials, or None. Same cost whether or not the e-mail exists."""
    try:
        email = normalize_email(email or "")
    except DomainError:
        email = ""  # no account has an invalid address; still pay the hash below
    user = db.session.scalars(sa.select(User).where(User.email == email)).first() if email else None
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_enabled:
        return None
    return user


def record_sign_in(user: User, password: str) -> None:
    user.last_sign_in_at = utcnow()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    record_event("user.signed_in", actor=user, subject=user, company_id=user.company_id, label=user.name)


def sign_out(user: User) -> None:
    """Rotate the session token: any copy of the old cookie stops working."""
    user.session_token = new_session_token()
    record_event("user.signed_out", actor=user, subject=user, company_id=user.company_id, label=user.name)


def choose_language(user: User, language: str) -> None:
    """The language the user reads the portal in from now on (one of portal.i18n.LANGUAGES)."""
    from portal.i18n import LANGUAGES

    if language not in LANGUAGES:
        raise ValidationFailed({"locale": [_l("Choose one of the languages listed.")]})
    if user.locale != language:
        user.locale = language
        record_event("user.language_chosen", actor=user, subject=user, company_id=user.company_id,
                     label=user.name, data={"language": language})


def load_user_from_cookie(cookie_id: str) -> User | None:
    """Flask-Login's loader: the session must be within its idle timeout and absolute lifetime
    (see :mod:`portal.auth.sessions`), and "id:token" must match the user's current token."""
    from flask import current_app, flash, session

    from portal.auth.sessions import session_has_expired
    from portal.forms import parse_id

    config = current_app.config
    raw_id, _, token = (cookie_id or "").partition(":")
    user_id = parse_id(raw_id)
    if session_has_expired(session, idle_minutes=config["SESSION_IDLE_MINUTES"], max_hours=config["SESSION_MAX_HOURS"]):
        # The sign-in page that follows stays in the language the person reads (their choice,
        # or the one made on the sign-in page); the message is worded in it. This request's
        # user is nobody from here on: set that first, so finding the language reads no user.
        from flask import g

        from portal.extensions import login_manager

        owner = db.session.get(User, user_id) if user_id is not None else None
        language = (owner.locale if owner is not None and owner.session_token == token else None) \
            or session.get(SESSION_KEY)
        session.clear()
        if language:
            session[SESSION_KEY] = language
        g._login_user = login_manager.anonymous_user()
        flash(str(_l("Your session has ended. Sign in again to continue.")), "info")
        return None
    if user_id is None or not token:
        return None
    user = db.session.get(User, user_id, options=[sa.orm.joinedload(User.company)])  # the header shows it
    if user is None or not user.is_enabled or user.session_token != token:
        return None
    return user


def user_summary(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "role": user.role, "company_id": user.company_id}
