"""Argon2id password hashing (argon2-cffi, RFC 9106 low-memory profile)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.i18n import _n

_hasher = PasswordHasher()  # Argon2id, t=3, m=64 MiB, p=4
MIN_PASSWORD_LENGTH = 10

# Verified against when the e-mail is unknown, so a wrong e-mail costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-just-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


MAX_PASSWORD_LENGTH = 256


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, in the reader's language; None when it will do."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return str(_n("Use at least %(num)s character.", "Use at least %(num)s characters.", MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return str(_n("Use at most %(num)s character.", "Use at most %(num)s characters.", MAX_PASSWORD_LENGTH))
    return None
