"""Words for people (issue #13, item 14): plural forms, the WEEI category explained, the
language filter with the languages in use first, and no engineering talk on the screens."""
from __future__ import annotations

import html
import re

from portal.db import utcnow
from tests.helpers import csrf_token


def text_of(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_one_person_on_the_waitlist_is_one_person(app, admin_a_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program, max_enrollment=1, waitlist_enabled=True)
    make.enrollment(camp)
    make.enrollment(camp, status="waitlisted", waitlisted_at=utcnow())
    edit = text_of(admin_a_client.get(f"/campaigns/{camp.id}/edit"))
    assert "1 people" not in edit and "on the waitlist: 1 person" in edit
    dashboard = text_of(admin_a_client.get(f"/campaigns/{camp.id}"))
    assert "1 of 1 seat used" in dashboard


def test_no_s_in_brackets_after_a_bulk_change(app, pm_client, make, tenants, language_program):
    camp = make.campaign(tenants["company_a"], language_program)
    one = make.enrollment(camp)
    token = csrf_token(pm_client, f"/campaigns/{camp.id}")
    pm_client.post(f"/campaigns/{camp.id}/enrollments/bulk", data={
        "csrf_token": token, "action": "complete", "enrollment_ids": [str(one.id)], "confirmed": "yes"})
    page = text_of(pm_client.get(f"/campaigns/{camp.id}"))
    assert "1 enrollment completed." in page and "(s)" not in page


def test_the_weei_category_is_explained_wherever_it_shows(app, pm_client, make):
    template = make.template(category="weei", name="Women into work")
    detail = pm_client.get(f"/templates/{template.key}/v1").get_data(as_text=True)
    assert "Women’s economic empowerment (WEEI)" in html.unescape(detail)
    assert 'title="WEEI: women’s economic empowerment and inclusion' in html.unescape(detail)
    listing = html.unescape(pm_client.get("/templates/").get_data(as_text=True))
    assert "Women’s economic empowerment (WEEI)" in listing and ">WEEI<" not in listing
    group_form = html.unescape(pm_client.get("/groups/new").get_data(as_text=True))
    assert "Women’s economic empowerment (WEEI)" in group_form


def test_the_language_filter_shows_the_languages_in_use_first(app, pm_client, make):
    make.group(languages=["uk", "nb"])
    make.group(languages=["ar"])
    page = html.unescape(pm_client.get("/groups/").get_data(as_text=True))
    select = re.search(r'<select[^>]*name="language".*?</select>', page, re.S).group(0)
    in_use = re.search(r'<optgroup label="In use">(.*?)</optgroup>', select, re.S).group(1)
    assert re.findall(r'value="([^"]+)"', in_use) == ["ar", "nb", "uk"]  # by name: Arabic, Norwegian…, Ukrainian
    rest = re.search(r'<optgroup label="Other languages">(.*?)</optgroup>', select, re.S).group(1)
    assert 'value="de"' in rest and 'value="uk"' not in rest  # each language once
    filtered = html.unescape(pm_client.get("/groups/?language=nb").get_data(as_text=True))
    assert '<option value="nb" selected>' in filtered


def test_no_engineering_talk_on_the_participants_search(app, pm_client, make):
    make.participant(display_name="Anna Berg")
    page = text_of(pm_client.get("/participants/?q=Anna"))
    assert "million" not in page and "instant" not in page and "index" not in page.lower()
    assert "1 match for “Anna”" in page
