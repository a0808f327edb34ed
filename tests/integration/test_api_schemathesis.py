"""Schemathesis against the JSON API (SPEC §4.2, issue #17 "Bad input"): the committed
OpenAPI document (docs/openapi.json) drives property-based requests to every GET operation,
in-process through WSGI (no network), with a program manager's and a company admin's token.

For every generated request: no 5xx, the status code, content type, headers and body conform
to the document; and nothing company A's admin receives carries company B's data — neither
a marker seeded only into B's campaign, people and keys, nor an object whose ``company_id`` is
B's. Path parameters are drawn both by Schemathesis and from the ids of real objects of both
companies, so B's ids are certainly tried with A's token. Examples are bounded (derandomized)
so the whole run stays well under a minute.
"""
from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks as st_checks

from portal.activity.operations import record_event
from portal.campaigns.models import Campaign
from portal.db import db, transaction, utcnow
from portal.enrollments.models import Enrollment
from tests.integration.api_support import new_token

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 12
B_MARKERS = ("Borealis Secret Campaign", "borealis-secret-campaign", "Bjorn Secretson", "bjorn.secretson@borealis.example",
             "Hidden Beneficiary QX")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
          "response_schema_conformance")


def _schema(app):
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
    schema.app = app  # requests go through the WSGI app, as from_wsgi sets it
    return schema


def _get_operations(schema) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.method.upper() == "GET"]


@pytest.fixture
def world(app, make, tenants):
    """One campaign with a volunteer and a beneficiary for each company; B's carry markers."""
    template = make.template("language", status="active")
    program = make.program(template=template)
    ids: dict[str, dict[str, int]] = {}
    for side, company, name, person, beneficiary in (
            ("a", tenants["company_a"], "Acme Open Campaign", "Anna Acmeson", "Visible Beneficiary"),
            ("b", tenants["company_b"], "Borealis Secret Campaign", "Bjorn Secretson", "Hidden Beneficiary QX")):
        campaign = make.campaign(company, program, name=name, key=name.lower().replace(" ", "-"), max_enrollment=5)
        volunteer = make.participant(display_name=person, company_id=company.id,
                                     email=f"{person.lower().replace(' ', '.')}@{company.name.split()[0].lower()}.example")
        enrolled = make.enrollment(campaign, volunteer, role="volunteer")
        make.enrollment(campaign, make.participant(display_name=beneficiary))
        ids[side] = {"campaign_id": campaign.id, "enrollment_id": enrolled.id, "program_id": program.id,
                     "template_id": template.id, "company_id": company.id}
    with app.app_context():  # an event of each campaign, old enough for the events feed
        with transaction():
            for side in ("a", "b"):
                campaign = db.session.get(Campaign, ids[side]["campaign_id"])
                event = record_event("program.campaign.created", actor=None, subject=campaign,
                                     company_id=campaign.company_id, data={"program": "language"})
                db.session.flush()
                event.created_at = utcnow() - timedelta(hours=1)
        assert db.session.get(Enrollment, ids["b"]["enrollment_id"]) is not None
    return ids


def _leaks(body: Any, text: str, company_b: int) -> list[str]:
    found = [marker for marker in B_MARKERS if marker.lower() in text.lower()]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("company_id") == company_b:
                found.append(f"an object of company B: {json.dumps(node)[:200]}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return found


def _path_choices(operation, world) -> list[dict[str, int]]:
    """Every combination of real ids (A's and B's) for the operation's path parameters."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return []
    pools = [sorted({world[side].get(name, 0) for side in ("a", "b")} - {0}) or [1] for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*pools)]


def _explore(operation, strategy, headers: dict[str, str], checks: list, *, company_b: int | None,
             problems: list[str], seen: dict[str, set[int]]) -> None:
    """Run ``strategy``'s cases against the app: every failed check or leak goes to ``problems``."""

    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers)
        seen.setdefault(operation.label, set()).add(response.status_code)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except Exception as exc:  # a failed check: collect them all, report together
            problems.append(f"{operation.label} {case.formatted_path} {case.query}: {exc}"[:1500])
            return
        if company_b is not None:
            try:
                body = response.json()
            except ValueError:
                body = None
            for leak in _leaks(body, response.text, company_b):
                problems.append(f"{operation.label} {case.formatted_path} {case.query} leaked {leak}")

    run()


@pytest.mark.parametrize("role", ["pm", "admin_a"])
def test_every_get_operation_conforms_and_never_leaks_another_companys_data(app, tenants, world, role):
    schema = _schema(app)
    operations = _get_operations(schema)
    assert len(operations) >= 8, "the committed document lists the API's GET operations"
    token = new_token(app, tenants[role], ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    checks = [getattr(st_checks, name) for name in CHECKS]
    problems: list[str] = []
    seen_statuses: dict[str, set[int]] = {}

    for operation in operations:
        choices = _path_choices(operation, world)
        strategy = operation.as_strategy()
        if choices:
            strategy = st.one_of(strategy, st.sampled_from(choices).flatmap(
                lambda pp, op=operation: op.as_strategy(path_parameters=pp)))

        _explore(operation, strategy, headers, checks, company_b=world["b"]["company_id"] if role == "admin_a" else None,
                 problems=problems, seen=seen_statuses)
    assert not problems, "\n".join(dict.fromkeys(problems))
    assert all(statuses for statuses in seen_statuses.values())
    assert any(200 in statuses for statuses in seen_statuses.values())


def test_company_bs_ids_answer_404_to_company_as_token(app, tenants, world):
    """The explicit form of the leak check above: each of B's objects, fetched by A's admin."""
    from tests.integration.api_support import Bearer

    client = Bearer(app, new_token(app, tenants["admin_a"], ["read"]))
    b = world["b"]
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}").status_code == 404
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}/enrollments").status_code == 404
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}/enrollments/{b['enrollment_id']}").status_code == 404
    assert client.get(f"/api/v1/campaigns/{world['a']['campaign_id']}").status_code == 200
