"""The portal's shell in Norwegian Bokmål and Ukrainian (issue #19): the header, the footer,
the sign-in page and its refusal, the home page, users & companies with a flash and a refused
action, the activity log's sentences (one whole translated sentence each, its objects still
linked) with Ukrainian's three plural forms, status badges, error pages and the session-expired
message — each read with the browser's Accept-Language and no English of the same text."""
from __future__ import annotations

import re

import pytest

from portal.activity.models import ActivityEvent
from portal.db import db
from tests.conftest import sign_in_client
from tests.helpers import NB, UK, csrf_token


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_sign_in_page_and_its_refusal_speak_the_browsers_language(client):
    page = text(client.get("/sign-in", headers=NB))
    assert "<h1 id=\"sign-in-title\">Logg inn</h1>" in page and ">Sign in<" not in page
    assert "Gå til innholdet" in page and "Skip to content" not in page
    assert "Impact Programs-portalen · maler → programmer → kampanjer → påmeldinger" in page

    token = csrf_token(client, "/sign-in")
    refused = client.post("/sign-in", data={"csrf_token": token, "email": "nobody@example.org", "password": "x" * 12},
                          headers=UK)
    body = text(refused)
    assert refused.status_code == 422
    assert "Виникла проблема" in body and "There is a problem" not in body
    assert "Ця адреса електронної пошти й пароль не відповідають жодному активному обліковому запису." in body
    assert "do not match an active account" not in body

    empty = text(client.post("/sign-in", data={"csrf_token": token}, headers=NB))
    assert "Skriv e-postadressen din." in empty and "Enter your e-mail." not in empty


def test_the_header_home_page_and_navigation_in_ukrainian(app, tenants, make):
    campaign = make.campaign(tenants["company_a"], name="Acme – Мова", max_enrollment=10, enrolled_count=9)
    client = sign_in_client(app, tenants["pm"])
    body = text(client.get("/home", headers=UK))
    assert "Вітаємо, Pat" in body and "Welcome" not in body
    assert ">Головна<" in body and ">Користувачі<" in body and "Users &amp; companies" not in body
    assert "Менеджер програми" in body and "Program manager" not in body
    assert ">Вийти<" in body and ">Sign out<" not in body
    assert "Майже заповнені кампанії" in body and campaign.name in body
    assert "Зайняті місця в кампанії «Acme – Мова»" in body
    assert "Кампанії, заповнені на ≥ 80 %" in body
    # app.js reads the htmx error toasts from the page, in its language.
    assert 'data-error-409="Хтось інший це змінив. Перезавантажте сторінку, щоб побачити зміни."' in body
    assert 'data-error-other="Щось пішло не так ({status}). Нічого не збережено; спробуйте ще раз."' in body


def test_users_and_companies_with_a_flash_a_refusal_and_badges_in_norwegian(app, tenants, pm_client):
    page = text(pm_client.get("/admin/", headers=NB))
    assert "<h1>Brukere og bedrifter</h1>" in page and "Users &amp; companies</h1>" not in page
    assert ">Bedriftsadministrator<" in page and ">aktiv</span>" in page and ">active</span>" not in page
    assert "Alle roller" in page and "All roles" not in page

    token = csrf_token(pm_client, "/admin/companies/new")
    created = pm_client.post("/admin/companies/new", data={"csrf_token": token, "name": "Fjord Tech"}, headers=NB,
                             follow_redirects=True)
    assert "Bedriften «Fjord Tech» er opprettet." in text(created) and "created." not in text(created)

    pm = tenants["pm"]
    refused = pm_client.post(f"/admin/users/{pm.id}/deactivate", data={"csrf_token": token}, headers=NB)
    assert refused.status_code == 422
    assert "Du kan ikke deaktivere deg selv." in text(refused)
    assert "You cannot deactivate yourself." not in text(refused)


def _import_event(app, campaign, actor, enrolled: int) -> None:
    with app.app_context():
        db.session.add(ActivityEvent(type="program.enrollment.created", actor_id=actor.id, company_id=campaign.company_id,
                                     subject_type="campaigns", subject_id=campaign.id, subject_label=campaign.name,
                                     data={"import": True, "enrolled": enrolled, "waitlisted": 0}))
        db.session.commit()


@pytest.mark.parametrize(("count", "words"), [(1, "1 запис"), (2, "2 записи"), (5, "5 записів"), (21, "21 запис")])
def test_activity_sentences_take_ukrainians_three_plural_forms(app, tenants, make, pm_client, count, words):
    campaign = make.campaign(tenants["company_a"], name="Acme Q1")
    _import_event(app, campaign, tenants["pm"], count)
    body = text(pm_client.get("/activity/", headers=UK))
    assert f'Pat Manager: імпортовано {words} до «<a href="/campaigns/{campaign.id}">Acme Q1</a>»' in body
    assert "imported" not in body and "Запис створено" in body


def test_activity_log_sentences_kinds_and_changes_in_norwegian(app, tenants, make, pm_client):
    campaign = make.campaign(tenants["company_a"], name="Acme Q2")
    with app.app_context():
        db.session.add(ActivityEvent(type="program.campaign.updated", actor_id=tenants["pm"].id,
                                     company_id=campaign.company_id, subject_type="campaigns", subject_id=campaign.id,
                                     subject_label=campaign.name,
                                     data={"max_enrollment": {"from": 40, "to": 1250}}))
        db.session.add(ActivityEvent(type="program.campaign.paused", actor_id=None, company_id=campaign.company_id,
                                     subject_type="campaigns", subject_id=campaign.id, subject_label=campaign.name,
                                     data={"from": "active", "to": "paused"}))
        db.session.commit()
    body = text(pm_client.get("/activity/", headers=NB))
    # One whole sentence, the campaign still a link, the figure in Norwegian format.
    assert re.search(rf'Pat Manager økte maks antall plasser for <a href="/campaigns/{campaign.id}">Acme Q2</a> '
                     r"fra 40 til 1\s250", body)
    assert "raised the cap" not in body
    assert f'Systemet satte kampanjen <a href="/campaigns/{campaign.id}">Acme Q2</a> på pause' in body
    assert "Kampanje satt på pause" in body and "Campaign paused" not in body
    assert re.search(r"Status</span>: <span[^>]*>aktiv</span>", body)
    assert "Aktivitetslogg" in body and "Type endring" in body and "historikken til denne kampanjen" in body


def test_error_pages_in_both_languages(pm_client, client):
    missing = pm_client.get("/no-such-page", headers=UK)
    assert missing.status_code == 404
    assert "Не знайдено" in text(missing) and "Перейти на головну сторінку" in text(missing)
    assert "Go to the home page" not in text(missing)
    forbidden = client.post("/sign-out", headers=NB)  # no CSRF token
    assert forbidden.status_code == 400 and "CSRF-kontrollen feilet" in text(forbidden)


def test_the_session_expired_message_is_in_the_users_language(app, tenants):
    with app.app_context():
        from portal.auth.models import User

        db.session.get(User, tenants["pm"].id).locale = "uk"
        db.session.commit()
    client = sign_in_client(app, tenants["pm"])
    with client.session_transaction() as session:
        session["_seen_at"] -= 24 * 3600  # idle far beyond the limit
    response = client.get("/home", follow_redirects=True)
    body = text(response)
    assert "Ваш сеанс завершився. Увійдіть знову, щоб продовжити." in body and "Увійти" in body
    assert "Your session has ended" not in body
