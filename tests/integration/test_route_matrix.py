"""Quality gate: every URL rule × method × role has an expected outcome.

Adding a route without an entry in POLICY fails this test. Every response, whatever
its status, must carry the security headers of SPEC §5. Policies:
  public      anyone (no sign-in needed)
  signed_in   any signed-in user
  pm          program managers; company admins get 403
  tenant      an object of company A: A and program managers reach it, company B gets 404
  token       a one-time token in the URL (an import): an unknown or foreign token is 404
  owner       a job (or API token) of company A's admin: only that user reaches it; everyone else gets 404
  api         the JSON API: bearer tokens only, so every browser session (and anonymous) gets 401
  pm404       program managers only, and to company admins the page does not exist (404): privacy requests
  link        a signed share link in the URL: anyone may try it, a forged or unknown one is 404
Company B's requests for company A's objects are 404 and change nothing in the database.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.db import db
from portal.deliveries.models import Delivery, EnrollmentProgress
from portal.matches.models import Match, MatchLoad
from portal.models import (
    ActivityEvent,
    BeneficiaryGroup,
    Campaign,
    Company,
    Enrollment,
    L2IAllocation,
    L2ISubscription,
    Participant,
    Program,
    ProgramTemplate,
    ReportShareLink,
    ReportSnapshot,
    User,
)
from tests.conftest import sign_in_client
from tests.helpers import csrf_token, route_url

POLICY: dict[str, str] = {
    "static": "public",
    "auth.sign_in": "public",
    "auth.healthz": "public",
    "auth.choose_language": "public",  # the header's language switch: the sign-in page's too
    "dashboard.root": "public",
    "auth.sign_out": "signed_in",
    "dashboard.home": "signed_in",
    "dashboard.progress": "pm",
    "activity.index": "signed_in",
    "campaigns.index": "signed_in",
    "campaigns.new": "signed_in",
    "l2i.index": "signed_in",
    "admin.index": "pm", "admin.new_company": "pm", "admin.new_user": "pm", "admin.user_detail": "pm",
    "admin.set_enabled": "pm", "admin.reset_password": "pm",
    "program_templates.index": "pm", "program_templates.new": "pm", "program_templates.detail": "pm",
    "program_templates.version_detail": "pm", "program_templates.edit": "pm", "program_templates.save_details": "pm",
    "program_templates.save_schema": "pm", "program_templates.save_defaults": "pm",
    "program_templates.validate_defaults": "pm", "program_templates.publish": "pm",
    "program_templates.deprecate": "pm", "program_templates.archive": "pm", "program_templates.delete": "pm",
    "program_templates.make_new_version": "pm", "program_templates.compare": "pm",
    "programs.index": "pm", "programs.new": "pm", "programs.detail": "pm", "programs.config": "pm",
    "programs.validate_config": "pm", "programs.transition": "pm", "programs.upgrade": "pm",
    "l2i.new": "pm",
    "campaigns.detail": "tenant", "campaigns.transition": "tenant", "campaigns.edit": "tenant",
    "campaigns.config": "tenant", "campaigns.progress": "tenant", "enrollments.enroll": "tenant", "enrollments.enroll_check": "tenant",
    "enrollments.detail": "tenant", "enrollments.change": "tenant", "enrollments.bulk": "tenant",
    "l2i.detail": "tenant", "l2i.remaining": "tenant", "l2i.allocate": "tenant",
    "l2i.edit_allocation": "tenant", "l2i.remove_allocation": "tenant",
    "beneficiaries.index": "pm", "beneficiaries.validate": "pm", "beneficiaries.new": "pm",
    "beneficiaries.edit": "pm", "beneficiaries.detail": "pm", "beneficiaries.set_status": "pm",
    "catalog.index": "signed_in", "catalog.program": "signed_in",
    "imports.upload": "tenant", "imports.confirm": "token", "imports.errors": "token", "imports.export": "tenant",
    "imports.dry_run": "token", "imports.sample": "tenant",
    "participants.index": "pm", "participants.detail": "pm", "participants.edit": "pm",
    "jobs.detail": "owner", "jobs.download": "owner",
    # Matches: company admins read their campaigns' matches; only program managers make them.
    "matches.index": "tenant", "matches.propose": "pm", "matches.confirm": "pm", "matches.end": "pm",
    # Deliveries: company admins reach their campaigns' enrollments; the operation refuses a beneficiary's (422).
    "deliveries.record": "tenant", "deliveries.correct": "tenant", "deliveries.void": "tenant",
    # The attendance sheet: company admins take their own volunteers' rows (record_batch refuses the rest).
    "deliveries.attendance": "tenant", "deliveries.save_attendance": "tenant",
    # The delivery CSV import: as the enrollment import (the upload is the user's own, by token).
    "delivery_imports.upload": "tenant", "delivery_imports.sample": "tenant", "delivery_imports.confirm": "token",
    "delivery_imports.dry_run": "token", "delivery_imports.errors": "token",
    # Impact (SPEC §2.11): valuation sets and pins are the program team's; a campaign's figures are the tenant's.
    "impact.sets": "pm", "impact.new_set": "pm", "impact.set_detail": "pm", "impact.edit_set": "pm",
    "impact.entry": "pm", "impact.remove_entry": "pm", "impact.activate": "pm", "impact.retire": "pm",
    "impact.delete_set": "pm", "impact.new_version": "pm", "impact.compare": "pm", "impact.pin": "pm",
    "impact.campaign": "tenant", "impact.evidence": "tenant",
    # Personal data rights (SPEC §2.12): the program team's alone; a company admin learns nothing, not even the screen.
    "privacy.index": "pm404", "privacy.participant": "pm404", "privacy.access": "pm404", "privacy.erase": "pm404",
    "privacy.withdraw": "pm404", "privacy.record_request": "pm404", "privacy.close_request": "pm404",
    # API tokens: every signed-in user has the screen; a token is its owner's alone.
    "tokens.index": "signed_in", "tokens.create": "signed_in", "tokens.revoke": "owner",
    # The JSON API (tests/integration/test_api.py tests it with tokens): the contract is public.
    "api.openapi_document": "public", "api.reference": "public", "api.me": "api",
    "api.list_templates": "api", "api.get_template": "api", "api.list_programs": "api", "api.get_program": "api",
    "api.list_catalog": "api", "api.list_campaigns": "api", "api.get_campaign": "api",
    "api.list_enrollments": "api", "api.get_enrollment": "api", "api.create_enrollment": "api",
    "api.complete_enrollment": "api", "api.drop_enrollment": "api",
    "api.list_deliveries": "api", "api.get_delivery": "api", "api.create_delivery": "api",
    "api.correct_delivery": "api", "api.void_delivery": "api", "api.record_delivery_batch": "api",
    "api.list_matches": "api", "api.get_match": "api", "api.propose_match": "api", "api.confirm_match": "api",
    "api.end_match": "api", "api.get_campaign_impact": "api", "api.list_events": "api",
    "api.create_campaign": "api", "api.update_campaign": "api", "api.start_campaign": "api", "api.pause_campaign": "api",
    "api.complete_campaign": "api", "api.archive_campaign": "api",
    # Impact reports: a company's own, or any for program managers; share links need no sign-in.
    "reports.campaign_report": "tenant", "reports.company_report": "tenant", "reports.freeze_campaign": "tenant",
    "reports.freeze_company": "tenant", "reports.snapshot": "tenant", "reports.snapshot_pdf": "tenant",
    "reports.share": "tenant", "reports.revoke": "tenant",
    "shared_reports.view": "link", "shared_reports.view_pdf": "link",
    # Webhooks (SPEC §4.2): program managers' screens; company admins are refused (403).
    "webhooks.index": "pm", "webhooks.new": "pm", "webhooks.detail": "pm", "webhooks.edit": "pm",
    "webhooks.set_enabled": "pm", "webhooks.send_test": "pm", "webhooks.rotate_secret": "pm", "webhooks.delete": "pm",
}


@pytest.fixture
def route_objects(route_objects, app, tenants):
    """The shared objects plus one L2I allocation of company A's subscription (allocation_id)
    and an API token of company A's admin (token_id)."""
    with app.app_context():
        sub = db.session.get(L2ISubscription, route_objects["subscription_id"])
        allocation = L2IAllocation(subscription_id=sub.id, campaign_id=route_objects["campaign_id"], share_bp=1000,
                                   amount=100, period_start=sub.period_start, period_end=sub.period_end)
        sub.allocated_bp = 1000
        db.session.add(allocation)
        db.session.commit()
        allocation_id = allocation.id
    from tests.integration.api_support import new_token

    new_token(app, tenants["admin_a"], ["read"])
    with app.app_context():
        from portal.tokens.models import ApiToken

        token_id = db.session.scalar(sa.select(sa.func.max(ApiToken.id)))
    return {**route_objects, "allocation_id": allocation_id, "match_id": proposed_match(app, route_objects),
            "delivery_id": recorded_delivery(app, route_objects), "token_id": token_id,
            "webhook_id": webhook_endpoint(app),
            **shared_report(app, route_objects)}


def webhook_endpoint(app) -> int:
    """A webhook endpoint on a port where nothing listens (its test event fails at once)."""
    from portal.db import transaction
    from portal.webhooks.operations import create_endpoint

    with app.app_context():
        with transaction():
            endpoint, _ = create_endpoint(None, url="http://127.0.0.1:9/matrix",
                                          event_types=["program.enrollment.created"])
        return endpoint.id


def shared_report(app, route_objects) -> dict[str, int]:
    """A frozen report of company A's campaign with one live share link."""
    from portal.reports.operations import create_snapshot, share_snapshot
    from portal.reports.periods import parse_period

    with app.app_context():
        campaign = db.session.get(Campaign, route_objects["campaign_id"])
        snapshot = create_snapshot(None, campaign.company, [campaign], parse_period("2026-Q4"), campaign=campaign)
        db.session.flush()
        link = share_snapshot(None, snapshot)
        db.session.commit()
        return {"snapshot_id": snapshot.id, "link_id": link.id, "company_id": campaign.company_id}


def recorded_delivery(app, route_objects) -> int:
    """A session recorded today for the shared enrollment (company A's beneficiary)."""
    from portal.db import utcnow

    with app.app_context():
        delivery = Delivery(enrollment_id=route_objects["enrollment_id"], kind="session_completed",
                            occurred_on=utcnow().date(), attendance="present")
        db.session.add(delivery)
        db.session.commit()
        return delivery.id


def proposed_match(app, route_objects) -> int:
    """A proposed match in company A's campaign: its beneficiary is the shared enrollment."""
    from portal.db import utcnow

    with app.app_context():
        volunteer = Participant(display_name="Matrix Volunteer")
        db.session.add(volunteer)
        db.session.flush()
        enrollment = Enrollment(campaign_id=route_objects["campaign_id"], participant_id=volunteer.id,
                                role="volunteer", status="active", enrolled_at=utcnow())
        db.session.add(enrollment)
        db.session.flush()
        match = Match(campaign_id=route_objects["campaign_id"], volunteer_enrollment_id=enrollment.id,
                      beneficiary_enrollment_id=route_objects["enrollment_id"], proposed_at=utcnow())
        db.session.add(match)
        db.session.commit()
        return match.id


TABLES = (ActivityEvent, BeneficiaryGroup, Campaign, Company, Enrollment, L2IAllocation, L2ISubscription, Participant,
          Program, ProgramTemplate, User, Match, MatchLoad, Delivery, EnrollmentProgress, ReportSnapshot,
          ReportShareLink)


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in TABLES}


def _cases(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_a_policy(app):
    missing = sorted({rule.endpoint for rule, _ in _cases(app)} - set(POLICY))
    assert not missing, f"add these endpoints to POLICY in {__file__}: {missing}"


def _request(client, method, url, token):
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data={"csrf_token": token})


def _fresh_clients(app, tenants, route_objects):
    """New sessions per route, so one route (sign-out, deactivation) cannot affect the next."""
    from portal.auth.models import User as UserModel

    with app.app_context():  # a sign-out rotates the token: read the current ones
        current = {k: db.session.get(UserModel, tenants[k].id) for k in ("pm", "admin_a", "admin_b")}
        for user in current.values():
            db.session.expunge(user)
    clients = {
        "anonymous": app.test_client(),
        "deactivated": sign_in_client(app, route_objects["deactivated"]),
        "pm": sign_in_client(app, current["pm"]),
        "admin_a": sign_in_client(app, current["admin_a"]),
        "admin_b": sign_in_client(app, current["admin_b"]),
    }
    tokens = {name: csrf_token(c, "/sign-in" if name in ("anonymous", "deactivated") else "/home")
              for name, c in clients.items()}
    return clients, tokens


def test_route_role_matrix(app, tenants, route_objects):
    problems = []
    for rule, method in _cases(app):
        policy = POLICY.get(rule.endpoint)
        url = route_url(app, rule, route_objects)
        clients, tokens = _fresh_clients(app, tenants, route_objects)
        for role, client in clients.items():
            before = _counts(app) if (method == "GET" or role == "admin_b") else None  # noqa: SIM108
            response = _request(client, method, url, tokens[role])
            status = response.status_code
            csp = response.headers.get("Content-Security-Policy", "")
            if ("frame-ancestors 'none'" not in csp or "unsafe-inline" in csp
                    or response.headers.get("X-Content-Type-Options") != "nosniff"
                    or "Referrer-Policy" not in response.headers):
                problems.append(f"{method} {url} as {role}: security headers missing ({status})")
            response.close()
            if status >= 500:
                problems.append(f"{method} {url} as {role}: {status}")
                continue
            signed_out = role in ("anonymous", "deactivated")
            if policy == "link":  # the matrix's token is no signed link: not found, whoever asks
                expected_ok = status == 404
            elif policy == "public":
                expected_ok = status < 400 or (method != "GET" and status in (400, 422))
            elif signed_out:
                expected_ok = status in (302, 401) or (method != "GET" and status == 400)
            elif policy == "pm" and role.startswith("admin"):
                expected_ok = status == 403
            elif policy == "pm404" and role.startswith("admin"):
                expected_ok = status == 404
            elif policy == "tenant" and role == "admin_b":
                expected_ok = status == 404
            elif policy == "api":  # cookies are not accepted: a problem document, never the data
                expected_ok = status == 401 and response.mimetype == "application/problem+json"
            elif policy == "owner":
                expected_ok = status in (200, 303, 404) if role == "admin_a" else status == 404
            elif policy == "token":  # an unknown or foreign one-time token is simply not found
                expected_ok = status in (200, 303, 404, 409, 422)
            else:
                expected_ok = status not in (401, 403, 404, 405)
            if not expected_ok:
                problems.append(f"{method} {url} as {role} ({policy}): {status}")
            if before is not None and (method == "GET" or (policy in ("tenant", "token", "pm404")
                                                            and role == "admin_b")):
                after = _counts(app)
                if method == "GET" and rule.endpoint == "auth.sign_in":
                    continue
                if after != before:
                    problems.append(f"{method} {url} as {role} changed the database: {before} → {after}")
    assert not problems, "\n".join(problems)


def test_every_state_changing_route_refuses_a_request_without_csrf(app, tenants, route_objects):
    client = sign_in_client(app, tenants["pm"])
    problems = []
    for rule, method in _cases(app):
        if method == "GET":
            continue
        before = _counts(app)
        response = client.open(route_url(app, rule, route_objects), method=method, data={})
        # The API takes no cookies (so needs no CSRF token): a session is refused outright.
        if response.status_code != (401 if POLICY.get(rule.endpoint) == "api" else 400):
            problems.append(f"{method} {rule.rule}: {response.status_code}")
        if _counts(app) != before:
            problems.append(f"{method} {rule.rule} changed the database without a CSRF token")
    assert not problems, "\n".join(problems)
