"""Participants screens (program managers only): index-served search with keyset paging,
detail with every enrollment and the timeline, edit with stale-edit protection."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db, transaction
from portal.enrollments.models import Participant
from portal.enrollments.operations import enroll_participant, update_participant
from portal.enrollments.queries import _next_text, name_prefixes
from portal.errors import StaleEdit, ValidationFailed
from tests.helpers import browser_form


@pytest.fixture
def people(make, tenants):
    """A few participants with names, e-mails and external references."""
    return {
        "anna": make.participant(display_name="Anna Berg", email="anna.berg@example.org", external_ref="kintell:8812",
                                 languages=["uk", "en"], year_of_birth=1990, country="UA"),
        "annika": make.participant(display_name="Annika Dahl", email="annika@example.org", external_ref="buddy:17"),
        "olena": make.participant(display_name="olena kovalenko", email="olena@example.org",
                                  external_ref="kintell:1234", company_id=tenants["company_a"].id),
        "bob": make.participant(display_name="Bob Hansen"),
    }


def names(response) -> list[str]:
    """Participant names in the results table, in order."""
    import re

    html = response.get_data(as_text=True)
    body = html.split('id="participant-results"', 1)[1]
    return re.findall(r'<a href="/participants/\d+">([^<]+)</a>', body)


def get_participant(app, participant_id: int) -> Participant:
    with app.app_context():
        found = db.session.get(Participant, participant_id)
        db.session.expunge(found)
        return found


# --- who may come in ---------------------------------------------------------------
def test_company_admins_get_403_on_every_participants_screen(admin_a_client, people):
    own_employee = people["olena"].id
    for url in ("/participants/", "/participants/?q=Anna", f"/participants/{own_employee}",
                f"/participants/{own_employee}/edit", "/participants/999999", "/participants/999999/edit"):
        assert admin_a_client.get(url).status_code == 403, url
    assert admin_a_client.post(f"/participants/{own_employee}/edit", data={}).status_code in (400, 403)


def test_the_navigation_shows_participants_to_program_managers_only(pm_client, admin_a_client):
    assert 'href="/participants/"' in pm_client.get("/home").get_data(as_text=True)
    assert 'href="/participants/"' not in admin_a_client.get("/home").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/participants/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- search -------------------------------------------------------------------------
def test_the_list_shows_everyone_newest_first_without_a_query(pm_client, people):
    assert names(pm_client.get("/participants/")) == ["Bob Hansen", "olena kovalenko", "Annika Dahl", "Anna Berg"]


@pytest.mark.parametrize("query,expected", [
    ("Ann", ["Anna Berg", "Annika Dahl"]),
    ("ann", ["Anna Berg", "Annika Dahl"]),         # a lowercase prefix also finds capitalised names
    ("anna b", ["Anna Berg"]),                      # title case for several words
    ("olena", ["olena kovalenko"]),                 # as typed
    ("ANNA.BERG@example.ORG", ["Anna Berg"]),      # e-mail exact, case-insensitive
    ("kintell:1234", ["olena kovalenko"]),          # external reference exact
    ("kintell", []),                                # not a prefix search by default
    ("erg", []),                                    # never a substring (no index could serve it)
    ("zzz", []),
])
def test_search_matches_name_prefixes_and_exact_email_or_reference(pm_client, people, query, expected):
    response = pm_client.get("/participants/", query_string={"q": query})
    assert response.status_code == 200
    assert names(response) == expected


def test_search_by_the_participant_reference(app, pm_client, people):
    ref = get_participant(app, people["bob"].id).ref
    assert names(pm_client.get("/participants/", query_string={"q": ref.lower()})) == ["Bob Hansen"]


def test_prefix_search_on_email_and_external_reference(pm_client, people):
    by_email = pm_client.get("/participants/", query_string={"q": "ANN", "by": "email"})
    assert names(by_email) == ["Anna Berg", "Annika Dahl"]  # in e-mail order
    by_ref = pm_client.get("/participants/", query_string={"q": "kintell:", "by": "external_ref"})
    assert names(by_ref) == ["olena kovalenko", "Anna Berg"]  # kintell:1234 before kintell:8812


def test_an_htmx_search_returns_only_the_results_block(pm_client, people):
    response = pm_client.get("/participants/?q=ann", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<div id="participant-results">') and "<html" not in html
    assert names(response) == ["Anna Berg", "Annika Dahl"]


def test_the_full_page_has_active_search_and_explains_what_matches(pm_client):
    html = pm_client.get("/participants/?q=Ann").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms' in html and 'hx-push-url="true"' in html
    assert 'value="Ann"' in html
    assert "start</strong> of a name" in html and "Text in the middle of a name is not matched" in html


def test_search_pages_by_keyset_without_repeats(app, pm_client, make):
    for i in range(7):
        make.participant(display_name=f"Page Person {i}")
    make.participant(display_name="page person lowercase")
    app.config["PORTAL_PAGE_SIZE"] = 3
    seen: list[str] = []
    url = "/participants/?q=page"
    for _ in range(5):
        response = pm_client.get(url)
        seen += names(response)
        html = response.get_data(as_text=True)
        if "Older entries" not in html:
            break
        url = html.split('class="button" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        assert "after=" in url and "q=page" in url
    assert seen == [f"Page Person {i}" for i in range(7)] + ["page person lowercase"]


def test_a_tampered_cursor_shows_the_first_page(pm_client, people):
    for q in ("", "Ann"):
        response = pm_client.get("/participants/", query_string={"q": q, "after": "not-a-cursor!!"})
        assert response.status_code == 200 and names(response)


def test_odd_queries_do_not_break_the_search(pm_client, people):
    for q in ("%", "_", "'", "\\", "a" * 400, "\U0010ffff", "\ud7ff", "Ann%"):
        assert pm_client.get("/participants/", query_string={"q": q}).status_code == 200, q
    assert pm_client.get("/participants/", query_string={"q": "\x00"}).status_code == 400  # refused at the door


def test_prefix_helpers():
    assert _next_text("Ann") == "Ano"
    assert _next_text("a\ud7ff") == "a\ue000"
    assert _next_text("\U0010ffff") is None
    assert name_prefixes("anna b") == ["anna b", "Anna b", "Anna B"]
    assert name_prefixes("Anna") == ["Anna"]


# --- detail -------------------------------------------------------------------------
def test_detail_shows_every_enrollment_and_the_timeline(app, pm_client, make, tenants, people):
    first = make.campaign(tenants["company_a"], name="Acme Language Q1")
    second = make.campaign(tenants["company_b"], name="Borealis Mentors", max_enrollment=0, waitlist_enabled=True)
    anna = people["anna"]
    with app.app_context():
        for camp in (first, second):
            with transaction():
                enroll_participant(tenants["pm"], camp.id, db.session.get(Participant, anna.id))
    html = pm_client.get(f"/participants/{anna.id}").get_data(as_text=True)
    for text in ("Anna Berg", "anna.berg@example.org", "kintell:8812", "Ukrainian", "Ukraine", "1990",
                 "Acme Language Q1", "Acme Corp", "Borealis Mentors", "Borealis AS", "Beneficiary",
                 "badge--active", "badge--waitlisted", "Enrollment created", "Enrollment waitlisted"):
        assert text in html, text


def test_detail_of_a_missing_participant_is_404(pm_client):
    assert pm_client.get("/participants/999999").status_code == 404
    assert pm_client.get("/participants/999999/edit").status_code == 404


# --- edit ---------------------------------------------------------------------------
def test_editing_saves_and_records_what_changed(app, pm_client, people):
    anna = people["anna"]
    url = f"/participants/{anna.id}/edit"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    assert form["lock_version"] == "1"
    form["display_name"] = "Anna Berg-Olsen"
    form["languages"] = "uk, English, no"
    response = pm_client.post(url, data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/participants/{anna.id}")
    saved = get_participant(app, anna.id)
    assert (saved.display_name, saved.languages, saved.lock_version) == ("Anna Berg-Olsen", ["uk", "en", "no"], 2)
    assert saved.email == "anna.berg@example.org" and saved.external_ref == "kintell:8812"
    assert "Participant saved." in pm_client.get(f"/participants/{anna.id}").get_data(as_text=True)
    with app.app_context():
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "participant.updated")).one()
        assert event.subject_id == anna.id and set(event.data) == {"display_name", "languages"}


def test_a_stale_edit_is_refused_with_409_and_nothing_is_overwritten(app, pm_client, people):
    url = f"/participants/{people['anna'].id}/edit"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["display_name"] = "First save"
    assert pm_client.post(url, data=form).status_code == 303
    form["display_name"] = "Second save, from the old page"
    response = pm_client.post(url, data=form)
    assert response.status_code == 409
    assert "Someone else changed" in response.get_data(as_text=True)
    assert get_participant(app, people["anna"].id).display_name == "First save"


@pytest.mark.parametrize("field,value,message", [
    ("display_name", "", "Enter a name"),
    ("email", "not-an-email", "Enter a valid e-mail address"),
    ("email", "ANNIKA@Example.org", "A participant with this e-mail already exists"),
    ("external_ref", "buddy:17", "Another participant has this external reference"),
    ("year_of_birth", "1800", "Enter a year between 1900"),
    ("year_of_birth", "soon", "Not a valid integer"),
    ("languages", "uk, klingon", "'klingon' is not an ISO 639-1 language code"),
    ("company_id", "999999", "Not a valid choice"),
])
def test_bad_input_is_shown_next_to_its_field_with_422(app, pm_client, people, field, value, message):
    url = f"/participants/{people['anna'].id}/edit"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form[field] = value
    response = pm_client.post(url, data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error_html = html.split(f'id="{field}-error"', 1)[1][:300]
    assert message in error_html.replace("&#39;", "'").replace("&#x27;", "'")
    assert get_participant(app, people["anna"].id).lock_version == 1  # nothing saved


def test_an_htmx_save_with_errors_returns_the_form_fragment(pm_client, people):
    url = f"/participants/{people['anna'].id}/edit"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["email"] = "annika@example.org"
    response = pm_client.post(url, data=form, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and html.lstrip().startswith('<form method="post"')
    assert 'aria-invalid="true"' in html and "<html" not in html


def test_an_email_may_change_case_and_is_stored_lowercase(app, pm_client, people):
    url = f"/participants/{people['anna'].id}/edit"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["email"] = "Anna.Berg@EXAMPLE.org"
    assert pm_client.post(url, data=form).status_code == 303
    assert get_participant(app, people["anna"].id).email == "anna.berg@example.org"


def test_an_htmx_save_redirects_with_hx_redirect(pm_client, people):
    url = f"/participants/{people['bob'].id}/edit"
    form = browser_form(pm_client.get(url).get_data(as_text=True))
    form["display_name"] = "Bob Hansen Jr"
    response = pm_client.post(url, data=form, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(f"/participants/{people['bob'].id}")


def test_update_participant_refuses_a_stale_version_and_validates(app, people):
    with app.app_context():
        with pytest.raises(StaleEdit):
            with transaction():
                update_participant(None, db.session.get(Participant, people["bob"].id), expected_version=7,
                                   display_name="Stale")
        with pytest.raises(ValidationFailed) as caught:
            with transaction():
                update_participant(None, db.session.get(Participant, people["bob"].id), expected_version=1,
                                   email="annika@EXAMPLE.org", country="XX")
        assert set(caught.value.errors) == {"email", "country"}
        # Unique per owner: Olena is company A's employee, so a beneficiary may share her address.
        with transaction():
            update_participant(None, db.session.get(Participant, people["bob"].id), expected_version=1,
                               email="olena@EXAMPLE.org")
        with transaction():
            update_participant(None, db.session.get(Participant, people["bob"].id), expected_version=2, email=None)
        with transaction():  # nothing to change: no version bump, no event
            update_participant(None, db.session.get(Participant, people["bob"].id), expected_version=3,
                               display_name="Bob Hansen")
        assert db.session.get(Participant, people["bob"].id).lock_version == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)
                                 .where(ActivityEvent.type == "participant.updated")) == 2
