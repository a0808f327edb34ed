"""Enrollments, participants and the CSV import in Norwegian Bokmål and Ukrainian (issue #19):
the enroll screen and its flash, a refused enroll and a refused action, the waitlist and bulk
plurals (Ukrainian's three forms: 1 and 21, 2, 5), dates in the reader's format, the
participants search and the import's dry run with its row reasons, each read with an
``Accept-Language`` header (the signed-in users have chosen no language of their own)."""
from __future__ import annotations

import html
import io
from datetime import UTC, datetime

import pytest
from babel.dates import format_date

from portal.db import db
from portal.enrollments.models import Enrollment
from tests.helpers import NB, UK, csrf_token, words
from tests.helpers import visible_text as text_of


@pytest.fixture
def camp(make, tenants):
    return make.campaign(tenants["company_a"], name="Alpha Language Run")


def enroll(client, campaign_id, headers, **fields):
    token = csrf_token(client, f"/campaigns/{campaign_id}/enroll")
    data = {"csrf_token": token, "role": "beneficiary", "legal_basis": "legitimate_interest", **fields}
    return client.post(f"/campaigns/{campaign_id}/enroll", data=data, headers=headers, follow_redirects=True)


# --- the enroll screen ----------------------------------------------------------------
def test_the_enroll_screen_speaks_norwegian_and_ukrainian(pm_client, admin_a_client, camp):
    nb = text_of(pm_client.get(f"/campaigns/{camp.id}/enroll", headers=NB))
    assert "Meld på en deltaker" in nb and "Finn en eksisterende deltaker" in nb and "Fødselsår" in nb
    assert "Enroll a participant" not in nb and "Year of birth" not in nb
    uk = text_of(pm_client.get(f"/campaigns/{camp.id}/enroll", headers=UK))
    assert "Записати учасника" in uk and "Знайти наявного учасника" in uk and "Записати й додати ще" in uk
    assert "Enroll a participant" not in uk and "Enroll and add another" not in uk
    admin = text_of(admin_a_client.get(f"/campaigns/{camp.id}/enroll", headers=UK))
    assert "Записати волонтера" in admin and "Волонтер (працівник Acme Corp)" in admin
    assert "Enroll a volunteer" not in admin


def test_the_enroll_flash_names_the_person_in_the_readers_language(pm_client, camp):
    uk = text_of(enroll(pm_client, camp.id, UK, display_name="Olena Kovalenko"))
    assert "Записано: Olena Kovalenko." in uk and "Записати ще одного" in uk
    assert "is enrolled" not in uk and "Enroll another" not in uk
    nb = text_of(enroll(pm_client, camp.id, NB, display_name="Ingrid Berg"))
    assert "Ingrid Berg er påmeldt." in nb and "Meld på en til" in nb and "is enrolled" not in nb


def test_a_company_admins_flash_keeps_the_pseudonym_in_every_language(app, admin_a_client, make, tenants):
    """A company admin's new employee is named; the flash is translated, the privacy rule unchanged."""
    camp = make.campaign(tenants["company_a"])
    response = enroll(admin_a_client, camp.id, UK, role="volunteer", display_name="Kari Nordmann")
    assert "Записано: Kari Nordmann." in text_of(response)


def test_a_refused_enroll_explains_itself_in_ukrainian(pm_client, make, tenants):
    paused = make.campaign(tenants["company_a"], status="paused")
    response = enroll(pm_client, paused.id, UK, display_name="Olena Kovalenko")
    assert response.status_code == 409
    page = text_of(response)
    assert "Записати неможливо" in page and "Cannot enroll" not in page
    assert "Записи приймаються, лише поки кампанія та її програма активні" in page
    assert "Enrollments are accepted only" not in page


def test_a_refused_action_and_the_outlook_in_norwegian(pm_client, camp):
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    refused = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", headers=NB,
                             data={"csrf_token": token, "action": "complete"})
    assert refused.status_code == 422
    page = text_of(refused)
    assert "Kryss av for minst én påmelding først." in page and "Tick at least one" not in page
    check = pm_client.post(f"/campaigns/{camp.id}/enroll/check", headers=NB, data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Ola", "legal_basis": "legitimate_interest"})
    outlook = text_of(check)
    assert "Blir påmeldt" in outlook and "Oppfyller kravene, og det er en ledig plass." in outlook
    assert "Will be enrolled" not in outlook


# --- plurals ----------------------------------------------------------------------------
@pytest.mark.parametrize("count,uk_words", [
    (1, "Завершено 1 запис."), (2, "Завершено 2 записи."), (5, "Завершено 5 записів."), (21, "Завершено 21 запис."),
])
def test_a_bulk_change_counts_in_ukrainian_plural_forms(pm_client, make, tenants, count, uk_words):
    camp = make.campaign(tenants["company_a"])
    ids = [str(make.enrollment(camp).id) for _ in range(count)]
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    response = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", headers=UK, follow_redirects=True, data={
        "csrf_token": token, "action": "complete", "enrollment_ids": ids, "confirmed": "yes"})
    page = text_of(response)
    assert uk_words in page and "completed." not in page


@pytest.mark.parametrize("waiting,uk_words,nb_words", [
    (1, "1 людина в списку очікування", "1 person står på venteliste"),
    (2, "2 людини в списку очікування", "2 personer står på venteliste"),
    (5, "5 людей у списку очікування", "5 personer står på venteliste"),
    (21, "21 людина в списку очікування", "21 personer står på venteliste"),
])
def test_the_drop_confirmation_says_who_waits_in_each_language(pm_client, make, tenants, waiting, uk_words,
                                                               nb_words):
    camp = make.campaign(tenants["company_a"], max_enrollment=1, waitlist_enabled=True)
    seated = make.enrollment(camp)
    for _ in range(waiting):
        make.enrollment(camp, status="waitlisted", waitlisted_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC))
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    url = f"/campaigns/{camp.id}/enrollments/{seated.id}/drop"
    uk = text_of(pm_client.post(url, headers=UK, data={"csrf_token": token, "reason": ""}))
    assert "Це звільняє 1 місце." in uk and uk_words in uk and "on the waitlist" not in uk
    assert "Припинити участь" in uk and "Drop the enrollment" not in uk
    nb = text_of(pm_client.post(url, headers=NB, data={"csrf_token": token, "reason": ""}))
    assert "Dette frigjør 1 plass." in nb and nb_words in nb and "on the waitlist" not in nb


# --- the enrollment and the participants --------------------------------------------------
def test_the_enrollment_page_shows_its_date_in_the_readers_format(app, pm_client, make, camp):
    person = make.participant(display_name="Olena Kovalenko")
    enrollment = make.enrollment(camp, person)
    with app.app_context():
        enrolled_at = db.session.get(Enrollment, enrollment.id).enrolled_at
    uk = text_of(pm_client.get(f"/campaigns/{camp.id}/enrollments/{enrollment.id}", headers=UK))
    assert words(format_date(enrolled_at.date(), "medium", locale="uk")) in uk
    assert "Записано" in uk and "Рік народження" in uk and "Year of birth" not in uk
    assert enrolled_at.date().isoformat() not in uk
    nb = text_of(pm_client.get(f"/campaigns/{camp.id}/enrollments/{enrollment.id}", headers=NB))
    assert words(format_date(enrolled_at.date(), "medium", locale="nb")) in nb and "Påmeldt" in nb


def test_a_company_admin_still_sees_only_the_pseudonym_in_ukrainian(admin_a_client, make, camp):
    person = make.participant(display_name="Secret Beneficiary", email="secret@example.org")
    enrollment = make.enrollment(camp, person)
    page = admin_a_client.get(f"/campaigns/{camp.id}/enrollments/{enrollment.id}", headers=UK).get_data(as_text=True)
    assert "Secret Beneficiary" not in page and "secret@example.org" not in page
    assert "псевдонім: команда програми не розкриває особи отримувачів" in html.unescape(page)


@pytest.mark.parametrize("people,uk_words", [
    (1, "1 збіг для «Anna»"), (2, "2 збіги для «Anna»"), (5, "5 збігів для «Anna»"), (21, "21 збіг для «Anna»"),
])
def test_the_participants_search_counts_in_ukrainian(pm_client, make, people, uk_words):
    for n in range(people):
        make.participant(display_name=f"Anna {n:02d}")
    page = text_of(pm_client.get("/participants/?q=Anna", headers=UK))
    assert uk_words in page and "match" not in page


def test_the_participants_screens_in_norwegian(pm_client, make):
    person = make.participant(display_name="Anna Berg", email="anna@example.org")
    index = pm_client.get("/participants/", headers=NB).get_data(as_text=True)
    assert 'placeholder="Navn, e-post eller referanse"' in index and "Nyeste først" in index
    assert "Newest first" not in index
    detail = text_of(pm_client.get(f"/participants/{person.id}", headers=NB))
    assert "Ikke påmeldt noen kampanje ennå." in detail and "Kan meldes på" in detail and "Ja" in detail
    assert "Not enrolled in any campaign yet." not in detail
    edit = text_of(pm_client.get(f"/participants/{person.id}/edit", headers=NB))
    assert "Lagre deltaker" in edit and "Save participant" not in edit


# --- the import -------------------------------------------------------------------------
def test_the_dry_run_reads_in_ukrainian_with_its_row_reasons(pm_client, camp):
    content = ("email,display_name\n"
               "olena@example.org,Olena\n"
               "OLENA@example.org,Olena again\n"
               "new@example.org,\n")
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/import")
    response = pm_client.post(f"/campaigns/{camp.id}/import", headers=UK, content_type="multipart/form-data",
                              data={"csrf_token": token, "file": (io.BytesIO(content.encode()), "people.csv")},
                              follow_redirects=True)
    assert response.status_code == 422
    page = text_of(response)
    assert "Пробний запуск: people.csv" in page and "Dry run" not in page
    assert "3 рядки даних перевірено щодо кампанії" in page
    assert "2 рядки не можна імпортувати" in page and "rows cannot be imported" not in page
    assert "дублікат рядка 2 (той самий email)" in page and "duplicate of row" not in page
    assert "для нового учасника потрібне display_name" in page


def test_the_upload_page_and_a_refused_file_in_norwegian(pm_client, camp):
    page = text_of(pm_client.get(f"/campaigns/{camp.id}/import", headers=NB))
    assert "Importer påmeldinger fra CSV" in page and "Last opp og sjekk (prøvekjøring)" in page
    assert "Upload and check" not in page
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/import")
    refused = pm_client.post(f"/campaigns/{camp.id}/import", headers=NB, content_type="multipart/form-data",
                             data={"csrf_token": token, "file": (io.BytesIO(b""), "empty.csv")})
    assert refused.status_code == 422
    assert "Filen er tom." in text_of(refused) and "The file is empty." not in text_of(refused)
