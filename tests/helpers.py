"""Small helpers for tests that talk to the app through the test client."""
from __future__ import annotations

import re
from contextlib import contextmanager
from html.parser import HTMLParser

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

# What differs between two answers to the same request: CSRF tokens carry a timestamp,
# and every import dry run gets a new one-time token.
_VOLATILE = [
    (re.compile(r'name="csrf_token"[^>]*value="[^"]+"'), 'name="csrf_token" value="X"'),
    (re.compile(r'value="[^"]+" name="csrf_token"'), 'value="X" name="csrf_token"'),
    (re.compile(r'"X-CSRFToken": ?"[^"]+"'), '"X-CSRFToken": "X"'),
    (re.compile(r'<meta name="csrf-token" content="[^"]+"'), '<meta name="csrf-token" content="X"'),
    (re.compile(r"/import/[A-Za-z0-9_-]{43}/"), "/import/TOKEN/"),
]


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token from a form on ``path`` (the same token travels in the HTMX header)."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def without_volatile(body: str) -> str:
    """``body`` with per-request noise (CSRF tokens, import tokens) replaced by placeholders,
    so two answers can be compared whole."""
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    return body


def normalised(response, *terms: str) -> tuple[int, str]:
    """Status and body without per-request noise (:func:`without_volatile`) and with the
    caller's own input (echoed back in form fields) replaced by a placeholder."""
    body = without_volatile(response.get_data(as_text=True))
    for term in sorted(terms, key=len, reverse=True):
        body = body.replace(term, "TERM")
    return response.status_code, body


def browser_form(html: str) -> MultiDict:
    """What a browser submits from ``html``: every named input, checked box or radio,
    selected option (a select with none selected sends its first) and textarea, in page
    order. Meant for a page with one form to post."""

    class Inputs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self.select, self.textarea = [], None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "input" and a.get("name") and a.get("type") not in ("submit", "checkbox", "radio"):
                self.data.append((a["name"], a.get("value", "")))
            elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
                self.data.append((a["name"], a.get("value", "on")))
            elif tag == "select":
                self.select, self.first_option, self.chosen = a.get("name"), None, False
            elif tag == "option" and self.select:
                if self.first_option is None:
                    self.first_option = a.get("value", "")
                if "selected" in a:
                    self.data.append((self.select, a.get("value", "")))
                    self.chosen = True
            elif tag == "textarea":
                self.textarea = a.get("name")
                self.data.append((self.textarea, ""))

        def handle_data(self, data):
            if self.textarea:
                self.data[-1] = (self.textarea, data)

        def handle_endtag(self, tag):
            if tag == "select":
                if not self.chosen and self.first_option is not None:  # browsers send the first option
                    self.data.append((self.select, self.first_option))
                self.select = None
            if tag == "textarea":
                self.textarea = None

    parser = Inputs()
    parser.feed(html)
    return MultiDict(parser.data)


def sign_in(client: FlaskClient, email: str, password: str):
    token = csrf_token(client, "/sign-in")
    return client.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


@contextmanager
def counting_statements(app):
    """Collect the SQL statements an app runs inside the block (savepoints of the test
    harness left out): the "constant statements per page" gates use it."""
    from sqlalchemy import event

    from portal.db import db

    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def route_url(app, rule, objects: dict) -> str:
    """A URL for ``rule`` whose arguments come from ``objects`` (1 for any argument it lacks)."""
    from flask import url_for

    values = {}
    for arg in rule.arguments:
        if arg == "action" and "deactivate" in rule.rule:
            values[arg] = "deactivate"
        else:
            values[arg] = objects.get(arg, 1)
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


class TookTooLong(Exception):
    pass


@contextmanager
def deadline(seconds: int):
    """Fail (instead of hanging the run) when the block takes longer than ``seconds``: a guard
    against catastrophic backtracking, not a speed assertion."""
    import signal

    def expire(*_):
        raise TookTooLong(f"did not finish within {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def refuse_fetching(monkeypatch) -> None:
    """Any network fetch (a ``$ref`` resolved remotely, say) fails the test loudly."""
    import socket
    import urllib.request

    def refuse(*args, **kwargs):
        raise AssertionError(f"a $ref was fetched: {args!r}")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def export_through_job(client, campaign_id):
    """Export a campaign's enrollments as a user does: start the export job (inline in the
    tests), then download the file its page offers. The start's answer when it was refused."""
    started = client.post(f"/campaigns/{campaign_id}/export", data={"csrf_token": csrf_token(client, "/home")})
    if started.status_code != 303:
        return started
    page = client.get(started.headers["Location"])
    match = re.search(r'href="(/jobs/\d+/download)"', page.get_data(as_text=True))
    assert match, "no Download link on the export's job page"
    return client.get(match.group(1))


# --- languages ------------------------------------------------------------------------------
# What a Norwegian or Ukrainian browser sends (tests/integration/test_i18n*.py).
NB = {"Accept-Language": "nb-NO,nb;q=0.9"}
UK = {"Accept-Language": "uk-UA,uk;q=0.9"}


def words(text: str) -> str:
    """One space between words (Babel's formats use no-break spaces)."""
    return " ".join(text.split())


def visible_text(response) -> str:
    """A page's text without its tags, entities decoded, one space between words."""
    import html

    return words(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def group_form(token: str, **overrides) -> dict:
    """The beneficiary-group form as a program manager fills it in (a valid group), with
    ``overrides``."""
    data = {
        "csrf_token": token, "name": "Ukrainian refugees in Bergen", "key": "", "description": "Adults settling in.",
        "group_type": "refugees", "country": "NO", "region": "Vestland", "city": "Bergen", "age_min": "18",
        "age_max": "70", "languages": "uk, en", "language_requirement": "beginner",
        "eligible_categories": ["language", "mentorship"], "tags": "ukraine, 2026 cohort",
        "active_from": "2026-01-01", "active_until": "",
    }
    data.update(overrides)
    return data


def webhook_endpoint(app, types, url: str = "http://127.0.0.1:9/hook", description: str = "Connector",
                     company_id: int | None = None, enabled: bool = True) -> tuple[int, str]:
    """A webhook endpoint made by the operation, by a program manager of its own; returns
    (its id, its signing secret)."""
    import uuid

    from portal.auth.models import User
    from portal.db import db, transaction
    from portal.webhooks import operations as ops

    with app.app_context():
        with transaction():
            pm = User(email=f"hooks-{uuid.uuid4().hex[:12]}@example.org", name="Hook Keeper",
                      role="program_manager", password_hash="x")
            db.session.add(pm)
            db.session.flush()
            endpoint, secret = ops.create_endpoint(pm, url=url, description=description, event_types=list(types),
                                                   company_id=company_id)
            endpoint.enabled = enabled
        return endpoint.id, secret
