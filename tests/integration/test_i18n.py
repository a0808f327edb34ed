"""Which language a person reads the portal in (portal/i18n.py): the header's switch (kept on
the account, or for the sign-in page in the session), else the browser's Accept-Language,
else English; the pseudo-locale that marks translated strings only where configured."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db
from tests.conftest import sign_in_client
from tests.factories import TEST_PASSWORD
from tests.helpers import csrf_token, sign_in

SWITCH = {"en": "Change language", "nb": "Bytt språk", "uk": "Змінити мову"}


def _language(response) -> str:
    body = response.get_data(as_text=True)
    lang = body.split('<html lang="', 1)[1].split('"', 1)[0]
    assert SWITCH[lang] in body, f"<html lang={lang}> but the page is not in that language"
    return lang


@pytest.mark.parametrize(("header", "expected"), [
    (None, "en"),
    ("nb-NO,nb;q=0.9,en;q=0.5", "nb"),
    ("uk-UA,uk;q=0.9", "uk"),
    ("no", "nb"),  # Norwegian systems often say only "no" (or "nn"): Bokmål is what they read
    ("nn-NO", "nb"),
    ("fr-FR,de;q=0.8", "en"),  # nothing the portal speaks: English
    ("fr, en;q=0.2, uk;q=0.9", "uk"),  # by quality, not by order
    ("qps-ploc", "en"),  # the pseudo-locale reads English (with markers, below)
])
def test_a_page_follows_the_browsers_languages(client, header, expected):
    response = client.get("/sign-in", headers={"Accept-Language": header} if header else {})
    assert response.status_code == 200
    assert _language(response) == expected


def test_the_switch_on_the_sign_in_page_holds_for_the_visit_and_through_sign_in(client, make):
    user = make.user()
    token = csrf_token(client, "/sign-in")
    response = client.post("/language", data={"csrf_token": token, "locale": "uk", "next": "/sign-in"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/sign-in")
    assert _language(client.get("/sign-in", headers={"Accept-Language": "nb"})) == "uk"  # chosen beats the browser

    assert sign_in(client, user.email, TEST_PASSWORD).status_code == 302
    assert _language(client.get("/home")) == "uk"


def test_a_signed_in_users_choice_is_kept_on_the_account_and_wins_over_the_browser(app, make):
    user = make.user()
    client = sign_in_client(app, user)
    token = csrf_token(client, "/home")
    response = client.post("/language", data={"csrf_token": token, "locale": "nb", "next": "/campaigns/?page=2"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/campaigns/?page=2")
    assert _language(client.get("/home", headers={"Accept-Language": "uk"})) == "nb"
    with app.app_context():
        assert db.session.get(User, user.id).locale == "nb"
        events = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "user.language_chosen")).all()
        assert [e.data.get("language") for e in events] == ["nb"]
    # Another browser, another session: the account's choice holds there too.
    assert _language(sign_in_client(app, user).get("/home", headers={"Accept-Language": "uk"})) == "nb"

    # Choosing the same language again changes nothing and records nothing.
    client.post("/language", data={"csrf_token": token, "locale": "nb"})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)
                                 .where(ActivityEvent.type == "user.language_chosen")) == 1


def test_signing_out_keeps_the_sign_in_page_in_the_users_language(app, make):
    user = make.user()
    client = sign_in_client(app, user)
    token = csrf_token(client, "/home")
    client.post("/language", data={"csrf_token": token, "locale": "uk"})
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    page = client.get("/sign-in")
    assert _language(page) == "uk"
    assert "Ви вийшли з системи." in page.get_data(as_text=True)  # the flash, in Ukrainian


@pytest.mark.parametrize("language", ["", "fr", "xx", "en' OR 1=1", "nb" * 50])
def test_a_language_the_portal_does_not_speak_is_refused_and_nothing_changes(app, make, language):
    user = make.user()
    client = sign_in_client(app, user)
    token = csrf_token(client, "/home")
    response = client.post("/language", data={"csrf_token": token, "locale": language, "next": "/home"})
    assert response.status_code == 303
    page = client.get("/home")
    assert _language(page) == "en"
    assert "Choose one of the languages listed." in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).locale is None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""])
def test_the_switch_goes_back_only_to_a_page_of_the_portal(client, target):
    token = csrf_token(client, "/sign-in")
    response = client.post("/language", data={"csrf_token": token, "locale": "nb", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_the_switch_needs_the_csrf_token(client):
    response = client.post("/language", data={"locale": "nb"})
    assert response.status_code == 400
    assert _language(client.get("/sign-in")) == "en"


def test_the_pseudo_locale_marks_translated_strings_only_where_configured(client, database_url):
    marked = client.get("/sign-in", headers={"Accept-Language": "qps-ploc"}).get_data(as_text=True)
    assert "⟦Change language⟧" in marked
    production_like = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, PORTAL_PSEUDO_LOCALE=False)
    plain = production_like.test_client().get("/sign-in", headers={"Accept-Language": "qps-ploc"}).get_data(as_text=True)
    assert "Change language" in plain and "⟦" not in plain


def test_a_lazy_message_escapes_what_it_carries(app):
    """Flask-Babel's own lazy strings claim to be HTML already: a name someone typed inside a
    domain message would reach the page as markup. portal.i18n's do not."""
    from flask import render_template_string

    from portal.i18n import _l

    with app.test_request_context(headers={"Accept-Language": "uk"}):
        message = _l("You are signed out.")  # a translated message, then one that carries input
        assert str(message) == "Ви вийшли з системи."
        html = render_template_string("{{ m }}", m=_l("%(name)s", name="<script>alert(1)</script>"))
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize(("language", "typed", "expected"), [
    ("nb", "30.11.2026", "2026-11-30"), ("uk", "01.02.2026", "2026-02-01"), ("nb", "2026-11-30", "2026-11-30"),
    ("en", "2026-11-30", "2026-11-30"), ("en", "30.11.2026", None), ("nb", "31.02.2026", None), ("uk", "завтра", None),
])
def test_a_date_typed_in_the_readers_order_is_taken(app, language, typed, expected):
    """Every date field of the portal's forms (portal.forms.LocalDateField): what a date
    picker sends (ISO) always, and by hand the reader's own order; anything else is refused
    at the field."""
    from werkzeug.datastructures import MultiDict
    from wtforms import Form

    from portal.forms import LocalDateField

    class OneDate(Form):
        day = LocalDateField()

    with app.test_request_context(headers={"Accept-Language": language}):
        form = OneDate(formdata=MultiDict({"day": typed}))
        valid = form.validate()
        assert (form.day.data.isoformat() if valid else None) == expected
        assert valid or form.day.errors
