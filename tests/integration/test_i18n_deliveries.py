"""The deliveries, attendance, matches and progress screens in Norwegian Bokmål and Ukrainian
(issue #19): a signed-in user without a language of their own reads the browser's
Accept-Language — headings, buttons, kind and attendance labels, a flash, a refused action's
message, a rule's message at its field, Ukrainian's three plural forms and the locale's dates."""
from __future__ import annotations

import html
from datetime import timedelta

import pytest
from babel.dates import format_date

from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.enrollments.models import Enrollment
from tests.helpers import NB, UK, csrf_token

TODAY = utcnow().date()


@pytest.fixture
def scene(make, tenants):
    """Company A's mentorship campaign (at most 3 mentees per mentor): a beneficiary and an
    Acme employee volunteering, both enrolled 30 days ago."""
    program = make.program(template=make.template("mentorship"))
    camp = make.campaign(tenants["company_a"], program, name="Acme Mentoring")
    started = utcnow() - timedelta(days=30)
    mentee = make.enrollment(camp, make.participant(display_name="Olena Shevchenko", languages=["uk"]),
                             enrolled_at=started)
    mentor = make.enrollment(camp, make.participant(display_name="Marta Mentor", company_id=tenants["company_a"].id,
                                                    languages=["uk"]), role="volunteer", enrolled_at=started)
    return {"campaign": camp, "mentee": mentee, "mentor": mentor, "started": started}


def page(enrollment: Enrollment) -> str:
    return f"/campaigns/{enrollment.campaign_id}/enrollments/{enrollment.id}"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def record(client, enrollment: Enrollment, headers: dict, **fields):
    data = {"kind": "session_completed", "occurred_on": TODAY.isoformat(), "quantity": "1", **fields}
    data["csrf_token"] = csrf_token(client, "/home")
    return client.post(page(enrollment) + "/deliveries", data=data, headers=headers)


def recorded(app, enrollment_id: int, n: int) -> None:
    with app.app_context(), transaction():
        enrollment = db.session.get(Enrollment, enrollment_id)
        for i in range(n):
            ops.record_delivery(None, enrollment, kind="session_completed", occurred_on=TODAY - timedelta(days=i % 20),
                                attendance="present")


def test_the_deliveries_section_reads_norwegian_with_the_locales_dates(app, pm_client, scene):
    recorded(app, scene["mentee"].id, 1)
    body = text_of(pm_client.get(page(scene["mentee"]), headers=NB))
    for words in ("Registrer en gjennomføring", "Tidslinje over gjennomføringer", "Økt gjennomført", "til stede",
                  "1 gjennomføring", "Milepæler", "Første økt", "Annuller", "Registrer"):
        assert words in body, words
    assert f"sist {format_date(TODAY, 'medium', locale='nb')}" in body  # the counter's last date, as Norwegians write it
    for english in ("Record a delivery", "Timeline of deliveries", "Session completed", "1 delivery", "First Session"):
        assert english not in body, english


@pytest.mark.parametrize(("n", "words"), [(1, "1 активність"), (2, "2 активності"), (5, "5 активностей"),
                                          (21, "21 активність")])
def test_the_counter_takes_ukrainians_three_plural_forms(app, pm_client, scene, n, words):
    recorded(app, scene["mentee"].id, n)
    body = text_of(pm_client.get(page(scene["mentee"]), headers=UK))
    assert f'<dd data-kind="session_completed">{words} · ' in body
    assert "Заняття проведено" in body and "Записати активність" in body
    assert f"{n} deliver" not in body and "Record a delivery" not in body


def test_a_flash_after_recording_is_in_the_readers_language(app, pm_client, scene):
    response = record(pm_client, scene["mentee"], NB, attendance="present")
    assert response.status_code == 303
    body = text_of(pm_client.get(response.headers["Location"], headers=NB))
    assert "Økt gjennomført er registrert." in body and "Session completed recorded." not in body

    response = record(pm_client, scene["mentee"], UK, attendance="excused")
    body = text_of(pm_client.get(response.headers["Location"], headers=UK))
    assert "Записано: Заняття проведено." in body
    assert "з поважної причини" in body  # the timeline's attendance word


def test_a_refused_recording_and_a_rule_at_its_field_are_translated(app, pm_client, admin_a_client, scene):
    refused = record(admin_a_client, scene["mentee"], NB)
    assert refused.status_code == 422
    assert "Gjennomføringer for mottakere registreres av programteamet." in text_of(refused)
    assert "Deliveries for beneficiaries are recorded by the program team." not in text_of(refused)
    refused = record(admin_a_client, scene["mentee"], UK)
    assert "Активності отримувачів записує команда програми." in text_of(refused)

    tomorrow = TODAY + timedelta(days=1)
    future = record(pm_client, scene["mentee"], UK, occurred_on=tomorrow.isoformat())
    assert future.status_code == 422
    body = text_of(future)
    assert (f"Дата в майбутньому: записуйте те, що вже відбулося, до сьогодні включно "
            f"({format_date(TODAY, 'medium', locale='uk')}).") in body
    assert "The date is in the future" not in body


def test_the_attendance_sheet_in_norwegian_and_ukrainian(app, pm_client, scene):
    url = f"/campaigns/{scene['campaign'].id}/attendance"
    body = text_of(pm_client.get(url, headers=NB))
    for words in ("Oppmøteliste", "Til stede", "Gyldig fravær", "Ugyldig fravær", "Ikke holdt", "Lagre oppmøte",
                  "Vis listen", "Økttype"):
        assert words in body, words
    assert "Save attendance" not in body and "Not held" not in body

    token = csrf_token(pm_client, url)
    saved = pm_client.post(url, data={"csrf_token": token, "occurred_on": TODAY.isoformat(),
                                      "kind": "session_completed", f"row-e{scene['mentee'].id}": "present",
                                      f"row-e{scene['mentor'].id}": "present"}, headers=UK)
    assert saved.status_code == 303
    body = text_of(pm_client.get(saved.headers["Location"], headers=UK))
    assert "Відвідуваність збережено" in body and "2 присутні" in body
    assert "Лист відвідуваності" in body and "Записано в цьому листі." in body


def test_the_matches_page_with_plurals_and_the_volunteers_load(app, pm_client, scene):
    url = f"/campaigns/{scene['campaign'].id}/matches"
    body = text_of(pm_client.get(url, headers=UK))
    assert "Кожен волонтер може мати щонайбільше 3 активні пари в цій кампанії." in body
    assert "Навантаження волонтерів" in body and "0 з 3" in body
    assert "Each volunteer holds" not in body

    body = text_of(pm_client.get(url, query_string={"beneficiary": scene["mentee"].id}, headers=NB))
    assert "Hver frivillig kan ha maks 3 aktive koblinger i denne kampanjen." in body
    assert "Forslag for Olena Shevchenko" in body and "3 ledige plasser" in body and "Foreslå" in body

    token = csrf_token(pm_client, url)
    proposed = pm_client.post(url, data={"csrf_token": token, "volunteer_enrollment_id": scene["mentor"].id,
                                         "beneficiary_enrollment_id": scene["mentee"].id}, headers=NB)
    assert proposed.status_code == 303
    body = text_of(pm_client.get(proposed.headers["Location"], headers=NB))
    assert "Marta Mentor er foreslått som partner for Olena Shevchenko." in body
    assert "foreslått" in body and "Bekreft" in body


def test_the_progress_screens_and_the_import_page(app, pm_client, scene):
    body = text_of(pm_client.get("/home/progress", headers=NB))
    assert "Fremdrift i alle kampanjer" in body and "Progress across campaigns" not in body
    body = text_of(pm_client.get(f"/campaigns/{scene['campaign'].id}/deliveries/import", headers=UK))
    assert "Імпорт активностей із CSV" in body and "Import deliveries from CSV" not in body
