"""The legal basis (SPEC §2.12) on the API's enroll and the enrollment CSV import: both take
``legal_basis`` and ``consent_given_on`` through the enroll form's rule (clean_legal_basis):
consent needs its day, never in the future; an unknown basis is refused. The API shows the
basis to the program team and a company admin's own employees, never a company admin's
beneficiaries."""
from __future__ import annotations

import html
from datetime import date, timedelta

import sqlalchemy as sa

from portal.db import db, utcnow
from portal.enrollments.models import Enrollment, Participant
from tests.conftest import count_rows
from tests.integration.test_api import _problem, api, scene  # noqa: F401 (fixtures)
from tests.integration.test_csv_import import camp, confirm, outcome_rows, program, upload  # noqa: F401

TODAY = utcnow().date()


def _stored(app, email: str) -> tuple[str, date | None]:
    with app.app_context():
        return db.session.execute(sa.select(Enrollment.legal_basis, Enrollment.consent_given_on)
                                  .join(Participant, Participant.id == Enrollment.participant_id)
                                  .where(Participant.email == email)).one()._tuple()


# --- the API ---------------------------------------------------------------------------------
def test_the_api_enrolls_under_consent_with_its_day(app, api, scene):  # noqa: F811
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    day = (TODAY - timedelta(days=3)).isoformat()
    made = api["pm"].post(url, json={"participant": {"display_name": "Maria Consent", "email": "maria@example.org",
                                                     "languages": ["uk"]},
                                     "legal_basis": "consent", "consent_given_on": day})
    assert made.status_code == 201, made.get_data(as_text=True)
    assert (made.json["legal_basis"], made.json["consent_given_on"], made.json["consent_withdrawn_at"]) == (
        "consent", day, None)
    assert _stored(app, "maria@example.org") == ("consent", date.fromisoformat(day))
    contract = api["pm"].post(url, json={"participant": {"display_name": "Petro Contract", "email": "p@example.org",
                                                         "languages": ["uk"]},
                                         "legal_basis": "contract", "consent_given_on": day})
    assert contract.status_code == 201 and contract.json["consent_given_on"] is None  # only consent has a day
    plain = api["pm"].post(url, json={"participant": {"display_name": "Ola Plain", "email": "ola@example.org",
                                                     "languages": ["uk"]}})
    assert plain.json["legal_basis"] == "legitimate_interest"


def test_the_api_refuses_consent_without_its_day_a_future_day_and_an_unknown_basis(app, api, scene):  # noqa: F811
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    person = {"display_name": "Nadia Refused", "email": "nadia@example.org", "languages": ["uk"]}
    before = count_rows(app, Enrollment), count_rows(app, Participant)
    for extra, pointer, words in [
        ({"legal_basis": "consent"}, "#/consent_given_on", "day the person gave consent"),
        ({"legal_basis": "consent", "consent_given_on": (TODAY + timedelta(days=1)).isoformat()},
         "#/consent_given_on", "future"),
        ({"legal_basis": "consent", "consent_given_on": "03/04/2026"}, "#/consent_given_on", "YYYY-MM-DD"),
        ({"legal_basis": "vital_interest"}, "#/legal_basis", ""),
    ]:
        body = _problem(api["pm"].post(url, json={"participant": person, **extra}), 422)
        assert [e["pointer"] for e in body["errors"]] == [pointer], body
        assert words in body["errors"][0]["detail"], body
    assert (count_rows(app, Enrollment), count_rows(app, Participant)) == before


def test_a_company_admin_never_sees_a_beneficiary_s_legal_basis(app, api, scene):  # noqa: F811
    with app.app_context():
        for key in ("beneficiary_enrollment", "volunteer_enrollment"):
            e = db.session.get(Enrollment, scene[key].id)
            e.legal_basis, e.consent_given_on = "consent", TODAY
        db.session.commit()
    url = f"/api/v1/campaigns/{scene['campaign_a'].id}/enrollments"
    seen = {e["role"]: e for e in api["admin_a"].get(url).json["items"]}
    assert (seen["beneficiary"]["legal_basis"], seen["beneficiary"]["consent_given_on"]) == (None, None)
    assert seen["volunteer"]["legal_basis"] == "consent"  # their own employee
    one = api["admin_a"].get(f"{url}/{scene['beneficiary_enrollment'].id}").json
    assert one["legal_basis"] is None and one["consent_given_on"] is None and "consent" not in one.values()
    pm = {e["role"]: e for e in api["pm"].get(url).json["items"]}
    assert (pm["beneficiary"]["legal_basis"], pm["beneficiary"]["consent_given_on"]) == ("consent", TODAY.isoformat())


# --- the CSV import --------------------------------------------------------------------------
HEADER = "email,display_name,year_of_birth,languages,legal_basis,consent_given_on"


def test_the_import_records_each_row_s_legal_basis(app, pm_client, camp):  # noqa: F811
    day = (TODAY - timedelta(days=10)).isoformat()
    content = (f"{HEADER}\n"
               f"c1@example.org,Consent One,1990,uk,consent,{day}\n"
               f"c2@example.org,Contract Two,1990,uk,Contract,\n"
               f"c3@example.org,Default Three,1990,uk,,\n")
    dry = upload(pm_client, camp.id, content)
    assert {o for _, o, _ in outcome_rows(dry)} == {"will enroll"}, outcome_rows(dry)
    assert confirm(pm_client, dry).status_code == 200
    assert _stored(app, "c1@example.org") == ("consent", date.fromisoformat(day))
    assert _stored(app, "c2@example.org") == ("contract", None)
    assert _stored(app, "c3@example.org") == ("legitimate_interest", None)


def test_a_bad_legal_basis_is_a_row_error_in_the_dry_run(app, pm_client, camp):  # noqa: F811
    future = (TODAY + timedelta(days=2)).isoformat()
    content = (f"{HEADER}\n"
               "ok@example.org,Fine Row,1990,uk,legitimate_interest,\n"
               "b1@example.org,Unknown Basis,1990,uk,vital_interest,\n"
               "b2@example.org,No Day,1990,uk,consent,\n"
               f"b3@example.org,Future Day,1990,uk,consent,{future}\n"
               "b4@example.org,Bad Day,1990,uk,consent,14.03.2026\n")
    dry = upload(pm_client, camp.id, content)
    rows = {n: (o, html.unescape(r)) for n, o, r in outcome_rows(dry)}
    assert rows[2][0] == "will enroll"
    assert {n for n, (o, _) in rows.items() if o == "error"} == {3, 4, 5, 6}
    assert "legal_basis: Choose consent, legitimate interest or contract." in rows[3][1]
    assert "consent_given_on: Enter the day the person gave consent." in rows[4][1]
    assert "consent_given_on: Consent cannot be given in the future." in rows[5][1]
    assert "consent_given_on: Use a date as YYYY-MM-DD." in rows[6][1]
    assert count_rows(app, Enrollment) == 0
