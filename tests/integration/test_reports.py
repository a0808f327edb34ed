"""Impact reports through the test client (SPEC §2.11 "Impact report"): the live report of a
campaign and of a company for a period, frozen snapshots with their fingerprint, the PDF,
and share links — with every count of people under the cohort minimum withheld, no person
ever named, another company's report 404, and a link that is revoked, expired or forged
answering exactly like one that never existed."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
import sqlalchemy as sa

from portal.activity.models import ActivityEvent
from portal.db import db, transaction, utcnow
from portal.deliveries.operations import record_delivery
from portal.enrollments.models import Enrollment
from portal.reports.models import ReportShareLink, ReportSnapshot, canonical_json, content_hash
from portal.reports.periods import current_quarter, parse_period
from tests.helpers import csrf_token

TODAY = date.today()
PERIOD = current_quarter(TODAY)
NAMES = [f"Olena Report{i}" for i in range(12)]


def record(app, enrollment_ids, *, days_ago=1, kind="session_completed", minutes=60, times=1):
    """``times`` present sessions for each enrollment, ``days_ago`` apart going back, through
    the delivery operation (counters and milestones move as in the product)."""
    with app.app_context():
        for n in range(times):
            with transaction():
                for enrollment_id in enrollment_ids:
                    enrollment = db.session.get(Enrollment, enrollment_id)
                    day = max(TODAY - timedelta(days=days_ago + n), enrollment.enrolled_at.date())
                    record_delivery(None, enrollment, kind=kind, occurred_on=day,
                                    duration_minutes=minutes, attendance="present" if "session" in kind else None)
        db.session.remove()


@pytest.fixture
def scene(app, make, tenants):
    """Acme: a big mentorship campaign (12 beneficiaries, 1 volunteer) and a small one
    (3 beneficiaries); Borealis: one campaign of its own. Everyone enrolled at the start of
    this quarter, so every session recorded in the last days falls in it."""
    program = make.program(template=make.template("mentorship"), name="Mentoring Oslo")
    started = utcnow().replace(year=PERIOD.start.year, month=PERIOD.start.month, day=1)
    big = make.campaign(tenants["company_a"], program, name="Acme Mentoring", start_date=PERIOD.start)
    small = make.campaign(tenants["company_a"], program, name="Acme Pilot", start_date=PERIOD.start)
    other = make.campaign(tenants["company_b"], program, name="Borealis Mentoring", start_date=PERIOD.start)
    beneficiaries = [make.enrollment(big, make.participant(display_name=name, email=f"r{i}@example.org"),
                                     enrolled_at=started) for i, name in enumerate(NAMES)]
    volunteer = make.enrollment(big, make.participant(display_name="Vera Volunteer", company_id=tenants["company_a"].id),
                                role="volunteer", enrolled_at=started)
    pilot = [make.enrollment(small, make.participant(display_name=f"Petro Pilot{i}"), enrolled_at=started)
             for i in range(3)]
    borealis = [make.enrollment(other, make.participant(display_name=f"Bjorn Other{i}"), enrolled_at=started)
                for i in range(11)]
    return {"big": big, "small": small, "other": other, "beneficiaries": [e.id for e in beneficiaries],
            "volunteer": volunteer.id, "pilot": [e.id for e in pilot], "borealis": [e.id for e in borealis]}


def campaign_url(campaign_id, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/reports/campaigns/{campaign_id}" + (f"?{q}" if q else "")


def freeze(client, url_, period_key):
    token = csrf_token(client, url_)
    response = client.post(url_.split("?")[0] + "/snapshots", data={"csrf_token": token, "period": period_key})
    assert response.status_code == 303, response.status_code
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def figure(html_text: str, label: str) -> str:
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]+)", html_text)
    assert found, f"no figure {label!r}"
    return found.group(1).strip()


def test_the_campaign_report_counts_the_period_and_names_no_one(app, scene, pm_client, admin_a_client):
    record(app, scene["beneficiaries"][:11], times=2)  # 22 sessions, 11 people reach "First Session"
    for client in (pm_client, admin_a_client):
        body = client.get(campaign_url(scene["big"].id, period=PERIOD.key)).get_data(as_text=True)
        assert figure(body, "Beneficiaries taking part") == "12"
        assert figure(body, "Beneficiaries who joined") == "12"
        assert figure(body, "Sessions held") == "22"  # each on the beneficiary's side only
        assert figure(body, "Hours recorded") == "22.0"
        assert figure(body, "Volunteers taking part") == "fewer than 10"
        assert "First Session" in body and ">11<" in body
        assert not any(name in body for name in [*NAMES, "Vera Volunteer", "r0@example.org"])


def test_small_counts_are_withheld_and_no_total_gives_one_away(app, scene, admin_a_client):
    record(app, scene["pilot"] + scene["beneficiaries"])
    body = admin_a_client.get(campaign_url(scene["small"].id, period=PERIOD.key)).get_data(as_text=True)
    assert figure(body, "Beneficiaries taking part") == "fewer than 10"
    assert "First Session" in body and "fewer than 10" in body.split("First Session", 1)[1][:400]
    company = admin_a_client.get(f"/reports/companies/{scene['big'].company_id}?period={PERIOD.key}")
    text = company.get_data(as_text=True)
    # 12 + 3: the pilot's 3 is withheld, and as 15 − 12 would give it away, the 12 is withheld
    # with it; the total (15) then reveals only what two campaigns hold together.
    assert figure(text, "Beneficiaries taking part") == "15"
    table = text.split('aria-label="Figures by campaign"', 1)[1].split("</tbody>", 1)[0]
    assert re.findall(r'<tr><th scope="row">(Acme [^<]+)</th>', table) == ["Acme Mentoring", "Acme Pilot"]
    assert ">12<" not in table and ">3<" not in table and table.count("fewer than 10") >= 2
    assert "Acme Mentoring" in text and "Borealis" not in text
    # The pilot's points rest on 3 people: withheld, and the big campaign's with them.
    impact = text.split('aria-label="Impact by campaign"', 1)[1].split("</tbody>", 1)[0]
    assert impact.count('<td class="num">withheld</td>') == 2


def test_another_companys_reports_snapshots_and_links_are_404(app, scene, pm_client, admin_b_client):
    url_ = campaign_url(scene["big"].id, period=PERIOD.key)
    snapshot_id = freeze(pm_client, url_, PERIOD.key)
    token = csrf_token(pm_client, f"/reports/{snapshot_id}")
    pm_client.post(f"/reports/{snapshot_id}/links", data={"csrf_token": token, "days": "7"})
    with app.app_context():
        link_id = db.session.scalar(sa.select(ReportShareLink.id).where(ReportShareLink.snapshot_id == snapshot_id))
    b_token = csrf_token(admin_b_client, f"/reports/campaigns/{scene['other'].id}")
    for path in (url_, f"/reports/companies/{scene['big'].company_id}", f"/reports/{snapshot_id}",
                 f"/reports/{snapshot_id}/report.pdf"):
        assert admin_b_client.get(path).status_code == 404, path
    for path, data in ((f"/reports/campaigns/{scene['big'].id}/snapshots", {"period": PERIOD.key}),
                       (f"/reports/{snapshot_id}/links", {"days": "7"}),
                       (f"/reports/{snapshot_id}/links/{link_id}/revoke", {"confirmed": "yes"})):
        assert admin_b_client.post(path, data={"csrf_token": b_token, **data}).status_code == 404, path
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSnapshot)) == 1
        assert db.session.get(ReportShareLink, link_id).revoked_at is None


def test_a_frozen_report_keeps_its_figures_and_its_fingerprint(app, scene, admin_a_client, tenants):
    record(app, scene["beneficiaries"], times=1)
    snapshot_id = freeze(admin_a_client, campaign_url(scene["big"].id, period=PERIOD.key), PERIOD.key)
    before = admin_a_client.get(f"/reports/{snapshot_id}").get_data(as_text=True)
    assert figure(before, "Sessions held") == "12"
    record(app, scene["beneficiaries"], times=1, days_ago=2)  # more happens after the freeze
    after = admin_a_client.get(f"/reports/{snapshot_id}").get_data(as_text=True)
    assert figure(after, "Sessions held") == "12"
    live = admin_a_client.get(campaign_url(scene["big"].id, period=PERIOD.key)).get_data(as_text=True)
    assert figure(live, "Sessions held") == "24"
    with app.app_context():
        snapshot = db.session.get(ReportSnapshot, snapshot_id)
        assert snapshot.is_intact() and snapshot.content_sha256 == content_hash(canonical_json(snapshot.content))
        assert snapshot.content_sha256 in after
        event = db.session.scalars(sa.select(ActivityEvent).where(ActivityEvent.type == "impact.report.created")).one()
        assert event.company_id == tenants["company_a"].id and event.data["sha256"] == snapshot.content_sha256


def test_the_pdf_is_a_pdf_of_the_snapshot(app, scene, pm_client):
    record(app, scene["beneficiaries"])
    snapshot_id = freeze(pm_client, campaign_url(scene["big"].id, period=PERIOD.key), PERIOD.key)
    response = pm_client.get(f"/reports/{snapshot_id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    pdf = pdfium.PdfDocument(response.data)
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    with app.app_context():
        snapshot = db.session.get(ReportSnapshot, snapshot_id)
        assert snapshot.content_sha256 in text.replace("\r", "").replace("\n", "")  # the fingerprint is printed
        assert snapshot.title in text.replace("\r\n", " ")
    assert "Sessions held" in text and not any(name in text for name in NAMES)


def test_a_share_link_shows_the_report_signed_out_and_every_view_is_logged(app, scene, admin_a_client):
    record(app, scene["beneficiaries"])
    snapshot_id = freeze(admin_a_client, campaign_url(scene["big"].id, period=PERIOD.key), PERIOD.key)
    token = csrf_token(admin_a_client, f"/reports/{snapshot_id}")
    response = admin_a_client.post(f"/reports/{snapshot_id}/links",
                                   data={"csrf_token": token, "days": "14", "label": "CSR team"})
    assert response.status_code == 303
    page = admin_a_client.get(f"/reports/{snapshot_id}").get_data(as_text=True)
    link = re.search(r'value="(http://[^"]+/shared/reports/[^"]+)"', page).group(1)
    path = link.split("localhost", 1)[-1]

    anonymous = app.test_client()
    shared = anonymous.get(path)
    body = shared.get_data(as_text=True)
    assert shared.status_code == 200 and figure(body, "Sessions held") == "12"
    assert 'aria-label="Main"' not in body and "Sign out" not in body  # nothing but the report
    assert not any(name in body for name in NAMES)
    assert shared.headers["Cache-Control"] == "private, no-store" and "noindex" in shared.headers["X-Robots-Tag"]
    assert anonymous.get(path + "/report.pdf").data.startswith(b"%PDF-")
    with app.app_context():
        stored = db.session.scalars(sa.select(ReportShareLink)).one()
        assert stored.views == 2 and stored.label == "CSR team"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEvent)
                                 .where(ActivityEvent.type == "impact.report.viewed")) == 2

    token = csrf_token(admin_a_client, f"/reports/{snapshot_id}")
    asked = admin_a_client.post(f"/reports/{snapshot_id}/links/{stored.id}/revoke", data={"csrf_token": token})
    assert asked.status_code == 200 and "Revoke the link" in asked.get_data(as_text=True)  # confirm first
    assert anonymous.get(path).status_code == 200
    admin_a_client.post(f"/reports/{snapshot_id}/links/{stored.id}/revoke",
                        data={"csrf_token": token, "confirmed": "yes"})
    gone = anonymous.get(path)
    assert gone.status_code == 404 and "Sessions held" not in gone.get_data(as_text=True)


def test_expired_forged_and_unknown_links_answer_alike(app, scene, pm_client):
    snapshot_id = freeze(pm_client, campaign_url(scene["big"].id, period=PERIOD.key), PERIOD.key)
    token = csrf_token(pm_client, f"/reports/{snapshot_id}")
    pm_client.post(f"/reports/{snapshot_id}/links", data={"csrf_token": token, "days": "1"})
    page = pm_client.get(f"/reports/{snapshot_id}").get_data(as_text=True)
    path = re.search(r'value="http://[^"]+(/shared/reports/[^"]+)"', page).group(1)
    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    signed = path.rsplit("/", 1)[1]
    answers = [anonymous.get(p) for p in ("/shared/reports/" + signed[:-2] + "xx", "/shared/reports/abc",
                                          "/shared/reports/" + signed.replace(".", "-", 1))]
    with app.app_context():
        db.session.execute(sa.update(ReportShareLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    answers.append(anonymous.get(path))
    assert [a.status_code for a in answers] == [404] * 4
    assert len({a.get_data(as_text=True) for a in answers}) == 1  # nothing tells them apart


def test_bad_input_is_a_field_error_and_saves_nothing(app, scene, pm_client):
    bad = pm_client.get(campaign_url(scene["big"].id, period="custom", start="2026-03-01", end="2026-02-01"))
    assert bad.status_code == 422 and "before the start" in bad.get_data(as_text=True)
    assert pm_client.get(campaign_url(scene["big"].id, period="2026-Q9")).status_code == 422
    long = pm_client.get(campaign_url(scene["big"].id, start="2019-01-01", end="2026-01-01"))
    assert long.status_code == 422 and "5 years" in long.get_data(as_text=True)
    snapshot_id = freeze(pm_client, campaign_url(scene["big"].id), PERIOD.key)
    token = csrf_token(pm_client, f"/reports/{snapshot_id}")
    for days in ("0", "366", "-1", "many", ""):
        answer = pm_client.post(f"/reports/{snapshot_id}/links", data={"csrf_token": token, "days": days})
        assert answer.status_code == 422 and 'id="days-error"' in answer.get_data(as_text=True), days
    token = csrf_token(pm_client, campaign_url(scene["big"].id))
    refused = pm_client.post(f"/reports/campaigns/{scene['big'].id}/snapshots",
                             data={"csrf_token": token, "period": "2026-Q7"})
    assert refused.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportShareLink)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportSnapshot)) == 1


def test_another_companys_deliveries_never_change_the_first_companys_report(app, scene, admin_a_client):
    record(app, scene["beneficiaries"])
    url_ = f"/reports/companies/{scene['big'].company_id}?period={PERIOD.key}"

    def figures():
        body = admin_a_client.get(url_).get_data(as_text=True)
        return [figure(body, label) for label in ("Sessions held", "Hours recorded", "Beneficiaries taking part",
                                                  "Beneficiaries who completed")]

    before = figures()
    record(app, scene["borealis"], times=3)
    assert figures() == before


def test_quarter_boundaries_decide_what_a_period_counts(app, scene, pm_client):
    """A session on the last day of a quarter counts in it and not in the next."""
    q2 = parse_period(f"{TODAY.year - 1}-Q2")
    with app.app_context():
        with transaction():
            db.session.execute(sa.update(Enrollment).where(Enrollment.id.in_(scene["beneficiaries"]))
                               .values(enrolled_at=utcnow().replace(year=TODAY.year - 1, month=1, day=1)))
        with transaction():
            for enrollment_id in scene["beneficiaries"]:
                record_delivery(None, db.session.get(Enrollment, enrollment_id), kind="session_completed",
                                occurred_on=q2.end, attendance="present", today=TODAY)
        db.session.remove()
    body = pm_client.get(campaign_url(scene["big"].id, period=q2.key)).get_data(as_text=True)
    assert figure(body, "Sessions held") == "12"
    q3 = pm_client.get(campaign_url(scene["big"].id, period=f"{TODAY.year - 1}-Q3")).get_data(as_text=True)
    assert figure(q3, "Sessions held") == "0"


def test_who_the_people_are_never_changes_a_word_of_the_report(app, scene, tenants):
    """The oracle: renaming, re-aging and re-homing every beneficiary leaves the report's
    content exactly as it was, so nothing in it can tell anyone who they are."""
    from portal.enrollments.models import Participant
    from portal.reports.content import build_report

    record(app, scene["beneficiaries"] + scene["pilot"], times=2)
    with app.app_context():
        company = db.session.get(type(tenants["company_a"]), tenants["company_a"].id)
        campaigns = [db.session.get(type(scene["big"]), scene[k].id) for k in ("big", "small")]
        now = utcnow()
        before = build_report(company, campaigns, PERIOD, min_cohort=10, now=now)
        ids = sa.select(Enrollment.participant_id).where(Enrollment.id.in_(scene["beneficiaries"] + scene["pilot"]))
        db.session.execute(sa.update(Participant).where(Participant.id.in_(ids)).values(
            display_name="Someone Else", email=None, year_of_birth=1950, country="SE", languages=["sv"]))
        assert build_report(company, campaigns, PERIOD, min_cohort=10, now=now) == before
        db.session.rollback()


def test_the_report_carries_points_and_sroi_with_their_trail(app, make, tenants, pm_client, admin_a_client):
    """Twelve beneficiaries had one session each (EUR 10.00 of value per session, no
    adjustments, one year at 3.5 %) in a campaign that invested EUR 1,000.00: PV = 120.00 /
    1.035 = 115.94, SROI 0.12; points = 12 sessions × 10 + 12 first milestones × 25 = 420."""
    valuation = make.valuation_set([{"outcome": "session_completed", "proxy_minor": 1000}], name="Demo values")
    program = make.program(template=make.template("mentorship"), valuation_set_id=valuation.id)
    campaign = make.campaign(tenants["company_a"], program, name="Acme Valued", start_date=PERIOD.start,
                             currency="EUR", budget_allocated=100_000)
    started = utcnow().replace(year=PERIOD.start.year, month=PERIOD.start.month, day=1)
    enrollments = [make.enrollment(campaign, make.participant(display_name=f"Valued {i}"), enrolled_at=started).id
                   for i in range(12)]
    record(app, enrollments)
    body = admin_a_client.get(campaign_url(campaign.id, period=PERIOD.key)).get_data(as_text=True)
    assert "<strong>420.0</strong> impact points" in body
    assert "EUR 0.12 of social value per EUR 1 invested" in body and "sensitivity band" in body
    assert "present value EUR 115.94" in body and "investment EUR 1,000.00" in body
    snapshot_id = freeze(pm_client, campaign_url(campaign.id, period=PERIOD.key), PERIOD.key)
    with app.app_context():
        impact = db.session.get(ReportSnapshot, snapshot_id).content["impact"]["campaigns"][0]
        assert impact["points"]["text"] == "420.0" and impact["sroi"]["present_value"] == "EUR 115.94"
    # The same campaign with only three beneficiaries' sessions in the period: withheld.
    small = make.campaign(tenants["company_a"], program, name="Acme Small Valued", start_date=PERIOD.start,
                          currency="EUR", budget_allocated=100_000)
    record(app, [make.enrollment(small, enrolled_at=started).id for _ in range(3)])
    body = admin_a_client.get(campaign_url(small.id, period=PERIOD.key)).get_data(as_text=True)
    impact = body.split('id="report-impact-title"', 1)[1].split("</section>", 1)[0]
    assert impact.count("Withheld: not enough participants to report.") == 2  # points and SROI
    assert "</strong> impact points" not in impact and "of social value per" not in impact
