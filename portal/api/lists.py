"""Keyset paging for API lists: the screens' cursors (:mod:`portal.pagination`, newest
first by (created_at, id)), but a cursor that does not decode is a 422 here — an API
client must learn it sent garbage, not silently get the first page again."""
from __future__ import annotations

from typing import Any

from flask import request, url_for

from portal.api.problems import ApiProblem, parameter_error
from portal.i18n import _
from portal.pagination import decode_cursor


def check_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    position = decode_cursor(cursor)
    if position is None or position[0].tzinfo is None:
        raise ApiProblem(422, _("The cursor is not one this API gave out."),
                         errors=[parameter_error("cursor", _("Use next_cursor from the previous page as it is."))])
    return cursor


def page_body(items: list[dict[str, Any]], next_cursor: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The page document and its ``Link: <…>; rel="next"`` header (RFC 8288)."""
    headers: dict[str, str] = {}
    if next_cursor:
        args = {**request.view_args, **request.args.to_dict(), "cursor": next_cursor}
        headers["Link"] = f'<{url_for(request.endpoint, **args)}>; rel="next"'
    return {"items": items, "next_cursor": next_cursor}, headers
