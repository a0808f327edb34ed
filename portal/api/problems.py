"""RFC 9457 problem details: every 4xx (and 5xx) the API answers is
``application/problem+json`` with ``type``, ``title``, ``status``, ``detail``, ``instance``
and, for bad input, ``errors[]`` — one entry per problem naming where it is: ``pointer``
(a JSON Pointer into the body, RFC 9457's own example) with the same place as a JSONPath in
``path``, or the query ``parameter``, or the ``header``."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response, request

PROBLEM_TYPE_BASE = "/api/v1/docs#problem-"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# status -> (type slug, title)
TITLES: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("unprocessable", "Unprocessable request"),
    428: ("precondition-required", "Precondition required"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Temporarily unavailable"),
}


class ApiProblem(Exception):
    """Raised anywhere under the API to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 slug: str | None = None, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []
        self.slug, self.headers = slug, dict(headers or {})


def pointer_of(location: Iterable[str | int]) -> str:
    """("participant", "email") -> "#/participant/email" (RFC 6901, as a URI fragment)."""
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in location]
    return "#/" + "/".join(parts) if parts else "#"


def jsonpath_of(location: Iterable[str | int]) -> str:
    """("participant", "languages", 0) -> "$.participant.languages[0]"."""
    text = "$"
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}"
        else:
            text += "[" + json.dumps(part) + "]"
    return text


def body_error(location: Iterable[str | int], detail: str) -> dict[str, Any]:
    location = list(location)
    return {"detail": detail, "pointer": pointer_of(location), "path": jsonpath_of(location)}


def parameter_error(name: str, detail: str) -> dict[str, Any]:
    return {"detail": detail, "parameter": name}


def header_error(name: str, detail: str) -> dict[str, Any]:
    return {"detail": detail, "header": name}


def problem_response(status: int, detail: str | None = None, *, errors: list[dict[str, Any]] | None = None,
                     slug: str | None = None, headers: Mapping[str, str] | None = None) -> Response:
    default_slug, title = TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or default_slug),
        "title": title,
        "status": status,
        "detail": detail or title,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_problem(exc: ApiProblem) -> Response:
    return problem_response(exc.status, exc.detail, errors=exc.errors, slug=exc.slug, headers=exc.headers)


def domain_errors(errors: Mapping[str, list[str]], field_paths: Mapping[str, tuple | None] | None = None
                  ) -> list[dict[str, Any]]:
    """A refused operation's field messages as ``errors[]``. ``field_paths`` maps the
    operation's field names (the screens' form fields) to where they sit in this endpoint's
    body; a field mapped to None (or an empty name) is about the request as a whole."""
    field_paths = field_paths or {}
    out: list[dict[str, Any]] = []
    for field, messages in errors.items():
        location = field_paths.get(field, (field,) if field else None)
        for message in messages:
            out.append(body_error(location, message) if location else {"detail": message})
    return out


# The OpenAPI description of a problem document (components/schemas/Problem).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "What kind of problem (a link into the API reference)."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, in a sentence."},
        "instance": {"type": "string", "description": "The path of the request."},
        "errors": {
            "type": "array",
            "description": "Each problem with the input and where it is.",
            "items": {
                "type": "object",
                "required": ["detail"],
                "properties": {
                    "detail": {"type": "string"},
                    "pointer": {"type": "string", "description": "JSON Pointer (as a URI fragment) into the body."},
                    "path": {"type": "string", "description": "The same place as a JSONPath, e.g. $.participant.email."},
                    "parameter": {"type": "string", "description": "The query parameter at fault."},
                    "header": {"type": "string", "description": "The request header at fault."},
                },
            },
        },
    },
}
