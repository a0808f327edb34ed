"""Personal data rights on every path (SPEC §2.12, issue #18), beside test_privacy.py:
withdrawn consent is refused by the delivery form, the API (one delivery, a batch, a match),
the match screen and the delivery CSV import; erasing someone an import in flight names is a
clear answer with nothing half-saved; and a sponsoring company sees nothing change when one of
its campaigns' beneficiaries is erased — campaign, impact, report and snapshot pages, matches,
activity and API answers alike — while every figure stays for the program team too; the API's
stored answers (Idempotency-Key replays) forget the person; a withdrawn consent is an open
request on the privacy screen until erasure; both job runners run retention daily."""
from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
import sqlalchemy as sa

from portal.db import db, transaction, utcnow
from portal.deliveries.models import Delivery
from portal.deliveries.operations import record_delivery
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.operations import create_participant, enroll_participant, update_participant
from portal.jobs.models import StoredFile
from portal.matches.models import Match
from portal.privacy.consent import withdraw_consent
from portal.reports.models import ReportSnapshot
from tests.conftest import sign_in_client
from tests.helpers import csrf_token, without_volatile
from tests.integration.api_support import Bearer, new_token
from tests.integration.test_privacy import EMAIL, NAME, _erase, _leaks, scene  # noqa: F401 (the scene fixture)

TODAY = utcnow().date()
DELIVERY_HEADER = "participant,kind,occurred_on,occurred_time,quantity,duration_minutes,attendance,source_id"
DELIVERY_CONFIRM = re.compile(r'action="(/campaigns/\d+/deliveries/import/[A-Za-z0-9_-]{43}/confirm)"')
ENROLLMENT_CONFIRM = re.compile(r'action="(/campaigns/\d+/import/[A-Za-z0-9_-]{43}/confirm)"')
OUTCOME = re.compile(r"<tr>\s*<td[^>]*>(\d+)</td>.*?<span class=\"badge[^\"]*\">([^<]+)</span></td>\s*<td[^>]*>"
                     r"([^<]*)</td>", re.S)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _withdraw(app, made: dict, tenants) -> None:
    with app.app_context(), transaction():
        withdraw_consent(tenants["pm"], db.session.get(Enrollment, made["enrollment_id"]))


def _rows(response) -> dict[int, tuple[str, str]]:
    import html

    return {int(n): (o, html.unescape(r)) for n, o, r in OUTCOME.findall(response.get_data(as_text=True))}


def _upload_deliveries(client, campaign_id: int, text: str):
    url = f"/campaigns/{campaign_id}/deliveries/import"
    return client.post(url, data={"csrf_token": csrf_token(client, url),
                                  "file": (io.BytesIO(text.encode()), "deliveries.csv")},
                       content_type="multipart/form-data", follow_redirects=True)


def _confirm(client, response, pattern, token_page: str):
    found = pattern.search(response.get_data(as_text=True))
    assert found, "no Confirm button"
    return client.post(found.group(1), data={"csrf_token": csrf_token(client, token_page)}, follow_redirects=True)


# --- withdrawn consent on every path ---------------------------------------------------------
def test_withdrawn_consent_is_refused_by_the_form_the_api_and_the_match_screen(app, scene, tenants,  # noqa: F811
                                                                               pm_client):
    _withdraw(app, scene, tenants)
    cid, eid, vid = scene["campaign_id"], scene["enrollment_id"], scene["volunteer_enrollment_id"]
    deliveries, matches = _count(app, Delivery), _count(app, Match)
    detail = f"/campaigns/{cid}/enrollments/{eid}"
    form = pm_client.post(f"{detail}/deliveries", data={
        "csrf_token": csrf_token(pm_client, detail), "kind": "session_completed",
        "occurred_on": TODAY.isoformat(), "attendance": "present"})
    assert form.status_code == 409 and "Consent was withdrawn" in form.get_data(as_text=True)
    api = Bearer(app, new_token(app, tenants["pm"], ("read", "deliveries:write", "matches:write")))
    one = api.post(f"/api/v1/enrollments/{eid}/deliveries", json={
        "kind": "session_completed", "occurred_on": TODAY.isoformat(), "attendance": "present"})
    assert one.status_code == 409 and "Consent was withdrawn" in one.json["detail"], one.json
    item = {"enrollment_id": eid, "kind": "session_completed", "occurred_on": TODAY.isoformat(),
            "attendance": "present", "source_id": "after-withdrawal"}
    for dry_run in (True, False):
        batch = api.post(f"/api/v1/campaigns/{cid}/deliveries/batch", json={"dry_run": dry_run, "items": [item]})
        assert batch.status_code == 409, batch.json
        assert [e["pointer"] for e in batch.json["errors"]] == ["#/items/0"]
    proposed = api.post(f"/api/v1/campaigns/{cid}/matches",
                        json={"volunteer_enrollment_id": vid, "beneficiary_enrollment_id": eid})
    assert proposed.status_code == 409 and "Consent was withdrawn" in proposed.json["detail"], proposed.json
    screen = pm_client.post(f"/campaigns/{cid}/matches", data={
        "csrf_token": csrf_token(pm_client, f"/campaigns/{cid}/matches"), "volunteer_enrollment_id": str(vid),
        "beneficiary_enrollment_id": str(eid)})
    assert screen.status_code == 409 and "Consent was withdrawn" in screen.get_data(as_text=True)
    assert (_count(app, Delivery), _count(app, Match)) == (deliveries, matches)


def test_the_delivery_import_dry_run_shows_a_withdrawn_consent_as_an_error_row(app, scene, tenants,  # noqa: F811
                                                                               pm_client):
    """The dry run must say what the confirm will refuse: otherwise every confirm answers
    "the campaign changed" and shows the same dry run again, for ever."""
    _withdraw(app, scene, tenants)
    dry = _upload_deliveries(pm_client, scene["campaign_id"], f"{DELIVERY_HEADER}\n"
                             f"{scene['ref']},session_completed,{TODAY.isoformat()},,,,present,w-1\n")
    assert dry.status_code == 422  # a dry run with an error row
    outcome, reason = _rows(dry)[2]
    assert outcome == "error" and "Consent was withdrawn" in reason
    assert not DELIVERY_CONFIRM.search(dry.get_data(as_text=True))


# --- erasing someone an import in flight names -------------------------------------------------
def test_erasing_during_a_delivery_import_that_names_them_is_a_clear_refusal(app, scene, tenants,  # noqa: F811
                                                                             pm_client):
    cid = scene["campaign_id"]
    dry = _upload_deliveries(pm_client, cid, f"{DELIVERY_HEADER}\n"
                             f"{scene['ref']},session_completed,{TODAY.isoformat()},,,,present,e-1\n")
    assert _rows(dry)[2][0] == "will record"
    deliveries = _count(app, Delivery)
    assert _erase(sign_in_client(app, tenants["pm"]), scene["participant_id"], "ERASE").status_code == 303
    response = _confirm(pm_client, dry, DELIVERY_CONFIRM, f"/campaigns/{cid}/deliveries/import")
    assert response.status_code == 409
    assert _count(app, Delivery) == deliveries
    outcome, reason = _rows(response)[2]  # the new dry run says why, so the next confirm is not refused again
    assert outcome == "error" and "erased" in reason


def test_erasing_during_an_enrollment_import_that_names_them_saves_nothing_and_links_nothing(
        app, scene, make, tenants, pm_client):  # noqa: F811
    other = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")), name="Later run")
    url = f"/campaigns/{other.id}/import"
    dry = pm_client.post(url, data={"csrf_token": csrf_token(pm_client, url), "file": (
        io.BytesIO(f"email,display_name\n{EMAIL},{NAME}\nnew.person@example.org,New Person\n".encode()),
        "people.csv")}, content_type="multipart/form-data", follow_redirects=True)
    assert dry.status_code == 200 and ENROLLMENT_CONFIRM.search(dry.get_data(as_text=True))
    enrollments, people = _count(app, Enrollment), _count(app, Participant)
    assert _erase(sign_in_client(app, tenants["pm"]), scene["participant_id"], "ERASE").status_code == 303
    response = _confirm(pm_client, dry, ENROLLMENT_CONFIRM, url)
    assert 400 <= response.status_code < 500  # the upload named her: it is gone, upload again
    assert (_count(app, Enrollment), _count(app, Participant)) == (enrollments, people)
    assert _count(app, StoredFile) == 0
    assert _leaks(app) == []
    with app.app_context():  # nothing ever linked her erased record to the later campaign
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment).where(
            Enrollment.participant_id == scene["participant_id"], Enrollment.campaign_id == other.id)) == 0


# --- what the company sees, and every figure -------------------------------------------------------
@pytest.fixture
def valued(app, make, tenants):
    """A valued mentorship campaign of company A with twelve beneficiaries (above the small-cell
    threshold) who each had a session; the first is the one to erase. A report snapshot is
    frozen before anything is erased."""
    valuation = make.valuation_set(entries=[{"outcome": "session_completed", "proxy_minor": 5_000,
                                             "duration_years": 2}])
    program = make.program(template=make.template("mentorship"), valuation_set_id=valuation.id,
                           group=make.group(retention_months=6))
    campaign = make.campaign(tenants["company_a"], program, name="Acme Valued", currency="EUR",
                             budget_allocated=1_000_000, max_enrollment=30)
    ids = []
    with app.app_context():
        for i in range(12):
            with transaction():
                person = create_participant(tenants["pm"], display_name=f"Hanna Figure{i:02d}",
                                            email=f"hanna{i}@example.org", year_of_birth=1980 + i,
                                            languages=["uk"], country="UA", external_ref=f"kintell:55{i:02d}")
                enrollment = enroll_participant(tenants["pm"], campaign.id, person,
                                                meta={"referred_by": f"Neighbour {i}"})
            with transaction():
                record_delivery(tenants["pm"], db.session.get(Enrollment, enrollment.id), kind="session_completed",
                                occurred_on=TODAY, attendance="present", note=f"Note {i}")
            ids.append(person.id)
        with transaction():
            volunteer = create_participant(tenants["pm"], display_name="Vida Volunteer", email="vida@acme.example",
                                           company_id=tenants["company_a"].id)
            enroll_participant(tenants["pm"], campaign.id, volunteer, role="volunteer")
    pm = sign_in_client(app, tenants["pm"])
    freeze = f"/reports/campaigns/{campaign.id}/snapshots"
    frozen = pm.post(freeze, data={"csrf_token": csrf_token(pm, f"/reports/campaigns/{campaign.id}"),
                                   "period": str(TODAY.year)})
    assert frozen.status_code in (302, 303), frozen.get_data(as_text=True)[:400]
    with app.app_context():
        snapshot = db.session.scalars(sa.select(ReportSnapshot)).one()
    return {"campaign_id": campaign.id, "company_id": tenants["company_a"].id, "people": ids,
            "snapshot_id": snapshot.id, "snapshot_sha": snapshot.content_sha256}


def _pages(valued) -> list[str]:
    cid = valued["campaign_id"]
    return [f"/campaigns/{cid}", f"/campaigns/{cid}/impact", f"/reports/campaigns/{cid}",
            f"/reports/companies/{valued['company_id']}", f"/reports/{valued['snapshot_id']}",
            f"/campaigns/{cid}/matches", "/activity/"]


def _api(api: Bearer, valued) -> dict[str, object]:
    cid = valued["campaign_id"]
    answers = {}
    for url in (f"/api/v1/campaigns/{cid}/enrollments", f"/api/v1/campaigns/{cid}", f"/api/v1/campaigns/{cid}/impact",
                f"/api/v1/campaigns/{cid}/matches", "/api/v1/events"):
        response = api.get(url)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        answers[url] = response.json
    return answers


def _unversioned(answers: dict[str, object]) -> dict[str, object]:
    return {url: {**body, "items": [{k: v for k, v in item.items() if k not in ("updated_at", "version")}
                                    for item in body["items"]]} if "items" in body else body
            for url, body in answers.items()}


def _seen(client, valued) -> dict[str, tuple[int, str]]:
    seen = {}
    for url in _pages(valued):
        response = client.get(url)
        seen[url] = (response.status_code, without_volatile(response.get_data(as_text=True)))
    return seen


def test_the_company_sees_nothing_change_when_a_beneficiary_is_erased(app, tenants, valued, monkeypatch):
    # The feed serves events once they are a while old: without the wait, a slow run would see
    # one more event settle between the two reads.
    monkeypatch.setitem(app.config, "PORTAL_API_EVENTS_SETTLE_SECONDS", 0)
    admin, api = sign_in_client(app, tenants["admin_a"]), Bearer(app, new_token(app, tenants["admin_a"], ("read",)))
    pages, answers = _seen(admin, valued), _api(api, valued)
    assert all(status == 200 for status, _ in pages.values()), str({u: s for u, (s, _) in pages.items()})
    assert _erase(sign_in_client(app, tenants["pm"]), valued["people"][0], "ERASE").status_code == 303
    after = _seen(admin, valued)
    for url, (status, body) in pages.items():
        assert after[url] == (status, body), url
    # The erased enrollment's row was written (its free-text metadata went): its version and
    # updated_at move, as after any edit the company cannot see. Nothing else may.
    assert _unversioned(_api(api, valued)) == _unversioned(answers)


def test_every_figure_the_program_team_sees_stays_and_the_snapshot_is_untouched(app, tenants, valued):
    pm = sign_in_client(app, tenants["pm"])
    figures = [f"/campaigns/{valued['campaign_id']}/impact", f"/reports/campaigns/{valued['campaign_id']}",
               f"/reports/companies/{valued['company_id']}", f"/reports/{valued['snapshot_id']}"]
    before = {url: without_volatile(pm.get(url).get_data(as_text=True)) for url in figures}
    api = Bearer(app, new_token(app, tenants["pm"], ("read",)))
    api_before = _api(api, valued)
    erased = _erase(pm, valued["people"][0], "ERASE")
    assert erased.status_code == 303
    pm.get(erased.headers["Location"])  # the page that shows its flash
    for url in figures:
        assert without_volatile(pm.get(url).get_data(as_text=True)) == before[url], url
    after = _api(api, valued)
    cid = valued["campaign_id"]
    for url in (f"/api/v1/campaigns/{cid}", f"/api/v1/campaigns/{cid}/impact"):
        assert after[url] == api_before[url], url
    with app.app_context():
        assert db.session.get(ReportSnapshot, valued["snapshot_id"]).content_sha256 == valued["snapshot_sha"]


# --- what an API write remembered ------------------------------------------------------------------
def _fingerprint(method: str, path: str, body) -> str:
    """The request's hash as :func:`portal.api.idempotency.fingerprint` computes it."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _stored_key(app, key: str):
    from portal.api.models import IdempotencyKey

    with app.app_context():
        stored = db.session.scalars(sa.select(IdempotencyKey).where(IdempotencyKey.key == key)).one()
        db.session.expunge(stored)
        return stored


def test_erasure_leaves_nothing_in_the_api_s_stored_answers(app, make, tenants):
    """A connector's enrollment answer is kept 24 hours for replays (Idempotency-Key): after
    erasure neither the table nor a replay may still hold the person."""
    from tests.integration.test_privacy import _text_cells

    campaign = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    api = Bearer(app, new_token(app, tenants["pm"], ("read", "enrollments:write")))
    body = {"participant": {"display_name": "Mariia Apiwritten", "email": "mariia.apiwritten@example.org",
                            "external_ref": "kintell:424242"}}
    url = f"/api/v1/campaigns/{campaign.id}/enrollments"
    created = api.post(url, json=body, key="enroll-mariia")
    assert created.status_code == 201, created.json
    participant_id = created.json["participant"]["id"]
    assert _erase(sign_in_client(app, tenants["pm"]), participant_id, "ERASE").status_code == 303
    secrets = ("Mariia Apiwritten", "mariia.apiwritten@example.org", "kintell:424242")
    leaks = [f"{t}.{c}" for t, c, text in _text_cells(app) for s in secrets if s.casefold() in text.casefold()]
    assert leaks == []
    people = _count(app, Participant)
    replay = api.post(url, json=body, key="enroll-mariia")  # a retrying connector: refused, nobody re-created
    assert replay.status_code == 422 and replay.json["type"].endswith("idempotency-key-reused"), replay.json
    assert "Idempotent-Replayed" not in replay.headers
    assert _count(app, Participant) == people
    assert not any(s in replay.get_data(as_text=True) for s in secrets)


def test_erasure_neutralises_the_hash_of_the_request_a_stored_answer_came_from(app, make, tenants):
    """The stored key kept a hash of the request body, which held the person's name and e-mail:
    with a guessed e-mail anyone could recompute it and confirm the guess. After erasure the
    hash is no longer the body's, even for a person renamed since (their answer no longer names
    them: it is found by the enrollment it created), and a replay of the key with the very
    same body is the reused-key 422 — the same answer a wrong guess gets — not the person, not a
    second enrollment."""
    from tests.integration.test_privacy import _text_cells

    campaign = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    api = Bearer(app, new_token(app, tenants["pm"], ("read", "enrollments:write")))
    body = {"participant": {"display_name": "Petro Hashbody", "email": "petro.hashbody@example.org"},
            "legal_basis": "contract"}
    url = f"/api/v1/campaigns/{campaign.id}/enrollments"
    created = api.post(url, json=body, key="enroll-petro")
    assert created.status_code == 201, created.json
    participant_id, enrollment_id = created.json["participant"]["id"], created.json["id"]
    original = _fingerprint("POST", url, body)
    assert _stored_key(app, "enroll-petro").fingerprint == original  # the oracle can fail
    # Renamed and re-addressed since: the stored answer holds values the person no longer has.
    with app.app_context(), transaction():
        update_participant(tenants["pm"], db.session.get(Participant, participant_id), expected_version=None,
                           display_name="Petro Renamed", email="petro.renamed@example.org")
    # Someone else's key stays as it was.
    other_body = {"participant": {"display_name": "Hanna Untouched", "email": "hanna.untouched@example.org"}}
    assert api.post(url, json=other_body, key="enroll-hanna").status_code == 201

    assert _erase(sign_in_client(app, tenants["pm"]), participant_id, "ERASE").status_code == 303
    stored = _stored_key(app, "enroll-petro")
    assert stored.fingerprint != original
    assert stored.fingerprint not in {_fingerprint("POST", url, {**body, "legal_basis": basis})
                                      for basis in ("consent", "legitimate_interest", "contract")}
    secrets = ("Petro Hashbody", "petro.hashbody@example.org", "Petro Renamed", "petro.renamed@example.org")
    leaks = [f"{t}.{c}" for t, c, text in _text_cells(app) for s in secrets if s.casefold() in text.casefold()]
    assert leaks == []
    assert _stored_key(app, "enroll-hanna").fingerprint == _fingerprint("POST", url, other_body)

    people, enrollments = _count(app, Participant), _count(app, Enrollment)
    replay = api.post(url, json=body, key="enroll-petro")
    guess = api.post(url, json={**body, "participant": {**body["participant"], "email": "wrong@example.org"}},
                     key="enroll-petro")
    for answer in (replay, guess):
        assert answer.status_code == 422 and answer.json["type"].endswith("idempotency-key-reused"), answer.json
        assert "Idempotent-Replayed" not in answer.headers and "Location" not in answer.headers
        assert not any(s.casefold() in answer.get_data(as_text=True).casefold() for s in secrets)
    assert without_volatile(replay.get_data(as_text=True)) == without_volatile(guess.get_data(as_text=True))
    assert (_count(app, Participant), _count(app, Enrollment)) == (people, enrollments)
    assert _enrollments_of(app, participant_id) == [enrollment_id]
    hanna = api.post(url, json=other_body, key="enroll-hanna")  # the other key still replays
    assert hanna.status_code == 201 and hanna.headers["Idempotent-Replayed"] == "true"


def _enrollments_of(app, participant_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Enrollment.id).where(Enrollment.participant_id == participant_id)))


# --- the privacy screen's open requests, and retention on the job runner -----------------------------
def test_a_withdrawn_consent_is_an_open_request_until_the_person_is_erased(app, scene, tenants, pm_client):  # noqa: F811
    def open_requests() -> str:
        page = pm_client.get("/privacy/").get_data(as_text=True)
        return page.split('id="withdrawn-title"', 1)[1].split("</section>", 1)[0]

    assert scene["ref"] not in open_requests()
    _withdraw(app, scene, tenants)
    assert scene["ref"] in open_requests() and NAME in open_requests()
    assert _erase(pm_client, scene["participant_id"], "ERASE").status_code == 303
    assert scene["ref"] not in open_requests()


def test_the_job_runners_run_retention_daily(app, scene, monkeypatch):  # noqa: F811
    from portal.jobs import queue
    from portal.jobs.queue import procrastinate_app, work_database

    registered = procrastinate_app(app)
    assert "portal.privacy_retention" in registered.tasks
    periodic = [p for p in registered.periodic_registry.periodic_tasks.values() if p.periodic_id == "privacy_retention"]
    assert len(periodic) == 1 and periodic[0].cron == "15 0 * * *"
    days = []
    monkeypatch.setattr(queue, "run_retention_job", days.append)
    with app.app_context():
        work_database(burst=True)
    assert days == [utcnow().date()]


# --- the match screen offers only people who may be matched ------------------------------------
def _offers(client, campaign_id: int, beneficiary_id: int | None = None) -> tuple[set[int], set[int]]:
    """(beneficiaries in the picker, volunteers with a Propose button) on the match screen."""
    url = f"/campaigns/{campaign_id}/matches" + (f"?beneficiary={beneficiary_id}" if beneficiary_id else "")
    page = client.get(url).get_data(as_text=True)
    picker = page.split('id="beneficiary"', 1)[1].split("</select>", 1)[0] if 'id="beneficiary"' in page else ""
    return ({int(v) for v in re.findall(r'<option value="(\d+)"', picker)},
            {int(v) for v in re.findall(r'name="volunteer_enrollment_id" value="(\d+)"', page)})


def test_the_match_screen_offers_no_withdrawn_or_erased_person(app, scene, tenants, pm_client):  # noqa: F811
    cid, eid, oid, vid = (scene["campaign_id"], scene["enrollment_id"], scene["other_enrollment_id"],
                          scene["volunteer_enrollment_id"])
    assert _offers(pm_client, cid, eid) == ({eid, oid}, {vid})
    _withdraw(app, scene, tenants)
    beneficiaries, volunteers = _offers(pm_client, cid, eid)  # asked for by URL: still no suggestions
    assert beneficiaries == {oid} and volunteers == set()
    assert _offers(pm_client, cid, oid) == ({oid}, {vid})
    assert _erase(pm_client, scene["volunteer_id"], "ERASE").status_code == 303
    page = pm_client.get(f"/campaigns/{cid}/matches?beneficiary={oid}").get_data(as_text=True)
    assert _offers(pm_client, cid, oid) == ({oid}, set()) and "Erased volunteer" not in page.split("Pairs", 1)[0]
    assert _erase(pm_client, scene["other_id"], "ERASE").status_code == 303
    assert _offers(pm_client, cid, oid) == (set(), set())


def test_the_sql_offer_filter_agrees_with_the_guard(app, scene, tenants):  # noqa: F811
    """processing_allowed_sql is processing_refusal in SQL: the same answer for every enrollment
    (fine, withdrawn, erased)."""
    from portal.privacy.consent import processing_allowed_sql, processing_refusal
    from portal.privacy.erasure import erase_participant

    _withdraw(app, scene, tenants)
    with app.app_context():
        with transaction():
            erase_participant(tenants["pm"], db.session.get(Participant, scene["other_id"]), confirmation="ERASE")
        allowed = set(db.session.scalars(sa.select(Enrollment.id).where(processing_allowed_sql())))
        everyone = db.session.scalars(sa.select(Enrollment)).all()
        assert {e.id for e in everyone if processing_refusal(e) is None} == allowed
        assert scene["enrollment_id"] not in allowed and scene["other_enrollment_id"] not in allowed
        assert scene["volunteer_enrollment_id"] in allowed


def test_a_retention_step_that_raises_does_not_stop_the_database_worker(app, monkeypatch, caplog):
    """A database error in the daily retention step is logged; the worker still runs the next queued job."""
    from portal.jobs import runner
    from portal.jobs.models import QUEUED, SUCCEEDED, Job
    from portal.jobs.queue import work_database
    from portal.privacy import retention

    def broken(today):
        raise sa.exc.OperationalError("SELECT participants", {}, Exception("disk I/O error"))

    ran = []
    monkeypatch.setattr(retention, "due_for_retention", broken)
    monkeypatch.setitem(runner.TASKS, "test.noop", runner.TaskSpec("test.noop", lambda ctx: ran.append(ctx.job_id)))
    with app.app_context():
        job = Job(kind="test.noop", status=QUEUED, params={}, max_attempts=1, created_at=utcnow())
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    with app.app_context(), caplog.at_level("ERROR", logger="portal.jobs.queue"):
        assert work_database(burst=True) == 1
    assert ran == [job_id]
    with app.app_context():
        assert db.session.get(Job, job_id).status == SUCCEEDED
    assert any("run_retention_job" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_company_s_webhook_endpoint_cannot_subscribe_to_consent_withdrawals(app, tenants):
    """The event is the program team's only (recorded without a company), so an endpoint
    narrowed to one company would never get it: choosing it there is a field error; the program
    team's all-companies endpoint may."""
    from portal.webhooks.models import WebhookEndpoint

    client = sign_in_client(app, tenants["pm"])
    token = csrf_token(client, "/webhooks/new")
    types = ["program.enrollment.created", "program.enrollment.consent_withdrawn"]
    refused = client.post("/webhooks/new", data={"csrf_token": token, "url": "http://127.0.0.1:9/hook",
                                                 "event_types": types, "company_id": str(tenants["company_a"].id)})
    assert refused.status_code == 422
    assert "never sent to one company" in refused.get_data(as_text=True)
    assert _count(app, WebhookEndpoint) == 0
    accepted = client.post("/webhooks/new", data={"csrf_token": token, "url": "http://127.0.0.1:9/hook",
                                                  "event_types": types, "company_id": ""})
    assert accepted.status_code == 201
    with app.app_context():
        assert db.session.scalars(sa.select(WebhookEndpoint.event_types)).one() == types
