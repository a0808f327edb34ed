"""Accessibility checks with axe-core (bundled with axe-playwright-python, no network)."""
from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

BLOCKING_IMPACTS = ("serious", "critical")
_axe = Axe()


def _describe(violation: dict[str, Any], max_targets: int) -> str:
    nodes = violation.get("nodes", [])
    targets = [" ".join(map(str, node.get("target", []))) for node in nodes[:max_targets]]
    more = f" (+{len(nodes) - max_targets} more)" if len(nodes) > max_targets else ""
    return (f"- {violation['id']} [{violation.get('impact')}]: {violation.get('help', '')}\n"
            f"    {violation.get('helpUrl', '')}\n"
            f"    at: {'; '.join(targets)}{more}")


def assert_no_serious_a11y_violations(page: Page, *, max_targets: int = 3) -> None:
    """Run axe on the page once its htmx requests have settled (a button is dimmed while its
    request is in flight: measured then, its contrast would fail by design); fail on any
    serious or critical violation."""
    page.wait_for_function("() => !window.htmx || !document.querySelector('.htmx-request, [aria-busy=\"true\"]')",
                           timeout=10_000)
    violations = _axe.run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    message = "\n".join(
        [f"{len(blocking)} serious/critical accessibility violation(s) on {page.url}:"]
        + [_describe(v, max_targets) for v in blocking]
    )
    assert not blocking, message
