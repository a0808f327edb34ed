"""The catalog (SPEC §4) through the test client, for both roles: only active public
programs, filters and search through the URL, k-suppressed figures, tenancy of the
"your company" count, the HTMX fragment, keyset paging and a constant statement count."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import counting_statements

NAME = re.compile(r'id="program-(\d+)-name">([^<]+)</h2>')
NEXT = re.compile(r'href="([^"]+)"[^>]*>More programs')


def card_names(html: str) -> list[str]:
    return [name for _, name in NAME.findall(html)]


def get_names(client, query: str = "", **kw) -> list[str]:
    response = client.get(f"/catalog/{query}", **kw)
    assert response.status_code == 200, response.status_code
    return card_names(response.get_data(as_text=True))


def card_html(html: str, program_name: str) -> str:
    """The markup of one card (from its <article> to the next)."""
    start = html.index(f">{program_name}</h2>")
    start = html.rindex("<article", 0, start)
    return html[start:html.index("</article>", start)]


@pytest.fixture
def world(make):
    """Three groups in three countries, two categories, varied SDGs and languages."""
    mentorship, language = make.template("mentorship"), make.template("language")
    norway = make.group(name="Ukrainian newcomers in Bergen", group_type="refugees", country="NO",
                        languages=["uk", "nb"], description="GROUP-INTERNAL-CANARY description",
                        tags=["canary-tag"], age_min=18, age_max=64)
    germany = make.group(name="Syrian families in Leipzig", group_type="migrants", country="DE",
                         languages=["ar", "de"])
    sweden = make.group(name="Young jobseekers in Malmö", group_type="youth", country="SE", languages=["sv", "en"])
    programs = {
        "Mentors Bergen": make.program(mentorship, norway, name="Mentors Bergen", sdg_goals=[4, 8, 10],
                                       description="Career mentoring with engineers."),
        "Language Bergen": make.program(language, norway, name="Language Bergen", sdg_goals=[4, 10, 16],
                                        description="Norwegian conversation practice."),
        "Mentors Leipzig": make.program(mentorship, germany, name="Mentors Leipzig", sdg_goals=[4, 8, 10, 5],
                                        description="Mentoring for 100% of newcomers."),
        "Language Malmö": make.program(language, sweden, name="Language Malmö", sdg_goals=[4, 10, 16, 17],
                                       description="Swedish for work."),
    }
    return {"programs": programs, "groups": {"NO": norway, "DE": germany, "SE": sweden}}


# --- what the catalog shows -------------------------------------------------------------
@pytest.mark.parametrize("who", ["pm_client", "admin_a_client"])
def test_only_active_public_programs_are_listed(request, make, world, who):
    group = world["groups"]["NO"]
    make.program(group=group, name="Draft Hidden", status="draft")
    make.program(group=group, name="Paused Hidden", status="paused")
    make.program(group=group, name="Completed Hidden", status="completed")
    make.program(group=group, name="Archived Hidden", status="archived")
    make.program(group=group, name="Private Hidden", visibility="private")
    client = request.getfixturevalue(who)
    names = get_names(client)
    assert sorted(names) == sorted(world["programs"])
    assert "Hidden" not in client.get("/catalog/").get_data(as_text=True)


def test_own_campaign_of_a_private_or_paused_program_does_not_put_it_in_the_catalog(make, tenants, world,
                                                                                      admin_a_client):
    private = make.program(group=world["groups"]["NO"], name="Private Own", visibility="private")
    paused = make.program(group=world["groups"]["NO"], name="Paused Own", status="paused")
    make.campaign(tenants["company_a"], private)
    make.campaign(tenants["company_a"], paused)
    names = get_names(admin_a_client)
    assert "Private Own" not in names and "Paused Own" not in names


def test_newest_first(make, world, pm_client):
    newest = make.program(group=world["groups"]["SE"], name="Newest of all")
    assert get_names(pm_client)[0] == newest.name


def test_card_shows_category_group_country_languages_sdgs_and_start_link(world, pm_client):
    html = pm_client.get("/catalog/").get_data(as_text=True)
    card = card_html(html, "Language Bergen")
    assert "Language</span>" in card  # category label
    assert "Ukrainian newcomers in Bergen" in card and "Refugees" in card
    assert "Norway" in card and "Ukrainian, Norwegian Bokmål" in card
    assert re.findall(r'<li class="sdg-item" title="SDG (\d+):', card) == ["4", "10", "16"]
    assert "Quality Education" in card and "Peace, Justice and Strong Institutions" in card  # names, not numbers
    assert "Norwegian conversation practice." in card
    program_id = world["programs"]["Language Bergen"].id
    assert f'href="/campaigns/new?program={program_id}"' in card


def test_group_internals_never_reach_the_page(world, admin_a_client, pm_client):
    for client in (admin_a_client, pm_client):
        html = client.get("/catalog/").get_data(as_text=True)
        assert "GROUP-INTERNAL-CANARY" not in html and "canary-tag" not in html
        assert "18" not in card_html(html, "Mentors Bergen")  # no age range


# --- filters through the URL --------------------------------------------------------------
@pytest.mark.parametrize("query,expected", [
    ("?category=mentorship", {"Mentors Bergen", "Mentors Leipzig"}),
    ("?category=language", {"Language Bergen", "Language Malmö"}),
    ("?country=NO", {"Mentors Bergen", "Language Bergen"}),
    ("?country=de", {"Mentors Leipzig"}),  # case-insensitive code
    ("?group_type=youth", {"Language Malmö"}),
    ("?group_type=migrants", {"Mentors Leipzig"}),
    ("?language=uk", {"Mentors Bergen", "Language Bergen"}),
    ("?language=en", {"Language Malmö"}),
    ("?language=ar", {"Mentors Leipzig"}),
    ("?language=fr", set()),
    ("?sdg=16", {"Language Bergen", "Language Malmö"}),
    ("?sdg=5", {"Mentors Leipzig"}),
    ("?sdg=4", {"Mentors Bergen", "Language Bergen", "Mentors Leipzig", "Language Malmö"}),
    ("?sdg=1", set()),
    ("?category=language&country=NO", {"Language Bergen"}),
    ("?category=mentorship&sdg=5&language=de", {"Mentors Leipzig"}),
    ("?category=mentorship&country=SE", set()),
    ("?language=uk&sdg=16&group_type=refugees", {"Language Bergen"}),
    ("?q=bergen&category=mentorship", {"Mentors Bergen"}),
])
def test_filters_narrow_the_list(world, admin_a_client, query, expected):
    assert set(get_names(admin_a_client, query)) == expected


@pytest.mark.parametrize("q,expected", [
    ("MENTORS", {"Mentors Bergen", "Mentors Leipzig"}),  # name, case-insensitive
    ("conversation", {"Language Bergen"}),  # description
    ("syrian families", {"Mentors Leipzig"}),  # group name
    ("Malmö", {"Language Malmö"}),  # non-ASCII
    ("  bergen  ", {"Mentors Bergen", "Language Bergen"}),  # trimmed
    ("100%", {"Mentors Leipzig"}),
    ("%", {"Mentors Leipzig"}),  # % is a character, not a wildcard
    ("_", set()),  # so is _
    ("nothing-like-this", set()),
])
def test_search_over_name_description_and_group(world, pm_client, q, expected):
    assert set(get_names(pm_client, query_string={"q": q})) == expected


@pytest.mark.parametrize("query", [
    "?category=nope", "?country=XX", "?country=Norway", "?group_type=aliens", "?language=xx", "?sdg=18",
    "?sdg=0", "?sdg=-1", "?sdg=4.5", "?sdg=99999999999999999999", "?after=garbage",
    "?after=MjAyNi0wMS0wMVQwMDowMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5", "?after=MjAyNi0wMS0wMVQwMDowMDowMHwx",
])
def test_unknown_filter_values_and_tampered_cursors_are_ignored(world, pm_client, query):
    # a tampered cursor (huge id, naive time) starts at the first page instead of failing
    assert set(get_names(pm_client, query)) == set(world["programs"])


def test_filters_are_reflected_in_the_form(world, admin_a_client):
    html = admin_a_client.get("/catalog/?category=language&country=NO&language=uk&sdg=16&group_type=refugees"
                              "&q=bergen").get_data(as_text=True)
    for name, value in [("category", "language"), ("country", "NO"), ("language", "uk"), ("sdg", "16"),
                        ("group_type", "refugees")]:
        select = re.search(rf'<select id="[^"]+" name="{name}">(.*?)</select>', html, re.S).group(1)
        assert re.findall(r'value="([^"]*)" selected', select) == [value], name
    assert 'name="q" value="bergen"' in html
    # the country and language choices are those of the catalog's groups
    assert 'value="DE"' in html and 'value="FR"' not in html
    assert 'value="ar"' in html and 'value="fr"' not in html


# --- figures ------------------------------------------------------------------------------
def _enroll(make, campaign, n, **kw):
    for _ in range(n):
        make.enrollment(campaign, **kw)


@pytest.mark.parametrize("counted,shown,admin_shown", [(9, "fewer than 10", "fewer than 10"), (10, "10", "about 10"),
                                                       (0, "fewer than 10", "fewer than 10"),
                                                       (14, "14", "about 10"), (15, "15", "about 20")])
def test_enrollment_figure_is_k_suppressed(make, tenants, world, admin_a_client, pm_client, counted, shown,
                                           admin_shown):
    program = world["programs"]["Mentors Bergen"]
    active = counted // 2
    # The card sums the campaigns' seat counters (active + completed beneficiaries), which
    # the factory moves with each row as the enrollment operations do.
    a = make.campaign(tenants["company_a"], program)
    b = make.campaign(tenants["company_b"], program)
    _enroll(make, a, active)
    from portal.db import utcnow

    _enroll(make, b, counted - active, status="completed", completed_at=utcnow())
    _enroll(make, a, 3, role="volunteer")
    _enroll(make, b, 2, status="dropped", dropped_at=utcnow())
    _enroll(make, b, 2, status="waitlisted", enrolled_at=None, waitlisted_at=utcnow())
    # Program managers see the k-suppressed figure; a company admin (whose own campaign is part
    # of it) only a rounded one, so subtracting its own exact counts reveals nothing.
    for client, expected in ((admin_a_client, admin_shown), (pm_client, shown)):
        card = card_html(client.get("/catalog/").get_data(as_text=True), program.name)
        assert f"<dd>{expected} beneficiaries</dd>" in card


def test_company_admin_sees_its_own_campaign_count_and_nothing_of_another_company(make, tenants, world,
                                                                                   admin_a_client, admin_b_client,
                                                                                   pm_client):
    mentors, language = world["programs"]["Mentors Bergen"], world["programs"]["Language Bergen"]
    make.campaign(tenants["company_a"], mentors, name="Acme mentoring 2026")
    make.campaign(tenants["company_a"], mentors, name="Acme mentoring 2027", status="draft")
    for n in range(3):
        make.campaign(tenants["company_b"], mentors, name=f"CANARY-BOREALIS-CAMPAIGN-{n}")
    make.campaign(tenants["company_b"], language, name="CANARY-BOREALIS-LANGUAGE")

    html_a = admin_a_client.get("/catalog/").get_data(as_text=True)
    assert "Your company: 2 campaigns" in card_html(html_a, mentors.name)
    assert "Your company" not in card_html(html_a, language.name)
    assert "CANARY" not in html_a and "Borealis" not in html_a
    assert "3 campaigns" not in html_a and "1 campaign" not in html_a

    html_b = admin_b_client.get("/catalog/").get_data(as_text=True)
    assert "Your company: 3 campaigns" in card_html(html_b, mentors.name)
    assert "Your company: 1 campaign<" in card_html(html_b, language.name)
    assert "Acme" not in html_b and "CANARY" not in html_b

    html_pm = pm_client.get("/catalog/").get_data(as_text=True)
    assert "Your company" not in html_pm and "CANARY" not in html_pm


def test_start_a_campaign_leads_to_the_prefilled_start_page(world, admin_a_client, pm_client):
    program = world["programs"]["Language Malmö"]
    for client in (admin_a_client, pm_client):
        page = client.get(f"/campaigns/new?program={program.id}")
        assert page.status_code == 200
        assert program.name in page.get_data(as_text=True)


# --- HTMX and paging ----------------------------------------------------------------------
def test_htmx_request_gets_only_the_results_fragment(world, admin_a_client):
    full = admin_a_client.get("/catalog/?category=language")
    assert "HX-Request" in full.headers.get("Vary", "")
    assert "<html" in full.get_data(as_text=True) and 'hx-get="/catalog/"' in full.get_data(as_text=True)

    fragment = admin_a_client.get("/catalog/?category=language&country=&q=", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert body.lstrip().startswith('<div id="catalog-results"')
    assert "<html" not in body and "<form" not in body and "<select" not in body
    assert set(card_names(body)) == {"Language Bergen", "Language Malmö"}
    # the address bar gets the tidy URL: no empty parameters
    assert fragment.headers["HX-Push-Url"] == "/catalog/?category=language"


def test_boosted_or_history_restore_requests_get_the_full_page(world, pm_client):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        body = pm_client.get("/catalog/", headers={"HX-Request": "true", **extra}).get_data(as_text=True)
        assert "<html" in body


def _walk(client, first_url, headers=None):
    names, url, pages = [], first_url, 0
    while url:
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200
        html = response.get_data(as_text=True).replace("&amp;", "&")
        names += card_names(html)
        pages += 1
        match = NEXT.search(html)
        url = match.group(1) if match else None
        if url:
            assert "after=" in url
    return names, pages


@pytest.mark.parametrize("htmx", [False, True])
def test_paging_visits_every_program_once_and_keeps_filters(app, make, world, pm_client, htmx):
    app.config["PORTAL_CATALOG_PAGE_SIZE"] = 5
    template = make.template("language")
    extra = [make.program(template, world["groups"]["DE"], name=f"Paged {n:02d}") for n in range(11)]
    headers = {"HX-Request": "true"} if htmx else None

    names, pages = _walk(pm_client, "/catalog/", headers)
    assert len(names) == len(set(names)) == 15 and pages == 3
    assert names[:11] == [p.name for p in reversed(extra)]

    names, pages = _walk(pm_client, "/catalog/?category=language&country=DE", headers)
    assert names == [p.name for p in reversed(extra)] and pages == 3

    html = pm_client.get("/catalog/?category=language&country=DE").get_data(as_text=True).replace("&amp;", "&")
    query = parse_qs(urlsplit(NEXT.search(html).group(1)).query)
    assert query["category"] == ["language"] and query["country"] == ["DE"] and query["after"]


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/catalog/")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


# --- statements ---------------------------------------------------------------------------
counting = counting_statements


def _fill(make, tenants, n):
    template = make.template("mentorship")
    group = make.group(languages=["uk"], country="PL")
    for i in range(n):
        program = make.program(template, group, name=f"Filler {n}-{i}", sdg_goals=[4, 8])
        if i % 4 == 0:
            campaign = make.campaign(tenants["company_a"], program)
            make.enrollment(campaign)
            make.campaign(tenants["company_b"], program)


@pytest.mark.parametrize("who", ["pm", "admin_a"])
@pytest.mark.parametrize("query,headers", [
    ("", {}),
    ("?category=mentorship&country=PL&language=uk&sdg=8&q=filler", {}),
    ("?language=uk", {"HX-Request": "true"}),
])
def test_statement_count_per_page_is_constant(app, make, tenants, who, query, headers):
    from tests.conftest import sign_in_client

    app.config["PORTAL_CATALOG_PAGE_SIZE"] = 50  # both fills fit on one page
    app.config["PORTAL_CATALOG_CHOICES_TTL"] = 0  # every full page reads its filter choices
    client = sign_in_client(app, tenants[who])
    _fill(make, tenants, 5)
    with counting(app) as small:
        html = client.get(f"/catalog/{query}", headers=headers).get_data(as_text=True)
    assert len(card_names(html)) == 5
    _fill(make, tenants, 40)
    with counting(app) as big:
        html = client.get(f"/catalog/{query}", headers=headers).get_data(as_text=True)
    assert len(card_names(html)) == 45
    assert len(small) == len(big), (small, big)
    assert len(small) <= 6, small


def test_filter_choices_are_reused_but_cards_are_always_fresh(app, make, world, pm_client):
    app.config["PORTAL_CATALOG_CHOICES_TTL"] = 60
    with counting(app) as first:
        pm_client.get("/catalog/")
    newcomer = make.program(group=make.group(country="FR", languages=["fr"]), name="Fresh in France")
    with counting(app) as second:
        html = pm_client.get("/catalog/").get_data(as_text=True)
    assert len(second) == len(first) - 2  # countries and languages came from the cache
    assert card_names(html)[0] == newcomer.name
    assert 'value="FR"' not in html  # until the choices expire...
    assert 'value="FR" selected' in pm_client.get("/catalog/?country=FR").get_data(as_text=True)  # ...or asked for
    app.config["PORTAL_CATALOG_CHOICES_TTL"] = 0
    app.extensions["portal_catalog"].clear()
    assert 'value="FR"' in pm_client.get("/catalog/").get_data(as_text=True)


def test_choices_leave_out_groups_with_only_private_or_inactive_programs(make, world, pm_client):
    make.program(group=make.group(country="IS", languages=["is"]), name="Private Iceland", visibility="private")
    make.program(group=make.group(country="MT", languages=["mt"]), name="Draft Malta", status="draft")
    html = pm_client.get("/catalog/").get_data(as_text=True)
    assert 'value="IS"' not in html and 'value="MT"' not in html
    assert 'value="is"' not in html and 'value="mt"' not in html
