"""The tokens screen and ``flask tokens create`` (SPEC §4.2): create shows the token once,
the list shows name, prefix, scopes, expiry, last use and state, revoke asks first; the
rules themselves (name, scopes, expiry) in one place."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.db import db
from portal.errors import ValidationFailed
from portal.tokens.models import ApiToken
from portal.tokens.operations import clean_token_fields, hash_token
from tests.conftest import sign_in_client
from tests.helpers import csrf_token
from tests.integration.api_support import Bearer, new_token

TOKEN = re.compile(r"ipp_[A-Za-z0-9_-]{43}")


def test_the_token_rules():
    assert clean_token_fields("  Kintell   connector ", ["enrollments:write", "read", "read"], 30) == {
        "name": "Kintell connector", "scopes": ["read", "enrollments:write"], "expires_days": 30}
    with pytest.raises(ValidationFailed) as refused:
        clean_token_fields("", ["admin"], 0)
    assert set(refused.value.errors) == {"name", "scopes", "expires_days"}
    for days in (366, -1, True, None):
        with pytest.raises(ValidationFailed):
            clean_token_fields("x", ["read"], days)
    with pytest.raises(ValidationFailed):
        clean_token_fields("x", [], 30)


def test_create_shows_the_token_once_and_the_list_never_again(app, tenants):
    client = sign_in_client(app, tenants["admin_a"])
    assert client.get("/account/tokens/").status_code == 200
    created = client.post("/account/tokens/", data={"csrf_token": csrf_token(client, "/account/tokens/"),
                                                   "name": "HR report", "scopes": ["read"], "expires_days": "30"})
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    text = TOKEN.search(created.get_data(as_text=True)).group(0)
    with app.app_context():
        token = db.session.scalars(sa.select(ApiToken)).one()
        assert token.token_hash == hash_token(text) and token.user_id == tenants["admin_a"].id
        assert token.scopes == ["read"]
    assert "shown only this once" in created.get_data(as_text=True)
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert text not in listing and TOKEN.search(listing) is None
    assert "HR report" in listing and f"{token.prefix}…" in listing and "Never" in listing
    assert Bearer(app, text).get("/api/v1/me").status_code == 200
    assert "Never" not in client.get("/account/tokens/").get_data(as_text=True)  # last use shown


def test_a_refused_create_shows_the_problems_and_saves_nothing(app, tenants):
    client = sign_in_client(app, tenants["pm"])
    refused = client.post("/account/tokens/", data={"csrf_token": csrf_token(client, "/account/tokens/"),
                                                   "name": "", "expires_days": "30"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Name the token" in page and "Choose at least one scope." in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_revoke_asks_first_then_the_token_stops_at_once(app, tenants):
    text = new_token(app, tenants["admin_a"], ["read"])
    with app.app_context():
        token_id = db.session.scalars(sa.select(ApiToken.id)).one()
    client = sign_in_client(app, tenants["admin_a"])
    token = csrf_token(client, "/account/tokens/")
    asked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert asked.status_code == 200 and "Revoke the token" in asked.get_data(as_text=True)
    assert Bearer(app, text).get("/api/v1/me").status_code == 200
    stranger = sign_in_client(app, tenants["admin_b"])
    assert stranger.post(f"/account/tokens/{token_id}/revoke",
                         data={"csrf_token": csrf_token(stranger, "/account/tokens/"), "confirmed": "yes"}
                         ).status_code == 404
    done = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 303
    assert Bearer(app, text).get("/api/v1/me").status_code == 401
    assert "revoked" in client.get("/account/tokens/").get_data(as_text=True)
    with app.app_context():
        types = db.session.scalars(sa.text("SELECT type FROM activity_events ORDER BY id")).all()
        assert types[-2:] == ["user.token_created", "user.token_revoked"]
    log = client.get("/activity/").get_data(as_text=True)
    assert "revoked the API token “test” of" in log and "created the API token “test” of" in log
    assert text not in log


def test_flask_tokens_create_prints_a_working_token(app, runner, tenants):
    result = runner.invoke(args=["tokens", "create", "--email", tenants["pm"].email.upper(), "--name", "Kintell",
                                 "--scopes", "read, enrollments:write", "--expires-days", "7"])
    assert result.exit_code == 0, result.output
    text = result.stdout.strip()
    assert TOKEN.fullmatch(text)
    me = Bearer(app, text).get("/api/v1/me")
    assert me.status_code == 200 and me.json["scopes"] == ["read", "enrollments:write"]
    for args, message in ((["--email", "nobody@example.org"], "No user"), (["--scopes", "root"], "Unknown scope"),
                          (["--expires-days", "400"], "expiry")):
        base = {"--email": tenants["pm"].email, "--name": "x", "--scopes": "read", "--expires-days": "30"}
        base.update(dict(zip(args[::2], args[1::2], strict=True)))
        refused = runner.invoke(args=["tokens", "create", *[v for kv in base.items() for v in kv]])
        assert refused.exit_code == 2 and message in refused.output
