"""The campaign's progress (SPEC §2.10, §4 "Deliveries and progress"): the ready-to-complete
and needs-attention lists and the milestone funnel on the campaign page, completing the
ready ones through the bulk confirmation, the program manager's home counts, small cells
for company admins (SPEC §2.11), and constant statements per page."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db, transaction, utcnow
from portal.deliveries import operations as ops
from portal.enrollments.models import Enrollment, Participant
from tests.helpers import counting_statements, without_volatile

TODAY = utcnow().date()


def enroll(make, camp, days_ago: int, **kw):
    return make.enrollment(camp, make.participant(**kw.pop("who", {})), enrolled_at=utcnow() - timedelta(days=days_ago),
                           **kw)


def deliver(app, pm, enrollment, days_ago: int = 0, kind: str = "session_completed", **fields):
    if kind.startswith("session"):
        fields.setdefault("attendance", "present")
    with app.app_context(), transaction():
        ops.record_delivery(db.session.get(User, pm.id), db.session.get(Enrollment, enrollment.id), kind=kind,
                            occurred_on=TODAY - timedelta(days=days_ago), **fields)


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start:html.index("</section>", start)]


def ready_form(html: str) -> list[tuple[str, str]]:
    form = section(html, "ready-title")
    return re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form)


def mentorship_scene(app, make, tenants):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    pm = tenants["pm"]
    ready = enroll(make, camp, 60, who={"display_name": "Ready Rita"})
    stale = enroll(make, camp, 60, who={"display_name": "Stale Sam"})
    fresh = enroll(make, camp, 30, who={"display_name": "Fresh Fay"})
    new = enroll(make, camp, 2, who={"display_name": "New Ned"})
    deliver(app, pm, ready, 1, quantity=10)  # ten sessions' worth: minSessionsForCompletion
    deliver(app, pm, stale, 20)
    deliver(app, pm, fresh, 3)
    return camp, {"ready": ready, "stale": stale, "fresh": fresh, "new": new}


def test_the_campaign_page_lists_the_ready_the_stalled_and_the_funnel(app, make, tenants, pm_client):
    camp, e = mentorship_scene(app, make, tenants)
    html = pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    ready = section(html, "ready-title")
    assert "Ready Rita" in ready and "10 of 10 sessions" in ready
    assert not any(name in ready for name in ("Stale Sam", "Fresh Fay", "New Ned"))
    assert "Complete the ready one…" in ready
    attention = section(html, "attention-title")
    assert re.search(r"Stale Sam</a></td>\s*<td>Beneficiary</td>\s*<td>20</td>", attention)
    assert "more than 14 days" in attention  # mentorship: weekly
    assert not any(name in attention for name in ("Ready Rita", "Fresh Fay", "New Ned"))
    funnel = section(html, "funnel-title")
    assert '<svg width="100%"' in funnel and 'role="img"' in funnel
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', funnel))
    assert rows == {"First Session": "3", "Relationship Established": "1", "Progressing Well": "1",
                    "Program Completed": "0"}


def test_completing_the_ready_ones_asks_first_then_completes_each_with_its_event(app, make, tenants, pm_client):
    camp, e = mentorship_scene(app, make, tenants)
    other = enroll(make, camp, 90, who={"display_name": "Other Olga"})
    deliver(app, tenants["pm"], other, 0, quantity=12)
    fields = ready_form(pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True))
    ids = sorted(int(v) for k, v in fields if k == "enrollment_ids")
    assert ids == sorted([e["ready"].id, other.id])
    url = f"/campaigns/{camp.id}/enrollments/bulk"
    asked = pm_client.post(url, data=MultiDict(fields))
    assert asked.status_code == 200  # the confirmation page, naming each: nothing completes silently
    body = asked.get_data(as_text=True)
    assert "Complete 2 enrollments?" in body and "Ready Rita" in body and "Other Olga" in body
    with app.app_context():
        assert {db.session.get(Enrollment, i).status for i in ids} == {"active"}
    done = pm_client.post(url, data=MultiDict([*fields, ("confirmed", "yes")]))
    assert done.status_code in (302, 303)
    with app.app_context():
        assert {db.session.get(Enrollment, i).status for i in ids} == {"completed"}
        assert db.session.get(Enrollment, e["stale"].id).status == "active"
        events = db.session.scalars(sa.select(ActivityEvent.subject_id).where(
            ActivityEvent.type == "program.enrollment.completed")).all()
        assert sorted(events) == ids  # one event each
    assert "Ready Rita" not in section(pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True), "ready-title")


def test_language_and_buddy_readiness_come_from_their_configuration(app, make, tenants, pm_client):
    pm = tenants["pm"]
    lang = make.campaign(tenants["company_a"], make.program(template=make.template("language")))
    stepped = enroll(make, lang, 40, who={"display_name": "Stepped Stan"}, meta={"starting_cefr": "B1"})
    named = enroll(make, lang, 40, who={"display_name": "Named Nina"}, meta={"starting_cefr": "A1"})
    deliver(app, pm, stepped, 1, kind="cefr_level_advanced")  # B1 → B2, the highest target
    deliver(app, pm, named, 1, kind="cefr_level_advanced", meta={"level": "A2"})
    ready = section(pm_client.get(f"/campaigns/{lang.id}").get_data(as_text=True), "ready-title")
    assert "Stepped Stan" in ready and "Level B2 reached (target B2)" in ready and "Named Nina" not in ready

    buddy = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    long = enroll(make, buddy, 200, who={"display_name": "Long Lena"})
    short = enroll(make, buddy, 30, who={"display_name": "Short Sid"})
    deliver(app, pm, long, 1, kind="event_attended")
    deliver(app, pm, short, 1, kind="checkin_completed")
    html = pm_client.get(f"/campaigns/{buddy.id}").get_data(as_text=True)
    ready = section(html, "ready-title")
    assert "Long Lena" in ready and "6 months since enrolled" in ready and "Short Sid" not in ready
    rows = re.findall(r'<th scope="row">([^<]+)</th>', section(html, "funnel-title"))
    assert rows == ["First Meeting", "Connected", "Integrated", "Thriving"]


def test_the_program_managers_home_counts_them_per_campaign(app, make, tenants, pm_client, admin_a_client):
    camp, _ = mentorship_scene(app, make, tenants)
    home = pm_client.get("/home").get_data(as_text=True)
    assert 'hx-get="/home/progress"' in home and 'href="/home/progress"' in home
    page = pm_client.get("/home/progress").get_data(as_text=True)
    row = re.search(rf'<a href="/campaigns/{camp.id}#progress">{re.escape(camp.name)}</a>.*?</tr>', page, re.S).group(0)
    assert f'href="/campaigns/{camp.id}#ready-title">1<' in row and f'href="/campaigns/{camp.id}#attention-title">1<' in row
    fragment = pm_client.get("/home/progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="home-progress">')
    assert admin_a_client.get("/home/progress").status_code == 403
    assert "/home/progress" not in admin_a_client.get("/home").get_data(as_text=True)


def small_cells_scene(app, make, tenants, ready: int, stalled: int):
    camp = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    people = []
    for n in range(ready):
        e = enroll(make, camp, 60, who={"display_name": f"Beneficiary Ready {n}", "email": f"r{n}@example.org"})
        deliver(app, tenants["pm"], e, 1, quantity=10)
        people.append(e)
    for n in range(stalled):
        e = enroll(make, camp, 60, who={"display_name": f"Beneficiary Stalled {n}", "email": f"s{n}@example.org"})
        deliver(app, tenants["pm"], e, 30)
        people.append(e)
    return camp, people


def test_company_admins_see_small_counts_as_fewer_than_ten_and_people_as_pseudonyms(app, make, tenants, admin_a_client,
                                                                                    pm_client):
    camp, people = small_cells_scene(app, make, tenants, ready=12, stalled=3)
    html = admin_a_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "Beneficiary" not in html.replace('<td>Beneficiary</td>', "").replace(">Beneficiary<", "")
    ready = section(html, "ready-title")
    assert "<strong>12</strong>" in ready and len(re.findall(r"<tr><td><a ", ready)) == 10  # a cohort: listed
    assert f'href="/campaigns/{camp.id}/progress#ready-title">See the whole list</a>' in ready  # the first ten here
    whole = admin_a_client.get(f"/campaigns/{camp.id}/progress").get_data(as_text=True)
    assert "Beneficiary" not in whole.replace('<td>Beneficiary</td>', "").replace(">Beneficiary<", "")
    assert len(re.findall(r"<tr><td><a ", section(whole, "ready-title"))) == 12 and "See the whole list" not in whole
    assert "<strong>fewer than 10</strong>" in section(whole, "attention-title") and "<table" not in section(
        whole, "attention-title")
    attention = section(html, "attention-title")
    assert "<strong>fewer than 10</strong>" in attention and "<table" not in attention  # 3 rows would count them
    funnel = dict(re.findall(r'<th scope="row">([^<]+)</th><td>([^<]+)</td>', section(html, "funnel-title")))
    assert funnel == {"First Session": "15", "Relationship Established": "12", "Progressing Well": "12",
                      "Program Completed": "fewer than 10"}
    # No total beside the withheld part: the funnel and lists show no "in total" figure.
    assert "in total" not in section(html, "funnel-title")
    # The program manager sees exact figures and names.
    pm_html = pm_client.get(f"/campaigns/{camp.id}").get_data(as_text=True)
    assert "<strong>3</strong>" in section(pm_html, "attention-title") and "Beneficiary Stalled 0" in pm_html


def test_oracle_a_company_admins_campaign_page_does_not_change_with_a_beneficiarys_identity(app, make, tenants,
                                                                                           admin_a_client):
    camp, people = small_cells_scene(app, make, tenants, ready=11, stalled=2)
    url = f"/campaigns/{camp.id}"
    before = without_volatile(admin_a_client.get(url).get_data(as_text=True))
    with app.app_context(), transaction():
        for n, e in enumerate(people[:1] + people[-1:]):
            person = db.session.get(Participant, e.participant_id)
            person.display_name, person.email, person.year_of_birth = f"Zed Changed {n}", f"zed{n}@example.net", 1970
    after = without_volatile(admin_a_client.get(url).get_data(as_text=True))
    assert after == before


def _grow(app, make, tenants, camp, n: int, kind: str = "session_completed") -> None:
    for k in range(n):
        e = enroll(make, camp, 60, meta={"starting_cefr": "A2"})
        deliver(app, tenants["pm"], e, k % 30, kind=kind, quantity=1 + k % 12)


def test_the_progress_pages_issue_a_constant_number_of_statements(app, make, tenants, pm_client, admin_a_client):
    small = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    big = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
    lang = make.campaign(tenants["company_a"], make.program(template=make.template("language")))
    _grow(app, make, tenants, small, 2, "event_attended")
    for client in (pm_client, admin_a_client):
        counts, whole = [], []
        for camp, n in ((small, 0), (big, 3), (big, 25), (big, 60)):
            _grow(app, make, tenants, camp, n)
            with counting_statements(app) as statements:
                assert client.get(f"/campaigns/{camp.id}").status_code == 200
            counts.append(len(statements))
            with counting_statements(app) as statements:
                assert client.get(f"/campaigns/{camp.id}/progress").status_code == 200
            whole.append(len(statements))
        # More people, same statements (3 people: nobody ready yet, so that list's rows are not read).
        assert counts[1] <= counts[2] == counts[3], counts
        assert whole[1] <= whole[2] == whole[3], whole  # the whole lists too (88 people: past both list sizes)
        assert counts[0] <= counts[3], counts  # another template, with nobody to list: no more reads, maybe fewer
    with counting_statements(app) as first:
        assert pm_client.get("/home/progress").status_code == 200
    _grow(app, make, tenants, lang, 5, "cefr_level_advanced")
    make.campaign(tenants["company_b"], make.program(template=make.template("buddy")))
    with counting_statements(app) as second:
        assert pm_client.get("/home/progress").status_code == 200
    # A few bounded reads per campaign (at most PROGRESS_CAMPAIGNS of them), never per person:
    # one more campaign, and the level read of a campaign that now has level deliveries.
    assert len(second) - len(first) <= 4, (first, second)
    with counting_statements(app) as third:
        assert pm_client.get("/home/progress").status_code == 200
    _grow(app, make, tenants, lang, 20, "cefr_level_advanced")
    with counting_statements(app) as fourth:
        assert pm_client.get("/home/progress").status_code == 200
    assert len(third) == len(fourth)


def test_both_ways_of_finding_the_ready_agree(app, make, tenants):
    """Small campaigns probe their enrollments' counter and milestone rows, huge ones read
    those tables and join (progress.PROBE_UP_TO): the same enrollments either way."""
    from portal.campaigns.models import Campaign
    from portal.deliveries import progress

    camp, e = mentorship_scene(app, make, tenants)
    buddy = make.campaign(tenants["company_a"], make.program(template=make.template("buddy")))
    enroll(make, buddy, 200)
    deliver(app, tenants["pm"], enroll(make, buddy, 30), 1, kind="event_attended", quantity=20)
    with app.app_context():
        for campaign_id in (camp.id, buddy.id):
            campaign = db.session.get(Campaign, campaign_id)
            settings = progress.campaign_settings(campaign)
            active = sa.select(Enrollment.id).where(Enrollment.campaign_id == campaign_id,
                                                    Enrollment.status == "active")
            probed = progress.ready_candidates(settings, TODAY, active, seats=10)
            joined = progress.ready_candidates(settings, TODAY, active, seats=None)
            # A large campaign first asks its rollups which rules anyone can meet: same answer.
            screened = progress.ready_candidates(settings, TODAY, active, seats=None, campaign_id=campaign_id)
            assert probed == joined == screened and probed
        empty = make.campaign(tenants["company_a"], make.program(template=make.template("mentorship")))
        enroll(make, empty, 5)
        campaign = db.session.get(Campaign, empty.id)
        active = sa.select(Enrollment.id).where(Enrollment.campaign_id == empty.id, Enrollment.status == "active")
        # Rules, but nothing recorded that could meet them: nobody is ready (not "no rule").
        assert progress.ready_candidates(progress.campaign_settings(campaign), TODAY, active, seats=None,
                                         campaign_id=empty.id) == []
        assert e["ready"].id in progress.ready_candidates(progress.campaign_settings(db.session.get(Campaign, camp.id)),
                                                          TODAY, sa.select(Enrollment.id).where(
                                                              Enrollment.campaign_id == camp.id), seats=10)
