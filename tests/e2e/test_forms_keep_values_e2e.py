"""Issue 13, item 1: without JavaScript, a form that fails to save comes back with every value the
user had: text, textareas, selects, every ticked box of a multi-checkbox field, configuration
values. And the sibling forms of the same page keep showing what is saved: after a failed
defaults save, a template's SDG boxes stay ticked and "Save details" keeps them.

Each test fills a form in a browser with JavaScript off, makes one value invalid, submits, and
compares what the browser would submit before and after (FormData, CSRF token and passwords
aside: a password is never sent back to the page)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

# Never sent back to the page (a password), or not typed by anyone: the wizard's and the campaign
# form's overrides_json is the server's summary of the configuration fields, which are compared.
NEVER_ECHOED = ("csrf_token", "password", "password_confirm", "confirm", "overrides_json")


@pytest.fixture
def no_js(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def world(live_server) -> dict[str, int]:
    """Objects whose forms the tests fail to save: a draft template, a group, an active program
    with a campaign, a participant, a subscription with an allocation."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.models import BeneficiaryGroup
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.operations import create_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.enrollments.operations import create_participant
    from portal.l2i.operations import allocate, create_subscription
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    year = date.today().year
    with live_server.app.app_context():
        with transaction():
            acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
            buddy = load_master("buddy")
            draft = create_template(None, key="keep-values-draft", name="Keep values draft", category="mentorship",
                                    config_schema=load_master("mentorship")["config_schema"],
                                    default_config=load_master("mentorship")["default_config"], sdg_goals=[4, 10])
            template = create_template(None, key="keep-values-buddy", name="Keep values buddy", category="buddy",
                                       config_schema=buddy["config_schema"], default_config=buddy["default_config"],
                                       ui_schema=buddy["ui_schema"])
            publish_template(None, template)
            group = create_group(None, name="Keep values newcomers", group_type="newcomers", country="NO",
                                 languages=["en"], eligible_categories=["buddy"])
            program = launch_program(None, template=template, group=group, name="Keep values program")
            transition_program(None, program, "active")
            campaign = create_campaign(None, program=program, company=acme, name="Keep values campaign",
                                       start_date=date(year, 1, 1), max_enrollment=10)
            person = create_participant(None, display_name="Keep Values Person", languages=["en"])
            subscription = create_subscription(None, company=acme, sku="L2I-250", annual_price=1_000_000,
                                               currency="NOK", period_start=date(year, 1, 1),
                                               period_end=date(year, 12, 31))
            db.session.flush()
            allocation = allocate(None, subscription.id, share="0.2", period_start=date(year, 1, 1),
                                  period_end=date(year, 12, 31), campaign=campaign)
            db.session.flush()
            ids = {"draft": draft.version, "template": template.id, "group": group.id, "program": program.id,
                   "campaign": campaign.id, "participant": person.id, "subscription": subscription.id,
                   "allocation": allocation.id}
        assert db.session.get(BeneficiaryGroup, ids["group"]) is not None
        db.session.remove()
    return ids


# --- helpers ----------------------------------------------------------------------------
def form_with(page: Page, button: str) -> Locator:
    """The form holding the submit button named ``button``."""
    return page.locator("form", has=page.get_by_role("button", name=button, exact=True)).first


def submitted(form: Locator) -> list[tuple[str, str]]:
    """What the browser would submit from ``form`` (CSRF token and passwords aside)."""
    entries = form.evaluate("f => Array.from(new FormData(f).entries()).map(([k, v]) => [k, String(v)])")
    return [(k, v) for k, v in entries if k not in NEVER_ECHOED and not k.startswith("password")]


def fill(form: Locator, values: dict[str, object]) -> None:
    """Set each named control as a person would: type text, choose an option, tick boxes
    (a list of values for a group of checkboxes, True/False for one)."""
    for name, value in values.items():
        controls = form.locator(f"[name='{name}']:not([type=hidden])")
        first = controls.first
        tag = first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            first.select_option(str(value))
        elif tag.endswith(":checkbox"):
            wanted = {str(v) for v in value} if isinstance(value, list) else None
            for i in range(controls.count()):
                box = controls.nth(i)
                box.set_checked(bool(value) if wanted is None else box.get_attribute("value") in wanted)
        else:
            first.fill(str(value))


def fail_and_compare(page: Page, button: str, values: dict[str, object], *, status: int = 422,
                     error: str | re.Pattern[str] | None = None) -> list[tuple[str, str]]:
    """Fill, submit (the save fails), and check the re-rendered form submits the same values."""
    form = form_with(page, button)
    fill(form, values)
    before = submitted(form)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_role("button", name=button, exact=True).click()
    assert answer.value.status == status, f"{page.url}: {answer.value.status}"
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    if error is not None:
        expect(summary).to_contain_text(error)
    after = submitted(form_with(page, button))
    assert after == before, f"{page.url} lost what was typed:\n before {before}\n after  {after}"
    return after


def checked_sdgs(page: Page) -> list[str]:
    return sorted(page.locator("#details input[name=sdg_goals]:checked").evaluate_all("bs => bs.map(b => b.value)"),
                  key=int)


# --- the reported bug ------------------------------------------------------------------------
def test_a_failed_defaults_save_keeps_the_sdgs_and_save_details_does_not_wipe_them(no_js: Page, sign_in, accounts,
                                                                                     world):
    page = no_js
    sign_in(page, accounts.pm.email)
    edit = f"/templates/keep-values-draft/v{world['draft']}/edit"
    page.goto(edit)
    expect(page.get_by_role("heading", name=re.compile("Edit Keep values draft"))).to_be_visible()
    assert checked_sdgs(page) == ["4", "10"]

    # A failed defaults save: the configuration keeps what was typed...
    defaults = fail_and_compare(page, "Save defaults", {"cfg.session.defaultDurationMinutes": "500",
                                                        "cfg.session.maxSessionsPerMonth": "6",
                                                        "cfg.session.allowInPersonSessions": True},
                                error="Default session duration")
    assert ("cfg.session.defaultDurationMinutes", "500") in defaults
    # ...and the Details form beside it still shows the saved SDGs, name and category.
    assert checked_sdgs(page) == ["4", "10"]
    expect(page.locator("#details").get_by_label("Name", exact=True)).to_have_value("Keep values draft")
    expect(page.locator("#category")).to_have_value("mentorship")

    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("status")).to_contain_text("Details saved.")
    assert checked_sdgs(page) == ["4", "10"]  # not wiped
    page.goto(edit)  # read back from the database
    assert checked_sdgs(page) == ["4", "10"]


# --- every form of the portal ------------------------------------------------------------------
def test_template_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto("/templates/new")
    fail_and_compare(page, "Create draft", {"start_from": "", "name": "", "key": "kept-key", "category": "language",
                                            "description": "Kept\nover two lines"}, error="Enter a name.")

    page.goto(f"/templates/keep-values-draft/v{world['draft']}/edit")
    fail_and_compare(page, "Save details", {"name": "", "category": "buddy", "tags": "kept, tags",
                                            "description": "Kept description", "sdg_goals": ["1", "5", "17"]},
                     error="Enter a name.")
    page.goto(f"/templates/keep-values-draft/v{world['draft']}/edit")
    fail_and_compare(page, "Save schema", {"config_schema": '{"type": "object", ', "ui_schema": '{"ui:order": []}'})


def test_group_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    group = {"name": "Kept newcomers", "key": "", "description": "Kept description", "group_type": "newcomers",
             "country": "NO", "region": "Vestland", "city": "Bergen", "age_min": "200", "age_max": "40",
             "languages": "uk, en", "language_requirement": "beginner",
             "eligible_categories": ["buddy", "language"], "tags": "kept, tags",
             "active_from": "2026-01-01", "active_until": "2026-12-31"}
    page.goto("/groups/new")
    fail_and_compare(page, "Create group", group, error="Ages are between 0 and 120.")
    page.goto(f"/groups/{world['group']}/edit")
    fail_and_compare(page, "Save group", {k: v for k, v in group.items() if k != "key"},
                     error="Ages are between 0 and 120.")


def test_program_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(f"/programs/new?template={world['template']}&group={world['group']}")
    fail_and_compare(page, "Review", {"name": "", "description": "Kept description", "visibility": "private",
                                      "extra_sdgs": ["1", "5"], "cfg.matching.maxAgeDifference": "99",
                                      "cfg.events.minEventsPerMonth": "7"}, status=422)
    page.goto(f"/programs/{world['program']}/config")
    fail_and_compare(page, "Save configuration", {"cfg.matching.maxAgeDifference": "99",
                                                  "cfg.events.minEventsPerMonth": "7"})


def test_campaign_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    capacity = {"description": "Kept description", "start_date": "2026-02-01", "end_date": "2026-01-01",
                "target_enrollment": "8", "max_enrollment": "12", "target_volunteers": "3", "currency": "NOK",
                "budget_allocated": "1000.50", "seat_price": "10.25", "waitlist_enabled": True,
                "internal_code": "KEPT-1", "tags": "kept, tags"}
    page.goto(f"/campaigns/new?program={world['program']}")
    fail_and_compare(page, "Create draft campaign", {"name": "Kept campaign", **capacity,
                                                     "cfg.events.minEventsPerMonth": "7"})
    page.goto(f"/campaigns/{world['campaign']}/edit")
    fail_and_compare(page, "Save campaign", {"name": "Keep values campaign", **capacity})
    page.goto(f"/campaigns/{world['campaign']}/config")
    fail_and_compare(page, "Save configuration", {"cfg.matching.maxAgeDifference": "99",
                                                  "cfg.events.minEventsPerMonth": "7"})


def test_people_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(f"/participants/{world['participant']}/edit")
    fail_and_compare(page, "Save participant", {"display_name": "Kept Person", "email": "not-an-address",
                                                "external_ref": "REF-1", "year_of_birth": "1990",
                                                "languages": "uk, en", "country": "UA", "is_enabled": False},
                     error="E-mail")
    page.goto(f"/campaigns/{world['campaign']}/enroll")
    fail_and_compare(page, "Enroll", {"display_name": "", "email": "kept@example.org", "external_ref": "REF-2",
                                      "year_of_birth": "1990", "country": "UA", "languages": "uk"},
                     status=422, error="Name")
    page.goto("/admin/companies/new")
    fail_and_compare(page, "Create company", {"name": "", "key": "kept-co", "country": "NO",
                                              "industry": "Kept industry"}, error="Enter a name.")
    page.goto("/admin/users/new")
    fail_and_compare(page, "Create user", {"email": "kept@example.org", "name": "", "role": "company_admin",
                                           "password": "long-enough-password"}, error="Enter a name.")


def test_l2i_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto("/l2i/new")
    fail_and_compare(page, "Record subscription", {"sku": "L2I-250", "annual_price": "12.345", "currency": "NOK",
                                                   "period_start": "2026-01-01", "period_end": "2026-12-31",
                                                   "status": "active"}, error="Annual price")
    page.goto(f"/l2i/{world['subscription']}")
    fail_and_compare(page, "Allocate", {"target": f"campaign:{world['campaign']}", "share": "150", "period_start": "2026-02-01", "period_end": "2026-11-30"},
                     error=re.compile("Share|left|100"))
    page.goto(f"/l2i/{world['subscription']}/allocations/{world['allocation']}/edit")
    fail_and_compare(page, "Save allocation", {"share": "150", "period_start": "2026-02-01",
                                               "period_end": "2026-11-30"}, error=re.compile("Share|left|100"))


def test_sign_in_keeps_the_email(no_js: Page, accounts):
    page = no_js
    page.goto("/sign-in")
    form = form_with(page, "Sign in")
    fill(form, {"email": accounts.pm.email, "password": "wrong-password-123"})
    form.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    expect(page.get_by_label("E-mail", exact=True)).to_have_value(accounts.pm.email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")  # never echoed


# --- the forms added since (issue #13 audit): deliveries, attendance, valuation sets, webhooks,
# tokens, reports, privacy ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def newer(live_server, world) -> dict[str, int]:
    """An active beneficiary enrollment in the world's campaign, a draft valuation set, a
    webhook endpoint, and a participant to (fail to) erase."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.beneficiaries.operations import create_group
    from portal.campaigns.operations import create_campaign, transition_campaign
    from portal.configuration.masters import load_master
    from portal.db import db, transaction
    from portal.enrollments.models import Participant
    from portal.enrollments.operations import enroll_participant
    from portal.impact.operations import create_valuation_set
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program
    from portal.webhooks.operations import create_endpoint

    with live_server.app.app_context():
        with transaction():
            acme = db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()
            mentorship = load_master("mentorship")  # a program with sessions: the attendance sheet
            template = create_template(None, key="keep-values-mentorship", name="Keep values mentorship",
                                       category="mentorship", config_schema=mentorship["config_schema"],
                                       default_config=mentorship["default_config"], ui_schema=mentorship["ui_schema"])
            publish_template(None, template)
            group = create_group(None, name="Keep values mentees", group_type="newcomers", country="NO",
                                 languages=["en"], eligible_categories=["mentorship"])
            program = launch_program(None, template=template, group=group, name="Keep values mentorship")
            transition_program(None, program, "active")
            campaign = create_campaign(None, program=program, company=acme,
                                       name="Keep values deliveries", start_date=date(date.today().year, 1, 1),
                                       max_enrollment=10)
            transition_campaign(None, campaign, "active")
            person = db.session.get(Participant, world["participant"])
            enrollment = enroll_participant(None, campaign.id, person)
            valuation = create_valuation_set(None, name="Keep values SROI", currency="NOK")
            endpoint, _secret = create_endpoint(None, url="http://127.0.0.1:9/keep-values", description="Keep",
                                                event_types=["program.delivery.recorded"])
            db.session.flush()
            ids = {"campaign": campaign.id, "enrollment": enrollment.id, "valuation": valuation.id,
                   "endpoint": endpoint.id}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) > 0
        db.session.remove()
    return ids


def kinds_on(page: Page) -> list[str]:
    return [v for v in page.locator("select[name=kind] option").evaluate_all("os => os.map(o => o.value)") if v]


def test_delivery_form_keeps_values(no_js: Page, sign_in, accounts, world, newer):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{newer['campaign']}/enrollments/{newer['enrollment']}")
    form = form_with(page, "Record")
    kind = [k for k in kinds_on(page)][-1]
    future = date(date.today().year + 1, 1, 2).isoformat()  # a day to come: refused
    values = {"kind": kind, "occurred_on": future, "occurred_time": "14:30", "quantity": "2.5",
              "duration_minutes": "45", "note": "Kept\nnote"}
    if form.locator("[name=attendance]").count():
        values["attendance"] = "excused"
    fail_and_compare(page, "Record", values, error=re.compile("future|Date"))


def test_attendance_sheet_keeps_each_rows_choice(no_js: Page, sign_in, accounts, world, newer):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(f"/campaigns/{newer['campaign']}/attendance")
    with page.expect_navigation():  # the sheet of the page it loads, not of the page it leaves
        form_with(page, "Show the sheet").get_by_role("button", name="Show the sheet").click()
    sheet = form_with(page, "Save attendance")
    expect(sheet.locator("input[type=radio]").first).to_be_attached()
    rows = sorted({n for n in sheet.locator("input[type=radio]").evaluate_all("rs => rs.map(r => r.name)")})
    assert rows, "the sheet lists the campaign's enrollments"
    for name in rows:  # the last choice of every row ("excused"/"absent"…), not the default
        sheet.locator(f"input[type=radio][name='{name}']").last.check()
    fail_and_compare(page, "Save attendance", {"duration_minutes": "-5"}, error=re.compile("minutes|Duration"))


def test_valuation_set_forms_keep_values(no_js: Page, sign_in, accounts, newer):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto("/valuation-sets/new")
    fail_and_compare(page, "Create draft", {"name": "Kept SROI", "key": "kept-sroi", "currency": "EUR",
                                            "discount_rate": "99", "description": "Kept\ndescription"},
                     error=re.compile("Discount|20"))
    page.goto(f"/valuation-sets/{newer['valuation']}/edit")
    fail_and_compare(page, "Save", {"name": "Kept SROI", "currency": "EUR", "discount_rate": "99",
                                    "description": "Kept description"}, error=re.compile("Discount|20"))
    page.goto(f"/valuation-sets/{newer['valuation']}/entries/new")
    outcomes = [v for v in page.locator("select[name=outcome] option").evaluate_all("os => os.map(o => o.value)")
                if v]
    fail_and_compare(page, "Add outcome", {"outcome": outcomes[-1], "proxy": "-1", "source_text": "Kept source",
                                           "source_url": "https://example.org/kept", "deadweight": "10",
                                           "displacement": "5", "attribution": "20", "drop_off": "15",
                                           "duration_years": "3"}, error=re.compile("proxy|zero"))


def test_webhook_endpoint_forms_keep_values(no_js: Page, sign_in, accounts, newer):
    page = no_js
    sign_in(page, accounts.pm.email)
    endpoint = {"url": "ftp://kept.example.org/hook", "description": "Kept connector",
                "event_types": ["program.delivery.recorded", "program.enrollment.created"]}
    page.goto("/webhooks/new")
    companies = [v for v in page.locator("select[name=company_id] option").evaluate_all("os => os.map(o => o.value)")
                 if v]
    fail_and_compare(page, "Add the endpoint", {**endpoint, "company_id": companies[0]}, error=re.compile("https|URL"))
    page.goto(f"/webhooks/{newer['endpoint']}/edit")
    fail_and_compare(page, "Save the endpoint", {**endpoint, "company_id": companies[0], "enabled": False},
                     error=re.compile("https|URL"))


def test_token_form_keeps_values(no_js: Page, sign_in, accounts):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto("/account/tokens/")
    form = form_with(page, "Create token")
    expiries = form.locator("select[name=expires_days] option").evaluate_all("os => os.map(o => o.value)")
    scopes = form.locator("input[name=scopes]").evaluate_all("bs => bs.map(b => b.value)")
    assert expiries and scopes, form.inner_html()[:2000]
    fail_and_compare(page, "Create token", {"name": "   ", "scopes": scopes[:2], "expires_days": expiries[0]},
                     error=re.compile("Name the token"))


def test_report_period_form_keeps_what_was_asked(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(f"/reports/campaigns/{world['campaign']}")
    form = form_with(page, "Show")
    fill(form, {"period": "custom", "start": "2026-05-01", "end": "2026-01-31"})
    before = submitted(form)
    with page.expect_response(lambda r: "/reports/campaigns/" in r.url and r.request.method == "GET") as answer:
        form.get_by_role("button", name="Show", exact=True).click()
    assert answer.value.status == 422
    expect(page.get_by_text("The end date is before the start date.").first).to_be_visible()
    assert submitted(form_with(page, "Show")) == before


def test_privacy_forms_keep_values(no_js: Page, sign_in, accounts, world):
    page = no_js
    sign_in(page, accounts.pm.email)
    page.goto(f"/privacy/participants/{world['participant']}/erase")
    fail_and_compare(page, "Erase for good", {"confirmation": "not-the-reference"},
                     error=re.compile("does not match"))
    # a group's retention period (and every other field) survives a failed save
    page.goto(f"/groups/{world['group']}/edit")
    fail_and_compare(page, "Save group", {"name": "Kept newcomers", "age_min": "200", "age_max": "40",
                                          "retention_months": "36", "country": "NO",
                                          "eligible_categories": ["buddy"]},
                     error="Ages are between 0 and 120.")
