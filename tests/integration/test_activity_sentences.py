"""Issue #13 item 7: the activity log, the timelines and the home page say in a sentence
what happened, link the object when the reader may open it, and list the changed fields
old → new; a company admin's sentences never identify a beneficiary."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference


def results(html: str) -> str:
    return html.split('id="activity-results"', 1)[1]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.fixture
def scene(app, make, tenants, language_program):
    """Company A's active campaign (cap 40, waitlist on) with a beneficiary enrolled by the
    program team and an employee volunteer; all through the operations, so events exist."""
    from portal.enrollments.operations import create_participant, enroll_participant

    camp = make.campaign(tenants["company_a"], language_program, name="Acme – Language Q1", max_enrollment=40,
                         waitlist_enabled=True)
    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        admin = db.session.get(User, tenants["admin_a"].id)
        with transaction():
            olena = create_participant(pm, display_name="Olena Shevchenko", email="olena.s@example.org",
                                       year_of_birth=1980, languages=["uk"])
            ingrid = create_participant(admin, display_name="Ingrid Employee", email="ingrid@acme.example",
                                        company_id=tenants["company_a"].id)
            db.session.flush()
            beneficiary = enroll_participant(pm, camp.id, olena)
            volunteer = enroll_participant(admin, camp.id, ingrid, role="volunteer")
        ids = {"olena": olena.id, "ingrid": ingrid.id, "beneficiary": beneficiary.id, "volunteer": volunteer.id}
    return {"camp": camp, **ids}


def test_raising_the_cap_reads_as_a_sentence_with_the_old_and_new_value(app, scene, tenants, admin_a_client,
                                                                         pm_client):
    from portal.campaigns.operations import update_campaign

    camp = scene["camp"]
    with app.app_context():
        with transaction():
            update_campaign(db.session.get(User, tenants["admin_a"].id), db.session.get(Campaign, camp.id),
                            expected_version=None, max_enrollment=50)
    for client in (admin_a_client, pm_client):
        body = results(client.get("/activity/?type=program.campaign").get_data(as_text=True))
        assert "Ann Admin raised the cap of " in body
        assert f'<a href="/campaigns/{camp.id}">Acme – Language Q1</a> from 40 to 50' in body
        assert re.search(r"Cap</span>: <span[^>]*>40</span> <span[^>]*>→</span> <span[^>]*>50</span>", body)
        assert "program.campaign.updated" not in body  # no event keys
    # the campaign's own timeline uses the same describer
    detail = text_of(pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True))
    assert "Ann Admin raised the cap of Acme – Language Q1 from 40 to 50" in detail


def test_several_changed_fields_are_listed_old_to_new(app, scene, tenants, pm_client):
    from portal.campaigns.operations import update_campaign

    with app.app_context():
        with transaction():
            update_campaign(db.session.get(User, tenants["pm"].id), db.session.get(Campaign, scene["camp"].id),
                            expected_version=None, name="Acme – Language Q2", budget_allocated=150_000,
                            waitlist_enabled=False)
    body = text_of(results(pm_client.get("/activity/?type=program.campaign").get_data(as_text=True)))
    assert "Pat Manager changed the name, waitlist and budget of Acme – Language Q2" in body
    assert "Name: Acme – Language Q1 → Acme – Language Q2" in body
    assert "Budget: — → 1,500.00" in body and "Waitlist: on → off" in body


def test_a_settings_change_records_and_shows_each_setting_old_to_new(app, scene, tenants, admin_a_client):
    from portal.campaigns.operations import update_campaign_config

    camp = scene["camp"]
    with app.app_context():
        campaign = db.session.get(Campaign, camp.id)
        with transaction():
            update_campaign_config(db.session.get(User, tenants["admin_a"].id), campaign,
                                   {"session": {"defaultDurationMinutes": 60}}, expected_version=None)
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "program.campaign.updated")
                                   .order_by(ActivityEvent.id.desc())).first()
        changes = event.data["config_changes"]
        assert changes["session.defaultDurationMinutes"]["to"] == 60
        assert changes["session.defaultDurationMinutes"]["from"] == 45
        old = changes["session.defaultDurationMinutes"]["from"]
        label = changes["session.defaultDurationMinutes"]["label"]
    body = text_of(results(admin_a_client.get("/activity/?type=program.campaign").get_data(as_text=True)))
    assert "Ann Admin changed the settings of Acme – Language Q1" in body
    assert f"{label}: {old} → 60" in body and old == 45


def test_program_manager_reads_the_beneficiary_by_name_with_links(scene, pm_client):
    body = results(pm_client.get("/activity/?type=program.enrollment").get_data(as_text=True))
    camp = scene["camp"]
    assert (f'Pat Manager enrolled <a href="/participants/{scene["olena"]}">Olena Shevchenko</a> in '
            f'<a href="/campaigns/{camp.id}">Acme – Language Q1</a>') in body
    assert (f'Ann Admin enrolled <a href="/participants/{scene["ingrid"]}">Ingrid Employee</a> in '
            f'<a href="/campaigns/{camp.id}">Acme – Language Q1</a> as a volunteer') in body


def test_company_admin_reads_a_beneficiary_only_as_its_pseudonym_and_gets_no_link_to_them(app, scene, tenants,
                                                                                            admin_a_client):
    from portal.enrollments.operations import drop_enrollment

    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        with transaction():
            drop_enrollment(pm, db.session.get(Enrollment, scene["beneficiary"]), "Moved to Oslo with Mykola")
        ref = company_reference(db.session.get(User, tenants["admin_a"].id).company, scene["olena"])
    html = admin_a_client.get("/activity/").get_data(as_text=True)
    body = results(html)
    camp = scene["camp"]
    assert f'Pat Manager enrolled participant {ref} in <a href="/campaigns/{camp.id}">Acme – Language Q1</a>' in body
    assert f'Pat Manager dropped participant {ref} from <a href="/campaigns/{camp.id}">' in body
    # the employee volunteer is the company's own: by name, its enrollment linked
    assert (f'Ann Admin enrolled Ingrid Employee in <a href="/campaigns/{camp.id}">Acme – Language Q1</a> '
            "as a volunteer") in body
    # no page about a person: no participant page, no beneficiary enrollment page
    assert "/participants/" not in html
    assert f"/enrollments/{scene['beneficiary']}" not in html


SECRETS = ("Olena", "Shevchenko", "olena.s@example.org", "1980", "Mykola", "Oslo")


@pytest.mark.parametrize("path", ["/activity/", "/home", "/activity/?type=program.enrollment", "/campaigns/{camp}"])
def test_privacy_oracle_a_company_admins_sentences_never_name_a_beneficiary(app, scene, tenants, admin_a_client,
                                                                           path):
    """Every way an enrollment's story is told to the company: created, waitlisted,
    promoted, dropped with a reason — never the beneficiary's name, e-mail or the reason."""
    from portal.campaigns.operations import update_campaign
    from portal.enrollments.operations import create_participant, drop_enrollment, enroll_participant

    camp = scene["camp"]
    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        with transaction():
            update_campaign(pm, db.session.get(Campaign, camp.id), expected_version=None, max_enrollment=1)
        with transaction():
            waiting = create_participant(pm, display_name="Olena Waiting", email="olena.w@example.org",
                                         year_of_birth=1980, languages=["uk"])
            db.session.flush()
            enroll_participant(pm, camp.id, waiting)  # waitlisted: the one seat is taken
        with transaction():
            drop_enrollment(pm, db.session.get(Enrollment, scene["beneficiary"]), "Moved to Oslo with Mykola")
        types = db.session.scalars(sa.select(ActivityEvent.type).where(
            ActivityEvent.company_id == tenants["company_a"].id)).all()
        assert {"program.enrollment.waitlisted", "program.enrollment.promoted",
                "program.enrollment.dropped"} <= set(types)
    body = admin_a_client.get(path.format(camp=camp.id)).get_data(as_text=True)
    if path != "/campaigns/{camp}":  # (the campaign's timeline holds the campaign's own events)
        assert "moved from the waitlist into a seat" in body
    for secret in (*SECRETS, "olena.w@example.org"):
        assert secret not in body, (path, secret)


def test_an_employees_changed_fields_are_shown_to_its_company(app, scene, tenants, admin_a_client, pm_client):
    from portal.enrollments.operations import update_participant

    with app.app_context():
        with transaction():
            update_participant(db.session.get(User, tenants["pm"].id), db.session.get(Participant, scene["ingrid"]),
                               expected_version=None, display_name="Ingrid Employee-Berg",
                               email="ingrid.berg@acme.example")
    body = text_of(results(admin_a_client.get("/activity/?type=participant").get_data(as_text=True)))
    assert "Pat Manager changed the name and e-mail of Ingrid Employee-Berg" in body
    assert "Name: Ingrid Employee → Ingrid Employee-Berg" in body
    assert "E-mail changed" in body and "ingrid@acme.example" not in body  # the log keeps no address
    html = admin_a_client.get("/activity/?type=participant").get_data(as_text=True)
    assert "/participants/" not in html  # the participant pages are the program team's
    assert f'href="/participants/{scene["ingrid"]}"' in pm_client.get("/activity/?type=participant").get_data(
        as_text=True)


def test_sentences_escape_what_users_typed(app, make, tenants, pm_client):
    from portal.campaigns.operations import transition_campaign

    camp = make.campaign(tenants["company_a"], name="<script>alert(1)</script> & Co", status="draft")
    with app.app_context():
        with transaction():
            transition_campaign(db.session.get(User, tenants["pm"].id), db.session.get(Campaign, camp.id), "active")
    body = results(pm_client.get("/activity/").get_data(as_text=True))
    assert "<script>alert(1)" not in body
    assert "Pat Manager started the campaign <a href=" in body and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in body
    assert "Status</span>: <span class=\"event-changes__old\">draft</span>" in body


def test_program_manager_timelines_link_templates_programs_and_groups(app, make, pm_client, tenants):
    from portal.beneficiaries.operations import create_group
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program
    from tests.factories import master

    language = master("language")
    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        with transaction():
            template = create_template(pm, key="sentences-lang", name="Sentences Language", category="language",
                                       config_schema=language["config_schema"],
                                       default_config=language["default_config"])
            publish_template(pm, template)
            group = create_group(pm, name="Newcomers in Tromsø", group_type="newcomers", country="NO",
                                 languages=["uk"], eligible_categories=["language"])
            program = launch_program(pm, template=template, group=group, name="Language Tromsø")
        ids = (template.id, group.id, program.id)
    body = results(pm_client.get("/activity/").get_data(as_text=True))
    assert 'Pat Manager published the template <a href="/templates/sentences-lang/v1">' in body
    assert f'Pat Manager created the beneficiary group <a href="/groups/{ids[1]}">Newcomers in Tromsø</a>' in body
    assert f'Pat Manager launched the program <a href="/programs/{ids[2]}">Language Tromsø</a> as a draft' in body
