"""The delivery CSV import in a real browser (SPEC §2.9, §4, §6): upload → dry run (a job,
its page forwards to the table) → confirm (a job) → back on the campaign with the message,
with JavaScript (htmx swaps) and without it (plain forms and a refreshing job page)."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.a11y import assert_no_serious_a11y_violations


@pytest.fixture(scope="module")
def scene(live_server) -> dict[str, int]:
    """Two of Acme's mentorship campaigns (one per test), each with a beneficiary enrolled
    a month ago and an Acme employee volunteering."""
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.db import db, utcnow
    from tests.e2e.conftest import COMPANY_NAME
    from tests.factories import Factory

    make = Factory(live_server.app)
    with live_server.app.app_context():
        acme = db.session.scalars(sa.select(Company).where(Company.name == COMPANY_NAME)).one()
        db.session.expunge(acme)
        db.session.remove()
    program = make.program(template=make.template("mentorship"), name="Mentoring for newcomers")
    started = utcnow() - timedelta(days=30)
    ids = {}
    for name in ("js", "nojs"):
        camp = make.campaign(acme, program, name=f"Acme – deliveries import {name}")
        make.enrollment(camp, make.participant(display_name=f"Iryna {name}", email=f"iryna.{name}@e2e.example"),
                        enrolled_at=started)
        make.enrollment(camp, make.participant(display_name=f"Ola {name}", email=f"ola.{name}@e2e.example",
                                               company_id=acme.id), role="volunteer", enrolled_at=started)
        ids[name] = camp.id
    return ids


@pytest.fixture
def no_js(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    yield context.new_page()
    context.close()


def day(n: int) -> str:
    from portal.db import utcnow

    return (utcnow().date() - timedelta(days=n)).isoformat()


def delivery_file(tmp_path: Path, name: str, who: str, *, bad: bool = False) -> Path:
    lines = ["participant,kind,occurred_on,duration_minutes,attendance,source_id",
             f"iryna.{who}@e2e.example,session_completed,{day(3)},60,present,{who}-1",
             f"ola.{who}@e2e.example,goal_achieved,{day(2)},,,{who}-2",
             f"iryna.{who}@e2e.example,session_completed,{day(1)},45,{'maybe' if bad else 'present'},{who}-3"]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def upload(page: Page, path: Path) -> None:
    page.get_by_label(re.compile("CSV file")).set_input_files(str(path))
    page.get_by_role("button", name=re.compile("dry run", re.IGNORECASE)).click()
    expect(page.get_by_role("heading", name=f"Dry run of {path.name}")).to_be_visible()


def rows(page: Page):
    return page.locator("#import table tbody tr")


def run_import(page: Page, tmp_path: Path, who: str, screenshot, campaign_id: int) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"/campaigns/{campaign_id}/deliveries/import")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import deliveries from CSV")

    upload(page, delivery_file(tmp_path, f"sessions-{who}-bad.csv", who, bad=True))
    expect(rows(page)).to_have_count(3)
    expect(page.locator(".stat").filter(has_text="errors")).to_contain_text("1")
    expect(rows(page).nth(2)).to_contain_text("attendance: Choose present, excused or unexcused.")
    expect(page.get_by_role("link", name="Download errors as CSV")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Confirm"))).to_have_count(0)
    screenshot(page, f"delivery-import-errors-{who}-1280")

    upload(page, delivery_file(tmp_path, f"sessions-{who}.csv", who))
    expect(rows(page)).to_have_count(3)
    expect(page.locator(".stat").filter(has_text="will record")).to_contain_text("3")
    if who == "js":  # axe runs as a script in the page
        assert_no_serious_a11y_violations(page)
    screenshot(page, f"delivery-import-dry-run-{who}-1280")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: each row of the table is a block
    expect(rows(page).first).to_contain_text("Session completed")  # the kind's label, not its key
    screenshot(page, f"delivery-import-dry-run-{who}-390")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("button", name="Confirm: record 3 deliveries").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Acme – deliveries import {who}")
    expect(page.get_by_text("Imported 3 rows: 3 deliveries recorded")).to_be_visible()

    # The same file again adds nothing: every row is already recorded and there is nothing to confirm.
    page.goto(f"/campaigns/{campaign_id}/deliveries/import")
    upload(page, delivery_file(tmp_path, f"sessions-{who}.csv", who))
    expect(page.get_by_text("Every row is already recorded")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Confirm"))).to_have_count(0)


def test_upload_dry_run_and_confirm_with_javascript(page: Page, sign_in, accounts, screenshot, scene, tmp_path):
    sign_in(page, accounts.pm.email)
    run_import(page, tmp_path, "js", screenshot, scene["js"])


def test_upload_dry_run_and_confirm_without_javascript(no_js: Page, sign_in, accounts, screenshot, scene, tmp_path):
    sign_in(no_js, accounts.pm.email)
    run_import(no_js, tmp_path, "nojs", screenshot, scene["nojs"])
