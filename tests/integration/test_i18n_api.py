"""The API, tokens and webhooks in Norwegian Bokmål and Ukrainian: the screens (headings,
table headers, flashes, refusals, plurals) follow the reader's language, and the API's
problem documents follow Accept-Language — title, detail and each error's detail translated,
``Content-Language`` saying which, field names, places and ``type`` left as they are, and a
domain rule's lazy message turned into text (valid JSON) at the edge."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from portal.db import db
from portal.tokens.models import ApiToken
from portal.webhooks.events import EVENT_TYPES
from tests.conftest import sign_in_client
from tests.helpers import NB, UK, csrf_token, webhook_endpoint
from tests.integration.api_support import ALL_SCOPES, Bearer, new_token
from tests.webhook_receiver import running_receiver


def _page(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[-3000:]
    return response.get_data(as_text=True)


def _problem(response, status: int, language: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.headers["Content-Language"] == language
    body = json.loads(response.get_data(as_text=True))  # valid JSON: no lazy string slipped through
    assert body["status"] == status and body["type"].startswith("/api/v1/docs#problem-")
    return body


def _endpoint(app, types, url="http://127.0.0.1:9/hook", description="Connector", enabled=True) -> int:
    return webhook_endpoint(app, types, url=url, description=description, enabled=enabled)[0]


# --- tokens ------------------------------------------------------------------------------------
def test_the_tokens_screen_in_norwegian_and_ukrainian(app, tenants):
    client = sign_in_client(app, tenants["admin_a"])
    nb = _page(client.get("/account/tokens/", headers=NB))
    assert "Dine tokener" in nb and "Opprett et token" in nb and "Ingen tokener ennå." in nb
    assert "Sist brukt" in nb and "Utløper etter" in nb and "90 dager" in nb and "7 dager" in nb
    assert "Lese det rollen din har tilgang til" in nb  # a scope's meaning; its code stays "read"
    assert "<code>read</code> — " in nb and "Your tokens" not in nb and "Create a token" not in nb
    assert "bare dataene til Acme Corp" in nb

    uk = _page(client.get("/account/tokens/", headers=UK))
    assert "Ваші токени" in uk and "Створити токен" in uk and "Токенів ще немає." in uk
    assert "7 днів" in uk and "30 днів" in uk and "Області доступу" in uk
    assert "Your tokens" not in uk and "No tokens yet." not in uk


def test_a_tokens_time_left_in_the_languages_plural_forms(app, tenants):
    for days in (1, 2, 5, 21, 30):
        new_token(app, tenants["pm"], ["read"], days=days, name=f"Token {days}")
    client = sign_in_client(app, tenants["pm"])
    uk = _page(client.get("/account/tokens/", headers=UK))
    for text in ("діє ще 1 день", "діє ще 2 дні", "діє ще 5 днів", "діє ще 21 день", "діє ще 30 днів"):
        assert text in uk, text
    nb = _page(client.get("/account/tokens/", headers=NB))
    assert "utløper om 1 dag" in nb and "utløper om 2 dager" in nb and "utløper om 21 dager" in nb
    english = _page(client.get("/account/tokens/"))
    assert "expires in 1 day<" in english and "expires in 21 days" in english


def test_creating_a_token_in_ukrainian_shows_it_once_and_a_refusal_in_ukrainian(app, tenants):
    client = sign_in_client(app, tenants["pm"])
    token = csrf_token(client, "/account/tokens/")
    refused = _page(client.post("/account/tokens/", headers=UK,
                                data={"csrf_token": token, "name": "", "expires_days": "30"}), 422)
    assert "Виберіть принаймні одну область доступу." in refused and "Назвіть токен (від 1 до 100 символів)" in refused
    assert "Choose at least one scope." not in refused
    created = _page(client.post("/account/tokens/", headers=UK, data={
        "csrf_token": token, "name": "Звіти", "scopes": ["read"], "expires_days": "30"}), 201)
    assert "Скопіюйте його зараз: він показується лише цей один раз." in created
    assert "Ваш новий токен «Звіти»" in created and "shown only this once" not in created


def test_revoking_a_token_asks_and_flashes_in_norwegian(app, tenants):
    new_token(app, tenants["admin_a"], ["read"], name="Skript")
    with app.app_context():
        token_id = db.session.scalars(sa.select(ApiToken.id)).one()
    client = sign_in_client(app, tenants["admin_a"])
    token = csrf_token(client, "/account/tokens/")
    asked = _page(client.post(f"/account/tokens/{token_id}/revoke", headers=NB, data={"csrf_token": token}))
    assert "Vil du trekke tilbake tokenet «Skript»?" in asked and "Trekk tilbake tokenet" in asked
    done = client.post(f"/account/tokens/{token_id}/revoke", headers=NB, data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 303
    after = _page(client.get("/account/tokens/", headers=NB))
    assert "Tokenet «Skript» er trukket tilbake." in after and "is revoked" not in after


# --- webhooks ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("headers", "words"), [
    (UK, {1: "1 тип", 2: "2 типи", 5: "5 типів", 21: "21 тип"}),
    (NB, {1: "1 type", 2: "2 typer", 5: "5 typer", 21: "21 typer"}),
])
def test_the_webhooks_list_counts_event_types_in_the_languages_plural_forms(app, tenants, headers, words):
    assert len(EVENT_TYPES) >= 21
    for count in words:
        _endpoint(app, EVENT_TYPES[:count], description=f"Connector {count}")
    page = _page(sign_in_client(app, tenants["pm"]).get("/webhooks/", headers=headers))
    for text in words.values():
        assert f"<td>{text}</td>" in page, text
    assert "types</td>" not in page


def test_the_webhook_screens_in_ukrainian(app, tenants):
    endpoint_id = _endpoint(app, ["program.enrollment.completed"])
    client = sign_in_client(app, tenants["pm"])
    index = _page(client.get("/webhooks/", headers=UK))
    assert "Кінцеві точки" in index and "Додати кінцеву точку" in index and "Усі компанії" in index
    assert "увімкнено" in index and "Endpoints" not in index
    new = _page(client.get("/webhooks/new", headers=UK))
    assert "Додати кінцеву точку вебхука" in new and "Add a webhook endpoint" not in new
    assert "Куди портал надсилає (POST) кожну подію" in new and "Where the portal POSTs" not in new
    detail = _page(client.get(f"/webhooks/{endpoint_id}", headers=UK))
    assert "Надіслати тестову подію" in detail and "Журнал доставки: останні спроби" in detail
    assert "Ще нічого не надіслано. Надішліть тестову подію, щоб перевірити кінцеву точку." in detail
    assert "Nothing sent yet" not in detail and "Send test event" not in detail
    asked = _page(client.post(f"/webhooks/{endpoint_id}/delete", headers=UK,
                              data={"csrf_token": csrf_token(client, f"/webhooks/{endpoint_id}")}))
    assert "Видалити кінцеву точку вебхука «Connector»?" in asked and "Видалити кінцеву точку" in asked


def test_a_test_event_flashes_in_norwegian_and_a_disabled_endpoint_refuses_in_ukrainian(app, tenants):
    client = sign_in_client(app, tenants["pm"])
    with running_receiver() as receiver:
        endpoint_id = _endpoint(app, ["program.enrollment.completed"], url=receiver.url)
        token = csrf_token(client, f"/webhooks/{endpoint_id}")
        sent = client.post(f"/webhooks/{endpoint_id}/test", headers=NB, data={"csrf_token": token})
        assert sent.status_code == 303
    detail = _page(client.get(f"/webhooks/{endpoint_id}", headers=NB))
    assert "Testhendelsen er sendt." in detail and "Test event sent." not in detail
    assert "Leveringslogg: de siste forsøkene" in detail

    disabled_id = _endpoint(app, ["program.enrollment.completed"], enabled=False)
    refused = _page(client.post(f"/webhooks/{disabled_id}/test", headers=UK, data={"csrf_token": token}), 422)
    assert "Цю кінцеву точку вимкнено: увімкніть її, щоб надіслати тестову подію." in refused
    assert "This endpoint is disabled" not in refused


def test_an_unsafe_url_is_refused_in_ukrainian(app, tenants):
    client = sign_in_client(app, tenants["pm"])
    token = csrf_token(client, "/webhooks/new")
    refused = _page(client.post("/webhooks/new", headers=UK, data={
        "csrf_token": token, "url": "http://user:pw@hooks.example.com/x#frag",
        "event_types": ["program.campaign.created"]}), 422)
    assert "Не вказуйте ім’я користувача чи пароль в URL-адресі" in refused
    refused = _page(client.post("/webhooks/new", headers=UK, data={"csrf_token": token, "url": ""}), 422)
    assert "Введіть URL-адресу, яка прийматиме вебхуки" in refused and "Виберіть принаймні один тип подій." in refused


# --- the API -----------------------------------------------------------------------------------
@pytest.fixture
def scene(make, tenants, language_program):
    campaign = make.campaign(tenants["company_a"], language_program, max_enrollment=5)
    person = make.participant(display_name="Olena", email="olena@example.org", year_of_birth=1990, languages=["uk"])
    return {"campaign": campaign, "enrollment": make.enrollment(campaign, person)}


def test_a_domain_refusal_through_the_api_is_ukrainian_json(app, tenants, scene):
    api = Bearer(app, new_token(app, tenants["pm"], ALL_SCOPES))
    base = f"/api/v1/campaigns/{scene['campaign'].id}/enrollments/{scene['enrollment'].id}"
    etag = api.get(base).headers["ETag"]
    stale = _problem(api.post(f"{base}/complete", headers={**UK, "If-Match": '"999"'}), 412, "uk")
    assert stale["title"] == "Передумову не виконано"
    assert stale["detail"].startswith("Запис про участь змінився відтоді, як ви його прочитали")
    done = api.post(f"{base}/complete", headers={"If-Match": etag})
    assert done.status_code == 200
    # The enrollment rules' own refusal (portal.errors.InvalidTransition, a lazy message).
    english = _problem(api.post(f"{base}/drop", headers={"If-Match": done.headers["ETag"]}), 409, "en")
    refused = _problem(api.post(f"{base}/drop", headers={**UK, "If-Match": done.headers["ETag"]}), 409, "uk")
    assert refused["title"] == "Конфлікт" and english["title"] == "Conflict"
    assert refused["detail"] and refused["detail"] != english["detail"] and "Cannot move" not in refused["detail"]
    assert any("а" <= c <= "я" for c in refused["detail"].lower())
    assert refused["type"] == english["type"]  # type URIs stay as they are


def test_validation_problems_keep_field_places_and_translate_their_words(app, tenants, scene):
    api = Bearer(app, new_token(app, tenants["pm"], ALL_SCOPES))
    url = f"/api/v1/campaigns/{scene['campaign'].id}/enrollments"
    body = _problem(api.post(url, json={"role": "beneficiary", "participant": {"email": 5}}, headers=NB), 422, "nb")
    assert body["title"] == "Forespørselen kan ikke behandles"
    assert body["detail"] == "Noen verdier i innholdet er ugyldige."
    by_place = {e.get("pointer"): e["detail"] for e in body["errors"]}
    assert by_place["#/participant/email"] == "Verdien må være en gyldig tekst"
    both = _problem(api.post(url, json={"participant_id": 1, "participant": {"display_name": "X"}}, headers=UK),
                    422, "uk")
    assert both["errors"][0]["detail"] == "Вкажіть або participant_id, або participant — не обидва й не жодного."
    missing = _problem(api.get("/api/v1/campaigns?nope=1", headers=UK), 422, "uk")
    assert missing["errors"] == [{"detail": "Додаткові поля не дозволені", "parameter": "nope"}]
    english = _problem(api.get("/api/v1/campaigns?nope=1"), 422, "en")
    assert english["errors"] == [{"detail": "Extra inputs are not permitted", "parameter": "nope"}]


def test_authentication_and_missing_things_are_told_in_the_requests_language(app, tenants):
    body = _problem(app.test_client().get("/api/v1/me", headers=NB), 401, "nb")
    assert body["title"] == "Autentisering kreves"
    assert body["detail"] == "Send et personlig tilgangstoken: Authorization: Bearer ipp_…"
    api = Bearer(app, new_token(app, tenants["admin_a"], ["read"]))
    gone = _problem(api.get("/api/v1/campaigns/999999", headers=UK), 404, "uk")
    assert gone["title"] == "Не знайдено" and gone["detail"] == "Тут нічого немає, або у вас немає доступу."
    scope = _problem(api.post("/api/v1/campaigns/1/enrollments", json={}, headers=UK), 403, "uk")
    assert scope["detail"] == "Цей токен не має області доступу 'enrollments:write'."
    assert _problem(api.get("/api/v1/me/nothing"), 404, "en")["title"] == "Not found"


def test_the_api_reference_page_speaks_the_language_but_the_contract_stays_english(app, client):
    page = _page(client.get("/api/v1/docs", headers=UK))
    assert "Типи проблем" in page and "Огляд" in page and "Конфлікт" in page and "Problem types" not in page
    nb = _page(client.get("/api/v1/docs", headers=NB))
    assert "Problemtyper" in nb and "Oversikt" in nb and "hvilket som helst gyldig token" in nb
    english = client.get("/api/v1/openapi.json").get_data()
    assert client.get("/api/v1/openapi.json", headers=UK).get_data() == english
    assert client.get("/api/v1/openapi.json", headers=NB).get_data() == english
