"""Issue #13 item 8: a read-only program page for company admins reachable from the catalog
card (what the card promises, with dates and SDG names), SDG names instead of numbers, a
"Start a campaign" on the campaign list, and a home page whose figures and rows lead somewhere."""
from __future__ import annotations

import re
from datetime import date

import pytest


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


@pytest.fixture
def bergen(make):
    group = make.group(name="Ukrainian newcomers in Bergen", group_type="refugees", country="NO",
                       languages=["uk", "nb"], description="GROUP-INTERNAL-CANARY description", tags=["canary-tag"],
                       age_min=18, age_max=64)
    return make.program(make.template("language"), group, name="Language Bergen", sdg_goals=[4, 10, 16],
                        description="Norwegian conversation practice.", start_date=date(2026, 2, 1),
                        end_date=date(2026, 12, 31))


def test_the_catalog_card_leads_to_the_program_page(bergen, admin_a_client):
    catalog = admin_a_client.get("/catalog/").get_data(as_text=True)
    assert f'href="/catalog/{bergen.id}"' in catalog
    response = admin_a_client.get(f"/catalog/{bergen.id}")
    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    for promised in ("Language Bergen", "Norwegian conversation practice.", "Ukrainian newcomers in Bergen",
                     "Refugees", "Norway", "Ukrainian, Norwegian Bokmål", "2026-02-01 to 2026-12-31",
                     "Quality Education", "Reduced Inequalities", "Peace, Justice and Strong Institutions",
                     "Start a campaign"):
        assert promised in page, promised
    html = response.get_data(as_text=True)
    assert re.findall(r'sdg-icon sdg-icon--(\d+)"', html) == ["4", "10", "16"]
    assert f'href="/campaigns/new?program={bergen.id}"' in html
    # what a company may not know of the group never reaches the page
    assert "GROUP-INTERNAL-CANARY" not in html and "canary-tag" not in html and "64" not in page
    assert "/programs/" not in html  # the program team's page is not linked for a company admin


def test_the_page_lists_only_the_viewers_own_campaigns(make, bergen, tenants, admin_a_client, admin_b_client):
    make.campaign(tenants["company_a"], bergen, name="Acme Language")
    make.campaign(tenants["company_b"], bergen, name="CANARY-B Language")
    a = admin_a_client.get(f"/catalog/{bergen.id}").get_data(as_text=True)
    assert "Acme Language" in a and "CANARY-B" not in a
    b = admin_b_client.get(f"/catalog/{bergen.id}").get_data(as_text=True)
    assert "CANARY-B Language" in b and "Acme Language" not in b


@pytest.mark.parametrize("status,visibility", [("draft", "public"), ("paused", "public"), ("active", "private"),
                                               ("archived", "public")])
def test_a_program_outside_the_catalog_is_404_for_a_company_admin(make, status, visibility, admin_a_client,
                                                                  pm_client):
    hidden = make.program(name="Hidden program", status=status, visibility=visibility)
    assert admin_a_client.get(f"/catalog/{hidden.id}").status_code == 404
    assert admin_a_client.get("/catalog/999999").status_code == 404
    # the program team may preview any program as companies would read it
    page = pm_client.get(f"/catalog/{hidden.id}").get_data(as_text=True)
    assert "not in the catalog now" in page and "Start a campaign" not in page


def test_a_paused_program_of_the_companys_own_campaign_stays_readable_without_a_start(make, tenants, admin_a_client,
                                                                                      admin_b_client):
    paused = make.program(name="Paused Language", status="paused")
    make.campaign(tenants["company_a"], paused, name="Acme Paused Run")
    page = admin_a_client.get(f"/catalog/{paused.id}").get_data(as_text=True)
    assert "Acme Paused Run" in page and "not in the catalog now" in page and "/campaigns/new" not in page
    assert admin_b_client.get(f"/catalog/{paused.id}").status_code == 404


def test_sdg_filter_offers_names(bergen, admin_a_client):
    html = admin_a_client.get("/catalog/").get_data(as_text=True)
    assert ">16 · Peace, Justice and Strong Institutions</option>" in html


def test_the_campaign_list_offers_to_start_a_campaign(admin_a_client, pm_client):
    admin = admin_a_client.get("/campaigns/").get_data(as_text=True)
    assert re.search(r'<a class="button button--primary" href="/catalog/">Start a campaign</a>', admin)
    pm = pm_client.get("/campaigns/").get_data(as_text=True)
    assert re.search(r'<a class="button button--primary" href="/campaigns/new">Start a campaign</a>', pm)


def test_every_home_figure_and_row_leads_somewhere(make, tenants, admin_a_client, pm_client):
    full = make.campaign(tenants["company_a"], name="Acme Nearly Full", max_enrollment=10)
    make.seat_counters(full, enrolled=9)
    for client, programs_link in ((pm_client, "/programs/?status=active"),
                                  (admin_a_client, "/campaigns/?status=active")):
        html = client.get("/home").get_data(as_text=True)
        figures = html.split('aria-label="Key figures"', 1)[1].split("</section>", 1)[0]
        assert figures.count('class="stat stat--link"') == 4 and "<div class=\"stat\"" not in figures
        assert f'href="{programs_link}"' in figures
        assert 'href="/campaigns/?status=active"' in figures
        assert re.search(r'href="/activity/\?type=program.enrollment&amp;since=\d{4}-\d{2}-01"', figures)
        assert 'href="#capacity-title"' in figures
        assert f'<a href="/campaigns/{full.id}">Acme Nearly Full</a>' in html
        assert 'href="/activity/">All activity</a>' in html
        # the figure's link opens a page that answers
        assert client.get(programs_link).status_code == 200
