"""``Idempotency-Key`` on every POST (SPEC §4.2, draft-ietf-httpapi-idempotency-key-header).

A POST must carry a key (400 without). The first request with a key runs its operation and
stores its answer in ``api_idempotency_keys`` *in the same transaction*, so the key exists
exactly when the change does, on whichever instance. A retry with the same key and the same
request (method, path, canonical JSON body) gets that answer again for 24 hours, marked
``Idempotent-Replayed: true``; the same key with a different request is a 422 (and so is
any request with a key whose answer concerned a person since erased). A refused
request (a rule said no, a bad body) stores nothing: it changed nothing, so the client may
retry it with the same key. Two racing requests with one key: one commits; the other's
insert hits the unique key, rolls back everything it did, and replays the winner's answer.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, g, request
from sqlalchemy.exc import IntegrityError

from portal.api.conditional import etag_of
from portal.api.models import IdempotencyKey
from portal.api.problems import ApiProblem, header_error
from portal.db import db, transaction, utcnow
from portal.i18n import _

KEY_HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
LIFETIME = timedelta(hours=24)
# Answer headers worth replaying (the rest — dates, rate limits — belong to each request).
_KEPT_HEADERS = ("Location", "ETag", "Content-Type")


@dataclass
class Reply:
    """A write's answer, built inside its transaction so it can be stored with it."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, replayed: bool = False) -> Response:
        response = Response(json.dumps(self.body, ensure_ascii=False), status=self.status,
                            mimetype="application/json")
        for name, value in self.headers.items():
            response.headers[name] = value
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response


def versioned_reply(obj: Any, serialize: Callable[[], Any], status: int = 200,
                    location: Callable[[], str] | None = None) -> Reply:
    """A write's answer about one versioned object: its document, its ``ETag`` (the version
    after the write's flush) and, when it was created (201), its ``Location``."""
    db.session.flush()  # the version moves on flush
    headers = {"ETag": etag_of(obj.lock_version)}
    if status == 201 and location is not None:
        headers["Location"] = location()
    return Reply(serialize(), status, headers)


def _key() -> str:
    key = request.headers.get(KEY_HEADER, "")
    if not key:
        raise ApiProblem(400, _("Send an %(header)s header (a unique value per change, e.g. a UUID) with every "
                                "POST, so a retry cannot do it twice.", header=KEY_HEADER),
                         slug="idempotency-key-missing", errors=[header_error(KEY_HEADER, _("Required."))])
    if len(key) > KEY_MAX_LENGTH or not key.isprintable() or not key.isascii():
        raise ApiProblem(400, _("The %(header)s must be 1 to %(max)s printable ASCII characters.", header=KEY_HEADER,
                                max=KEY_MAX_LENGTH),
                         errors=[header_error(KEY_HEADER, _("Invalid."))])
    return key


def fingerprint() -> str:
    """The request as a key must repeat it: method, path and canonical JSON body."""
    body = json.dumps(g.get("api_json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _stored(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalars(sa.select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                                             IdempotencyKey.key == key)).first()


def _replay(stored: IdempotencyKey, print_: str) -> Response:
    """The stored answer, when the request is the one the key came with; else a 422. A key
    whose person was erased (its fingerprint is ``ERASED_FINGERPRINT``, see
    :func:`portal.privacy.erasure._scrub_stored_answers`) matches no request: any retry gets
    the 422, which tells a connector to use a new key and shows nothing of anyone."""
    if stored.fingerprint != print_:
        raise ApiProblem(422, _("This %(header)s was used for a different request in the last 24 hours. "
                                "Use a new key for a new change.", header=KEY_HEADER), slug="idempotency-key-reused",
                         errors=[header_error(KEY_HEADER, _("Already used with another request."))])
    return Reply(stored.response_body, stored.status_code, dict(stored.response_headers or {})).response(True)


def idempotent_write(work: Callable[[], Reply]) -> Response:
    """Run ``work`` (operations, then building its Reply) as one transaction that also
    stores the answer under the request's key; or replay the stored answer."""
    user_id = g.api_user.id
    key, print_ = _key(), fingerprint()
    for attempt in (1, 2):
        try:
            with transaction():
                stored = _stored(user_id, key)
                if stored is not None and stored.expires_at > utcnow():
                    return _replay(stored, print_)
                if stored is not None:  # an expired key may be used again
                    db.session.delete(stored)
                    db.session.flush()
                reply = work()
                now = utcnow()
                db.session.add(IdempotencyKey(
                    user_id=user_id, key=key, fingerprint=print_, method=request.method, path=request.path[:500],
                    status_code=reply.status, response_body=reply.body,
                    response_headers={k: v for k, v in reply.headers.items() if k in _KEPT_HEADERS},
                    created_at=now, expires_at=now + LIFETIME))
                db.session.flush()
            return reply.response()
        except IntegrityError:
            # Another request committed first: with this key (replay it next time round) or
            # the same change (the operation's own unique keys; the retry sees its outcome).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def sweep_expired(now=None) -> int:  # noqa: ANN001
    """Delete keys past their 24 hours (``flask api sweep``). Returns how many."""
    result = db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)
