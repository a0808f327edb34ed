"""The ``/api/v1`` blueprint and what every endpoint shares: bearer authentication, the
per-token rate limit, body checks, scope and role checks, query/body validation with
pydantic (errors as RFC 9457 problems with JSON paths), and the OpenAPI annotations.

Endpoints live in ``portal/api/endpoints/`` (one module per area) and call the same
operations and queries as the screens; nothing here decides a business rule.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from apiflask import APIBlueprint
from apiflask.exceptions import HTTPError
from apiflask.scaffold import _annotate  # records the spec of our own validators (APIFlask 3.1, pinned)
from flask import Response, current_app, g, request
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.api.problems import (
    NOT_YOURS_TO_SEE,
    NUL_IN_QUERY,
    ApiProblem,
    body_error,
    domain_errors,
    english,
    from_problem,
    header_error,
    parameter_error,
    problem_response,
    validation_message,
)
from portal.api.ratelimit import charge
from portal.auth.models import User
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _, _n, current_language

bp = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="API")

SECURITY_SCHEME = "bearerAuth"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
_BODY_METHODS = ("POST", "PUT", "PATCH")
# Endpoints anyone may read: the contract itself.
PUBLIC_ENDPOINTS = {"api.openapi_document", "api.reference"}
# Endpoints that take bodies larger than PORTAL_API_MAX_BODY_BYTES (a batch): endpoint -> (config key, default).
BODY_LIMITS: dict[str, tuple[str, int]] = {}


# --- who is asking ---------------------------------------------------------------------
def api_user() -> User:
    """The user the request's token acts as (set by :func:`authenticate`)."""
    return g.api_user


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _unauthorized(detail: Any) -> ApiProblem:
    return ApiProblem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'})


@bp.before_request
def authenticate() -> Response | None:
    """Bearer tokens only: a browser's session cookie is not accepted here (so no CSRF).
    An unknown, revoked or expired token, or a deactivated user's, is 401 alike."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    from portal.db import transaction, utcnow
    from portal.tokens.operations import LAST_USED_RESOLUTION, record_use, token_for_bearer

    text = _bearer()
    if text is None:
        return from_problem(ApiProblem(401, _("Send a personal access token: Authorization: Bearer ipp_…"),
                                       headers={"WWW-Authenticate": 'Bearer realm="api"'}))
    token = token_for_bearer(text)
    if token is None:
        return from_problem(_unauthorized(_("The token is unknown, revoked or expired, or its user is deactivated.")))
    g.api_token, g.api_user = token, token.user
    try:
        g.rate_limit_headers = charge(token.id)
    except ApiProblem as exc:
        return from_problem(exc)
    if token.last_used_at is None or utcnow() - token.last_used_at >= LAST_USED_RESOLUTION:
        with transaction():  # the last use, to the minute; the token and user reload lazily after
            record_use(token)
    return _read_body()


def _read_body() -> Response | None:
    """Bodies are JSON, at most PORTAL_API_MAX_BODY_BYTES, without NUL characters (no text
    anyone types has one, and PostgreSQL refuses them): parsed once into ``g.api_json``."""
    g.api_json = None
    if request.method not in _BODY_METHODS:
        return None
    key, default = BODY_LIMITS.get(request.endpoint or "", ("PORTAL_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
    limit = current_app.config.get(key, default)
    if request.content_length is not None and request.content_length > limit:
        return problem_response(413, _too_large(limit))
    if request.mimetype and not (request.mimetype == "application/json" or request.mimetype.endswith("+json")):
        return problem_response(415, _("Send the body as JSON (Content-Type: application/json)."),
                                errors=[header_error("Content-Type", _("Use application/json."))])
    raw = request.stream.read(limit + 1) if request.content_length is None else request.get_data(cache=True)
    if len(raw) > limit:
        return problem_response(413, _too_large(limit))
    if not raw.strip():
        return None
    try:
        g.api_json = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        return problem_response(400, _("The body is not valid JSON."),
                                errors=[{"detail": _json_error(exc)}])
    if (where := _nul_at(g.api_json, [])) is not None:
        return problem_response(422, _("The body contains a NUL character, which no field accepts."),
                                errors=[body_error(where, _("Remove the NUL character."))])
    return None


def _too_large(limit: int) -> str:
    return _n("The body is larger than %(num)s byte.", "The body is larger than %(num)s bytes.", limit)


def _json_error(exc: Exception) -> str:
    """Where the JSON parser stopped: its own words in English (they name the line and column),
    the same place in words elsewhere."""
    if not isinstance(exc, ValueError):
        return _("Nested too deep.")
    if current_language() == "en" or not isinstance(exc, json.JSONDecodeError):
        return str(exc)[:200]
    return _("Not valid JSON at line %(line)s, column %(column)s.", line=exc.lineno, column=exc.colno)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _nul_at(value: Any, path: list) -> list | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [*path, key]
            if (found := _nul_at(item, [*path, key])) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _nul_at(item, [*path, index])) is not None:
                return found
    return None


@bp.after_request
def api_headers(response: Response) -> Response:
    for name, value in (getattr(g, "rate_limit_headers", None) or {}).items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- errors: every one a problem document -------------------------------------------------
def _rollback() -> None:
    from portal.web import _rollback_quietly

    _rollback_quietly()


@bp.errorhandler(ApiProblem)
def api_problem(exc: ApiProblem) -> Response:
    _rollback()
    return from_problem(exc)


@bp.errorhandler(ValidationFailed)
def validation_failed(exc: ValidationFailed) -> Response:
    _rollback()
    return problem_response(exc.status_code, exc.message, errors=domain_errors(exc.errors))


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError) -> Response:
    _rollback()
    errors = domain_errors({exc.field: [exc.message]}) if exc.field else None
    return problem_response(exc.status_code, exc.message, errors=errors)


@bp.errorhandler(HTTPError)
def apiflask_error(exc: HTTPError) -> Response:
    # APIFlask's own message is English: elsewhere the status's title says it.
    english_message = isinstance(exc.message, str) and current_language() == "en"
    return problem_response(exc.status_code, exc.message if english_message else None)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Response:
    code = exc.code or 500
    if code == 404:
        detail = NOT_YOURS_TO_SEE
    elif code == 405:
        detail = _("%(method)s is not allowed here.", method=request.method)
    else:  # Werkzeug's own description is English: elsewhere the status's title says it
        detail = exc.description if code < 500 and current_language() == "en" else None
    headers = {"Allow": ", ".join(exc.valid_methods)} if code == 405 and getattr(exc, "valid_methods", None) else None
    return problem_response(code, detail, headers=headers)


@bp.errorhandler(OperationalError)
def database_unavailable(exc: OperationalError) -> Response:
    current_app.logger.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
    _rollback()
    return problem_response(503, _("The database cannot be reached right now. Nothing was saved; try again "
                                   "shortly."),
                            headers={"Retry-After": "30"})


@bp.errorhandler(Exception)
def unexpected_error(exc: Exception) -> Response:
    current_app.logger.exception("unhandled API error on %s %s", request.method, request.path)
    _rollback()
    return problem_response(500, _("An unexpected error happened on our side. Nothing was half saved; try again."))


# --- decorators ------------------------------------------------------------------------------
def requires(scope: str | None, *, roles: tuple[str, ...] | None = None) -> Callable:
    """The token must carry ``scope`` (403 ``insufficient_scope`` otherwise; None: any valid
    token) and its user one of ``roles`` when given (403, as the screens answer a role that
    may not use them)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if scope is not None and scope not in (g.api_token.scopes or []):
                raise ApiProblem(403, _("This token lacks the scope %(scope)s.", scope=repr(scope)),
                                 slug="insufficient-scope",
                                 headers={"WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", '
                                                              f'scope="{scope}"'})
            if roles is not None and g.api_user.role not in roles:
                raise ApiProblem(403, _("Your role does not give access to this."))
            return view(*args, **kwargs)

        _annotate(wrapped, security=[{SECURITY_SCHEME: [scope] if scope else []}])
        wrapped._required_scope = scope  # type: ignore[attr-defined]
        return wrapped

    return decorator


def query_params(model: type[BaseModel]) -> Callable:
    """Validate the query string with ``model`` (which forbids unknown parameters, so a
    misspelt filter is a 422, never "everything"); a parameter given twice is a 422 too.
    The view gets ``query=`` the model."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            repeated = sorted({k for k, values in request.args.lists() if len(values) > 1})
            if repeated:
                raise ApiProblem(422, _("Give each query parameter once."),
                                 errors=[parameter_error(k, _("Given more than once.")) for k in repeated])
            if any("\x00" in v for v in request.args.values()):
                raise ApiProblem(400, NUL_IN_QUERY)
            try:
                kwargs["query"] = model.model_validate(request.args.to_dict())
            except ValidationError as exc:
                raise ApiProblem(422, _("Some query parameters are not valid."),
                                 errors=[parameter_error(".".join(str(p) for p in e["loc"]) or "query",
                                                         validation_message(e))
                                         for e in exc.errors(include_url=False)]) from None
            return view(*args, **kwargs)

        _annotate(wrapped, args=[(model, "query")])
        return wrapped

    return decorator


def json_body(model: type[BaseModel], *, optional: bool = False) -> Callable:
    """Validate the JSON body with ``model``; each problem's ``pointer``/``path`` names its
    place in the body. ``optional``: an empty body reads as ``{}``. The view gets ``body=``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            data = g.get("api_json")
            if data is None:
                if not optional:
                    raise ApiProblem(422, _("Send a JSON body."),
                                     errors=[body_error([], _("A JSON object is required."))])
                data = {}
            try:
                kwargs["body"] = model.model_validate(data)
            except ValidationError as exc:
                raise ApiProblem(422, _("Some values in the body are not valid."),
                                 errors=[body_error(e["loc"], validation_message(e))
                                         for e in exc.errors(include_url=False)]
                                 ) from None
            return view(*args, **kwargs)

        _annotate(wrapped, body=model, content_type="application/json")
        return wrapped

    return decorator


def problems(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI responses for these problem statuses (application/problem+json)."""
    from portal.api.problems import PROBLEM_MEDIA_TYPE, TITLES

    return {status: {"description": english(TITLES[status][1]),
                     "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
            for status in statuses}


# The problems any authenticated endpoint may answer (400: a NUL character in the query,
# refused for every /api/ URL before routing — portal.api._unrouted_api_request).
COMMON_PROBLEMS = (400, 401, 403, 429)
