"""Helpers for the API tests: tokens made through the operation, and a bearer client."""
from __future__ import annotations

import uuid

from portal.auth.models import User
from portal.db import db, transaction
from portal.tokens.operations import SCOPES, create_token

# Every scope a token can carry, as the token operation defines them (a new scope is in at once).
ALL_SCOPES = tuple(SCOPES)


def new_token(app, user, scopes=("read", "enrollments:write"), days: int = 30, name: str = "test") -> str:
    with app.app_context():
        with transaction():
            _, text = create_token(None, db.session.get(User, user.id), name=name, scopes=list(scopes),
                                   expires_days=days)
    return text


class Bearer:
    """A test client that sends ``Authorization: Bearer <token>`` (and, on POST, a fresh
    Idempotency-Key unless one is given)."""

    def __init__(self, app, token: str):
        self.client, self.token = app.test_client(), token

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url, json=None, headers=None, key: str | None = "auto", **kw):
        headers = self._headers(headers)
        if key == "auto":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        elif key is not None:
            headers["Idempotency-Key"] = key
        return self.client.post(url, json=json, headers=headers, **kw)
