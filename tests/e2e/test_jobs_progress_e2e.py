"""A job's page as a person sees it (SPEC §6 "Background work"): the upload answers at
once with the job's page, which shows the job waiting and then working, and forwards to
the dry run when it is done: through htmx polling, and without JavaScript by refreshing
itself.

The shared live server runs jobs inline (in the request); these tests switch it to the
jobs table with a worker thread they start and stop, so the page is seen before the work.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import PASSWORD, PM_EMAIL
from tests.e2e.screens import ensure_screens_world


class Worker:
    def __init__(self, app) -> None:
        self.app = app
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        from portal.jobs.queue import start_embedded_worker

        self.thread = start_embedded_worker(self.app)

    def stop(self) -> None:
        stop: threading.Event | None = self.app.extensions.pop("portal_jobs_stop", None)
        if stop is not None:
            stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
            self.thread = None


@pytest.fixture
def worker(live_server) -> Iterator[Worker]:
    app = live_server.app
    app.config["PORTAL_JOBS"] = "database"
    controller = Worker(app)
    try:
        yield controller
    finally:
        controller.stop()
        app.config["PORTAL_JOBS"] = "inline"


def people_csv(n: int) -> bytes:
    return ("email,display_name,year_of_birth,languages\n"
            + "".join(f"progress{i}@example.org,Progress {i},1990,en\n" for i in range(n))).encode()


def upload_and_see_the_job_wait(page: Page, campaign: str, screenshot, name: str) -> str:
    page.goto(f"{campaign}/import")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": people_csv(500)}])
    page.get_by_role("button", name="Upload and check (dry run)").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_role("heading", level=2, name="Waiting for a worker…")).to_be_visible()
    expect(page.get_by_text("Waiting for a worker to start it.")).to_be_visible()
    screenshot(page, name)
    return page.url


def test_the_job_page_polls_and_forwards_to_the_dry_run(live_server, page: Page, sign_in, screenshot, worker):
    world = ensure_screens_world(live_server)
    sign_in(page, PM_EMAIL)
    upload_and_see_the_job_wait(page, world.campaign, screenshot, "job-waiting-1280")
    worker.start()  # the page, polling every second, sees the work done and goes to the dry run
    expect(page.get_by_role("heading", name="Dry run of people.csv")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("500 data rows checked")).to_be_visible()
    assert "/import/" in page.url


def test_without_javascript_the_job_page_refreshes_itself(live_server, browser: Browser, base_url, screenshot,
                                                          worker):
    world = ensure_screens_world(live_server)
    context = browser.new_context(base_url=base_url, java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/sign-in")
        page.get_by_label("E-mail", exact=True).fill(PM_EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        upload_and_see_the_job_wait(page, world.campaign, screenshot, "job-waiting-nojs-390")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the job page is {width} px wide at 390"
        worker.start()  # <noscript><meta http-equiv=refresh>: the page reloads until the work is done
        expect(page.get_by_role("heading", name="Dry run of people.csv")).to_be_visible(timeout=30_000)
        screenshot(page, "job-done-dry-run-nojs-390")
    finally:
        context.close()
