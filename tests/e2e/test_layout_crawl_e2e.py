"""Issue #13, acceptance: "no horizontal overflow at 390 px on any screen for either role (a test
that measures document.documentElement.scrollWidth on every screen)".

test_layout_e2e.py measures the screens listed in tests/e2e/screens.py; screens added since
(progress, matches, attendance, impact, reports, valuation sets, webhooks, privacy, a group's
or a participant's page, the catalog's program page, the allocation and template edit pages
...) are not on that list. This gate does not keep a list: signed in as each role on a phone,
it follows every link the portal shows (one page per URL pattern, ids and tokens folded),
measures each page's scrollWidth, and then checks that every HTML screen of the app's URL
map was reached by one role or the other, so a new screen is measured without anyone adding
it here."""
from __future__ import annotations

import re
from collections import deque
from datetime import date

import pytest
from playwright.sync_api import Page

from tests.e2e.screens import PHONE, ensure_screens_world
from tests.e2e.screens import STICKING_OUT as OVERFLOW

KEY = "layout-crawl-mentorship"
CAMPAIGN = "Acme mentoring (layout crawl)"
MAX_PAGES = 150  # per role; the portal has fewer screens than this

# Not screens: files, API, sign-out, shared-report links, health.
NOT_A_SCREEN = re.compile(r"(\.csv|\.pdf|/download)$|^/(api|static|shared|healthz)(/|$)|^/sign-out")
# Every GET rule of the URL map that is a screen and yet no link of either role reaches in this
# world, each with why: the gate fails if a screen is neither reached nor listed here.
UNREACHED_BY_LINKS = {
    "/": "redirects to /home",
    "/sign-in": "the signed-out screen: measured in test_the_signed_out_screens_fit_a_phone",
    "/campaigns/<id>/import/<token>/": "a dry run exists only after an upload: test_enroll_and_import_e2e measures it",
    "/campaigns/<id>/deliveries/import/<token>/": "a dry run exists only after an upload: measured below",
    "/jobs/<id>": "a job exists only after a confirmed import or export: test_jobs_progress_e2e measures it",
}

LINKS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => !a.hasAttribute('download') && a.origin === location.origin)
  .map(a => a.pathname + a.search)"""


def pattern_of(path: str) -> str:
    """The screen a path shows: ids, versions and tokens folded, the query left out."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = re.sub(r"^/templates/(?!new$)[^/]+", "/templates/<key>", path)
    path = re.sub(r"/[A-Za-z0-9_-]{20,}(?=/|$)", "/<token>", path)
    path = re.sub(r"/v\d+(?=/|$)", "/v<version>", path)
    return re.sub(r"/\d+(?=/|$)", "/<id>", path)


def rule_pattern(rule: str) -> str:
    rule = re.sub(r"/v<int:\w+>", "/v<version>", rule)
    rule = re.sub(r"<int:\w+>", "<id>", rule)
    return re.sub(r"<(?:string:)?(?!id>|version>)\w+>", "<token>" if "import" in rule else "<key>", rule)


@pytest.fixture(scope="module")
def crawl_world(live_server):
    """The shared screens world, plus objects of its own for the screens that world lacks: a
    template whose v1 program can be upgraded to v2 and whose v3 is a draft (the upgrade review
    and the template edit page), a campaign with deliveries (progress, correct a delivery,
    impact), a valuation set with an entry, a webhook endpoint, a report snapshot and an open data
    request."""
    import sqlalchemy as sa

    from portal.campaigns.models import Campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.deliveries.operations import record_delivery
    from portal.enrollments.models import Enrollment
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.impact.models import ValuationSet
    from portal.impact.operations import create_valuation_set, save_entry
    from portal.privacy.requests import record_request
    from portal.program_templates.models import ProgramTemplate
    from portal.program_templates.operations import create_template, new_version, publish_template
    from portal.programs.operations import launch_program, transition_program
    from portal.reports.models import ReportSnapshot
    from portal.reports.operations import create_snapshot
    from portal.reports.periods import current_quarter
    from portal.webhooks.events import EVENT_TYPES
    from portal.webhooks.operations import create_endpoint
    from tests.e2e import scenes

    world = ensure_screens_world(live_server)
    with live_server.app.app_context():
        if db.session.scalar(sa.select(ProgramTemplate.id).where(ProgramTemplate.key == KEY)) is None:
            with transaction():
                master = load_master("mentorship")
                v1 = create_template(None, key=KEY, name="Mentorship (layout crawl)", category="mentorship",
                                     config_schema=master["config_schema"], default_config=master["default_config"])
                publish_template(None, v1)
                program = scenes.mentorship_program("crawl", "Molde")
                old = launch_program(None, template=v1, group=program.group, name="Mentoring Molde on v1 (crawl)",
                                     visibility="private")
                transition_program(None, old, "active")
                v2, _ = new_version(None, v1)
                publish_template(None, v2)
                new_version(None, v2)  # v3, a draft
                campaign = scenes.active_campaign(program, CAMPAIGN)
                for i in range(3):
                    person = create_participant(None, display_name=f"Crawl Mentee {i}", year_of_birth=1990,
                                                languages=["uk"])
                    db.session.flush()
                    enrollment = enroll_participant(None, campaign.id, person)
                    db.session.flush()
                    record_delivery(None, enrollment, kind="session_completed", occurred_on=date.today(),
                                    attendance="present")
                    if i == 0:  # an open data request: the privacy screens link to closing it
                        record_request(None, person, kind="access", received_on=date.today())
                valuation = create_valuation_set(None, name="Layout crawl values", currency="NOK")
                db.session.flush()
                save_entry(None, valuation, expected_version=None, outcome="delivery:session_completed",
                           proxy="100", source_text="A price list", duration_years="1")
                create_endpoint(None, url="https://hooks.example.org/crawl", description="Layout crawl",
                                event_types=[EVENT_TYPES[0]])
                create_snapshot(None, scenes.acme(), [campaign], current_quarter(date.today()), campaign=campaign)
        campaign_id = db.session.scalar(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN))
        ids = {"screens": world.campaign, "campaign": campaign_id,
               "enrollment": db.session.scalar(sa.select(sa.func.min(Enrollment.id))
                                               .where(Enrollment.campaign_id == campaign_id)),
               "report": db.session.scalar(sa.select(sa.func.max(ReportSnapshot.id))
                                           .where(ReportSnapshot.campaign_id == campaign_id)),
               "valuation": db.session.scalar(sa.select(ValuationSet.id).where(ValuationSet.name == "Layout crawl values"))}
        db.session.remove()
    return ids


def crawl(page: Page, start: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """(pattern → the path visited for it, pages wider than the phone, pages that did not answer 200)."""
    seen: dict[str, str] = {}
    queue = deque(start)
    too_wide: list[str] = []
    failed: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        pattern = pattern_of(path)
        if pattern in seen or NOT_A_SCREEN.search(path.split("?", 1)[0]):
            continue
        seen[pattern] = path
        response = page.goto(path)
        if response is None or response.status != 200:
            failed.append(f"{path}: {response and response.status}")
            continue
        page.wait_for_load_state()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide.append(f"{path} is {width} px wide: {', '.join(page.evaluate(OVERFLOW)) or '?'}")
        queue.extend(link for link in page.evaluate(LINKS) if pattern_of(link) not in seen)
    return seen, too_wide, failed


@pytest.fixture(scope="module")
def reached() -> dict[str, dict[str, str]]:
    return {}


@pytest.mark.parametrize("language", ["en", "nb", "uk"])  # Norwegian and Ukrainian words run longer
@pytest.mark.parametrize("role", ["pm", "admin"])
def test_every_linked_screen_fits_a_phone(page: Page, sign_in, accounts, crawl_world, role, language, reached):
    page.set_viewport_size(PHONE)
    sign_in(page, accounts.pm.email if role == "pm" else accounts.admin.email)
    page.set_extra_http_headers({"Accept-Language": language})  # the account follows its browser
    ids = crawl_world
    c = ids["campaign"]
    # Pages linked only when lists are long, or whose first instance the crawl folds away.
    own = [f"/campaigns/{c}", f"/campaigns/{c}/impact", f"/campaigns/{c}/impact/evidence", f"/reports/{ids['report']}"]
    start = ["/home", ids["screens"], "/catalog/", *own]
    if role == "pm":
        start += ["/home/progress", f"/campaigns/{c}/progress", f"/campaigns/{c}/enrollments/{ids['enrollment']}",
                  f"/valuation-sets/{ids['valuation']}/compare"]
    seen, too_wide, failed = crawl(page, start)
    reached[role] = seen
    assert len(seen) < MAX_PAGES, "the crawl stopped at its limit: raise MAX_PAGES"
    assert not failed, "screens linked from the portal that did not answer 200:\n" + "\n".join(failed)
    assert not too_wide, f"wider than a 390 px phone ({role}):\n" + "\n".join(too_wide)


def test_the_crawl_reached_every_screen_of_the_url_map(live_server, reached):
    if set(reached) != {"pm", "admin"}:
        pytest.skip("runs after the crawls of both roles")
    app = live_server.app
    screens = {rule_pattern(r.rule) for r in app.url_map.iter_rules()
               if "GET" in r.methods and not NOT_A_SCREEN.search(r.rule)}
    seen = set(reached["pm"]) | set(reached["admin"])
    missing = sorted(s for s in screens if s not in seen and s not in UNREACHED_BY_LINKS)
    assert not missing, "screens no link led to, so their width was never measured:\n" + "\n".join(missing)


def fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide: {', '.join(page.evaluate(OVERFLOW)) or '?'}"


def test_the_signed_out_screens_fit_a_phone(new_context):
    page = new_context(viewport=PHONE).new_page()
    page.goto("/sign-in")
    fits(page)
    page.get_by_role("button", name="Sign in").click()  # the refused sign-in, with its error summary
    fits(page)


def test_a_delivery_import_dry_run_fits_a_phone(page: Page, sign_in, accounts, crawl_world, tmp_path):
    """A dry run exists only after an upload: the campaign's own sample file, uploaded."""
    campaign_id = crawl_world["campaign"]
    page.set_viewport_size(PHONE)
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{campaign_id}/deliveries/import")
    fits(page)
    sample = page.request.get(f"/campaigns/{campaign_id}/deliveries/import/sample.csv")
    assert sample.status == 200
    path = tmp_path / "deliveries.csv"
    path.write_bytes(sample.body())
    page.get_by_label(re.compile("CSV file")).set_input_files(str(path))
    page.get_by_role("button", name=re.compile("dry run", re.IGNORECASE)).click()
    page.wait_for_url(re.compile(r"/deliveries/import/[A-Za-z0-9_-]{20,}/"))
    fits(page)
