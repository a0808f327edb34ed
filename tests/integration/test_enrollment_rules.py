"""SPEC §2.5, the enrollment rules (capacity, waitlist, promotion, eligibility), through the
operations and through the campaign's enroll screen: the inline outlook, complete and drop,
single and bulk."""
import re

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.campaigns.models import Campaign
from portal.db import db, transaction, utcnow
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.operations import (
    AlreadyEnrolled,
    CapacityReached,
    NotAcceptingEnrollments,
    drop_enrollment,
    enroll_participant,
)
from tests.helpers import csrf_token


def enroll(app, campaign_id, participant_id, role="beneficiary"):
    with app.app_context():
        with transaction():
            participant = db.session.get(Participant, participant_id)
            enrollment = enroll_participant(None, campaign_id, participant, role=role)
        return enrollment.status


def test_full_campaign_waitlists_then_promotes_the_oldest_on_drop(app, make, tenants):
    camp = make.campaign(tenants["company_a"], max_enrollment=2, waitlist_enabled=True)
    people = [make.participant() for _ in range(4)]
    assert [enroll(app, camp.id, p.id) for p in people] == ["active", "active", "waitlisted", "waitlisted"]
    with app.app_context():
        first = db.session.scalars(sa.select(Enrollment).where(Enrollment.participant_id == people[0].id)).one()
        with transaction():
            promoted = drop_enrollment(None, db.session.get(Enrollment, first.id), "moved away")
        assert [e.participant_id for e in promoted] == [people[2].id]
        loaded = db.session.get(Campaign, camp.id)
        assert (loaded.enrolled_count, loaded.waitlisted_count) == (2, 1)
        types = db.session.scalars(sa.select(ActivityEvent.type).order_by(ActivityEvent.id)).all()
        # Reached once: a drop that promotes the next one keeps the campaign full, it doesn't newly fill it.
        assert types.count("program.campaign.capacity_reached") == 1
        assert "program.enrollment.promoted" in types and "program.enrollment.dropped" in types


def test_full_campaign_without_waitlist_refuses_everyone_including_program_managers(app, make, tenants):
    camp = make.campaign(tenants["company_a"], max_enrollment=1)
    a, b = make.participant(), make.participant()
    assert enroll(app, camp.id, a.id) == "active"
    with pytest.raises(CapacityReached):
        enroll(app, camp.id, b.id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 1


def test_budget_limit_waitlists_like_a_full_campaign(app, make, tenants):
    camp = make.campaign(tenants["company_a"], seat_price=10_000, budget_allocated=25_000, waitlist_enabled=True)
    people = [make.participant() for _ in range(3)]
    assert [enroll(app, camp.id, p.id) for p in people] == ["active", "active", "waitlisted"]


def test_volunteers_are_not_capped(app, make, tenants):
    camp = make.campaign(tenants["company_a"], max_enrollment=0)
    volunteer = make.participant(company_id=tenants["company_a"].id)
    assert enroll(app, camp.id, volunteer.id, role="volunteer") == "active"


def test_double_enrollment_is_refused(app, make, tenants):
    camp = make.campaign(tenants["company_a"])
    person = make.participant()
    enroll(app, camp.id, person.id)
    with pytest.raises(AlreadyEnrolled):
        enroll(app, camp.id, person.id)


@pytest.mark.parametrize("campaign_status,program_status", [("draft", "active"), ("paused", "active"),
                                                            ("active", "paused"), ("completed", "active")])
def test_enrolling_needs_an_active_campaign_of_an_active_program(app, make, tenants, campaign_status, program_status):
    program = make.program(status=program_status)
    camp = make.campaign(tenants["company_a"], program, status=campaign_status)
    with pytest.raises(NotAcceptingEnrollments):
        enroll(app, camp.id, make.participant().id)


# --- through the campaign's enroll and enrollment screens ----------------------------
def test_enroll_shows_the_outlook_then_enrolls_and_writes_events(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program, max_enrollment=10)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enroll")
    check = pm_client.post(f"/campaigns/{camp.id}/enroll/check", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena", "year_of_birth": "2015",
        "languages": "uk"})
    assert "Cannot enroll" in check.get_data(as_text=True) and "below the group" in check.get_data(as_text=True)
    check = pm_client.post(f"/campaigns/{camp.id}/enroll/check", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena", "year_of_birth": "1990",
        "languages": "uk"})
    assert "Will be enrolled" in check.get_data(as_text=True)
    response = pm_client.post(f"/campaigns/{camp.id}/enroll", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena K", "email": "olena.k@example.org",
        "year_of_birth": "1990", "languages": "uk, en"})
    assert response.status_code == 303
    # the same form again (a double submit) creates nothing new
    again = pm_client.post(f"/campaigns/{camp.id}/enroll", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Olena K", "email": "OLENA.K@example.org",
        "year_of_birth": "1990", "languages": "uk, en"})
    assert again.status_code == 409 and "already enrolled" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(
            ActivityEvent.type == "program.enrollment.created", ActivityEvent.company_id == tenants["company_a"].id)) == 1
        # Program managers enroll beneficiaries into the NGO's own records, never a company's.
        assert db.session.scalar(sa.select(Participant.company_id)) is None
        assert db.session.get(Campaign, camp.id).enrolled_count == 1


def test_ineligible_enrollment_is_refused_with_the_reason_and_nothing_saved(app, pm_client, make, tenants,
                                                                            language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enroll")
    response = pm_client.post(f"/campaigns/{camp.id}/enroll", data={
        "csrf_token": token, "role": "beneficiary", "display_name": "Amal", "year_of_birth": "1990",
        "languages": "ar"})
    assert response.status_code == 422 and "No shared working language" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0


def test_drop_promotes_and_bulk_complete(app, admin_a_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program, max_enrollment=2, waitlist_enabled=True)
    people = [make.participant(year_of_birth=1990, languages=["uk"]) for _ in range(3)]
    with app.app_context():
        ids = []
        for p in people:
            with transaction():
                ids.append(enroll_participant(None, camp.id, db.session.get(Participant, p.id)).id)
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}")
    response = admin_a_client.post(f"/campaigns/{camp.id}/enrollments/{ids[0]}/drop",
                                   data={"csrf_token": token, "reason": "moved", "confirmed": "yes"})
    assert response.status_code == 303
    page = admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "1 waitlisted participant promoted" in page
    response = admin_a_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "complete", "enrollment_ids": [str(ids[1]), str(ids[2])], "confirmed": "yes"})
    assert response.status_code == 303
    with app.app_context():
        statuses = [db.session.get(Enrollment, i).status for i in ids]
        assert statuses == ["dropped", "completed", "completed"]
        assert db.session.get(Campaign, camp.id).enrolled_count == 2


def test_bulk_with_a_final_enrollment_changes_nothing(app, admin_a_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    done = make.enrollment(camp, status="completed", completed_at=utcnow())
    open_one = make.enrollment(camp)
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}")
    refused = admin_a_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "drop", "enrollment_ids": [str(done.id), str(open_one.id)]})
    # A refusal says so: 409 with the campaign page and the reason, not a redirect.
    assert refused.status_code == 409
    assert "Nothing changed: Cannot move from completed to dropped" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enrollment, open_one.id).status == "active"


def test_a_refused_or_stale_enrollment_action_answers_409_with_the_page(app, pm_client, make, tenants,
                                                                        language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    done = make.enrollment(camp, status="completed", completed_at=utcnow())
    active = make.enrollment(camp)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enrollments/{active.id}")
    refused = pm_client.post(f"/campaigns/{camp.id}/enrollments/{done.id}/drop", data={"csrf_token": token})
    assert refused.status_code == 409 and "Cannot move from completed to dropped" in refused.get_data(as_text=True)
    stale = pm_client.post(f"/campaigns/{camp.id}/enrollments/{active.id}/complete",
                           data={"csrf_token": token, "lock_version": "7"})
    assert stale.status_code == 409 and "Someone else changed" in stale.get_data(as_text=True)
    nothing = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={"csrf_token": token, "action": "drop"})
    assert nothing.status_code == 422 and "Tick at least one enrollment" in nothing.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enrollment, active.id).status == "active"


# --- the enroll form: one outlook, buttons that follow it, entering several people ----------
ENROLL_BUTTON = re.compile(r'<button type="submit" class="button button--primary"( disabled)?[^>]*>Enroll</button>')


def enroll_disabled(html: str) -> bool:
    match = ENROLL_BUTTON.search(html)
    assert match, "no Enroll button"
    return bool(match.group(1))


def outlook_box(html: str) -> str:
    return html.split('id="outlook"', 1)[1].split("</div>", 1)[0]


def test_the_check_answer_brings_the_enroll_buttons_disabled_while_it_says_cannot_enroll(
        pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    url = f"/campaigns/{camp.id}/enroll/check"
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enroll")
    person = {"csrf_token": token, "role": "beneficiary", "display_name": "Olena", "languages": "uk"}
    refused = pm_client.post(url, data={**person, "year_of_birth": "2015"}).get_data(as_text=True)
    assert "Cannot enroll" in outlook_box(refused)
    assert '<div id="enroll-actions" class="form-actions enroll-actions" hx-swap-oob="true">' in refused
    assert enroll_disabled(refused) and "Enrolling is off while the outlook says they cannot join" in refused
    assert 'name="add_another" value="Enroll and add another" class="button" disabled' in refused
    fine = pm_client.post(url, data={**person, "year_of_birth": "1990"}).get_data(as_text=True)
    assert "Will be enrolled" in outlook_box(fine) and not enroll_disabled(fine) and "Enrolling is off" not in fine
    empty = pm_client.post(url, data={"csrf_token": token, "role": "beneficiary"}).get_data(as_text=True)
    assert "Fill in the participant" in outlook_box(empty) and not enroll_disabled(empty)
    typo = pm_client.post(url, data={**person, "year_of_birth": "19x0"}).get_data(as_text=True)
    assert "Cannot enroll" in outlook_box(typo) and "Year of birth: " in outlook_box(typo) and enroll_disabled(typo)


def test_the_check_answer_swaps_the_enroll_buttons_only_when_their_state_changes(
        pm_client, make, tenants, language_program):
    """A check fires as a field loses focus, i.e. on the press of the mouse on Enroll: buttons
    swapped between press and release lose that click. So the answer brings the buttons only
    when the state the page shows (their hidden field) is not the outlook's; a check that does
    not say (an older page) gets them always."""
    camp = make.campaign(tenants["company_a"], language_program)
    url = f"/campaigns/{camp.id}/enroll/check"
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enroll")
    person = {"csrf_token": token, "role": "beneficiary", "display_name": "Olena", "languages": "uk"}
    page = pm_client.get(f"/campaigns/{camp.id}/enroll").get_data(as_text=True)
    assert '<input type="hidden" name="actions_blocked" value="n" form="enroll-actions-state">' in page
    still_fine = pm_client.post(url, data={**person, "year_of_birth": "1990", "actions_blocked": "n"})
    assert "Will be enrolled" in outlook_box(still_fine.get_data(as_text=True))
    assert 'id="enroll-actions"' not in still_fine.get_data(as_text=True)
    now_refused = pm_client.post(url, data={**person, "year_of_birth": "2015", "actions_blocked": "n"})
    html = now_refused.get_data(as_text=True)
    assert 'hx-swap-oob="true"' in html and enroll_disabled(html)
    assert '<input type="hidden" name="actions_blocked" value="y" form="enroll-actions-state">' in html
    still_refused = pm_client.post(url, data={**person, "year_of_birth": "2015", "actions_blocked": "y"})
    assert 'id="enroll-actions"' not in still_refused.get_data(as_text=True)
    fine_again = pm_client.post(url, data={**person, "year_of_birth": "1990", "actions_blocked": "y"})
    html = fine_again.get_data(as_text=True)
    assert 'hx-swap-oob="true"' in html and not enroll_disabled(html)
    assert '<input type="hidden" name="actions_blocked" value="n" form="enroll-actions-state">' in html


def test_without_javascript_check_shows_the_outlook_in_the_page_and_saves_nothing(app, pm_client, make, tenants,
                                                                                 language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    url = f"/campaigns/{camp.id}/enroll"
    html = pm_client.get(url).get_data(as_text=True)
    assert '<noscript><button type="submit" name="check" value="Check" class="button">Check</button></noscript>' in html
    assert html.index('name="check"') < html.index(">Enroll</button>")  # Enter in a field checks first
    token = csrf_token(pm_client, url)
    person = {"csrf_token": token, "role": "beneficiary", "display_name": "Olena", "languages": "uk", "check": "Check"}
    refused = pm_client.post(url, data={**person, "year_of_birth": "2015"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Cannot enroll" in outlook_box(html) and "below the group" in html
    assert "alert--error" not in html and html.count('class="outlook ') == 1 and enroll_disabled(html)
    assert 'value="Olena"' in html  # what was typed stays
    fine = pm_client.post(url, data={**person, "year_of_birth": "1990"}).get_data(as_text=True)
    assert "Will be enrolled" in outlook_box(fine) and not enroll_disabled(fine)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 0


def test_a_refused_enroll_says_why_in_the_one_outlook_box_and_keeps_the_chosen_person(app, pm_client, make, tenants,
                                                                                      language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    url = f"/campaigns/{camp.id}/enroll"
    token = csrf_token(pm_client, url)
    olena = make.participant(display_name="Olena Chosen", year_of_birth=1990, languages=["uk"])
    make.enrollment(camp, olena)
    response = pm_client.post(url, data={"csrf_token": token, "role": "beneficiary", "participant_id": olena.id})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "already enrolled" in outlook_box(html) and "Cannot enroll" in outlook_box(html)
    assert "alert--error" not in html and "Fill in the participant" not in html and enroll_disabled(html)
    assert "Enroll Olena Chosen</h2>" in html and f'name="participant_id" type="hidden" value="{olena.id}"' in html
    assert 'role="alert"' in outlook_box(html).split(">", 1)[0]  # announced: the answer to what was just pressed
    typed = pm_client.post(url, data={"csrf_token": token, "role": "beneficiary", "display_name": "Amal",
                                      "year_of_birth": "1990", "languages": "ar"}).get_data(as_text=True)
    assert typed.count("No shared working language") == 1 and "No shared working language" in outlook_box(typed)
    assert "alert--error" not in typed
    nobody = pm_client.post(url, data={"csrf_token": token, "role": "beneficiary"}).get_data(as_text=True)
    assert "Enter the participant" in nobody.split('id="outlook"', 1)[0]  # at the field...
    assert "Cannot enroll" in outlook_box(nobody)  # ...and the outlook agrees


def test_after_enrolling_the_flash_offers_another_and_add_another_comes_back_to_an_empty_form(
        pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    url = f"/campaigns/{camp.id}/enroll"
    token = csrf_token(pm_client, url)
    response = pm_client.post(url, data={"csrf_token": token, "role": "volunteer", "display_name": "Ingrid <b>B</b>",
                                         "email": "ingrid.b@example.org"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/campaigns/{camp.id}")
    page = pm_client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f'Ingrid &lt;b&gt;B&lt;/b&gt; is enrolled. <a href="/campaigns/{camp.id}/enroll?role=volunteer">'
            "Enroll another</a>") in page
    again = pm_client.get(f"{url}?role=volunteer").get_data(as_text=True)
    assert '<option selected value="volunteer">' in again
    response = pm_client.post(url, data={"csrf_token": token, "role": "volunteer", "display_name": "Lars H",
                                         "email": "lars.h@example.org", "add_another": "Enroll and add another"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}?role=volunteer")
    form = pm_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'Lars H is enrolled. <a href="/campaigns/{camp.id}">Back to the campaign</a>' in form
    assert '<option selected value="volunteer">' in form and 'value="lars.h@example.org"' not in form
    assert "Fill in the participant" in outlook_box(form)
