"""The beneficiary group, program and catalog screens in Norwegian Bokmål and Ukrainian
(issue #19): headings, filters, form labels, the privacy refusals and warnings, the
"fewer than N" figure, lifecycle flashes and refusals, and the catalog's plural counts
(Ukrainian's three forms: 1, 2–4, 5–20, 21…). The signed-in users have no language of
their own, so each request's Accept-Language decides."""
from __future__ import annotations

import html
import re

import pytest

from tests.helpers import NB, UK, csrf_token, group_form


def text(response) -> str:
    """The page's text with entities decoded (“ ” ’ and the like arrive as characters)."""
    return html.unescape(response.get_data(as_text=True))


def lock_version(body: str) -> str:
    """The version a page's lifecycle buttons post (what the reader saw)."""
    tag = re.search(r'<input[^>]*name="lock_version"[^>]*>', body).group(0)
    return re.search(r'value="(\d+)"', tag).group(1)


# --- beneficiary groups ------------------------------------------------------------------
def test_group_list_and_form_speak_the_browsers_language(pm_client, make):
    make.group(name="Syrian families in Leipzig", group_type="migrants", country="DE")
    body = text(pm_client.get("/groups/", headers=UK))
    for said in ("Групи отримувачів", "Нова група", "Усі типи", "Назва або ключ", "Мігранти", "Учасники",
                 "менше ніж 10"):
        assert said in body, said
    assert "Beneficiary groups" not in body and "fewer than" not in body and "All types" not in body

    body = text(pm_client.get("/groups/new", headers=NB))
    for said in ("Ny mottakergruppe", "Opprett gruppe", "Gruppetype", "Flyktninger", "Arbeidsspråk",
                 "Lagringstid (måneder)", "— velg et land —", "Avbryt"):
        assert said in body, said
    assert "Create group" not in body and "Working languages" not in body


def test_a_refused_group_names_the_personal_data_in_the_readers_language(app, pm_client):
    token = csrf_token(pm_client, "/groups/new")
    response = pm_client.post("/groups/new", headers=UK,
                              data=group_form(token, description="Write to olena.k@example.org", name="Olena K."))
    assert response.status_code == 422
    body = text(response)
    assert "Видаліть адресу електронної пошти: групи описують спільноти, а не окремих людей." in body
    assert "«Olena K.» схоже на ім’я людини." in body  # the warning (shown, never refused)
    assert "Remove the e-mail address" not in body and "looks like a person's name" not in body

    response = pm_client.post("/groups/new", headers=NB, data=group_form(token, description="x" * 5001))
    body = text(response)
    assert response.status_code == 422
    assert "For langt til å sjekkes for personopplysninger: bruk maks 5 000 tegn." in body.replace("\u00a0", " ")


def test_creating_and_moving_a_group_flash_in_the_readers_language(app, pm_client, make):
    token = csrf_token(pm_client, "/groups/new")
    response = pm_client.post("/groups/new", headers=UK, data=group_form(token, name="Newcomers in Oslo"))
    assert response.status_code in (302, 303)
    detail_url = response.headers["Location"]
    body = text(pm_client.get(detail_url, headers=UK))
    assert "Групу «Newcomers in Oslo» створено." in body and "created." not in body
    for said in ("Відомості", "Період дії", "Робочі мови", "від 18 до 70", "Програми для цієї групи",
                 "Для цієї групи ще немає програм.", "менше ніж 10", "Деактивувати", "Архівувати"):
        assert said in body, said

    group_id = int(detail_url.rstrip("/").rsplit("/", 1)[1])
    response = pm_client.post(f"/groups/{group_id}/status", headers=NB,
                              data={"csrf_token": token, "target": "inactive", "lock_version": lock_version(body)})
    assert response.status_code in (302, 303)
    body = text(pm_client.get(detail_url, headers=NB))
    assert "Gruppen er nå inaktiv." in body and "The group is now" not in body


# --- programs -------------------------------------------------------------------------------
def test_program_list_wizard_and_launch_refusals_in_ukrainian(pm_client, make):
    template = make.template("language")
    make.group(name="Sleeping group", status="inactive", eligible_categories=["language"])
    make.group(name="Buddies only", eligible_categories=["buddy"])
    make.program(template, name="Language Bergen")

    body = text(pm_client.get("/programs/", headers=UK))
    for said in ("Програми", "Запустити програму", "Публічна", "Видимість", "Назва або ключ", "Language Bergen"):
        assert said in body, said
    assert "Launch a program" not in body and ">Public<" not in body

    body = text(pm_client.get("/programs/new", headers=UK))
    assert "Виберіть активну версію шаблону" in body and "Кроки запуску" in body
    assert "Pick an active template version" not in body

    body = text(pm_client.get(f"/programs/new?template={template.id}", headers=UK))
    assert "Група неактивна; нові програми отримують лише активні групи." in body
    assert "Група не може брати участь у мовних програмах." in body
    assert "Несумісна" in body
    assert "only active groups" not in body and "not eligible for" not in body


def test_program_detail_moves_and_refusals_in_norwegian(app, pm_client, make):
    program = make.program(status="active", name="Mentors Bergen")
    body = text(pm_client.get(f"/programs/{program.id}", headers=NB))
    for said in ("Gjeldende konfigurasjon", "Rediger konfigurasjon", "Plasser i bruk", "Ingen bedrift har en "
                 "kampanje i dette programmet ennå.", "Kampanjetall"):
        assert said in body, said
    assert "Effective configuration" not in body and "Seats used" not in body

    token = csrf_token(pm_client, "/home")
    response = pm_client.post(f"/programs/{program.id}/status", headers=NB,
                              data={"csrf_token": token, "target": "paused", "lock_version": program.lock_version})
    assert response.status_code == 303
    assert "Programmet er nå satt på pause." in text(pm_client.get(f"/programs/{program.id}", headers=NB))

    # Archiving asks first: the confirmation page speaks Norwegian too.
    seen = lock_version(text(pm_client.get(f"/programs/{program.id}", headers=NB)))
    response = pm_client.post(f"/programs/{program.id}/status", headers=NB,
                              data={"csrf_token": token, "target": "archived", "lock_version": seen})
    body = text(response)
    assert response.status_code == 200 and "Arkiver programmet" in body and "Status nå" in body
    assert "Archive the program" not in body

    # A stale version is refused (409) with the reason in the reader's language.
    response = pm_client.post(f"/programs/{program.id}/status", headers=UK,
                              data={"csrf_token": token, "target": "active", "lock_version": 0})
    assert response.status_code == 409
    assert "програму «Mentors Bergen»" in text(response)


# --- catalog ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("count", "uk_said", "nb_said"), [
    (1, "1 програма.", "1 program."),
    (2, "2 програми.", "2 programmer."),
    (5, "5 програм.", "5 programmer."),
    (21, "21 програма.", "21 programmer."),
])
def test_the_catalog_counts_programs_with_each_languages_plural(admin_a_client, make, count, uk_said, nb_said):
    template, group = make.template("language"), make.group()
    for n in range(count):
        make.program(template, group, name=f"Program {n:02d}")
    summary = re.compile(r'class="catalog-summary[^"]*"[^>]*>\s*(.*?)\s*<', re.S)
    uk_text = summary.search(text(admin_a_client.get("/catalog/", headers=UK))).group(1)
    assert uk_text == uk_said
    nb_text = summary.search(text(admin_a_client.get("/catalog/", headers=NB))).group(1)
    assert nb_text == nb_said


def test_catalog_filters_cards_and_empty_state_in_ukrainian(admin_a_client, tenants, make):
    program = make.program(make.template("language"), make.group(group_type="women_in_tech"), name="Code Club")
    make.campaign(tenants["company_a"], program)
    body = text(admin_a_client.get("/catalog/", headers=UK))
    for said in ("Каталог програм", "Програма, опис або група", "Усі категорії", "Усі типи груп", "Усі цілі",
                 "Жінки в технологіях", "Ваша компанія: 1 кампанія", "менше ніж 10 отримувачів",
                 "Запустити кампанію", "Про програму"):
        assert said in body, said
    assert "All categories" not in body and "beneficiaries" not in body and "Your company" not in body

    body = text(admin_a_client.get("/catalog/?q=nothing-like-this", headers=NB))
    assert "Ingen aktive, offentlige programmer passer filtrene." in body and "Nullstill filtrene" in body

    body = text(admin_a_client.get(f"/catalog/{program.id}", headers=NB))
    for said in ("Om programmet", "Hvem det er for", "kvinner i teknologi", "færre enn 10 mottakere",
                 "(alle bedrifters kampanjer, avrundet)", "Bedriftens kampanjer"):
        assert said in body, said
    assert "Who it serves" not in body and "beneficiaries" not in body
