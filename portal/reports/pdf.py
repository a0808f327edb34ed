"""The report as a PDF, rendered on the server by WeasyPrint from the same HTML as the page.

WeasyPrint would fetch any URL a document names; here it may read only the portal's own
static files (the print stylesheet), so a report can never make the server fetch anything
else (no network, no file outside ``static/``)."""
from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from flask import current_app

STATIC_PREFIX = "/static/"


class FetchRefused(ValueError):
    pass


def _static_fetcher(root: Path):
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            path = url.split("://", 1)[-1]
            path = path[path.index("/"):] if "/" in path else path
            if not path.startswith(STATIC_PREFIX):
                raise FetchRefused(f"a report may only use the portal's static files, not {url!r}")
            target = (root / path[len(STATIC_PREFIX):].split("?", 1)[0]).resolve()
            if root not in target.parents or not target.is_file():
                raise FetchRefused(f"no static file {url!r}")
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": kind})

    return StaticOnly(fail_on_errors=True)


def render_pdf(html: str) -> bytes:
    """``html`` (a whole document whose stylesheet links start with /static/) as PDF bytes."""
    from weasyprint import HTML  # imported on first use: it loads pango, which a web worker may never need

    root = Path(current_app.static_folder).resolve()
    return HTML(string=html, base_url="http://portal.invalid/", url_fetcher=_static_fetcher(root)).write_pdf()
