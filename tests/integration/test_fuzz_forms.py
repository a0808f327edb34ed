"""Quality gate: Hypothesis posts generated values (huge, empty, unicode, HTML/JS
payloads, negative numbers, wrong types) to every form and HTMX endpoint, as a program
manager with a valid CSRF token: never a 500, never an unescaped reflection, and a
refused request changes nothing."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal import create_app
from portal.db import db
from portal.models import ActivityEvent, Campaign, Enrollment, Participant, Program, ProgramTemplate, User
from tests.conftest import sign_in_client
from tests.helpers import csrf_token, route_url

PAYLOAD = "<script>alert(1)</script>"
NASTY = st.one_of(
    st.just(""), st.just(PAYLOAD), st.just('"><img src=x onerror=alert(1)>'), st.just("-1"), st.just("1e309"),
    st.just("99999999999999999999999"), st.just("0.00001"), st.just("NaN"), st.just("{not json"), st.just("[]"),
    st.just("null"), st.just("\x00"), st.just("sNaN"), st.just("-Infinity"), st.just("1e-999999"),
    st.just('{"type": "string", "pattern": "^(a+)+$"}'), st.just('{"$ref": "https://example.org/s.json"}'),
    st.just("[" * 5000), st.just('{"a": NaN}'), st.just('{"\\ud800": 1}'), st.just("a" * 40 + "!"), st.just("MjAyNi0wMS0wMVQwMDowMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5"), st.just("ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ"), st.just("x" * 20_000),
    st.text(max_size=40), st.integers(min_value=-10**12, max_value=10**12).map(str),
)
_APP = create_app("testing")
POST_RULES = sorted({(r.endpoint, r.rule) for r in _APP.url_map.iter_rules()
                     if "POST" in (r.methods or ()) and r.endpoint not in ("auth.sign_in", "auth.sign_out")})
_NAME = re.compile(r'name="([^"]+)"')


def _field_names(client, url: str) -> list[str]:
    page = client.get(url)
    names = set(_NAME.findall(page.get_data(as_text=True))) if page.status_code == 200 else set()
    names -= {"csrf_token"}
    return sorted(names | {"name", "email", "share", "target", "status", "lock_version", "step", "_action"})[:60]


def _counts(app):
    with app.app_context():
        return [db.session.scalar(sa.select(sa.func.count()).select_from(m))
                for m in (ActivityEvent, Campaign, Enrollment, Participant, Program, ProgramTemplate, User)]


@pytest.fixture
def route_objects(route_objects, app):
    """The shared objects plus a proposed match in company A's campaign (match_id) and a delivery
    of the shared enrollment (delivery_id)."""
    from tests.integration.test_route_matrix import proposed_match, recorded_delivery

    return {**route_objects, "match_id": proposed_match(app, route_objects),
            "delivery_id": recorded_delivery(app, route_objects)}


@pytest.mark.parametrize("endpoint,rule", POST_RULES, ids=[e for e, _ in POST_RULES])
def test_fuzzed_posts_never_fail_or_reflect(app, tenants, route_objects, endpoint, rule):
    client = sign_in_client(app, tenants["pm"])
    rule_obj = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule)
    url = route_url(app, rule_obj, route_objects)
    token = csrf_token(client, "/home")
    names = _field_names(client, url.split("/validate")[0].removesuffix("/check").removesuffix("/remaining")
                         .removesuffix("/deliveries"))  # the delivery form lives on the enrollment page

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.fixed_dictionaries({}, optional={n: NASTY for n in names}), st.booleans())
    def post(values, as_htmx):
        before = _counts(app)
        headers = {"HX-Request": "true"} if as_htmx else {}
        response = client.post(url, data={"csrf_token": token, **values}, headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code < 500, f"{response.status_code} for {values!r}"
        assert PAYLOAD not in body, "a payload was reflected unescaped"
        assert "onerror=alert(1)>" not in body, "an attribute payload was reflected unescaped"
        if response.status_code >= 400:
            assert _counts(app) == before, "a refused request changed the database"

    post()


GET_RULES = sorted({(r.endpoint, r.rule) for r in _APP.url_map.iter_rules()
                    if "GET" in (r.methods or ()) and r.endpoint != "static"})
QUERY_NAMES = ["q", "status", "category", "country", "group", "template", "role", "company", "after", "type",
               "subject_type", "subject_id", "since", "until", "actor", "program", "participant", "base", "other",
               "from", "block", "period", "start", "end"]


@pytest.mark.parametrize("endpoint,rule", GET_RULES, ids=[e for e, _ in GET_RULES])
def test_fuzzed_query_strings_never_fail_or_reflect(app, tenants, route_objects, endpoint, rule):
    client = sign_in_client(app, tenants["pm"])
    rule_obj = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule)
    url = route_url(app, rule_obj, route_objects)

    @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.fixed_dictionaries({}, optional={n: NASTY for n in QUERY_NAMES}), st.booleans())
    def get(params, as_htmx):
        before = _counts(app)
        response = client.get(url, query_string=params, headers={"HX-Request": "true"} if as_htmx else {})
        body = response.get_data(as_text=True)
        assert response.status_code < 500, f"{response.status_code} for {params!r}"
        assert PAYLOAD not in body and "onerror=alert(1)>" not in body
        assert _counts(app) == before, "a GET changed the database"

    get()


ATTENDANCE_VALUES = st.one_of(NASTY, st.sampled_from(["present", "excused", "unexcused", "none"]))


def test_fuzzed_attendance_sheets_reach_the_batch_and_never_fail(app, tenants, route_objects, monkeypatch):
    """The sheet's POST with a valid date and kind, so the fuzzed rows (values, injected and
    unknown row keys, durations) get past the sheet's fields into record_batch."""
    import portal.deliveries.attendance as sheet
    from portal.db import utcnow

    reached = []
    real = sheet.record_batch

    def spy(*args, **kwargs):
        reached.append(len(args[2]))
        return real(*args, **kwargs)

    monkeypatch.setattr(sheet, "record_batch", spy)
    client = sign_in_client(app, tenants["pm"])
    url = f"/campaigns/{route_objects['campaign_id']}/attendance"
    token = csrf_token(client, "/home")
    rows = [f"row-e{route_objects['enrollment_id']}", f"row-m{route_objects['match_id']}", "row-e999999", "row-e0",
            "row-x1", "row-e99999999999"]

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.fixed_dictionaries({}, optional={**{name: ATTENDANCE_VALUES for name in rows},
                                               "duration_minutes": st.one_of(NASTY, st.integers(-5, 2000).map(str))}),
           st.booleans())
    def post(values, as_htmx):
        before = _counts(app)
        response = client.post(url, data={"csrf_token": token, "occurred_on": utcnow().date().isoformat(),
                                          "kind": "session_completed", **values},
                               headers={"HX-Request": "true"} if as_htmx else {})
        body = response.get_data(as_text=True)
        assert response.status_code < 500, f"{response.status_code} for {values!r}"
        assert PAYLOAD not in body and "onerror=alert(1)>" not in body
        if response.status_code >= 400:
            assert _counts(app) == before, "a refused sheet changed the database"

    post()
    assert reached, "no fuzzed sheet reached record_batch"
