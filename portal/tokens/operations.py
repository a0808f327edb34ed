"""Personal access tokens: create (shown once), revoke, and the bearer check the API runs
on every request (SPEC §4.2). The screen, ``flask tokens create`` and the tests all call
these functions; the caller owns the transaction.

The rules: a token is random (256 bits), stored only as its SHA-256, named, scoped with
at least one of :data:`SCOPES`, and expires (1 to 365 days). It acts as its user, with
the user's role and company: a deactivated user's tokens stop at once, and so does a
revoked or expired token. Each use is recorded (to the minute).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.auth.models import User
from portal.db import db, utcnow
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.i18n import _l
from portal.tokens.models import ApiToken

TOKEN_PREFIX = "ipp_"
# 32 random bytes, URL-safe base64: 43 characters after the prefix.
_TOKEN_BYTES = 32
_TOKEN_LENGTH = len(TOKEN_PREFIX) + 43
_SHOWN_CHARACTERS = 8  # of the random part, in the visible prefix

# The scopes (SPEC §4.2). A token can never do more than its user's role allows; the
# scopes only narrow that. Keep this list small: every scope is one checkbox on the screen.
# The keys are the scopes' codes (never translated); the texts say what each allows.
SCOPES: dict[str, Any] = {
    "read": _l("Read what your role may see: templates, programs, the catalog, campaigns and enrollments."),
    "enrollments:write": _l("Enroll participants, and complete or drop enrollments."),
    "deliveries:write": _l("Record deliveries (sessions, milestones) on enrollments."),
    "campaigns:write": _l("Create campaigns, change them and move them through their lifecycle."),
    "matches:write": _l("Propose, confirm and end matches (program managers)."),
}
EXPIRY_DAYS = (7, 30, 90, 180, 365)
DEFAULT_EXPIRY_DAYS = 90
MAX_EXPIRY_DAYS = 365
NAME_MAX_LENGTH = 100
# Recording each use is a write: do it at most once a minute per token.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token_text() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def clean_token_fields(name: str | None, scopes: list[str] | None, expires_days: int | None) -> dict[str, Any]:
    """The token rules: a name of 1–100 characters, one or more known scopes, an expiry of
    1–365 days. Returns the clean values or raises ValidationFailed with every problem."""
    errors: dict[str, list[Any]] = {}
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX_LENGTH:
        errors["name"] = [_l("Name the token (1 to %(max)s characters), e.g. the system that uses it.",
                             max=NAME_MAX_LENGTH)]
    chosen = list(dict.fromkeys(scopes or []))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown:
        errors["scopes"] = [_l("Unknown scope %(scope)s: choose from %(scopes)s.", scope=repr(unknown[0]),
                               scopes=", ".join(SCOPES))]
    elif not chosen:
        errors["scopes"] = [_l("Choose at least one scope.")]
    if not isinstance(expires_days, int) or isinstance(expires_days, bool) or not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        errors["expires_days"] = [_l("Choose an expiry of 1 to %(max)s days.", max=MAX_EXPIRY_DAYS)]
    if errors:
        raise ValidationFailed(errors)
    return {"name": name, "scopes": [s for s in SCOPES if s in chosen], "expires_days": expires_days}


def create_token(actor: User | None, user: User, *, name: str, scopes: list[str],
                 expires_days: int | None = DEFAULT_EXPIRY_DAYS) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its text, which is returned here once and never again.
    Users make their own tokens; an operator (``actor`` None: the CLI) makes anyone's."""
    if actor is not None and actor.id != user.id:
        raise Forbidden(_l("You can create tokens for yourself only."))
    if not user.is_enabled:
        raise ValidationFailed({"email": [_l("This user is deactivated: a token would not work.")]})
    clean = clean_token_fields(name, scopes, expires_days)
    text = new_token_text()
    token = ApiToken(user_id=user.id, name=clean["name"], prefix=text[:len(TOKEN_PREFIX) + _SHOWN_CHARACTERS],
                     token_hash=hash_token(text), scopes=clean["scopes"],
                     expires_at=utcnow() + timedelta(days=clean["expires_days"]))
    db.session.add(token)
    db.session.flush()
    record_event("user.token_created", actor=actor or user, subject=user, company_id=user.company_id,
                 data={"token_id": token.id, "name": token.name, "prefix": token.prefix, "scopes": token.scopes,
                       "expires_at": token.expires_at.isoformat()}, label=user.name)
    return token, text


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too: the screen shows them)."""
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def own_token_or_error(user: User, token_id: int, *, for_update: bool = False) -> ApiToken:
    """``user``'s token ``token_id``; anyone else's is "not found", like a missing one."""
    stmt = sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id)
    token = db.session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if token is None:
        raise NotFound(_l("That token"))
    return token


def revoke_token(actor: User | None, token: ApiToken) -> ApiToken:
    """Revoked at once and for good; revoking twice changes nothing."""
    if actor is not None and actor.id != token.user_id:
        raise NotFound(_l("That token"))
    if token.revoked_at is not None:
        return token
    token.revoked_at = utcnow()
    user = db.session.get(User, token.user_id)
    record_event("user.token_revoked", actor=actor or user, subject=user, company_id=user.company_id,
                 data={"token_id": token.id, "name": token.name, "prefix": token.prefix}, label=user.name)
    return token


def looks_like_token(text: str) -> bool:
    return len(text) == _TOKEN_LENGTH and text.startswith(TOKEN_PREFIX) and text.isascii()


def token_for_bearer(text: str, now: datetime | None = None) -> ApiToken | None:
    """The usable token behind a bearer value, with its user loaded, or None: unknown,
    revoked, expired, or its user deactivated — all alike to the caller."""
    if not looks_like_token(text or ""):
        return None
    now = now or utcnow()
    token = db.session.scalars(sa.select(ApiToken).options(sa.orm.joinedload(ApiToken.user))
                               .where(ApiToken.token_hash == hash_token(text))).first()
    if token is None or not token.is_usable(now) or not token.user.is_enabled:
        return None
    return token


def record_use(token: ApiToken, now: datetime | None = None) -> bool:
    """Note that ``token`` was used now (at most once a minute). A conditional UPDATE, so two
    instances seeing the same token write once. Returns whether it wrote."""
    now = now or utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return False
    result = db.session.execute(
        sa.update(ApiToken).where(ApiToken.id == token.id,
                                  sa.or_(ApiToken.last_used_at.is_(None),
                                         ApiToken.last_used_at < now - LAST_USED_RESOLUTION))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount)
