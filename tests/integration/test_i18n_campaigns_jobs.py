"""Campaigns, L2I and jobs in Norwegian Bokmål and Ukrainian (issue #19): the campaign list and
dashboard (seats, waitlist and money in the reader's format), a flash, a refused edit, the
capacity plurals (Ukrainian's three forms: 1 and 21, 2, 5), the L2I subscription with its
shares and amounts, a job's page and its "time left", and that a job runs in the language of
whoever started it (``force_locale``), whichever process runs it: what it stores is in that
person's language. Each screen is read with an ``Accept-Language`` header (the signed-in users
have chosen no language of their own)."""
from __future__ import annotations

import pytest

from portal.db import db, transaction
from portal.errors import DomainError
from portal.i18n import _, _l, current_language, force_locale
from portal.jobs.models import QUEUED, RUNNING, Job
from portal.jobs.queue import start_job
from portal.jobs.runner import JobContext, job_task, run_job
from portal.jobs.views import time_left_text
from portal.l2i.operations import create_subscription
from portal.models import Company
from tests.helpers import NB, UK, browser_form, csrf_token
from tests.helpers import visible_text as text_of


# --- campaigns ------------------------------------------------------------------------------
@pytest.fixture
def camp(make, tenants):
    camp = make.campaign(tenants["company_a"], name="Alpha Language Run", max_enrollment=40, currency="NOK",
                         budget_allocated=500_000, seat_price=10_000, waitlist_enabled=True)
    make.seat_counters(camp, enrolled=21, waitlisted=5)
    return camp


def test_the_campaign_list_speaks_norwegian_with_money_in_its_format(pm_client, camp):
    nb = text_of(pm_client.get("/campaigns/", headers=NB))
    assert "Kampanjer" in nb and "Start en kampanje" in nb and "Disponert budsjett" in nb
    assert "2 100,00 kr / 5 000,00 kr" in nb  # 21 seats × 100 kr of a 5 000 kr budget
    assert "+5 venter" in nb
    assert "Budget committed" not in nb and "Start a campaign" not in nb and "waiting" not in nb


def test_the_campaign_dashboard_speaks_ukrainian(pm_client, camp):
    uk = text_of(pm_client.get(f"/campaigns/{camp.id}", headers=UK))
    assert "Місткість" in uk and "Зайнято 21 з 40 місць" in uk and "5 у списку очікування" in uk
    assert "2 100,00 NOK з 5 000,00 NOK зарезервовано" in uk and "100,00 NOK за місце" in uk
    assert "Записи з часом" in uk and "Готові до завершення" in uk and "Потребують уваги" in uk
    assert "seats used" not in uk and "on the waitlist" not in uk and "per seat" not in uk
    assert "Capacity" not in uk and "Ready to complete" not in uk


@pytest.mark.parametrize(("seats", "words_uk", "words_nb"), [
    (1, "1 місце зайнято", "1 plass brukt"), (2, "2 місця зайнято", "2 plasser brukt"),
    (5, "5 місць зайнято", "5 plasser brukt"), (21, "21 місце зайнято", "21 plasser brukt")])
def test_seats_used_say_their_plural_in_each_language(pm_client, make, tenants, seats, words_uk, words_nb):
    uncapped = make.campaign(tenants["company_a"])
    make.seat_counters(uncapped, enrolled=seats)
    uk = text_of(pm_client.get(f"/campaigns/{uncapped.id}", headers=UK))
    assert words_uk in uk and "seat" not in uk
    nb = text_of(pm_client.get(f"/campaigns/{uncapped.id}", headers=NB))
    assert words_nb in nb and "seat" not in nb


@pytest.mark.parametrize(("count", "expected"), [
    (1, "1 людина"), (2, "2 людини"), (5, "5 людей"), (21, "21 людина")])
def test_the_edit_screen_counts_the_waitlist_in_ukrainian(admin_a_client, make, tenants, count, expected):
    waiting = make.campaign(tenants["company_a"], waitlist_enabled=True)
    make.seat_counters(waiting, enrolled=3, waitlisted=count)
    uk = text_of(admin_a_client.get(f"/campaigns/{waiting.id}/edit", headers=UK))
    assert f"Зайнято місць: 3; у списку очікування: {expected}." in uk
    assert "Місткість і бюджет" in uk and "Зберегти кампанію" in uk and "Seats taken" not in uk


def test_a_saved_campaign_flashes_in_norwegian(admin_a_client, camp):
    url = f"/campaigns/{camp.id}/edit"
    form = browser_form(admin_a_client.get(url, headers=NB).get_data(as_text=True))
    form["name"] = "Alpha Language Run 2"
    response = admin_a_client.post(url, data=form, headers=NB, follow_redirects=True)
    page = text_of(response)
    assert response.status_code == 200 and "Kampanjen er lagret." in page and "Campaign saved." not in page


def test_a_refused_edit_explains_itself_in_ukrainian(admin_a_client, camp):
    url = f"/campaigns/{camp.id}/edit"
    form = browser_form(admin_a_client.get(url, headers=UK).get_data(as_text=True))
    form["max_enrollment"] = "2"
    response = admin_a_client.post(url, data=form, headers=UK)
    page = text_of(response)
    assert response.status_code == 422
    assert "Уже зайнято місць (активні й завершені отримувачі): 21; максимум місць не може бути меншим за 21." in page
    assert "Seats already taken" not in page
    form["max_enrollment"] = "40"
    form["budget_allocated"] = "1000"  # 21 seats at 100 NOK need 2 100 NOK
    page = text_of(admin_a_client.post(url, data=form, headers=UK))
    assert "21 місце за цією ціною вже становить 2 100,00 NOK" in page and "already commit" not in page


# --- L2I ------------------------------------------------------------------------------------
@pytest.fixture
def subscription(app, tenants):
    with app.app_context():
        with transaction():
            sub = create_subscription(None, company=db.session.get(Company, tenants["company_a"].id), sku="L2I-250",
                                      annual_price=1_300_000, currency="NOK", period_start=_this_year()[0],
                                      period_end=_this_year()[1])
        db.session.refresh(sub)
        db.session.expunge(sub)
    return sub


def _this_year():
    from datetime import date

    from portal.db import utcnow

    year = utcnow().year
    return date(year, 1, 1), date(year, 12, 31)


def allocate(client, subscription_id, campaign_id, share, headers):
    token = csrf_token(client, f"/l2i/{subscription_id}")
    return client.post(f"/l2i/{subscription_id}/allocations", headers=headers, follow_redirects=True,
                       data={"csrf_token": token, "target": f"campaign:{campaign_id}", "share": share})


def test_a_subscription_reads_in_norwegian_with_shares_and_amounts_in_its_format(admin_a_client, subscription,
                                                                                 camp):
    page = text_of(allocate(admin_a_client, subscription.id, camp.id, "12,5", NB))  # a decimal comma is taken
    assert "Fordelte 12,50 % (1 625,00 kr)." in page
    assert "Igjen å fordele" in page and "87,50 %" in page and "Kampanje: Alpha Language Run" in page
    assert "13 000,00 kr per år" in page and "Fordel en andel" in page
    assert "Left to allocate" not in page and "Allocated 12" not in page and "a year" not in page


def test_an_allocation_over_what_is_left_is_refused_in_ukrainian(admin_a_client, subscription, camp):
    assert "Розподілено 75,00% (9 750,00 NOK)." in text_of(allocate(admin_a_client, subscription.id, camp.id, "75",
                                                                      UK))
    token = csrf_token(admin_a_client, f"/l2i/{subscription.id}")
    refused = admin_a_client.post(f"/l2i/{subscription.id}/allocations", headers=UK, data={
        "csrf_token": token, "target": f"campaign:{camp.id}", "share": "30"})
    page = text_of(refused)
    assert refused.status_code == 422
    assert "Залишилося розподілити лише 25,00% цієї підписки." in page and "is left to allocate" not in page
    live = admin_a_client.post(f"/l2i/{subscription.id}/remaining", headers={**UK, "X-CSRFToken": token},
                               data={"share": "10"})
    assert "Залишилося 25,00% цієї підписки; після цього розподілу: 15,00% (розподілено 1 300,00 NOK)." \
        in text_of(live)


def test_the_subscription_list_counts_learners_in_ukrainian(pm_client, subscription):
    uk = text_of(pm_client.get("/l2i/", headers=UK))
    assert "250 слухачів" in uk and "Зареєструвати підписку" in uk and "learners" not in uk


# --- jobs -----------------------------------------------------------------------------------
@job_task("test.i18n.refuses")
def _refusing_task(ctx: JobContext) -> None:
    raise DomainError(_l("The campaign is full."), "campaign")


@job_task("test.i18n.succeeds")
def _succeeding_task(ctx: JobContext) -> None:
    with transaction():
        ctx.succeed({"message": _("Campaign saved."), "language": current_language()})


def _start_in(app, language: str, kind: str) -> int:
    with app.test_request_context("/campaigns/", headers={"Accept-Language": language}), transaction():
        return start_job(kind, actor=None, params={}).id


def _job(app, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


@pytest.mark.parametrize(("language", "refusal", "saved"), [
    ("uk", "У кампанії немає вільних місць.", "Кампанію збережено."),
    ("nb", "Kampanjen er full.", "Kampanjen er lagret."),
    ("en", "The campaign is full.", "Campaign saved.")])
def test_a_job_runs_and_stores_its_messages_in_the_language_of_whoever_started_it(app, language, refusal, saved):
    refused_id, succeeded_id = _start_in(app, language, "test.i18n.refuses"), _start_in(app, language,
                                                                                        "test.i18n.succeeds")
    assert _job(app, refused_id).params["language"] == language
    with app.app_context():  # a worker: no request, so English unless the job says otherwise
        assert current_language() == "en"
        run_job(refused_id)
        run_job(succeeded_id)
        assert current_language() == "en"  # the job's language ends with it
    refused, succeeded = _job(app, refused_id), _job(app, succeeded_id)
    assert (refused.status, refused.error) == ("failed", refusal)
    assert succeeded.status == "succeeded" and succeeded.result == {"message": saved, "language": language}


def test_the_job_page_speaks_ukrainian(app, pm_client, tenants, camp):
    with app.app_context(), transaction():
        job = Job(kind="enrollments.import.dry_run", status=QUEUED, params={"campaign_id": camp.id, "language": "uk"},
                  created_by_id=tenants["pm"].id, campaign_id=camp.id, company_id=camp.company_id)
        db.session.add(job)
        db.session.flush()
        job_id = job.id
    uk = text_of(pm_client.get(f"/jobs/{job_id}", headers=UK))
    assert "Очікування обробника…" in uk and "Очікуємо, поки обробник його запустить." in uk
    assert "Waiting for a worker" not in uk and "You can leave this page" not in uk
    with app.app_context(), transaction():
        running = db.session.get(Job, job_id)
        running.status, running.phase, running.done, running.total = RUNNING, "Читання файлу", 1204, 5000
    uk = text_of(pm_client.get(f"/jobs/{job_id}", headers=UK))
    assert "Читання файлу…" in uk and "1 204 з 5 000 рядків (24%)" in uk and "rows" not in uk
    nb = text_of(pm_client.get(f"/jobs/{job_id}", headers=NB))
    assert "1 204 av 5 000 rader (24 %)" in nb and "Du kan forlate denne siden" in nb


@pytest.mark.parametrize(("seconds", "uk", "nb"), [
    (1, "залишилася приблизно 1 секунда", "omtrent 1 sekund igjen"),
    (2, "залишилося приблизно 2 секунди", "omtrent 2 sekunder igjen"),
    (5, "залишилося приблизно 5 секунд", "omtrent 5 sekunder igjen"),
    (21, "залишилася приблизно 21 секунда", "omtrent 21 sekunder igjen"),
    (120, "залишилося приблизно 2 хвилини", "omtrent 2 minutter igjen"),
    (300, "залишилося приблизно 5 хвилин", "omtrent 5 minutter igjen"),
    (7200, "залишилося приблизно 2 години", "omtrent 2 timer igjen")])
def test_time_left_says_its_plural_in_each_language(app, seconds, uk, nb):
    with app.test_request_context("/"):
        with force_locale("uk"):
            assert time_left_text(seconds) == uk
        with force_locale("nb"):
            assert time_left_text(seconds) == nb
        assert time_left_text(seconds).startswith("about ")
