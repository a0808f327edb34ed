"""Issue #13 item 7, for the events added since it was filed: matches, deliveries, valuation
sets and pins, impact reports and their share links, webhook endpoints, API tokens and the
privacy events each read as a sentence with a link to the object; no event type the portal
writes falls back to the generic "who — kind: what" line; a company admin's log links only to
pages it may open and never names a beneficiary (pseudonyms only); privacy events name only
the pseudonymous label they store."""
from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.activity import sentences
from portal.activity.models import ActivityEvent
from portal.activity.operations import EVENT_TYPE_PATTERNS, is_known_event_type
from portal.auth.models import Company, User
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.privacy import company_reference

ROOT = Path(__file__).resolve().parents[2]
DAY = date.today()  # a delivery is dated between the enrollment's start and today
SHOWN_DAY = DAY.isoformat()  # as the log shows it in English
# What only the program team may know: the beneficiaries' names, contact, the free texts typed
# about them (a match's end reason, a delivery's note and void reason).
SECRETS = ("Olena", "Shevchenko", "olena.s@example.org", "Petro", "Bondar", "Oslo", "cried", "wrong day")


def results(html: str) -> str:
    return html.split('id="activity-results"', 1)[1]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def hrefs(html: str) -> set[str]:
    return {h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"]*)"', html)}


@pytest.fixture(autouse=True)
def one_page(app, monkeypatch):
    monkeypatch.setitem(app.config, "PORTAL_PAGE_SIZE", 500)  # the whole story on one page


@pytest.fixture
def story(app, make, tenants):
    """Company A's mentorship campaign and everything that happens in it, through the operations:
    a match proposed, confirmed and ended; a delivery recorded, corrected and voided; a valuation
    set made, valued, activated, pinned, copied, the copy deleted, then retired; a report frozen,
    shared, opened and its link switched off; a webhook endpoint's whole life; an API token made
    and revoked; consent withdrawn; a beneficiary and an employee erased."""
    from portal.deliveries.operations import correct_delivery, record_delivery, void_delivery
    from portal.enrollments.operations import create_participant
    from portal.impact import operations as impact
    from portal.matches.operations import confirm_match, end_match, propose_match
    from portal.privacy.consent import withdraw_consent
    from portal.privacy.erasure import erase_participant
    from portal.programs.models import Program
    from portal.reports.operations import (
        create_snapshot,
        open_shared_report,
        revoke_share_link,
        share_snapshot,
        share_token,
    )
    from portal.reports.periods import parse_period
    from portal.tokens.operations import create_token, revoke_token
    from portal.webhooks import operations as hooks

    program = make.program(template=make.template("mentorship"))
    camp = make.campaign(tenants["company_a"], program, name="Acme Mentoring")
    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        admin = db.session.get(User, tenants["admin_a"].id)
        campaign = db.session.get(Campaign, camp.id)
        with transaction():
            olena = create_participant(pm, display_name="Olena Shevchenko", email="olena.s@example.org",
                                       year_of_birth=1980, languages=["uk"])
            petro = create_participant(pm, display_name="Petro Bondar", languages=["uk"])
            marta = create_participant(admin, display_name="Marta Mentor", email="marta@acme.example",
                                       company_id=tenants["company_a"].id)
            erik = create_participant(admin, display_name="Erik Employee", company_id=tenants["company_a"].id)
            db.session.flush()
            ids = {"olena": olena.id, "petro": petro.id, "marta": marta.id, "erik": erik.id}
    mentee = make.enrollment(camp, db_get(app, Participant, ids["olena"]), legal_basis="consent",
                             consent_given_on=date(2026, 1, 5))
    mentor = make.enrollment(camp, db_get(app, Participant, ids["marta"]), role="volunteer")
    make.enrollment(camp, db_get(app, Participant, ids["petro"]))
    make.enrollment(camp, db_get(app, Participant, ids["erik"]), role="volunteer")
    with app.app_context():
        pm = db.session.get(User, tenants["pm"].id)
        admin = db.session.get(User, tenants["admin_a"].id)
        campaign = db.session.get(Campaign, camp.id)
        with transaction():
            match = propose_match(pm, campaign, db.session.get(Enrollment, mentor.id),
                                  db.session.get(Enrollment, mentee.id))
        with transaction():
            confirm_match(pm, match)
        with transaction():
            end_match(pm, match, "Olena moved to Oslo")
        with transaction():
            delivery = record_delivery(pm, db.session.get(Enrollment, mentee.id), kind="session_completed",
                                       occurred_on=DAY, attendance="present", note="Olena cried")
        with transaction():
            correct_delivery(pm, delivery, expected_version=None, quantity="2")
        with transaction():
            void_delivery(pm, delivery, reason="Olena: wrong day")
        with transaction():
            valuation = impact.create_valuation_set(pm, name="Sentences SROI", currency="EUR")
        with transaction():
            impact.update_valuation_set(pm, valuation, expected_version=None, name="Sentences SROI",
                                        description="", currency="EUR", discount_rate="4")
        with transaction():
            impact.save_entry(pm, valuation, expected_version=None, outcome="delivery:session_completed",
                              proxy="125.50", source_text="A study", duration_years="1")
        with transaction():
            impact.activate(pm, valuation, expected_version=None)
        with transaction():
            impact.pin_program(pm, db.session.get(Program, program.id), valuation, expected_version=None)
        with transaction():
            copy, _fresh = impact.new_version(pm, valuation)
        with transaction():
            impact.delete_draft(pm, copy, expected_version=None)
        with transaction():
            impact.retire(pm, valuation, expected_version=None)
        with transaction():
            snapshot = create_snapshot(admin, db.session.get(Company, tenants["company_a"].id), [campaign],
                                       parse_period("2026-Q2"), campaign=campaign)
        with transaction():
            gone = share_snapshot(admin, snapshot, days=30, label="For the board")
            live = share_snapshot(admin, snapshot, days=7)
        with transaction():
            open_shared_report(share_token(live))
        with transaction():
            revoke_share_link(admin, gone)
        with transaction():
            endpoint, _secret = hooks.create_endpoint(pm, url="http://127.0.0.1:9/sentences",
                                                      description="Kintell connector",
                                                      event_types=["program.delivery.recorded"])
        with transaction():
            hooks.update_endpoint(pm, endpoint, expected_version=None, url="http://127.0.0.1:9/sentences",
                                  description="Kintell", event_types=["program.delivery.recorded"], company_id=None,
                                  enabled=True)
        with transaction():
            hooks.set_enabled(pm, endpoint, False)
        with transaction():
            hooks.rotate_secret(pm, endpoint)
        kept_endpoint = endpoint.id
        with transaction():
            other, _secret = hooks.create_endpoint(pm, url="http://127.0.0.1:9/gone", description="",
                                                   event_types=["program.delivery.recorded"])
        with transaction():
            hooks.delete_endpoint(pm, other)
        with transaction():
            token, _text = create_token(admin, admin, name="Connector", scopes=["read"])
        with transaction():
            revoke_token(admin, token)
        with transaction():
            withdraw_consent(pm, db.session.get(Enrollment, mentee.id))
        with transaction():
            erase_participant(pm, db.session.get(Participant, ids["petro"]), confirmation="ERASE")
        with transaction():
            erase_participant(pm, db.session.get(Participant, ids["erik"]), confirmation="ERASE")
        ids.update(campaign=camp.id, program=program.id, mentee=mentee.id, mentor=mentor.id, match=match.id,
                   delivery=delivery.id, valuation=valuation.id, snapshot=snapshot.id, endpoint=kept_endpoint,
                   deleted_endpoint=other.id, olena_ref=db.session.get(Participant, ids["olena"]).ref,
                   reference=company_reference(db.session.get(Company, tenants["company_a"].id), ids["olena"]))
    return ids


def db_get(app, model, object_id):
    with app.app_context():
        obj = db.session.get(model, object_id)
        db.session.expunge(obj)
        return obj


# --- the program team's log --------------------------------------------------------------------
def test_program_team_reads_each_newer_event_as_a_sentence_with_its_link(story, pm_client):
    html = results(pm_client.get("/activity/").get_data(as_text=True))
    body = text_of(html)
    camp, enr = story["campaign"], story["mentee"]
    # matches: the pair by name (the program team may know them), the campaign's matches linked
    assert "Pat Manager proposed Marta Mentor as the volunteer of Olena Shevchenko in Acme Mentoring" in body
    assert "Pat Manager confirmed the match of Marta Mentor with Olena Shevchenko in Acme Mentoring" in body
    assert "Pat Manager ended the match of Marta Mentor with Olena Shevchenko in Acme Mentoring" in body
    assert f'href="/campaigns/{camp}/matches"' in html
    assert "Oslo" not in html  # the end reason stays out of the log
    # deliveries: kind, day, person; the delivery linked to the enrollment's page
    assert f"Pat Manager recorded “Session completed” on {SHOWN_DAY} for Olena Shevchenko in Acme Mentoring" in body
    assert f"Pat Manager corrected “Session completed” of {SHOWN_DAY} for Olena Shevchenko" in body
    assert "Quantity: 1 → 2" in body
    assert f"Pat Manager voided “Session completed” of {SHOWN_DAY} for Olena Shevchenko" in body
    assert f'<a href="/campaigns/{camp}/enrollments/{enr}">“Session completed”</a>' in html
    assert "cried" not in html and "wrong day" not in html
    # valuation sets and the pin
    assert "Pat Manager created the valuation set Sentences SROI v1" in body
    assert "Pat Manager changed the discount rate of the valuation set Sentences SROI v1" in body
    assert "Discount rate: 3.50 % → 4.00 %" in body
    assert "Pat Manager valued the outcome “Session completed” in Sentences SROI v1" in body
    assert "Pat Manager activated the valuation set Sentences SROI v1" in body
    assert "Pat Manager started Sentences SROI v2 as a copy of version 1" in body
    assert "Pat Manager deleted the draft valuation set Sentences SROI v2" in body
    assert "Pat Manager retired the valuation set Sentences SROI v1" in body
    assert f'href="/valuation-sets/{story["valuation"]}"' in html
    assert "Pat Manager pinned the program" in body and "to the valuation set Sentences SROI v1" in body
    # reports and share links
    assert "Ann Admin froze the impact report for Q2 2026 (April–June)" in body
    assert "Ann Admin shared the impact report for Q2 2026 (April–June) by a link that works until" in body
    assert "Someone opened a shared link to the impact report for Q2 2026 (April–June)" in body
    assert "Ann Admin switched off a link to the impact report for Q2 2026 (April–June)" in body
    assert f'href="/reports/{story["snapshot"]}"' in html
    # webhooks
    assert "Pat Manager registered the webhook endpoint" in body
    assert "Pat Manager switched off the webhook endpoint" in body
    assert "Pat Manager changed the description of the webhook endpoint" in body
    assert "Pat Manager replaced the signing secret of the webhook endpoint" in body
    assert "Pat Manager deleted the webhook endpoint" in body
    assert f'href="/webhooks/{story["endpoint"]}"' in html
    assert f'href="/webhooks/{story["deleted_endpoint"]}"' not in html  # gone: not linked
    # tokens
    assert "Ann Admin created the API token “Connector” of Ann Admin" in body
    assert "Ann Admin revoked the API token “Connector” of Ann Admin" in body
    # privacy: the stored pseudonymous label only, linked to the privacy page
    assert f"Pat Manager recorded that {story['olena_ref']} withdrew consent in Acme Mentoring" in body
    assert "Pat Manager erased the personal data of Erased participant" in body
    assert "Pat Manager erased the personal data of Erased volunteer" in body
    assert f'href="/privacy/participants/{story["petro"]}"' in html
    for gone in ("Petro", "Bondar", "Erik"):
        assert gone not in html


def test_every_link_in_the_program_teams_log_opens(story, pm_client):
    html = results(pm_client.get("/activity/").get_data(as_text=True))
    links = {h for h in hrefs(html) if not h.startswith("/activity")}
    assert len(links) >= 8
    for link in sorted(links):
        assert pm_client.get(link).status_code == 200, link


# --- the company's log: links it may open, pseudonyms only -------------------------------------------
def test_company_admin_reads_the_newer_events_with_pseudonyms_and_only_links_it_may_open(story, admin_a_client):
    page = admin_a_client.get("/activity/").get_data(as_text=True)
    html, body = results(page), text_of(results(page))
    ref, camp = story["reference"], story["campaign"]
    assert f"Pat Manager proposed Marta Mentor as the volunteer of participant {ref} in Acme Mentoring" in body
    assert f"Pat Manager recorded “Session completed” on {SHOWN_DAY} for participant {ref} in Acme Mentoring" in body
    assert "Ann Admin froze the impact report for Q2 2026 (April–June)" in body
    assert "Pat Manager erased the personal data of Erased volunteer" in body  # its own employee, no name kept
    # a beneficiary's delivery leads to the campaign, never to a page about the person
    assert f'<a href="/campaigns/{camp}">“Session completed”</a>' in html
    assert f"/enrollments/{story['mentee']}" not in page
    assert "/participants/" not in page and "/privacy/" not in page
    # the program team's own events are not the company's
    for theirs in ("valuation set", "webhook", "withdrew consent", "Erased participant", story["olena_ref"]):
        assert theirs not in body, theirs
    for secret in (*SECRETS, "Erik"):
        assert secret not in page, secret
    # every link opens for the company admin (none answers 404 or 403)
    links = {h for h in hrefs(html) if not h.startswith("/activity")}
    assert {f"/campaigns/{camp}", f"/campaigns/{camp}/matches", f"/reports/{story['snapshot']}"} <= links, links
    for link in sorted(links):
        assert admin_a_client.get(link).status_code == 200, link


def test_another_companys_admin_sees_none_of_it(story, admin_b_client):
    body = text_of(results(admin_b_client.get("/activity/").get_data(as_text=True)))
    for word in ("Acme Mentoring", "Marta", "impact report", "Erased", *SECRETS):
        assert word not in body, word


# --- no event type falls back to the generic sentence ---------------------------------------------------
def _expand(pattern: str) -> set[str]:
    """The event types a pattern of EVENT_TYPE_PATTERNS spells out (alternations of
    literals); a wildcard ([a-z_]+) spells out none (the source scan finds those)."""
    depth, parts, start = 0, [], 0
    for i, ch in enumerate(pattern):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    if len(parts) > 1:
        return set().union(*(_expand(p) for p in parts))
    if "[" in pattern:
        return set()
    opening = pattern.find("(")
    if opening < 0:
        return {pattern.replace("\\.", ".")}
    depth = 0
    for closing in range(opening, len(pattern)):
        depth += pattern[closing] == "("
        depth -= pattern[closing] == ")"
        if depth == 0:
            break
    inner = _expand(pattern[opening + 1:closing])
    return set().union(*(_expand(pattern[:opening] + option + pattern[closing + 1:]) for option in inner))


def _written_in_the_source() -> set[str]:
    """The literal event types the operations pass to record_event (or their own _event)."""
    found: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args and getattr(node.func, "id", "") in ("record_event",
                                                                                                   "_event")):
                continue
            first = node.args[0]
            for value in (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,):
                if isinstance(value, ast.Constant) and isinstance(value.value, str) and "." in value.value:
                    found.add(value.value)
    return found


def every_event_type() -> set[str]:
    types = set().union(*(_expand(p.pattern) for p in EVENT_TYPE_PATTERNS)) | _written_in_the_source()
    assert "program.delivery.voided" in types and "user.signed_in" in types and "webhook.endpoint.deleted" in types
    return types


def test_the_scan_finds_every_type_and_each_is_known_and_named():
    types = every_event_type()
    assert len(types) >= 60
    unknown = sorted(t for t in types if not is_known_event_type(t))
    assert not unknown, unknown
    unnamed = sorted(t for t in types if t not in sentences.KIND_LABELS)
    assert not unnamed, f"give these event types a name in portal.activity.sentences.KIND_LABELS: {unnamed}"


# The data an event carries where its sentence depends on it (as the operations write it).
SAMPLE_DATA = {
    "program.updated": {"valuation_set": {"from": None, "to": "SROI v1"}},
    "beneficiary_group.status_changed": {"status": {"from": "active", "to": "inactive"}},
    "program.template.deprecated": {"deprecated_by_version": 2},
    "impact.report.created": {"period": "2026-Q2"},
    "impact.report.shared": {"link": 1, "expires_at": "2026-12-01T10:00+00:00"},
    "impact.valuation_set.updated": {"changes": {"name": {"from": "A", "to": "B"}}},
    "user.token_created": {"name": "Connector"},
    "user.token_revoked": {"name": "Connector"},
    "user.language_chosen": {"language": "nb"},
    "webhook.endpoint.updated": {"changed": ["url"]},
}


def test_no_event_type_falls_back_to_the_generic_sentence(app, story, tenants, monkeypatch):
    """Fails when an event type (a new one included) has no sentence of its own."""
    def generic(self, target=None):
        raise AssertionError(f"{self.e.type} has no sentence of its own: add one in portal.activity.sentences")

    monkeypatch.setattr(sentences._Say, "generic", generic)
    subjects = {  # event type prefix → (subject table, id of a real object)
        "program.template": ("program_templates", 1), "program.campaign": ("campaigns", story["campaign"]),
        "program.enrollment": ("enrollments", story["mentee"]), "program.match": ("matches", story["match"]),
        "program.delivery": ("deliveries", story["delivery"]),
        "impact.valuation_set": ("valuation_sets", story["valuation"]),
        "impact.report": ("report_snapshots", story["snapshot"]), "program": ("programs", story["program"]),
        "participant": ("participants", story["olena"]), "beneficiary_group": ("beneficiary_groups", 1),
        "l2i.subscription": ("l2i_subscriptions", 1), "l2i.allocation": ("l2i_allocations", 1),
        "user": ("users", tenants["pm"].id), "company": ("companies", tenants["company_a"].id),
        "webhook.endpoint": ("webhook_endpoints", story["endpoint"]),
    }
    match_data = {"campaign_id": story["campaign"], "volunteer_enrollment_id": story["mentor"],
                  "beneficiary_enrollment_id": story["mentee"]}
    delivery_data = {"enrollment_id": story["mentee"], "campaign_id": story["campaign"], "kind": "session_completed",
                     "occurred_on": DAY.isoformat(), "quantity": "1"}
    with app.test_request_context():
        for viewer_id in (tenants["pm"].id, tenants["admin_a"].id):
            viewer = db.session.get(User, viewer_id)
            events = []
            for event_type in sorted(every_event_type()):
                prefix = max((p for p in subjects if event_type.startswith(p + ".")), key=len)
                table, subject_id = subjects[prefix]
                data = dict(SAMPLE_DATA.get(event_type, {}))
                data.update(match_data if prefix == "program.match" else delivery_data
                            if prefix == "program.delivery" else {})
                events.append(ActivityEvent(type=event_type, actor_id=tenants["pm"].id, subject_type=table,
                                            subject_id=subject_id, subject_label="Label", data=data))
            described = sentences.describe_events(events, viewer)
            assert all(s.text and s.kind for s in described)
            assert not [s.kind for s in described if ":" in s.kind]  # every kind has its own name
        db.session.rollback()


def test_the_real_logs_use_no_generic_sentence(story, pm_client, admin_a_client, monkeypatch):
    def generic(self, target=None):
        raise AssertionError(f"{self.e.type} fell back to the generic sentence")

    monkeypatch.setattr(sentences._Say, "generic", generic)
    for client in (pm_client, admin_a_client):
        assert client.get("/activity/").status_code == 200


def test_the_story_wrote_every_newer_kind_of_event(app, story):
    with app.app_context():
        written = set(db.session.scalars(sa.select(ActivityEvent.type).distinct()))
    assert {"program.match.proposed", "program.match.confirmed", "program.match.ended", "program.delivery.recorded",
            "program.delivery.corrected", "program.delivery.voided", "impact.valuation_set.created",
            "impact.valuation_set.updated", "impact.valuation_set.activated", "impact.valuation_set.retired",
            "impact.valuation_set.deleted", "impact.report.created", "impact.report.shared",
            "impact.report.unshared", "impact.report.viewed", "webhook.endpoint.created", "webhook.endpoint.updated",
            "webhook.endpoint.disabled", "webhook.endpoint.secret_rotated", "webhook.endpoint.deleted", "user.token_created",
            "user.token_revoked", "program.enrollment.consent_withdrawn", "participant.erased"} <= written
