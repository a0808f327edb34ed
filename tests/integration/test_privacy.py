"""Personal data rights (SPEC §2.12, issue #18): legal basis and consent, the access export,
erasure that keeps every figure, retention — through the operations and the test client.

The erasure oracle reads the database itself: every text and JSON column of every table
(found by SQLAlchemy inspection, so tables added later are scanned too) must be free of the
person's former values afterwards, and the figures must not move."""
from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.beneficiaries.models import BeneficiaryGroup
from portal.db import db, transaction, utcnow
from portal.deliveries.models import Delivery, EnrollmentMilestone, EnrollmentProgress
from portal.deliveries.operations import record_delivery
from portal.enrollments.models import Enrollment, EnrollmentTally, Participant
from portal.enrollments.operations import create_participant, drop_enrollment, enroll_participant, update_participant
from portal.errors import ValidationFailed
from portal.jobs.models import Job, StoredFile
from portal.matches.models import ACTIVE, Match, MatchLoad
from portal.matches.operations import confirm_match, propose_match
from portal.privacy.consent import ProcessingStopped, withdraw_consent
from portal.privacy.erasure import ERASED_PARTICIPANT, ERASED_VOLUNTEER
from tests.conftest import sign_in_client
from tests.helpers import csrf_token, without_volatile

OLD_NAME = "Олена Стара-Прізвище"  # the name before an edit: it lives on in the edit's event
NAME = "Олена Тестовенко"
EMAIL = "olena.testovenko@example.org"
EXTERNAL_REF = "kintell:770123"
NOTE = "Prefers Tuesday mornings near Grünerløkka"
REFERRED_BY = "Friend Marianne Halvorsen"
DROP_REASON = "Olena moved to Bergen with her aunt"
REQUEST_NOTE = "Fixed the spelling of her patronymic Mykolaivna"  # how a request was answered, by hand
SECRETS = (OLD_NAME, NAME, EMAIL, EXTERNAL_REF, NOTE, REFERRED_BY, DROP_REASON, REQUEST_NOTE)


# --- the scene ------------------------------------------------------------------------------
@pytest.fixture
def scene(app, make, tenants):
    """A mentorship campaign of company A: Olena (a beneficiary with everything a person
    leaves behind: an edit, a note, free-text metadata, a dropped earlier enrollment with a
    reason, sessions and a milestone, an import's dry run naming her), a volunteer of the
    company, and another beneficiary who must stay as she is."""
    pm = tenants["pm"]
    group = make.group(retention_months=12)
    program = make.program(template=make.template("mentorship"), group=group)
    campaign = make.campaign(tenants["company_a"], program, name="Acme Mentoring", max_enrollment=20)
    earlier = make.campaign(tenants["company_a"], program, name="Acme Mentoring 2025", max_enrollment=20)
    with app.app_context():
        with transaction():
            person = create_participant(pm, display_name=OLD_NAME, email=EMAIL.upper(), year_of_birth=1990,
                                        languages=["uk", "en"], country="UA", external_ref=EXTERNAL_REF)
        with transaction():
            person = db.session.get(Participant, person.id)
            update_participant(pm, person, expected_version=None, display_name=NAME)
        with transaction():
            first = enroll_participant(pm, earlier.id, db.session.get(Participant, person.id),
                                       meta={"referred_by": REFERRED_BY})
        with transaction():
            drop_enrollment(pm, db.session.get(Enrollment, first.id), DROP_REASON)
        with transaction():
            enrollment = enroll_participant(pm, campaign.id, db.session.get(Participant, person.id),
                                            meta={"referred_by": REFERRED_BY, "starting_cefr": "A2", "sessions_goal": 12},
                                            legal_basis="consent", consent_given_on=date(2026, 1, 5))
        with transaction():
            other = create_participant(pm, display_name="Iryna Bystander", email="iryna@example.org")
            other_enrollment = enroll_participant(pm, campaign.id, other)
            volunteer = create_participant(pm, display_name="Vera Volunteer", email="vera@acme.example",
                                           company_id=tenants["company_a"].id)
            volunteer_enrollment = enroll_participant(pm, campaign.id, volunteer, role="volunteer")
        today = utcnow().date()
        with transaction():
            e = db.session.get(Enrollment, enrollment.id)
            record_delivery(pm, e, kind="session_completed", occurred_on=today, attendance="present", note=NOTE,
                            meta={"topic": f"CV review with {REFERRED_BY}", "rating": 5})
        with transaction():
            record_delivery(pm, db.session.get(Enrollment, other_enrollment.id), kind="session_completed",
                            occurred_on=today, attendance="present")
        # Her data-subject requests: one closed by hand with a note, one open whose reference names
        # someone (the register refuses only contact details), one open access request.
        from portal.privacy.requests import close_request, record_request

        with transaction():
            fixed = record_request(pm, db.session.get(Participant, person.id), kind="rectification",
                                   received_on=today - timedelta(days=20), reference="DPO-2026-7")
            close_request(pm, fixed, REQUEST_NOTE)
            record_request(pm, db.session.get(Participant, person.id), kind="erasure", received_on=today,
                           reference=f"Letter via {REFERRED_BY}")
            record_request(pm, db.session.get(Participant, person.id), kind="access", received_on=today)
        # An import's dry run that listed her e-mail among its rows, and the uploaded file.
        job = Job(kind="enrollments.import.dry_run", status="succeeded", params={"campaign_id": campaign.id},
                  result={"errors": [[2, EMAIL, EXTERNAL_REF, "already enrolled"]]}, created_by_id=pm.id)
        upload = StoredFile(purpose="enrollments.import", owner_id=pm.id, campaign_id=campaign.id, size=10, sha256="0" * 64,
                            data=f"email,display_name\n{EMAIL},{NAME}\n".encode(), meta={"rows": [[2, EMAIL]]},
                            expires_at=utcnow() + timedelta(hours=1))
        db.session.add_all([job, upload])
        db.session.commit()
        return {"participant_id": person.id, "enrollment_id": enrollment.id, "earlier_id": first.id,
                "other_id": other.id, "other_enrollment_id": other_enrollment.id, "volunteer_id": volunteer.id,
                "volunteer_enrollment_id": volunteer_enrollment.id, "campaign_id": campaign.id, "group_id": group.id,
                "ref": db.session.get(Participant, person.id).ref}


def _text_cells(app):
    """(table, column, text) for every text or JSON cell of every table in the database."""
    with app.app_context():
        connection = db.session.connection()
        metadata = sa.MetaData()
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns
                       if isinstance(c.type, (sa.String, sa.Text, sa.JSON, sa.types.NullType))
                       or c.type.__class__.__name__ in ("JSONB", "JSON")]
            if not columns:
                continue
            for row in connection.execute(sa.select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    try:  # JSON kept as text (SQLite) escapes non-ASCII: read it back
                        text += " " + json.dumps(json.loads(text), ensure_ascii=False)
                    except (ValueError, TypeError):
                        pass
                    yield table.name, column.name, text


def _leaks(app) -> list[str]:
    found = []
    for table, column, text in _text_cells(app):
        folded = text.casefold()
        found += [f"{table}.{column} holds {s!r}" for s in SECRETS if s.casefold() in folded]
    return found


def _figures(app, campaign_id: int) -> dict:
    with app.app_context():
        from portal.campaigns.models import Campaign

        campaign = db.session.get(Campaign, campaign_id)
        return {
            "seats": (campaign.enrolled_count, campaign.waitlisted_count),
            "tallies": sorted(db.session.execute(sa.select(EnrollmentTally.day, EnrollmentTally.role,
                                                           EnrollmentTally.status, EnrollmentTally.enrollments)
                                                 .where(EnrollmentTally.campaign_id == campaign_id)).all()),
            "progress": sorted((r.enrollment_id, r.kind, r.deliveries, str(r.counted_quantity))
                               for r in db.session.scalars(sa.select(EnrollmentProgress))),
            "milestones": sorted((m.enrollment_id, m.key) for m in db.session.scalars(sa.select(EnrollmentMilestone))),
            "deliveries": db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)),
            "events": db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)),
        }


def _erase(client, participant_id: int, confirmation: str):
    token = csrf_token(client, f"/privacy/participants/{participant_id}/erase")
    return client.post(f"/privacy/participants/{participant_id}/erase",
                       data={"csrf_token": token, "confirmation": confirmation})


def _table_checksum(app) -> str:
    """A digest of every row of every table (the dry run must leave it as it was)."""
    digest = hashlib.sha256()
    with app.app_context():
        connection = db.session.connection()
        metadata = sa.MetaData()
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in connection.execute(sa.select(table)))
            digest.update(table.name.encode())
            digest.update("\n".join(rows).encode())
    return digest.hexdigest()


# --- erasure --------------------------------------------------------------------------------
def test_the_scene_holds_the_secrets_before_erasure(app, scene):
    leaks = _leaks(app)
    for secret in SECRETS:  # the oracle can fail: each value is somewhere before
        assert any(repr(secret) in leak for leak in leaks), secret


def test_erasure_leaves_no_former_value_in_any_table_and_keeps_every_figure(app, scene, tenants):
    before = _figures(app, scene["campaign_id"])
    admin = sign_in_client(app, tenants["admin_a"])
    campaign_page = f"/campaigns/{scene['campaign_id']}"
    admin_before = without_volatile(admin.get(campaign_page).get_data(as_text=True))
    response = _erase(sign_in_client(app, tenants["pm"]), scene["participant_id"], scene["ref"].lower())
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert _leaks(app) == []
    after = _figures(app, scene["campaign_id"])
    # Scrubbed, never dropped; plus participant.erased and the two open requests it answered.
    assert after.pop("events") == before.pop("events") + 1 + 2
    assert after == before
    # What the sponsor sees (pseudonyms, counts, charts, activity) is exactly what it saw.
    assert without_volatile(admin.get(campaign_page).get_data(as_text=True)) == admin_before
    with app.app_context():
        person = db.session.get(Participant, scene["participant_id"])
        assert person.display_name == ERASED_PARTICIPANT and person.erased_at is not None and not person.is_enabled
        assert (person.email, person.external_ref, person.year_of_birth, person.country, person.languages) == \
            (None, None, None, None, [])
        assert db.session.get(Enrollment, scene["enrollment_id"]).meta == {"starting_cefr": "A2", "sessions_goal": 12}
        other = db.session.get(Participant, scene["other_id"])
        assert (other.display_name, other.email) == ("Iryna Bystander", "iryna@example.org")
        erased = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "participant.erased")).one()
        assert erased.actor_id == tenants["pm"].id and erased.company_id is None
        assert set(erased.data) == {"reason", "enrollments", "deliveries", "matches_ended", "events_scrubbed",
                                    "requests_closed"}
        assert erased.data["requests_closed"] == 2  # the erasure and the access request; the register keeps them
        from portal.privacy.models import DataSubjectRequest

        kept = db.session.execute(sa.select(DataSubjectRequest.kind, DataSubjectRequest.outcome,
                                            DataSubjectRequest.reference, DataSubjectRequest.outcome_note)
                                  .order_by(DataSubjectRequest.id)).all()
        assert [tuple(r) for r in kept] == [("rectification", "by_hand", "DPO-2026-7", None),
                                            ("erasure", "erased", "[erased]", None), ("access", "erased", None, None)]
        assert all(not isinstance(v, str) or v == "request" for v in erased.data.values())
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0  # the upload named her


def test_erasure_ends_active_matches_through_the_end_path(app, scene, tenants):
    with app.app_context():
        from portal.campaigns.models import Campaign

        with transaction():
            campaign = db.session.get(Campaign, scene["campaign_id"])
            match = propose_match(tenants["pm"], campaign, db.session.get(Enrollment, scene["volunteer_enrollment_id"]),
                                  db.session.get(Enrollment, scene["enrollment_id"]))
        with transaction():
            confirm_match(tenants["pm"], db.session.get(Match, match.id))
        match_id = match.id
        assert db.session.get(MatchLoad, scene["volunteer_enrollment_id"]).active_matches == 1
    assert _erase(sign_in_client(app, tenants["pm"]), scene["participant_id"], "ERASE").status_code == 303
    with app.app_context():
        match = db.session.get(Match, match_id)
        assert match.status == "ended" and match.status != ACTIVE
        assert db.session.get(MatchLoad, scene["volunteer_enrollment_id"]).active_matches == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent).where(
            ActivityEvent.type == "program.match.ended", ActivityEvent.subject_id == match_id)) == 1


def test_erased_people_are_found_by_no_search_and_no_import_match(app, scene, tenants, pm_client):
    assert _erase(pm_client, scene["participant_id"], "ERASE").status_code == 303
    for query in ("Олена", EMAIL, EXTERNAL_REF, scene["ref"], "Erased"):
        page = pm_client.get("/participants/", query_string={"q": query}).get_data(as_text=True)
        assert f"/participants/{scene['participant_id']}\"" not in page, query
    page = pm_client.get("/participants/").get_data(as_text=True)
    assert f"/participants/{scene['participant_id']}\"" not in page
    with app.app_context():
        from portal.enrollments.csv.plan import find_known_participants
        from portal.enrollments.intake import find_participant

        by_email, by_ref = find_known_participants([EMAIL], [EXTERNAL_REF])
        assert by_email == {} and by_ref == {}
        assert find_participant(None, EMAIL, EXTERNAL_REF) is None
        with transaction():  # the old e-mail makes a new, unrelated person
            again = create_participant(tenants["pm"], display_name="Olena again", email=EMAIL,
                                       external_ref=EXTERNAL_REF)
        assert again.id != scene["participant_id"]


def test_the_csv_export_shows_an_erased_participant(app, scene, tenants, pm_client):
    assert _erase(pm_client, scene["participant_id"], "ERASE").status_code == 303
    with app.app_context():
        from portal.campaigns.models import Campaign
        from portal.enrollments.csv.export import export_csv

        text = "".join(export_csv(tenants["pm"], db.session.get(Campaign, scene["campaign_id"])))
    assert ERASED_PARTICIPANT in text and EMAIL not in text and NAME not in text


def test_erasing_twice_is_a_clear_conflict(app, scene, pm_client):
    assert _erase(pm_client, scene["participant_id"], "ERASE").status_code == 303
    response = _erase(pm_client, scene["participant_id"], "ERASE")
    assert response.status_code == 409
    assert "already erased" in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["", "erase", "P-WRONG00", "<script>alert(1)</script>", "x" * 60])
def test_a_wrong_confirmation_is_a_field_error_and_erases_nothing(app, scene, pm_client, typed):
    before = _table_checksum(app)
    response = _erase(pm_client, scene["participant_id"], typed)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert _table_checksum(app) == before


def test_erasing_a_company_volunteer_is_allowed_and_the_company_sees_an_erased_volunteer(app, scene, tenants,
                                                                                         pm_client):
    assert _erase(pm_client, scene["volunteer_id"], "ERASE").status_code == 303
    with app.app_context():
        from portal.campaigns.models import Campaign
        from portal.enrollments.csv.export import export_csv

        assert db.session.get(Participant, scene["volunteer_id"]).display_name == ERASED_VOLUNTEER
        text = "".join(export_csv(tenants["admin_a"], db.session.get(Campaign, scene["campaign_id"])))
    assert ERASED_VOLUNTEER in text and "vera@acme.example" not in text and "Vera Volunteer" not in text
    log = sign_in_client(app, tenants["admin_a"]).get("/activity/").get_data(as_text=True)
    assert "Vera Volunteer" not in log


# --- consent ----------------------------------------------------------------------------------
def test_consent_needs_its_date_and_other_bases_need_none(app, make, tenants):
    campaign = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    with app.app_context():
        person = make.participant()
        with pytest.raises(ValidationFailed) as refused:
            with transaction():
                enroll_participant(tenants["pm"], campaign.id, db.session.get(Participant, person.id),
                                   legal_basis="consent")
        assert "consent_given_on" in refused.value.errors
        with pytest.raises(ValidationFailed) as refused:
            with transaction():
                enroll_participant(tenants["pm"], campaign.id, db.session.get(Participant, person.id),
                                   legal_basis="gossip")
        assert "legal_basis" in refused.value.errors
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)
                                 .where(Enrollment.participant_id == person.id)) == 0
        with transaction():
            e = enroll_participant(tenants["pm"], campaign.id, db.session.get(Participant, person.id))
        assert (e.legal_basis, e.consent_given_on) == ("legitimate_interest", None)


def test_the_enroll_form_records_consent_with_its_date(app, make, tenants, pm_client):
    campaign = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    url = f"/campaigns/{campaign.id}/enroll"
    token = csrf_token(pm_client, url)
    fields = {"csrf_token": token, "role": "beneficiary", "display_name": "Consenting Person", "legal_basis": "consent"}
    refused = pm_client.post(url, data=fields)
    assert refused.status_code == 422 and "Enter the day the person gave consent" in refused.get_data(as_text=True)
    assert pm_client.post(url, data={**fields, "consent_given_on": "2026-02-01"}).status_code == 303
    with app.app_context():
        e = db.session.scalars(sa.select(Enrollment).where(Enrollment.campaign_id == campaign.id)).one()
        assert (e.legal_basis, e.consent_given_on) == ("consent", date(2026, 2, 1))


def test_withdrawn_consent_stops_deliveries_and_matches_at_once(app, scene, tenants, pm_client):
    url = f"/privacy/enrollments/{scene['enrollment_id']}/withdraw-consent"
    token = csrf_token(pm_client, f"/privacy/participants/{scene['participant_id']}")
    asked = pm_client.post(url, data={"csrf_token": token})
    assert asked.status_code == 200 and "Withdraw consent" in asked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enrollment, scene["enrollment_id"]).consent_withdrawn_at is None  # only asked
    done = pm_client.post(url, data={"csrf_token": token, "confirmed": "yes"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/privacy/participants/{scene['participant_id']}/erase")
    with app.app_context():
        from portal.campaigns.models import Campaign

        enrollment = db.session.get(Enrollment, scene["enrollment_id"])
        assert enrollment.consent_withdrawn_at is not None
        with pytest.raises(ProcessingStopped):
            record_delivery(tenants["pm"], enrollment, kind="session_completed", occurred_on=utcnow().date(),
                            attendance="present")
        db.session.rollback()
        with pytest.raises(ProcessingStopped):
            propose_match(tenants["pm"], db.session.get(Campaign, scene["campaign_id"]),
                          db.session.get(Enrollment, scene["volunteer_enrollment_id"]),
                          db.session.get(Enrollment, scene["enrollment_id"]))
        db.session.rollback()
        event = db.session.scalars(sa.select(ActivityEvent).where(
            ActivityEvent.type == "program.enrollment.consent_withdrawn")).one()
        assert event.company_id is None and NAME not in json.dumps(event.data, ensure_ascii=False)
    again = pm_client.post(url, data={"csrf_token": token, "confirmed": "yes"})
    assert again.status_code == 409


def test_withdrawing_consent_from_a_non_consent_basis_is_refused(app, scene, tenants):
    with app.app_context():
        from portal.privacy.consent import ConsentNotWithdrawable

        with pytest.raises(ConsentNotWithdrawable):
            withdraw_consent(tenants["pm"], db.session.get(Enrollment, scene["other_enrollment_id"]))


# --- access ---------------------------------------------------------------------------------
def test_access_export_holds_everything_and_is_logged_without_personal_data(app, scene, tenants, pm_client):
    page = f"/privacy/participants/{scene['participant_id']}"
    token = csrf_token(pm_client, page)
    response = pm_client.post(f"{page}/access", data={"csrf_token": token, "format": "json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    report = json.loads(response.get_data(as_text=True))
    assert report["participant"]["email"] == EMAIL.lower() and report["participant"]["display_name"] == NAME
    assert {e["legal_basis"] for e in report["enrollments"]} == {"consent", "legitimate_interest"}
    assert len(report["enrollments"]) == 2 and len(report["deliveries"]) == 1
    assert report["deliveries"][0]["note"] == NOTE
    assert [m["key"] for m in report["milestones"]] == ["first_session"]
    assert {e["type"] for e in report["events"]} >= {"participant.created", "participant.updated",
                                                       "program.enrollment.created", "program.delivery.recorded"}
    assert "Iryna" not in response.get_data(as_text=True)
    readable = pm_client.post(f"{page}/access", data={"csrf_token": token, "format": "page"})
    assert readable.status_code == 200 and NOTE in readable.get_data(as_text=True)
    with app.app_context():
        events = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "participant.data_exported")
                                    .order_by(ActivityEvent.id)).all()
        assert [e.data for e in events] == [{"format": "json"}, {"format": "page"}]
        assert all(e.actor_id == tenants["pm"].id and e.company_id is None for e in events)
    bad = pm_client.post(f"{page}/access", data={"csrf_token": token, "format": "xml"})
    assert bad.status_code == 422


def test_company_admins_get_404_on_every_privacy_route(app, scene, tenants):
    admin = sign_in_client(app, tenants["admin_a"])
    token = csrf_token(admin, "/home")
    pid, eid = scene["participant_id"], scene["enrollment_id"]
    for url in ("/privacy/", f"/privacy/participants/{pid}", f"/privacy/participants/{pid}/erase",
                f"/privacy/participants/{scene['volunteer_id']}"):
        assert admin.get(url).status_code == 404, url
    for url, data in ((f"/privacy/participants/{pid}/access", {"format": "json"}),
                      (f"/privacy/participants/{scene['volunteer_id']}/erase", {"confirmation": "ERASE"}),
                      (f"/privacy/enrollments/{eid}/withdraw-consent", {"confirmed": "yes"})):
        assert admin.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    with app.app_context():
        assert db.session.get(Participant, scene["volunteer_id"]).erased_at is None
    assert "/privacy/" not in admin.get("/home").get_data(as_text=True)
    assert 'href="/privacy/"' in sign_in_client(app, tenants["pm"]).get("/home").get_data(as_text=True)


# --- retention ------------------------------------------------------------------------------
@pytest.mark.parametrize("months", [0, -3])
def test_a_retention_period_of_zero_or_less_is_a_field_error(app, make, tenants, pm_client, months):
    from portal.beneficiaries.operations import create_group

    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        create_group(tenants["pm"], name="Retention test", group_type="refugees", country="NO",
                     eligible_categories=["mentorship"], retention_months=months)
    assert "retention_months" in refused.value.errors
    group = make.group()
    page = f"/groups/{group.id}/edit"
    html = pm_client.get(page).get_data(as_text=True)
    assert 'name="retention_months"' in html
    from tests.helpers import browser_form

    form = browser_form(html)
    form["retention_months"] = str(months)
    response = pm_client.post(page, data=form)
    assert response.status_code == 422 and "months from 1" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(BeneficiaryGroup, group.id).retention_months is None


def _end_long_ago(app, enrollment_ids, days: int) -> None:
    with app.app_context():
        long_ago = utcnow() - timedelta(days=days)
        for eid in enrollment_ids:
            e = db.session.get(Enrollment, eid)
            if e.status in ("active", "waitlisted"):
                e.status, e.completed_at = "completed", long_ago
            else:
                e.dropped_at = long_ago if e.dropped_at else None
                e.completed_at = long_ago if e.completed_at else None
        db.session.commit()


def test_retention_dry_run_lists_who_is_due_and_changes_nothing_then_apply_erases(app, scene, runner):
    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0 and scene["ref"] not in result.output  # still active
    _end_long_ago(app, [scene["enrollment_id"], scene["earlier_id"]], days=400)
    before = _table_checksum(app)
    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert scene["ref"] in result.output and "dry run" in result.output
    assert _table_checksum(app) == before
    result = runner.invoke(args=["privacy", "retention", "--apply"])
    assert result.exit_code == 0 and "erased" in result.output
    with app.app_context():
        assert db.session.get(Participant, scene["participant_id"]).erased_at is not None
        assert db.session.get(Participant, scene["other_id"]).erased_at is None
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "participant.erased")).one()
        assert event.actor_id is None and event.data["reason"] == "retention"
    assert _leaks(app) == []
    assert scene["ref"] not in runner.invoke(args=["privacy", "retention"]).output


def test_retention_waits_for_the_period_and_for_every_open_enrollment(app, scene, make, tenants):
    from portal.privacy.retention import due_for_retention

    _end_long_ago(app, [scene["enrollment_id"], scene["earlier_id"]], days=200)  # 12 months not yet over
    with app.app_context():
        assert scene["participant_id"] not in {d.participant_id for d in due_for_retention(utcnow().date())}
        later = utcnow().date() + timedelta(days=200)
        assert scene["participant_id"] in {d.participant_id for d in due_for_retention(later)}
    # Still taking part elsewhere (a group without a period): not due.
    elsewhere = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    make.enrollment(elsewhere, SimpleNamespace(id=scene["participant_id"]))
    with app.app_context():
        assert scene["participant_id"] not in {d.participant_id for d in due_for_retention(later)}


def test_the_retention_job_erases_who_is_due(app, scene):
    from portal.privacy.retention import run_retention_job

    _end_long_ago(app, [scene["enrollment_id"], scene["earlier_id"]], days=400)
    with app.app_context():
        assert run_retention_job(utcnow().date()) == 1
        assert db.session.get(Participant, scene["participant_id"]).erased_at is not None


def test_the_privacy_screen_lists_due_withdrawn_and_erased(app, scene, tenants, pm_client):
    _end_long_ago(app, [scene["enrollment_id"], scene["earlier_id"]], days=400)
    page = pm_client.get("/privacy/").get_data(as_text=True)
    assert scene["ref"] in page and "Nobody has been erased yet" in page
    assert _erase(pm_client, scene["volunteer_id"], "ERASE").status_code == 303
    page = pm_client.get("/privacy/").get_data(as_text=True)
    assert "Nobody has been erased yet" not in page and "Request" in page
