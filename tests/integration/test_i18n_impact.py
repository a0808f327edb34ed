"""The impact, report and privacy screens in Norwegian Bokmål and Ukrainian (issue #19): the
valuation sets, a campaign's impact page (impact points labelled as a score, never money),
SROI in the language's money format, the report with Babel's month names, a frozen report
whose content and hash do not depend on who froze it, the privacy screens, erasure
confirmed with the word of the reader's language, a flash, a refused action, and plurals
(Ukrainian's three forms for 1, 2, 5 and 21)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from portal.db import db, transaction, utcnow
from portal.deliveries import operations as delivery_ops
from portal.enrollments.models import Enrollment, Participant
from portal.reports.periods import current_quarter, quarter
from tests.helpers import csrf_token

TODAY = utcnow().date()


def _speaking(client, language: str):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _post(client, url, data, page=None):
    token = csrf_token(client, page or url)
    return client.post(url, data={"csrf_token": token, **data})


@pytest.fixture
def valued(app, make, tenants):
    """A EUR campaign of company A with twelve beneficiaries, one session each, under a
    pinned valuation set; the campaign invested EUR 10,000.00."""
    valuation = make.valuation_set(currency="EUR", name="Demo outcomes", entries=[
        {"outcome": "session_completed", "proxy_minor": 5_000, "deadweight": 10, "duration_years": 2,
         "source_text": "Tutor hour"}])
    program = make.program(template=make.template("mentorship"), valuation_set_id=valuation.id)
    campaign = make.campaign(tenants["company_a"], program, currency="EUR", budget_allocated=1_000_000,
                             name="Acme Språk")
    people = [make.enrollment(campaign, make.participant(display_name=f"Hidden {i}"),
                              enrolled_at=utcnow() - timedelta(days=3)) for i in range(12)]
    with app.app_context():
        for e in people:
            with transaction():
                delivery_ops.record_delivery(None, db.session.get(Enrollment, e.id), kind="session_completed",
                                             occurred_on=TODAY, attendance="present")
    return campaign, valuation


@pytest.mark.parametrize(("language", "words", "english"), [
    ("nb", ["Effektpoeng", "(en poengsum, ikke penger)", "i samfunnsverdi per investerte", "Nåverdi", "dødvekt 10 %"],
     ["Impact points", "of social value per", "Present value"]),
    ("uk", ["Бали впливу", "(оцінка в балах, не гроші)", "соціальної цінності на кожні інвестовані",
            "Поточна вартість"],
     ["Impact points", "of social value per", "Present value"]),
])
def test_the_impact_page_speaks_the_language_and_points_are_a_score(app, pm_client, valued, language, words,
                                                                   english):
    campaign, _ = valued
    page = _text(_speaking(pm_client, language).get(f"/campaigns/{campaign.id}/impact"))
    for word in words:
        assert word in page, word
    for word in english:
        assert word not in page, word
    # 12 sessions × 10 + 12 first-session milestones × 25 = 420 points, written the language's way
    assert "420,0" in page and "420.0" not in page
    # money in the language's format: nb "kr"/"€" after the amount, never "EUR 1,234.56"
    assert not re.search(r"EUR \d", page)


def test_valuation_sets_a_flash_and_a_refused_action_in_norwegian(app, pm_client):
    client = _speaking(pm_client, "nb")
    listing = _text(client.get("/valuation-sets/"))
    assert "Verdsettingssett" in listing and "Nytt verdsettingssett" in listing
    assert "New valuation set" not in listing
    created = _post(client, "/valuation-sets/new", {"name": "Språkresultater", "currency": "NOK",
                                                    "discount_rate": "3,5"}, "/valuation-sets/new")
    assert created.status_code in (303, 422)
    if created.status_code == 422:  # a comma decimal is the other helper's parser's business: try the ISO form
        created = _post(client, "/valuation-sets/new", {"name": "Språkresultater", "currency": "NOK",
                                                        "discount_rate": "3.5"}, "/valuation-sets/new")
    assert created.status_code == 303
    url = created.headers["Location"]
    page = _text(client.get(url))
    assert "Utkastet «Språkresultater v1» er opprettet" in page  # the flash
    assert "diskonteringsrente 3,5 % per år" in page
    refused = _post(client, f"{url}/activate", {"lock_version": "1", "confirmed": "yes"}, url)
    body = _text(refused)
    assert refused.status_code == 422
    assert "Legg til minst ett verdsatt resultat før du aktiverer settet." in body
    assert "Add at least one valued outcome" not in body


def test_a_bad_entry_is_refused_in_ukrainian(app, pm_client):
    client = _speaking(pm_client, "uk")
    created = _post(client, "/valuation-sets/new", {"name": "Результати", "currency": "UAH", "discount_rate": "3.5"},
                    "/valuation-sets/new")
    url = created.headers["Location"]
    refused = _post(client, f"{url}/entries/new", {"outcome": "delivery:session_completed", "proxy": "12.345",
                                                   "source_text": "", "duration_years": "11", "lock_version": "1"},
                    f"{url}/entries/new")
    body = _text(refused)
    assert refused.status_code == 422
    assert "Використовуйте не більше 2 знаків після коми." in body
    assert "ціле число від 1 до 10" in body
    assert "Фінансовий замінник на одиницю" in body  # the field's label
    assert "Use at most 2 decimal places." not in body


@pytest.mark.parametrize(("count", "text"), [(1, "триває 1 рік"), (2, "триває 2 роки"), (5, "триває 5 років"),
                                             (21, "триває 21 рік")])
def test_ukrainian_has_three_plural_forms(app, count, text):
    from portal.reports.present import _n_years

    with app.test_request_context("/", headers={"Accept-Language": "uk"}):
        assert _n_years(count) == text


@pytest.mark.parametrize(("count", "text"), [(1, "varer 1 år"), (2, "varer 2 år")])
def test_norwegian_years(app, count, text):
    from portal.reports.present import _n_years

    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        assert _n_years(count) == text


def test_period_labels_use_the_languages_month_names(app):
    period = quarter(2026, 2)
    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        assert period.label == "2. kvartal 2026 (april–juni)"
    with app.test_request_context("/", headers={"Accept-Language": "uk"}):
        assert period.label == "2-й квартал 2026 (квітень–червень)"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert period.label == "Q2 2026 (April–June)"


def test_the_report_speaks_the_language_and_its_snapshot_does_not_depend_on_it(app, pm_client, valued, tenants):
    from portal.campaigns.models import Campaign
    from portal.reports.content import build_report
    from portal.reports.models import ReportSnapshot

    campaign, _ = valued
    period = current_quarter(TODAY)
    client = _speaking(pm_client, "uk")
    url = f"/reports/campaigns/{campaign.id}?period={period.key}"
    page = _text(client.get(url))
    assert "Звіт про вплив" in page and "Зайнято місць" in page and "Проведено занять" in page
    assert "Impact report" not in page and "Sessions held" not in page
    assert "<strong>420,0</strong> бала впливу" in page
    # the frozen content and its hash are the same whoever asks, in whatever language
    now = utcnow()
    contents = []
    for language in ("en", "nb", "uk"):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            found = db.session.get(Campaign, campaign.id)
            contents.append(build_report(found.company, [found], period, min_cohort=10, now=now))
    assert contents[0] == contents[1] == contents[2]
    assert contents[0]["period"]["label"] == period.label  # English, as the API and old snapshots have it
    token = csrf_token(client, url)
    frozen = client.post(f"/reports/campaigns/{campaign.id}/snapshots", data={"csrf_token": token,
                                                                              "period": period.key})
    assert frozen.status_code == 303
    snapshot_page = _text(client.get(frozen.headers["Location"]))
    assert "Звіт зафіксовано" in snapshot_page  # the flash
    with app.app_context():
        snapshot = db.session.scalars(db.select(ReportSnapshot).order_by(ReportSnapshot.id.desc())).first()
        assert snapshot.is_intact() and snapshot.title.startswith("Impact report — ")  # stored in English
        assert "Зайнято" not in snapshot.content_json
    # the same snapshot in Norwegian: the page and the PDF's HTML
    nb_page = _text(_speaking(pm_client, "nb").get(frozen.headers["Location"]))
    assert "Effektrapport" in nb_page and "Plasser tatt" in nb_page and "Delingslenker" in nb_page
    from flask import render_template

    from portal.reports.content import PEOPLE_FIGURES
    with app.test_request_context("/", headers={"Accept-Language": "nb"}):
        snapshot = db.session.get(ReportSnapshot, snapshot.id)
        html = render_template("reports/document.html", snapshot=snapshot, content=snapshot.content,
                               figures=PEOPLE_FIGURES)
    assert 'lang="nb"' in html and "Fingeravtrykk (SHA-256)" in html and "Effektrapport" in html


def test_small_cells_read_fewer_than_in_norwegian(app, admin_a_client, make, tenants):
    program = make.program(template=make.template("mentorship"))
    campaign = make.campaign(tenants["company_a"], program, name="Lite pilot")
    for i in range(3):
        make.enrollment(campaign, make.participant(display_name=f"Pilot {i}"), enrolled_at=utcnow())
    page = _text(_speaking(admin_a_client, "nb").get(f"/reports/campaigns/{campaign.id}"))
    assert "færre enn 10" in page and "fewer than" not in page
    assert "Noen tall holdes tilbake: antall under 10 personer vises ikke" in page


@pytest.fixture
def person(app, make, tenants):
    program = make.program(template=make.template("mentorship"))
    campaign = make.campaign(tenants["company_a"], program, name="Acme Personvern")
    enrollment = make.enrollment(campaign, make.participant(display_name="Oksana Testova"))
    with app.app_context():
        return db.session.get(Enrollment, enrollment.id).participant_id


def test_the_privacy_screens_speak_the_language(app, pm_client, person):
    client = _speaking(pm_client, "uk")
    index = _text(client.get("/privacy/"))
    assert "Журнал видалень" in index and "Erasure log" not in index and "Due for erasure" not in index
    page = _text(client.get(f"/privacy/participants/{person}"))
    assert "Записи та правова підстава" in page and "Законний інтерес" in page
    assert "Legitimate interest" not in page
    erase = _text(client.get(f"/privacy/participants/{person}/erase"))
    assert "Введіть ідентифікатор учасника або ВИДАЛИТИ" in erase
    assert "Type the participant's reference" not in erase


def test_erasure_is_confirmed_with_the_word_of_the_readers_language(app, pm_client, person):
    english = _speaking(pm_client, "en")
    refused = _post(english, f"/privacy/participants/{person}/erase", {"confirmation": "SLETT"})
    assert refused.status_code == 422  # the Norwegian word means nothing to an English screen
    norwegian = _speaking(pm_client, "nb")
    wrong = _post(norwegian, f"/privacy/participants/{person}/erase", {"confirmation": "slett"})
    assert wrong.status_code == 422 and "Det stemmer ikke: skriv" in _text(wrong) and "SLETT" in _text(wrong)
    with app.app_context():
        assert db.session.get(Participant, person).erased_at is None
    done = _post(norwegian, f"/privacy/participants/{person}/erase", {"confirmation": "SLETT"})
    assert done.status_code == 303
    page = _text(norwegian.get(done.headers["Location"]))
    assert "Slettet. Identiteten er fjernet fra 1 påmelding" in page  # the flash, with its plural
    with app.app_context():
        assert db.session.get(Participant, person).erased_at is not None


def test_erase_still_works_in_every_language(app, pm_client, person):
    client = _speaking(pm_client, "uk")
    assert _post(client, f"/privacy/participants/{person}/erase", {"confirmation": "ERASE"}).status_code == 303
