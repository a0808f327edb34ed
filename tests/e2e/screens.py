"""Every screen each role may open, with real objects behind the detail pages: one list
shared by the browser gates that visit them all (accessibility, layout).

``ensure_screens_world`` makes a small world (template, group, program, campaign with
enrollments and a waitlisted person, subscription with an allocation) through the
operations on the live server's database, once; ``pm_screens``/``admin_screens`` return
the paths to visit, list pages and their first detail page alike."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from playwright.sync_api import Page

MASTERS = Path(__file__).resolve().parents[2] / "portal" / "configuration" / "masters"

# Every screen must answer 200: one that errors fails the gate, it is never skipped.
PM_PATHS = ["/home", "/templates/", "/templates/new", "/templates/a11y-buddy", "/templates/a11y-buddy/compare",
            "/programs/", "/programs/new", "/campaigns/", "/activity/", "/l2i/", "/l2i/new", "/admin/",
            "/admin/companies/new", "/admin/users/new", "/groups/", "/groups/new", "/catalog/", "/participants/",
            "/valuation-sets/", "/valuation-sets/new", "/privacy/", "/webhooks/", "/webhooks/new", "/account/tokens/"]
ADMIN_PATHS = ["/home", "/campaigns/", "/activity/", "/l2i/", "/catalog/", "/account/tokens/"]
# The world's campaign: a cap of 2, two beneficiaries in the seats and one on the waitlist.
CAMPAIGN_NAME = "Acme Buddy (a11y)"


@dataclass(frozen=True)
class ScreensWorld:
    campaign: str  # the world's campaign page, e.g. "/campaigns/1"


def ensure_screens_world(live_server) -> ScreensWorld:
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.models import Campaign
    from portal.campaigns.operations import create_campaign, transition_campaign
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant, enroll_participant
    from portal.l2i.operations import allocate, create_subscription
    from portal.program_templates.models import ProgramTemplate
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    master = json.loads((MASTERS / "buddy.json").read_text())
    with live_server.app.app_context():
        existing = db.session.scalar(sa.select(ProgramTemplate.id).where(ProgramTemplate.key == "a11y-buddy"))
        if existing is None:
            with transaction():
                acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
                template = create_template(None, key="a11y-buddy", name="Buddy (a11y)", category="buddy",
                                           config_schema=master["config_schema"],
                                           default_config=master["default_config"], ui_schema=master["ui_schema"])
                publish_template(None, template)
                group = create_group(None, name="Newcomers in Bergen (a11y)", group_type="newcomers", country="NO",
                                     languages=["en", "uk"], eligible_categories=["buddy"])
                program = launch_program(None, template=template, group=group, name="Buddy Bergen (a11y)")
                transition_program(None, program, "active")
                campaign = create_campaign(None, program=program, company=acme, name=CAMPAIGN_NAME,
                                           start_date=date(2026, 1, 1), max_enrollment=2, waitlist_enabled=True,
                                           budget_allocated=100_000, seat_price=10_000)
                transition_campaign(None, campaign, "active")
                for i in range(3):  # two take the seats, the third is waitlisted
                    person = create_participant(None, display_name=f"A11y Person {i}", languages=["en"])
                    db.session.flush()
                    enroll_participant(None, campaign.id, person)
                sub = create_subscription(None, company=acme, sku="L2I-250", annual_price=1_000_000, currency="NOK",
                                          period_start=date(date.today().year, 1, 1), period_end=date(date.today().year, 12, 31))
                db.session.flush()
                allocate(None, sub.id, share="0.3", period_start=date(date.today().year, 1, 1), period_end=date(date.today().year, 12, 31),
                         campaign=campaign)
        campaign_id = db.session.scalars(sa.select(Campaign.id).where(Campaign.name == CAMPAIGN_NAME)).one()
        db.session.remove()
    # Its own campaign, not "the first in the list": other modules on the same live server
    # add campaigns, some without enrollments.
    return ScreensWorld(campaign=f"/campaigns/{campaign_id}")


def detail_links(page: Page, list_path: str, pattern: str) -> list[str]:
    """The first detail page linked from ``list_path`` (which must answer 200)."""
    response = page.goto(list_path)
    assert response is not None and response.status == 200, f"{list_path}: {response and response.status}"
    hrefs = page.eval_on_selector_all(f"main a[href^='{pattern}']", "els => els.map(e => e.getAttribute('href'))")
    detail = re.compile(re.escape(pattern) + r"\d+$")
    first = [h for h in hrefs if h and detail.match(h)][:1]
    assert first, f"{list_path} links to no {pattern}<id> page to check"
    return first


def pm_screens(page: Page, world: ScreensWorld) -> list[str]:
    """Every screen a signed-in program manager may open (``page`` is used to find the detail pages)."""
    details = []
    for list_path, pattern in (("/programs/", "/programs/"), ("/l2i/", "/l2i/"), ("/admin/", "/admin/users/")):
        details += detail_links(page, list_path, pattern)
    campaign = world.campaign
    program = next(p for p in details if p.startswith("/programs/"))
    details.append(campaign)
    details += [f"{campaign}/edit", f"{campaign}/config", f"{campaign}/enroll", f"{program}/config"]
    details += detail_links(page, campaign, f"{campaign}/enrollments/")
    return PM_PATHS + details


def admin_screens(page: Page, world: ScreensWorld) -> list[str]:
    """Every screen a signed-in company admin may open."""
    details = detail_links(page, "/l2i/", "/l2i/")
    campaign = world.campaign
    details.append(campaign)
    details += [f"{campaign}/edit", f"{campaign}/enroll"] + detail_links(page, campaign, f"{campaign}/enrollments/")
    return ADMIN_PATHS + details


PHONE = {"width": 390, "height": 844}

# The outermost elements that stick out of the viewport (and are not inside a box that
# scrolls them), to say *what* made a page too wide.
STICKING_OUT = """() => {
  const vw = document.documentElement.clientWidth, out = [];
  const scrolled = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible' && getComputedStyle(el).position !== 'absolute') return true; }
    return false; };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect(), parent = el.parentElement.getBoundingClientRect();
    if (r.width && r.right > vw + 0.5 && parent.right <= vw + 0.5 && !scrolled(el))
      out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} (right edge ${Math.round(r.right)} px)`);
  }
  return out.slice(0, 5);
}"""
