"""Destructive actions ask first (issue #13, item 5): drop, complete (one or in bulk),
completing or archiving a campaign, a program or a group, publishing (which deprecates the
active version), deprecating, archiving and deleting a template version.

The server decides: a post without the confirmation field changes nothing and answers the
confirmation page (templates/_confirm.html), whose Confirm button posts the same fields
again with it; htmx sends the field itself after asking (hx-confirm)."""
from __future__ import annotations

import html
import re

import pytest

from portal.campaigns.models import Campaign
from portal.db import db, utcnow
from portal.enrollments.models import Enrollment
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import Program
from tests.helpers import browser_form, csrf_token

HTMX = {"HX-Request": "true"}


def confirmation(response) -> tuple[str, dict]:
    """The confirmation page's text and what its Confirm button posts."""
    body = response.get_data(as_text=True)
    section = re.search(r'<section class="card card--form confirm"[^>]*>(.*?)</section>', body, re.S).group(1)
    text = html.unescape(re.sub(r"<[^>]+>", " ", section))
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', section).group(1))
    return " ".join(text.split()), {"action": action, "data": browser_form(section)}


def confirm(client, response):
    _, form = confirmation(response)
    return client.post(form["action"], data=form["data"])


def status_of(app, model, row_id: int) -> str:
    with app.app_context():
        return db.session.get(model, row_id).status


# --- one enrollment ----------------------------------------------------------------------------
def test_dropping_asks_first_then_drops_with_the_reason(app, admin_a_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program, max_enrollment=1, waitlist_enabled=True)
    first = make.enrollment(camp)
    make.enrollment(camp, status="waitlisted", waitlisted_at=utcnow())
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}/enrollments/{first.id}")
    asked = admin_a_client.post(f"/campaigns/{camp.id}/enrollments/{first.id}/drop",
                                data={"csrf_token": token, "reason": "Moved to Bergen", "lock_version": "1"})
    assert asked.status_code == 200
    assert status_of(app, Enrollment, first.id) == "active"  # nothing happened
    text, form = confirmation(asked)
    assert text.startswith("Drop the enrollment of P-")  # the company's pseudonym, not the name
    assert "Reason Moved to Bergen" in text and "This frees 1 seat. 1 person on the waitlist" in text
    assert "Drop the enrollment" in text and "Keep it" in text
    assert form["data"]["reason"] == "Moved to Bergen" and form["data"]["confirmed"] == "yes"
    done = confirm(admin_a_client, asked)
    assert done.status_code == 303
    assert status_of(app, Enrollment, first.id) == "dropped"
    with app.app_context():
        assert db.session.get(Enrollment, first.id).drop_reason == "Moved to Bergen"
    page = admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "Enrollment dropped. 1 waitlisted participant promoted." in page


def test_completing_asks_first(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    person = make.participant(display_name="Olena Shevchenko")
    enrollment = make.enrollment(camp, person)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enrollments/{enrollment.id}")
    asked = pm_client.post(f"/campaigns/{camp.id}/enrollments/{enrollment.id}/complete", data={"csrf_token": token})
    text, _ = confirmation(asked)
    assert asked.status_code == 200 and status_of(app, Enrollment, enrollment.id) == "active"
    assert text.startswith("Complete the enrollment of Olena Shevchenko?") and "seats stay counted" in text
    assert confirm(pm_client, asked).status_code == 303
    assert status_of(app, Enrollment, enrollment.id) == "completed"


def test_a_move_that_would_be_refused_is_refused_before_asking(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    done = make.enrollment(camp, status="completed", completed_at=utcnow())
    token = csrf_token(pm_client, f"/campaigns/{camp.id}/enrollments/{done.id}")
    refused = pm_client.post(f"/campaigns/{camp.id}/enrollments/{done.id}/drop", data={"csrf_token": token})
    assert refused.status_code == 409 and "Cannot move from completed to dropped" in refused.get_data(as_text=True)
    assert 'class="card card--form confirm"' not in refused.get_data(as_text=True)


def test_the_enrollment_page_asks_with_htmx_and_htmx_posts_the_confirmation(app, pm_client, make, tenants,
                                                                           language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    enrollment = make.enrollment(camp, make.participant(display_name="Taras Bondarenko"))
    url = f"/campaigns/{camp.id}/enrollments/{enrollment.id}"
    page = html.unescape(pm_client.get(url).get_data(as_text=True))
    assert f'hx-post="{url}/drop" hx-confirm="Drop the enrollment of Taras Bondarenko from {camp.name}?' in page
    assert '''hx-vals='{"confirmed": "yes"}\'''' in page
    assert "data-confirm=" not in page  # one way to ask, not two dialogs
    token = csrf_token(pm_client, url)
    done = pm_client.post(f"{url}/drop", data={"csrf_token": token, "confirmed": "yes"}, headers=HTMX)
    assert done.status_code == 200 and done.headers["HX-Redirect"] == f"/campaigns/{camp.id}"
    # a refusal after asking: htmx swaps no 409, so a full load of the page shows the message
    again = pm_client.post(f"{url}/drop", data={"csrf_token": token, "confirmed": "yes"}, headers=HTMX)
    assert again.headers["HX-Redirect"] == url
    assert "Cannot move from dropped to dropped" in pm_client.get(url).get_data(as_text=True)


def test_another_companys_enrollment_is_404_even_for_the_question(app, admin_b_client, make, tenants,
                                                                 language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    enrollment = make.enrollment(camp)
    token = csrf_token(admin_b_client, "/home")
    for action in ("drop", "complete"):
        response = admin_b_client.post(f"/campaigns/{camp.id}/enrollments/{enrollment.id}/{action}",
                                       data={"csrf_token": token})
        assert response.status_code == 404
    response = admin_b_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "drop", "enrollment_ids": [str(enrollment.id)]})
    assert response.status_code == 404
    assert status_of(app, Enrollment, enrollment.id) == "active"


# --- bulk --------------------------------------------------------------------------------------
def test_bulk_drop_names_each_and_changes_nothing_until_confirmed(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    a = make.enrollment(camp, make.participant(display_name="Anna Berg"))
    b = make.enrollment(camp, make.participant(display_name="Bohdan Koval"))
    keep = make.enrollment(camp, make.participant(display_name="Kateryna Lys"))
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    asked = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "drop", "reason": "Course cancelled",
        "enrollment_ids": [str(a.id), str(b.id)]})
    assert asked.status_code == 200
    text, form = confirmation(asked)
    assert text.startswith("Drop 2 enrollments?") and "Anna Berg" in text and "Bohdan Koval" in text
    assert "Kateryna Lys" not in text and "All of them change together, or none does." in text
    assert form["data"].getlist("enrollment_ids") == [str(a.id), str(b.id)]
    assert [status_of(app, Enrollment, e.id) for e in (a, b, keep)] == ["active"] * 3
    assert confirm(pm_client, asked).status_code == 303
    assert [status_of(app, Enrollment, e.id) for e in (a, b, keep)] == ["dropped", "dropped", "active"]
    assert "2 enrollments dropped." in pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)


def test_select_all_works_without_javascript(app, pm_client, make, tenants, language_program):
    """The "all on this page" box posts the page's selectable ids along; the confirmation
    lists exactly those, and one enrollment reads "1 enrollment"."""
    camp = make.campaign(tenants["company_a"], language_program)
    only = make.enrollment(camp, make.participant(display_name="Iryna Kovalenko"))
    make.enrollment(camp, make.participant(display_name="Done Already"), status="completed", completed_at=utcnow())
    page = pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert 'name="all_on_page"' in page and f'name="page_ids" value="{only.id}"' in page
    assert page.count('name="page_ids"') == 1  # the completed one cannot change
    partial = pm_client.get(f"/campaigns/{camp.id}?status=active", headers=HTMX).get_data(as_text=True)
    assert "<html" not in partial and 'name="all_on_page"' in partial and "hx-confirm=" in partial
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    asked = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "complete", "all_on_page": "y", "page_ids": [str(only.id)]})
    text, _ = confirmation(asked)
    assert text.startswith("Complete 1 enrollment?") and "Iryna Kovalenko" in text
    assert confirm(pm_client, asked).status_code == 303
    assert status_of(app, Enrollment, only.id) == "completed"
    assert "1 enrollment completed." in pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)


def test_bulk_with_nothing_ticked_or_a_bad_id(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    nothing = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={"csrf_token": token, "action": "drop"})
    assert nothing.status_code == 422 and "Tick at least one enrollment" in nothing.get_data(as_text=True)
    htmx = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={"csrf_token": token, "action": "drop",
                                                                         "confirmed": "yes"}, headers=HTMX)
    assert htmx.headers["HX-Redirect"] == f"/campaigns/{camp.id}"  # not the page swapped into the form
    bad = pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "drop", "all_on_page": "y", "page_ids": ["x"]})
    assert bad.status_code == 400


# --- campaigns, programs, groups -----------------------------------------------------------------
@pytest.mark.parametrize("target", ["completed", "archived"])
def test_campaign_moves_that_cannot_be_undone_ask_first(app, admin_a_client, make, tenants, language_program, target):
    camp = make.campaign(tenants["company_a"], language_program, name="Acme – Language Q1")
    make.enrollment(camp)
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}")
    asked = admin_a_client.post(f"/campaigns/{camp.id}/status", data={"csrf_token": token, "target": target,
                                                                      "lock_version": "1"})
    text, form = confirmation(asked)
    verb = "Complete" if target == "completed" else "Archive"
    assert asked.status_code == 200 and text.startswith(f"{verb} “Acme – Language Q1”?")
    assert "1 seat taken, 0 people on the waitlist" in text and "This cannot be undone." in text
    assert form["data"]["target"] == target
    assert status_of(app, Campaign, camp.id) == "active"
    assert confirm(admin_a_client, asked).status_code == 303
    assert status_of(app, Campaign, camp.id) == target


def test_pausing_does_not_ask(app, admin_a_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    token = csrf_token(admin_a_client, f"/campaigns/{camp.id}")
    page = html.unescape(admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True))
    assert f'hx-confirm="Archive “{camp.name}”? This cannot be undone."' in page
    assert admin_a_client.post(f"/campaigns/{camp.id}/status", data={
        "csrf_token": token, "target": "paused"}).status_code == 303
    assert status_of(app, Campaign, camp.id) == "paused"


def test_archiving_a_program_names_the_campaigns_it_stops(app, pm_client, make, tenants, language_program):
    running = make.campaign(tenants["company_a"], language_program, name="Acme – Language Q1")
    make.campaign(tenants["company_b"], language_program, name="Borealis – finished", status="completed")
    token = csrf_token(pm_client, f"/programs/{language_program.id}")
    asked = pm_client.post(f"/programs/{language_program.id}/status", data={"csrf_token": token,
                                                                             "target": "archived"})
    text, _ = confirmation(asked)
    assert asked.status_code == 200 and text.startswith(f"Archive “{language_program.name}”?")
    assert "1 campaign not yet finished" in text and "Acme – Language Q1" in text and "Borealis" not in text
    assert status_of(app, Program, language_program.id) == "active"
    assert confirm(pm_client, asked).status_code == 303
    assert status_of(app, Program, language_program.id) == "archived"
    assert running.id  # the campaign itself is not moved; it takes no new enrollments


def test_an_impossible_program_move_is_refused_before_asking(app, pm_client, make):
    program = make.program(status="draft")
    token = csrf_token(pm_client, f"/programs/{program.id}")
    refused = pm_client.post(f"/programs/{program.id}/status", data={"csrf_token": token, "target": "completed"})
    assert refused.status_code in (409, 422) and "confirm" not in refused.get_data(as_text=True).split("<main")[1][:200]


def test_archiving_a_group_asks_first(app, pm_client, make):
    group = make.group(name="Ukrainian newcomers in Bergen")
    token = csrf_token(pm_client, f"/groups/{group.id}")
    asked = pm_client.post(f"/groups/{group.id}/status", data={"csrf_token": token, "target": "archived",
                                                               "lock_version": "1"})
    text, _ = confirmation(asked)
    assert text.startswith("Archive “Ukrainian newcomers in Bergen”?") and "no longer be edited" in text
    assert status_of(app, type(group), group.id) == "active"
    assert confirm(pm_client, asked).status_code == 303
    assert status_of(app, type(group), group.id) == "archived"


# --- templates ----------------------------------------------------------------------------------
def test_publishing_names_the_version_it_deprecates_and_its_programs(app, pm_client, make):
    v1 = make.template(status="active", name="Mentorship Nordics")
    make.program(template=v1, name="Mentors for Bergen")
    v2 = make.template(key=v1.key, version=2, status="draft", name="Mentorship Nordics")
    token = csrf_token(pm_client, f"/templates/{v1.key}/v2")
    page = html.unescape(pm_client.get(f"/templates/{v1.key}/v2").get_data(as_text=True))
    assert "hx-confirm=\"Publish v2? v1, the active version now, becomes deprecated" in page
    asked = pm_client.post(f"/templates/{v1.key}/v2/publish", data={"csrf_token": token, "lock_version": "1"})
    text, _ = confirmation(asked)
    assert asked.status_code == 200 and text.startswith("Publish Mentorship Nordics v2?")
    assert "v1, the active version now, becomes deprecated" in text
    assert "Programs on v1: 1" in text and "Mentors for Bergen" in text
    assert (status_of(app, ProgramTemplate, v1.id), status_of(app, ProgramTemplate, v2.id)) == ("active", "draft")
    assert confirm(pm_client, asked).status_code == 303
    assert (status_of(app, ProgramTemplate, v1.id), status_of(app, ProgramTemplate, v2.id)) == ("deprecated",
                                                                                                "active")


@pytest.mark.parametrize("action,status,after", [("deprecate", "active", "deprecated"),
                                                 ("archive", "active", "archived")])
def test_template_moves_ask_first(app, pm_client, make, action, status, after):
    template = make.template(status=status)
    token = csrf_token(pm_client, f"/templates/{template.key}/v1")
    asked = pm_client.post(f"/templates/{template.key}/v1/{action}", data={"csrf_token": token})
    assert asked.status_code == 200 and status_of(app, ProgramTemplate, template.id) == status
    assert confirm(pm_client, asked).status_code == 303
    assert status_of(app, ProgramTemplate, template.id) == after


def test_deleting_a_draft_asks_first(app, pm_client, make):
    draft = make.template(status="draft")
    token = csrf_token(pm_client, f"/templates/{draft.key}/v1")
    asked = pm_client.post(f"/templates/{draft.key}/v1/delete", data={"csrf_token": token})
    assert asked.status_code == 200 and "deleted for good" in confirmation(asked)[0]
    with app.app_context():
        assert db.session.get(ProgramTemplate, draft.id) is not None
    assert confirm(pm_client, asked).status_code == 303
    with app.app_context():
        assert db.session.get(ProgramTemplate, draft.id) is None
