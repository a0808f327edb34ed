"""Valuation sets through the screens (SPEC §2.11): program managers create a draft, value
outcomes, activate it (immutable from then on), start a new version, compare, and pin a
program; bad input is a field error with 422 and nothing saved; company admins get 403."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db
from portal.impact.models import ValuationEntry, ValuationSet
from portal.programs.models import Program
from tests.helpers import csrf_token

GOOD_ENTRY = {"outcome": "delivery:session_completed", "proxy": "250.00", "source_text": "Demo: an hour of tutoring",
              "source_url": "https://example.org/tutoring", "deadweight": "20", "displacement": "0",
              "attribution": "25", "drop_off": "0", "duration_years": "1"}


def _post(client, url, data, page=None):
    token = csrf_token(client, page or url)
    return client.post(url, data={"csrf_token": token, **data})


def _set(app, set_id) -> ValuationSet:
    with app.app_context():
        found = db.session.get(ValuationSet, set_id)
        _ = found.entries
        db.session.expunge_all()
        return found


def _new_draft(pm_client, app, **fields) -> int:
    response = _post(pm_client, "/valuation-sets/new", {"name": "Mentoring outcomes", "currency": "NOK",
                                                         "discount_rate": "3.5", **fields})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_create_value_activate_and_the_active_version_is_immutable(app, pm_client):
    set_id = _new_draft(pm_client, app)
    url = f"/valuation-sets/{set_id}"
    response = _post(pm_client, f"{url}/entries/new", {**GOOD_ENTRY, "lock_version": "1"})
    assert response.status_code == 303
    draft = _set(app, set_id)
    assert (draft.status, draft.currency, str(draft.discount_rate)) == ("draft", "NOK", "3.50")
    [entry] = draft.entries
    assert (entry.proxy_minor, str(entry.deadweight), str(entry.attribution)) == (25_000, "20.00", "25.00")
    page = pm_client.get(url).get_data(as_text=True)
    assert "NOK 250.00" in page and "Demo: an hour of tutoring" in page
    response = _post(pm_client, f"{url}/activate", {"lock_version": str(draft.lock_version), "confirmed": "yes"}, url)
    assert response.status_code == 303
    assert _set(app, set_id).status == "active"
    entries_before = _count(app, ValuationEntry)
    refused = _post(pm_client, f"{url}/entries/new", {**GOOD_ENTRY, "outcome": "delivery:goal_achieved"}, url)
    assert refused.status_code == 422 and _count(app, ValuationEntry) == entries_before
    assert _post(pm_client, f"{url}/edit", {"name": "Renamed", "currency": "NOK", "discount_rate": "4"},
                 url).status_code == 422
    assert _set(app, set_id).name == "Mentoring outcomes"
    with app.app_context():
        types = db.session.scalars(sa.select(ActivityEvent.type).where(ActivityEvent.subject_type == "valuation_sets",
                                                                       ActivityEvent.subject_id == set_id)).all()
    assert set(types) == {"impact.valuation_set.created", "impact.valuation_set.updated",
                          "impact.valuation_set.activated"}


def test_activating_asks_first_and_an_empty_set_is_refused(app, pm_client):
    set_id = _new_draft(pm_client, app)
    url = f"/valuation-sets/{set_id}"
    asked = _post(pm_client, f"{url}/activate", {"lock_version": "1"}, url)
    assert asked.status_code == 200 and "Activate" in asked.get_data(as_text=True)
    assert _set(app, set_id).status == "draft"
    refused = _post(pm_client, f"{url}/activate", {"lock_version": "1", "confirmed": "yes"}, url)
    assert refused.status_code == 422 and _set(app, set_id).status == "draft"


@pytest.mark.parametrize("field,value", [
    ("proxy", "-1"), ("proxy", "10000000.01"), ("proxy", "abc"), ("proxy", "NaN"), ("proxy", "1e9"), ("proxy", ""),
    ("proxy", "1.234"), ("deadweight", "101"), ("attribution", "-0.5"), ("displacement", "100.001"),
    ("drop_off", "200"), ("duration_years", "0"), ("duration_years", "11"), ("duration_years", "2.5"),
    ("outcome", "nonsense"), ("outcome", "delivery:Bad Key"), ("source_text", ""),
    ("source_url", "javascript:alert(1)"),
])
def test_bad_entries_are_field_errors_with_nothing_saved(app, pm_client, field, value):
    set_id = _new_draft(pm_client, app)
    before = _count(app, ValuationEntry)
    response = _post(pm_client, f"/valuation-sets/{set_id}/entries/new", {**GOOD_ENTRY, field: value})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="field__error" id="' + field in page, page[:3000]
    assert _count(app, ValuationEntry) == before


@pytest.mark.parametrize("field,value", [("discount_rate", "20.5"), ("discount_rate", "-1"), ("currency", "XXY"),
                                         ("name", ""), ("discount_rate", "Infinity")])
def test_bad_set_fields_are_field_errors_with_nothing_saved(app, pm_client, field, value):
    before = _count(app, ValuationSet)
    response = _post(pm_client, "/valuation-sets/new", {"name": "Set", "currency": "NOK", "discount_rate": "3.5",
                                                         field: value})
    assert response.status_code == 422 and _count(app, ValuationSet) == before
    assert 'class="field__error" id="' + field in response.get_data(as_text=True)


def test_the_default_rate_is_3_5_and_a_stale_draft_is_refused(app, pm_client):
    set_id = _new_draft(pm_client, app, discount_rate="")
    assert str(_set(app, set_id).discount_rate) == "3.50"
    assert _post(pm_client, f"/valuation-sets/{set_id}/entries/new", {**GOOD_ENTRY, "lock_version": "1"}).status_code \
        == 303
    stale = _post(pm_client, f"/valuation-sets/{set_id}/entries/new",
                  {**GOOD_ENTRY, "outcome": "completion:program_completed", "lock_version": "1"})
    assert stale.status_code == 409 and "Someone else changed" in stale.get_data(as_text=True)


def test_new_version_copies_entries_and_activating_it_retires_the_old_one(app, pm_client, make):
    v1 = make.valuation_set(entries=[{"outcome": "session_completed", "proxy_minor": 10_000}], currency="NOK")
    url = f"/valuation-sets/{v1.id}"
    response = _post(pm_client, f"{url}/new-version", {"lock_version": "1"}, url)
    assert response.status_code == 303
    v2_id = int(response.headers["Location"].split("/")[-1])
    v2 = _set(app, v2_id)
    assert (v2.key, v2.version, v2.status, [e.proxy_minor for e in v2.entries]) == (v1.key, 2, "draft", [10_000])
    [entry] = v2.entries
    assert _post(pm_client, f"/valuation-sets/{v2_id}/entries/{entry.id}",
                 {**GOOD_ENTRY, "proxy": "120", "lock_version": str(v2.lock_version)}).status_code == 303
    v2 = _set(app, v2_id)
    compare = pm_client.get(f"/valuation-sets/{v2_id}/compare").get_data(as_text=True)
    assert "NOK 100.00 → NOK 120.00" in compare
    assert _post(pm_client, f"/valuation-sets/{v2_id}/activate",
                 {"lock_version": str(v2.lock_version), "confirmed": "yes"}, f"/valuation-sets/{v2_id}").status_code == 303
    assert (_set(app, v1.id).status, _set(app, v2_id).status) == ("retired", "active")


def test_pinning_previews_the_figures_then_pins_an_active_version_only(app, pm_client, make, tenants):
    program = make.program(template=make.template("mentorship"))
    make.campaign(tenants["company_a"], program, name="Pinned campaign", currency="NOK", budget_allocated=100_000)
    active = make.valuation_set(entries=[{"outcome": "session_completed", "proxy_minor": 10_000}], currency="NOK")
    draft = make.valuation_set(status="draft", currency="NOK")
    preview = pm_client.get(f"/programs/{program.id}/valuation?valuation_set_id={active.id}&preview=1")
    assert preview.status_code == 200 and "Pinned campaign" in preview.get_data(as_text=True)
    url = f"/programs/{program.id}/valuation"
    refused = _post(pm_client, url, {"valuation_set_id": str(draft.id), "lock_version": "1"})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.get(Program, program.id).valuation_set_id is None
    assert _post(pm_client, url, {"valuation_set_id": str(active.id), "lock_version": "1"}).status_code == 303
    with app.app_context():
        pinned = db.session.get(Program, program.id)
        assert pinned.valuation_set_id == active.id
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.subject_type == "programs",
                                                                  ActivityEvent.subject_id == program.id)).one()
        assert event.type == "program.updated" and event.data["valuation_set"]["to"].endswith("v1")
    assert "Valuation set" in pm_client.get(f"/programs/{program.id}").get_data(as_text=True)


def test_company_admins_cannot_reach_valuation_sets(app, admin_a_client, make):
    vs = make.valuation_set()
    for url in ("/valuation-sets/", f"/valuation-sets/{vs.id}", "/valuation-sets/new"):
        assert admin_a_client.get(url).status_code == 403


def test_the_seed_pins_a_cited_demo_valuation_set_per_master(app, runner):
    from portal.auth.models import User
    from portal.campaigns.models import Campaign
    from portal.seed import PM_EMAIL
    from tests.conftest import sign_in_client

    assert runner.invoke(args=["seed", "--quiet"]).exit_code == 0
    with app.app_context():
        sets = db.session.scalars(sa.select(ValuationSet)).all()
        assert sorted((s.key, s.status, s.currency) for s in sets) == [
            ("buddy-outcomes-demo", "active", "EUR"), ("language-outcomes-demo", "active", "NOK"),
            ("mentoring-outcomes-demo", "active", "EUR")]
        assert all(e.source_text.startswith("Demo value") for s in sets for e in s.entries)
        assert all(str(s.discount_rate) == "3.50" and "Demo values" in s.description for s in sets)
        pinned = dict(db.session.execute(sa.select(Program.name, Program.valuation_set_id)).all())
        assert all(pinned.values()), pinned
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.name.like("Acme – Language%")))
        pm = db.session.scalar(sa.select(User).where(User.email == PM_EMAIL))
        db.session.expunge(pm)
    page = sign_in_client(app, pm).get(f"/campaigns/{campaign_id}/impact").get_data(as_text=True)
    assert "of social value per NOK 1 invested" in page and "Demo value" in page
