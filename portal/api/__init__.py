"""The JSON API (SPEC §4.2) under ``/api/v1``: bearer tokens, problem details, keyset lists,
ETag/If-Match, idempotent POSTs and a per-token rate limit, over the screens' operations.

Layout: ``blueprint.py`` (the blueprint and what every endpoint shares), ``endpoints/``
(one module per area), ``schemas.py`` (pydantic documents), ``serializers.py`` (objects as
documents for one viewer), ``problems.py``, ``conditional.py``, ``idempotency.py``,
``ratelimit.py``, ``lists.py``, ``spec.py`` (the OpenAPI document and reference page),
``models.py`` (stored idempotency keys), ``cli.py`` (``flask api spec|sweep``).
"""
from __future__ import annotations

import os

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect


def init_app(app: Flask) -> None:
    """Register the API on an APIFlask app: the blueprint (CSRF-exempt: it takes no cookies),
    its configuration, and a gate that answers unrouted ``/api/`` URLs as problems."""
    from portal.api import endpoints  # noqa: F401  (registers the endpoints on the blueprint)
    from portal.api.blueprint import bp
    from portal.api.spec import finish_spec
    from portal.extensions import csrf

    app.config.update(
        AUTO_SERVERS=False, AUTO_404_RESPONSE=False, AUTO_VALIDATION_ERROR_RESPONSE=False,
        AUTO_AUTH_ERROR_RESPONSE=False, AUTO_200_RESPONSE=False, AUTO_OPERATION_ID=True, AUTO_TAGS=False,
    )
    app.config.setdefault("PORTAL_API_RATE_LIMIT", os.environ.get("PORTAL_API_RATE_LIMIT", "600 per minute"))
    app.config.setdefault("PORTAL_API_MAX_BODY_BYTES", int(os.environ.get("PORTAL_API_MAX_BODY_BYTES", 1024 * 1024)))
    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.spec_processor(finish_spec)  # type: ignore[attr-defined]
    # First of all before-request work: an /api/ URL that matches no endpoint (or not with
    # this method) has no blueprint, so the HTML error pages and the form CSRF check would
    # answer it; the gate answers a problem document instead.
    app.before_request_funcs.setdefault(None, []).insert(0, _unrouted_api_request)


def _unrouted_api_request() -> Response | None:
    if not request.path.startswith("/api/"):
        return None
    from portal.api.blueprint import http_error
    from portal.api.problems import NUL_IN_QUERY, problem_response

    exc = request.routing_exception
    if isinstance(exc, MethodNotAllowed) and not _path_exists(exc.valid_methods or ()):
        exc = NotFound()
    if exc is not None and not isinstance(exc, RequestRedirect):
        return http_error(exc)  # type: ignore[arg-type]
    if any("\x00" in value for _, values in request.args.lists() for value in values):
        return problem_response(400, NUL_IN_QUERY)
    return None


def _path_exists(methods) -> bool:  # noqa: ANN001
    """Whether the path names something with one of ``methods``. Werkzeug checks a rule's
    methods before its converters, so a POST to ``/campaigns/<2**31>/enrollments`` reports
    the GET rule as a method mismatch though no rule takes that id (``<int:…>`` stops at the
    database's range): no such object, 404 — as GET answers — not 405."""
    adapter = current_app.create_url_adapter(request)
    for method in methods:
        try:
            adapter.match(method=method)  # type: ignore[union-attr]
        except RequestRedirect:
            return True
        except (NotFound, MethodNotAllowed):
            continue
        return True
    return False
