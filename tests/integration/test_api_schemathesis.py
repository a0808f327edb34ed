"""Schemathesis against the JSON API (SPEC §4.2, issue #17 "Bad input"): the committed
OpenAPI document (docs/openapi.json) drives property-based requests to every operation —
reads and writes — in-process through WSGI (no network), with a program manager's and a
company admin's token carrying every scope.

For every request: no 5xx, and the status code, content type, headers and body conform to
the document; nothing company A's admin receives carries company B's data (neither a marker
seeded only into B's campaign, people and keys, nor an object whose ``company_id`` is B's);
and after the run B's campaign, enrollments, matches and deliveries are exactly as before.

Requests are of three kinds, mixed: bodies, parameters and headers Schemathesis generates
from the document's schemas, valid ones and invalid ones (each must be a documented 4xx), and
realistic ones built from the real ids of both companies' objects
(so writes that pass validation reach the rules, and A's admin certainly writes to B's
objects: those must be 404s). Each POST gets a fresh Idempotency-Key (a replay would hide
what the second request does); updates and transitions get If-Match with the resource's
current ETag, fetched first, or none (428), or a stale one (412). Examples are bounded and
derandomized so the file stays well under a minute.
"""
from __future__ import annotations

import itertools
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from schemathesis.core.failures import FailureGroup

from portal.activity.operations import record_event
from portal.auth.models import User
from portal.campaigns.models import Campaign
from portal.db import db, transaction, utcnow
from portal.deliveries.models import Delivery
from portal.deliveries.operations import record_delivery
from portal.enrollments.models import Enrollment
from portal.matches.models import Match
from portal.matches.operations import propose_match
from tests.integration.api_support import ALL_SCOPES, new_token

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES_PER_OPERATION = 12
WRITE_EXAMPLES_PER_OPERATION = 25
B_MARKERS = ("Borealis Secret Campaign", "borealis-secret-campaign", "Bjorn Secretson", "bjorn.secretson@borealis.example",
             "Hidden Beneficiary QX", "b-secret-source", "Secret note of B")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
          "response_schema_conformance")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# The last path segment of a transition; its resource (for the ETag) is the path without it.
TRANSITIONS = ("complete", "drop", "confirm", "end", "void", "start", "pause", "archive")
# A campaign's lifecycle moves: run after every other write (a paused or archived campaign takes none).
CAMPAIGN_MOVES = re.compile(r"^/api/v1/campaigns/\{campaign_id\}/(start|pause|complete|archive)$")
TODAY = utcnow().date().isoformat()


def _campaign_move_order(operation) -> int:
    """0 for every other write; then pause, start (resume), complete, archive — each finds a state it can move."""
    found = CAMPAIGN_MOVES.match(operation.path)
    return ("pause", "start", "complete", "archive").index(found[1]) + 1 if found else 0


def _schema(app):
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text()))
    schema.app = app  # requests go through the WSGI app, as from_wsgi sets it
    return schema


def _operations(schema, methods: tuple[str, ...]) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if op.method.upper() in methods]


@pytest.fixture
def world(app, make, tenants):
    """A mentorship campaign for each company with an employee volunteering, two
    beneficiaries, a proposed match, and a delivery on the volunteer's and on a beneficiary's
    enrollment; B's carry markers. ``paths``: consistent sets of path parameters."""
    template = make.template("mentorship", status="active")
    program = make.program(template=template)
    started = utcnow() - timedelta(days=10)
    ids: dict[str, dict[str, Any]] = {}
    for side, company, name, person, beneficiary in (
            ("a", tenants["company_a"], "Acme Open Campaign", "Anna Acmeson", "Visible Beneficiary"),
            ("b", tenants["company_b"], "Borealis Secret Campaign", "Bjorn Secretson", "Hidden Beneficiary QX")):
        campaign = make.campaign(company, program, name=name, key=name.lower().replace(" ", "-"), max_enrollment=5)
        volunteer = make.participant(display_name=person, company_id=company.id,
                                     email=f"{person.lower().replace(' ', '.')}@{company.name.split()[0].lower()}.example")
        enrolled = make.enrollment(campaign, volunteer, role="volunteer", enrolled_at=started)
        helped = make.enrollment(campaign, make.participant(display_name=beneficiary), enrolled_at=started)
        other = make.enrollment(campaign, make.participant(display_name=f"{beneficiary} Two"), enrolled_at=started)
        ids[side] = {"campaign_id": campaign.id, "enrollment_id": enrolled.id, "beneficiary_id": helped.id,
                     "other_beneficiary_id": other.id, "program_id": program.id, "template_id": template.id,
                     "company_id": company.id, "volunteer_participant_id": volunteer.id,
                     "beneficiary_participant_id": helped.participant_id}
    with app.app_context():
        with transaction():
            pm = db.session.get(User, tenants["pm"].id)
            for side in ("a", "b"):
                here = ids[side]
                campaign = db.session.get(Campaign, here["campaign_id"])
                event = record_event("program.campaign.created", actor=None, subject=campaign,
                                     company_id=campaign.company_id, data={"program": "mentorship"})
                db.session.flush()
                event.created_at = utcnow() - timedelta(hours=1)  # old enough for the events feed
                match = propose_match(pm, campaign, db.session.get(Enrollment, here["enrollment_id"]),
                                      db.session.get(Enrollment, here["beneficiary_id"]))
                secret = "Secret note of B" if side == "b" else "Note of A"
                deliveries = [record_delivery(pm, db.session.get(Enrollment, here[key]), kind="session_completed",
                                              occurred_on=utcnow().date(), attendance="present", source="api",
                                              source_id=f"{side}-secret-source-{key}", note=secret)
                              for key in ("enrollment_id", "beneficiary_id")]
                db.session.flush()
                here.update(match_id=match.id, delivery_id=deliveries[0].id, beneficiary_delivery_id=deliveries[1].id)
    for here in ids.values():  # path parameters that belong together (a delivery of its enrollment)
        common = {k: here[k] for k in ("campaign_id", "program_id", "template_id", "match_id")}
        here["paths"] = [{**common, "enrollment_id": here["enrollment_id"], "delivery_id": here["delivery_id"]},
                         {**common, "enrollment_id": here["beneficiary_id"],
                          "delivery_id": here["beneficiary_delivery_id"]},
                         {**common, "enrollment_id": here["other_beneficiary_id"], "drop": True}]
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
    """Every combination of real ids (A's and B's, mixed) for the operation's path parameters."""
    names = [p.name for p in operation.path_parameters]
    if not names:
        return []
    sets = [paths for side in ("a", "b") for paths in _consistent_paths(operation, world, side)]
    pools = [sorted({paths[name] for paths in sets}) or [1] for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*pools)]


def _consistent_paths(operation, world, side: str) -> list[dict[str, int]]:
    """The path parameters of ``side``'s own objects that belong together (no mixing)."""
    names = [p.name for p in operation.path_parameters]
    # The drop takes its own enrollment, so that complete and drop both find an active one.
    dropping = operation.path.endswith("/drop")
    chosen = [{name: paths[name] for name in names} for paths in world[side]["paths"]
              if all(name in paths for name in names) and paths.get("drop", False) == dropping]
    return list({json.dumps(c, sort_keys=True): c for c in chosen}.values())


def _b_ids(world) -> set[tuple[str, int]]:
    """(path parameter, id) of B's objects; the programs and templates are shared."""
    return {(name, paths[name]) for paths in world["b"]["paths"] for name in paths
            if name not in ("program_id", "template_id", "drop")}


# --- realistic bodies, from the world's real ids ----------------------------------------------
def _realistic_bodies(operation, world) -> st.SearchStrategy | None:
    """Valid-looking bodies for the write operations, mixing both companies' ids."""
    both = [world[s] for s in ("a", "b")]
    volunteers = st.sampled_from([w["enrollment_id"] for w in both])
    beneficiaries = st.sampled_from([w[k] for w in both for k in ("beneficiary_id", "other_beneficiary_id")])
    any_enrollment = st.one_of(volunteers, beneficiaries)
    matches = st.sampled_from([w["match_id"] for w in both])
    participants = st.sampled_from([w[k] for w in both for k in ("volunteer_participant_id",
                                                                 "beneficiary_participant_id")])
    source_id = st.uuids().map(str)
    delivery = st.fixed_dictionaries(
        {"kind": st.sampled_from(["session_completed", "session_completed", "no_such_kind"]),
         "occurred_on": st.just(TODAY)},
        optional={"attendance": st.sampled_from(["present", "excused", "unexcused"]),
                  "duration_minutes": st.integers(0, 120), "source_id": source_id,
                  "match_id": matches, "metadata": st.just({"rating": 5})})
    reason = st.fixed_dictionaries({}, optional={"reason": st.sampled_from(["Moved away", "Entered twice"])})
    path, method = operation.path, operation.method.upper()
    if method == "POST" and path.endswith("/enrollments"):
        return st.one_of(
            st.fixed_dictionaries({"participant_id": participants,
                                   "role": st.sampled_from(["volunteer", "beneficiary"])}),
            st.fixed_dictionaries({"participant": st.fixed_dictionaries(
                {"display_name": st.just("Nora Newcomer")},
                optional={"email": st.sampled_from(["nora@acme.example", "nora@borealis.example"]),
                          "languages": st.just(["uk", "nb"])}),
                "role": st.sampled_from(["volunteer", "beneficiary"])}))
    if method == "POST" and path.endswith("/matches"):
        return st.fixed_dictionaries({"volunteer_enrollment_id": st.one_of(volunteers, beneficiaries),
                                      "beneficiary_enrollment_id": st.one_of(beneficiaries, volunteers)})
    if method == "POST" and path.endswith("/deliveries"):
        return delivery
    if method == "POST" and path.endswith("/deliveries/batch"):
        item = delivery.flatmap(lambda d: any_enrollment.map(lambda e: {**d, "enrollment_id": e}))
        return st.fixed_dictionaries({"items": st.lists(item, min_size=1, max_size=3)},
                                     optional={"dry_run": st.booleans()})
    if method == "POST" and path == "/api/v1/campaigns":
        return st.fixed_dictionaries(
            {"program_id": st.just(world["a"]["program_id"]), "name": st.sampled_from(["Spring run", "Autumn run"]),
             "start_date": st.just(TODAY), "company_id": st.sampled_from([w["company_id"] for w in both])},
            optional={"max_enrollment": st.integers(0, 20), "seat_price": st.integers(0, 10**6),
                      "budget_allocated": st.integers(0, 10**8), "currency": st.sampled_from(["EUR", "NOK", "XQQ"]),
                      "config_overrides": st.sampled_from([{"matching": {"maxMenteesPerMentor": 2}},
                                                           {"impact": {"sroiWeights": {"session_completed": 1}}}])})
    if method == "PATCH" and path == "/api/v1/campaigns/{campaign_id}":
        return st.fixed_dictionaries({}, optional={
            "name": st.sampled_from(["Renamed run", " "]), "max_enrollment": st.integers(0, 20),
            "budget_allocated": st.one_of(st.none(), st.integers(0, 10**8)), "end_date": st.just(TODAY),
            "config_overrides": st.sampled_from([{}, {"impact": {"sroiWeights": {"session_completed": 1}}}])})
    if method == "PATCH":
        return st.fixed_dictionaries({}, optional={"duration_minutes": st.integers(0, 120),
                                                   "attendance": st.sampled_from(["present", "excused"]),
                                                   "occurred_on": st.just(TODAY), "metadata": st.just({"rating": 4})})
    if path.rsplit("/", 1)[-1] in ("drop", "end", "void"):
        return reason
    return None  # complete, confirm: no body


# --- running cases --------------------------------------------------------------------------
class Run:
    """One role's run: the token, what was seen, and every problem found."""

    def __init__(self, app, world, token: str, *, company_admin_a: bool):
        self.app, self.world, self.token = app, world, token
        self.client = app.test_client()
        self.company_b = world["b"]["company_id"] if company_admin_a else None
        self.b_ids = _b_ids(world)
        self.checks = [getattr(st_checks, name) for name in CHECKS]
        self.problems: list[str] = []
        self.seen: dict[str, dict[int, int]] = {}
        self.writes_to_b: dict[str, int] = {}

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _etag(self, case) -> str | None:
        """The current ETag of the resource an update or transition names (None: not readable)."""
        path = case.formatted_path
        if path.rsplit("/", 1)[-1] in TRANSITIONS:
            path = path.rsplit("/", 1)[0]
        response = self.client.get(path, headers=self.auth)
        return response.headers.get("ETag") if response.status_code == 200 else None

    def _headers(self, operation, case, if_match: str) -> dict[str, str]:
        headers = dict(self.auth)
        if operation.method.upper() == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())  # fresh: no replay hides a second run
        if _takes_if_match(operation):
            current = self._etag(case)
            if if_match == "missing":
                case.headers.pop("If-Match", None)  # nor the generated one: 428 must be a documented answer
            elif if_match == "stale" or current is None:
                version = int(current.strip('"')) if current else 1
                headers["If-Match"] = f'"{version - 1 if version > 1 else version + 1}"'
            else:
                headers["If-Match"] = current
        return headers

    def run_case(self, operation, case, if_match: str = "current", *, expect_404: bool = False) -> None:
        headers = self._headers(operation, case, if_match)
        response = case.call(headers=headers)
        label = operation.label
        counts = self.seen.setdefault(label, {})
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
        where = f"{label} {case.formatted_path} {case.query} {str(case.body)[:300]} If-Match={if_match}"
        try:
            case.validate_response(response, checks=self.checks, headers=headers)
        except (FailureGroup, AssertionError) as exc:  # failed checks: collect them all, report together
            self.problems.append(f"{where}: {exc}"[:1500])
            return
        if expect_404 and response.status_code != 404:
            self.problems.append(f"{where}: company A's admin wrote to B's object and got "
                                 f"{response.status_code}, not 404: {response.text[:300]}")
        elif self.company_b is not None and response.status_code < 300 and self.touches_b(case.path_parameters or {}):
            self.problems.append(f"{where}: company A's admin got {response.status_code} for B's object")
        if self.company_b is not None:
            try:
                body = response.json()
            except ValueError:
                body = None
            for leak in _leaks(body, response.text, self.company_b):
                self.problems.append(f"{where} leaked {leak}")

    def touches_b(self, path_parameters: dict[str, Any]) -> bool:
        return any((name, value) in self.b_ids for name, value in path_parameters.items())

    def explore(self, operation, strategy, examples: int) -> None:
        """Run ``examples`` of ``strategy`` (cases, each with an If-Match mode)."""

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(drawn=strategy)
        def run(drawn):
            case, if_match = drawn
            self.run_case(operation, case, if_match)

        run()


def _takes_if_match(operation) -> bool:
    return any(p.name == "If-Match" for p in operation.headers)


def _if_match_modes() -> st.SearchStrategy[str]:
    return st.sampled_from(["current", "current", "current", "missing", "stale"])


def _strategy(operation, world) -> st.SearchStrategy:
    """Generated cases, and cases with real path ids and (for writes) realistic bodies."""
    # Valid by the document, and invalid (each must be a documented 4xx, never a 500).
    strategies = [operation.as_strategy(), operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)]
    choices = _path_choices(operation, world)
    bodies = _realistic_bodies(operation, world) if operation.method.upper() in WRITE_METHODS else None
    paths = st.sampled_from(choices) if choices else st.just({})
    if bodies is not None:
        strategies.append(st.tuples(paths, bodies).flatmap(
            lambda pb, op=operation: op.as_strategy(path_parameters=pb[0] or None, body=pb[1],
                                                    media_type="application/json")))
    elif choices:
        strategies.append(paths.flatmap(lambda pp, op=operation: op.as_strategy(path_parameters=pp)))
    return st.tuples(st.one_of(*strategies), _if_match_modes())


def _realistic_case(operation, world, path_parameters: dict[str, Any]):
    """One deterministic realistic case (the first body the realistic strategy would give)."""
    bodies = _realistic_bodies(operation, world)
    kwargs: dict[str, Any] = {"path_parameters": path_parameters}
    if bodies is not None:
        kwargs.update(body=_first_example(bodies), media_type="application/json")
    return operation.Case(**kwargs)


def _first_example(strategy: st.SearchStrategy) -> Any:
    found: list[Any] = []

    @settings(max_examples=1, derandomize=True, database=None, deadline=None, phases=["generate"],
              suppress_health_check=list(HealthCheck))
    @given(value=strategy)
    def take(value):
        if not found:
            found.append(value)

    take()
    return found[0]


def _snapshot_of_b(app, world) -> dict[str, list[dict[str, Any]]]:
    """Every column of B's campaign, enrollments, matches and deliveries."""
    campaign_id = world["b"]["campaign_id"]
    enrollment_ids = sa.select(Enrollment.id).where(Enrollment.campaign_id == campaign_id)
    queries = {
        # B's campaigns: its own, and any other (a campaign A's admin managed to create for B).
    "campaign": sa.select(Campaign.__table__).where(Campaign.company_id == world["b"]["company_id"]),
        "enrollments": sa.select(Enrollment.__table__).where(Enrollment.campaign_id == campaign_id),
        "matches": sa.select(Match.__table__).where(Match.campaign_id == campaign_id),
        "deliveries": sa.select(Delivery.__table__).where(Delivery.enrollment_id.in_(enrollment_ids)),
    }
    with app.app_context():
        snapshot = {name: [dict(row._mapping) for row in db.session.execute(q.order_by(sa.text("id")))]
                    for name, q in queries.items()}
        db.session.remove()
    return snapshot


def _summary(role: str, run: Run) -> str:
    lines = [f"{role}: {len(run.seen)} operations, {sum(sum(c.values()) for c in run.seen.values())} requests"]
    lines += [f"  {label}: {dict(sorted(counts.items()))}" for label, counts in sorted(run.seen.items())]
    return "\n".join(lines)


@pytest.fixture
def unlimited(app):
    # Hundreds of requests per token in a few seconds: the per-token limit (tested on its own in
    # test_api.py) would turn the end of the run into 429s and test nothing else.
    app.config["PORTAL_API_RATE_LIMIT"] = "1000000 per minute"
    return app


@pytest.mark.parametrize("role", ["pm", "admin_a"])
def test_every_get_operation_conforms_and_never_leaks_another_companys_data(app, unlimited, tenants, world, role,
                                                                           record_property):
    schema = _schema(app)
    operations = _operations(schema, ("GET",))
    assert len(operations) >= 8, "the committed document lists the API's GET operations"
    run = Run(app, world, new_token(app, tenants[role], ["read"]), company_admin_a=role == "admin_a")
    for operation in operations:
        run.explore(operation, _strategy(operation, world), EXAMPLES_PER_OPERATION)
    assert not run.problems, "\n".join(dict.fromkeys(run.problems))
    assert all(run.seen.get(op.label) for op in operations)
    assert any(200 in statuses for statuses in run.seen.values())
    record_property("schemathesis", _summary(role, run))


@pytest.mark.parametrize("role", ["pm", "admin_a"])
def test_every_write_operation_conforms_never_leaks_and_leaves_company_bs_data_alone(app, unlimited, tenants, world,
                                                                                    role, record_property):
    schema = _schema(app)
    # Enrollments' moves last: a completed or dropped enrollment takes no match or delivery.
    operations = sorted(_operations(schema, WRITE_METHODS),
                        key=lambda op: (_campaign_move_order(op), op.path.endswith(("/complete", "/drop"))))
    assert len(operations) >= 8, "the committed document lists the API's write operations"
    admin_a = role == "admin_a"
    run = Run(app, world, new_token(app, tenants[role], ALL_SCOPES), company_admin_a=admin_a)
    before = _snapshot_of_b(app, world)

    for operation in operations:
        # Deterministic first: each side's own ids with a realistic body, without If-Match,
        # with a stale one, then the current one — so 428 and 412 certainly happen, and A's
        # admin certainly writes to each of B's objects (a 404 that changes nothing).
        modes = ("missing", "stale", "current") if _takes_if_match(operation) else ("current",)
        for side, mode in itertools.product(("a", "b"), modes):
            for path_parameters in _consistent_paths(operation, world, side) or [{}]:
                expect_404 = admin_a and run.touches_b(path_parameters)
                run.run_case(operation, _realistic_case(operation, world, path_parameters), mode,
                             expect_404=expect_404)
                if expect_404:
                    run.writes_to_b[operation.label] = run.writes_to_b.get(operation.label, 0) + 1
        run.explore(operation, _strategy(operation, world), WRITE_EXAMPLES_PER_OPERATION)

    assert not run.problems, "\n".join(dict.fromkeys(run.problems))
    assert all(run.seen.get(op.label) for op in operations)
    for operation in filter(_takes_if_match, operations):  # both are documented answers, and were given
        assert {412, 428} <= set(run.seen[operation.label]), operation.label
    if admin_a:
        # (creating a campaign names no object in its path: B's company in its body is a 422, and the snapshot
        # shows no campaign of B's was created)
        assert set(run.writes_to_b) == {op.label for op in operations if op.path_parameters}, \
            "every write was tried on B's objects"
        assert _snapshot_of_b(app, world) == before, "company A's admin changed company B's data"
    else:  # the realistic bodies reach the rules: writes succeed, not only refusals
        assert any(s in (200, 201) for c in run.seen.values() for s in c)
    record_property("schemathesis", _summary(role, run))  # status codes per operation, in the JUnit report


def test_company_bs_ids_answer_404_to_company_as_token(app, tenants, world):
    """The explicit form of the leak check above: each of B's objects, fetched by A's admin."""
    from tests.integration.api_support import Bearer

    client = Bearer(app, new_token(app, tenants["admin_a"], ["read"]))
    b = world["b"]
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}").status_code == 404
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}/enrollments").status_code == 404
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}/enrollments/{b['enrollment_id']}").status_code == 404
    assert client.get(f"/api/v1/campaigns/{b['campaign_id']}/matches/{b['match_id']}").status_code == 404
    assert client.get(f"/api/v1/enrollments/{b['enrollment_id']}/deliveries/{b['delivery_id']}").status_code == 404
    assert client.get(f"/api/v1/campaigns/{world['a']['campaign_id']}").status_code == 200


# --- what Schemathesis found, pinned as explicit tests -------------------------------------------
def test_a_write_to_an_id_beyond_the_database_range_is_404_not_405(app, tenants):
    """Found by Schemathesis: ``<int:…>`` stops at 2**31-1, and Werkzeug then reported the
    path's GET rule as a method mismatch, so POST/PATCH to an absurd id answered an
    undocumented 405 where GET answers 404. No such object: 404 for every method."""
    from tests.integration.api_support import Bearer

    client = Bearer(app, new_token(app, tenants["pm"], ALL_SCOPES))
    huge = 2**31
    for response in (client.post(f"/api/v1/campaigns/{huge}/enrollments", json={"participant_id": 1}),
                     client.post(f"/api/v1/enrollments/{huge}/deliveries", json={}),
                     client.client.patch(f"/api/v1/enrollments/1/deliveries/{huge}", json={},
                                         headers={"Authorization": f"Bearer {client.token}", "If-Match": '"1"'}),
                     client.post(f"/api/v1/campaigns/1/matches/{huge}/end", json={})):
        assert response.status_code == 404, (response.request.path, response.get_data(as_text=True))
        assert response.mimetype == "application/problem+json"
    # A method a real path does not take stays 405, naming the ones it does.
    wrong = client.client.delete("/api/v1/campaigns/1", headers={"Authorization": f"Bearer {client.token}"})
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]


def test_a_nul_in_the_query_is_a_documented_400_on_every_operation(app, tenants, world):
    """Found by Schemathesis: every /api/ request with a NUL character in its query is a 400
    (no parameter accepts one; PostgreSQL refuses them), but the document listed 400 only for
    the POSTs, so a list's answer broke its own contract."""
    from tests.integration.api_support import Bearer

    client = Bearer(app, new_token(app, tenants["pm"], ["read"]))
    for url in ("/api/v1/campaigns?status=a%00", "/api/v1/me?x=%00", f"/api/v1/campaigns/{world['a']['campaign_id']}?x=%00"):
        response = client.get(url)
        assert response.status_code == 400 and response.mimetype == "application/problem+json", url
    document = json.loads(DOCUMENT.read_text())
    undocumented = [f"{method.upper()} {path}" for path, ops in document["paths"].items() for method, op in ops.items()
                    if "400" not in op["responses"]]
    assert not undocumented, undocumented


def test_a_resent_source_id_answers_a_documented_200(app, tenants, world):
    """Found by Schemathesis (a source id drawn twice): recording a delivery whose source_id
    was recorded before answers 200 with the delivery already there, as the operation's
    description says — but the document listed only 201, so the answer broke the contract."""
    from tests.integration.api_support import Bearer

    client = Bearer(app, new_token(app, tenants["pm"], ALL_SCOPES))
    url = f"/api/v1/enrollments/{world['a']['enrollment_id']}/deliveries"
    body = {"kind": "session_completed", "occurred_on": TODAY, "source_id": "resent-1"}
    first, again = client.post(url, json=body), client.post(url, json=body)  # two Idempotency-Keys
    assert (first.status_code, again.status_code) == (201, 200) and again.json["id"] == first.json["id"]
    responses = json.loads(DOCUMENT.read_text())["paths"]["/api/v1/enrollments/{enrollment_id}/deliveries"]["post"][
        "responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/DeliveryOut"}
