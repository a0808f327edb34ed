"""The webhook screens in a real browser: add an endpoint (the secret shown once, never
again), send a test event to a local receiver, see the attempt in the delivery log; delete
without JavaScript through the confirmation page. axe finds nothing serious; screenshots
at 1280 and 390 px."""
from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from portal.webhooks.signing import verify
from tests.e2e.a11y import assert_no_serious_a11y_violations
from tests.e2e.conftest import PASSWORD
from tests.webhook_receiver import running_receiver

SECRET = re.compile(r"^whsec_[A-Za-z0-9+/]{43}=$")


def add_endpoint(page: Page, url: str, description: str) -> str:
    page.get_by_role("link", name="Add an endpoint").click()
    expect(page.get_by_role("heading", level=1, name="Add a webhook endpoint")).to_be_visible()
    page.get_by_label("URL", exact=True).fill(url)
    page.get_by_label("Description").fill(description)
    page.get_by_label("Enrollment created", exact=True).check()
    page.get_by_label("Campaign started", exact=True).check()
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_role("heading", name=f"The endpoint “{description}” is added")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert SECRET.match(secret)
    return secret


def test_add_an_endpoint_send_a_test_event_and_read_the_log(page: Page, sign_in, accounts, screenshot):
    with running_receiver() as receiver:
        sign_in(page, accounts.pm.email)
        page.get_by_role("link", name="Webhooks").first.click()
        expect(page.get_by_role("heading", level=1, name="Webhooks")).to_be_visible()
        assert_no_serious_a11y_violations(page)
        page.get_by_role("link", name="Add an endpoint").click()
        page.get_by_role("button", name="Add the endpoint").click()  # nothing filled in: errors at the fields
        expect(page.locator(".error-summary")).to_contain_text("Choose at least one event type")
        assert_no_serious_a11y_violations(page)
        screenshot(page, "webhooks-new-errors-1280")
        page.goto("/webhooks/")

        secret = add_endpoint(page, receiver.url, "BI connector (e2e)")
        assert_no_serious_a11y_violations(page)
        screenshot(page, "webhooks-secret-1280")
        page.get_by_role("link", name="Done").click()
        expect(page.get_by_role("heading", level=1, name=re.compile("BI connector"))).to_be_visible()
        assert secret not in page.content(), "the secret is shown once"
        expect(page.get_by_role("region", name="Last delivery attempts")).to_contain_text("Nothing sent yet")

        page.get_by_role("button", name="Send test event").click()
        expect(page.locator(".flash--success")).to_contain_text("Test event sent")
        attempts = page.get_by_role("region", name="Last delivery attempts")
        expect(attempts).to_contain_text("webhook.test")
        expect(attempts).to_contain_text("delivered")
        expect(attempts).to_contain_text("204")
        assert len(receiver.received) == 1
        headers, body = receiver.received[0]
        assert verify(secret, body, headers)["type"] == "webhook.test"
        assert_no_serious_a11y_violations(page)
        screenshot(page, "webhooks-log-1280")
        page.set_viewport_size({"width": 390, "height": 844})
        screenshot(page, "webhooks-log-390")
        page.goto("/webhooks/")
        expect(page.get_by_role("region", name="Webhook endpoints")).to_contain_text("BI connector (e2e)")
        screenshot(page, "webhooks-list-390")
        page.set_viewport_size({"width": 1280, "height": 800})
        screenshot(page, "webhooks-list-1280")


def test_without_javascript_delete_asks_on_a_confirmation_page(browser: Browser, base_url, accounts, screenshot):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("E-mail", exact=True).fill(accounts.pm.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/webhooks/")
    add_endpoint(page, "http://127.0.0.1:9/nobody", "Old connector (no-JS e2e)")
    page.get_by_role("link", name="Done").click()
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete the webhook endpoint “Old connector (no-JS e2e)”?")).to_be_visible()
    screenshot(page, "webhooks-delete-confirm-1280")
    page.get_by_role("button", name="Delete the endpoint").click()
    expect(page.locator(".flash--success")).to_contain_text("is deleted")
    expect(page.get_by_role("region", name="Webhook endpoints")).not_to_contain_text("Old connector (no-JS e2e)")
    context.close()


def test_a_company_admin_has_no_webhooks_screen(page: Page, sign_in, accounts):
    sign_in(page, accounts.admin.email)
    expect(page.get_by_role("link", name="Webhooks")).to_have_count(0)
    assert page.goto("/webhooks/").status == 403
