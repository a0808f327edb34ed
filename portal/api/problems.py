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

from portal.i18n import _, _l, _n, current_language

PROBLEM_TYPE_BASE = "/api/v1/docs#problem-"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# status -> (type slug, title). The title is lazy: a problem document says it in the request's
# language (Accept-Language); the OpenAPI document keeps the English (see english()).
TITLES: dict[int, tuple[str, Any]] = {
    400: ("bad-request", _l("Bad request")),
    401: ("unauthorized", _l("Authentication required")),
    403: ("forbidden", _l("Not allowed")),
    404: ("not-found", _l("Not found")),
    405: ("method-not-allowed", _l("Method not allowed")),
    409: ("conflict", _l("Conflict")),
    412: ("precondition-failed", _l("Precondition failed")),
    413: ("too-large", _l("Request body too large")),
    415: ("unsupported-media-type", _l("Unsupported media type")),
    422: ("unprocessable", _l("Unprocessable request")),
    428: ("precondition-required", _l("Precondition required")),
    429: ("too-many-requests", _l("Too many requests")),
    500: ("internal", _l("Internal error")),
    503: ("unavailable", _l("Temporarily unavailable")),
}
ERROR_TITLE = _l("Error")


def english(message: Any) -> str:
    """A lazy message's English (its msgid, variables filled): what the OpenAPI document says,
    whatever the language of the request that happens to build it."""
    from flask_babel import force_locale

    with force_locale("en"):
        return str(message)


class ApiProblem(Exception):
    """Raised anywhere under the API to answer with a problem document. ``detail`` (and each
    ``errors[]`` entry's ``detail``) may be a lazy message: it becomes text in the request's
    language when the document is written."""

    def __init__(self, status: int, detail: Any, *, errors: list[dict[str, Any]] | None = None,
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


def body_error(location: Iterable[str | int], detail: Any) -> dict[str, Any]:
    location = list(location)
    return {"detail": detail, "pointer": pointer_of(location), "path": jsonpath_of(location)}


def parameter_error(name: str, detail: Any) -> dict[str, Any]:
    return {"detail": detail, "parameter": name}


def header_error(name: str, detail: Any) -> dict[str, Any]:
    return {"detail": detail, "header": name}


def _text(value: Any) -> Any:
    """A lazy message (a domain rule's, or one of this API's) as text in the request's language;
    anything else as it is. JSON cannot carry a lazy string: every message passes here."""
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def problem_response(status: int, detail: Any = None, *, errors: list[dict[str, Any]] | None = None,
                     slug: str | None = None, headers: Mapping[str, str] | None = None) -> Response:
    """The problem document: ``title``, ``detail`` and each error's ``detail`` in the request's
    language (``Content-Language`` says which); type, field names and places stay as they are."""
    default_slug, title = TITLES.get(status, ("error", ERROR_TITLE))
    title = _text(title)
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (slug or default_slug),
        "title": title,
        "status": status,
        "detail": _text(detail) or title,
        "instance": request.path,
    }
    if errors:
        body["errors"] = [{key: _text(value) for key, value in error.items()} for error in errors]
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = current_language()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


NOT_YOURS_TO_SEE = _l("There is nothing here, or it is not yours to see.")
NUL_IN_QUERY = _l("The query contains a NUL character, which no parameter accepts.")

# pydantic's messages (English, from its Rust core) in the reader's language, by error type:
# each is pydantic's own English with its context values as placeholders. A type not listed
# keeps pydantic's English.
_SIMPLE_MESSAGES: dict[str, Any] = {
    "missing": _l("Field required"),
    "extra_forbidden": _l("Extra inputs are not permitted"),
    "int_parsing": _l("Input should be a valid integer, unable to parse string as an integer"),
    "int_type": _l("Input should be a valid integer"),
    "int_from_float": _l("Input should be a valid integer, got a number with a fractional part"),
    "float_parsing": _l("Input should be a valid number, unable to parse string as a number"),
    "float_type": _l("Input should be a valid number"),
    "string_type": _l("Input should be a valid string"),
    "bool_parsing": _l("Input should be a valid boolean, unable to interpret input"),
    "bool_type": _l("Input should be a valid boolean"),
    "decimal_parsing": _l("Input should be a valid decimal"),
    "decimal_type": _l("Decimal input should be an integer, float, string or Decimal object"),
    "finite_number": _l("Input should be a finite number"),
    "list_type": _l("Input should be a valid list"),
    "dict_type": _l("Input should be a valid dictionary"),
    "model_type": _l("Input should be a valid dictionary or object"),
    "model_attributes_type": _l("Input should be a valid dictionary or object"),
    "datetime_parsing": _l("Input should be a valid datetime (ISO 8601)"),
    "datetime_type": _l("Input should be a valid datetime (ISO 8601)"),
    "datetime_from_date_parsing": _l("Input should be a valid datetime or date (ISO 8601)"),
    "date_parsing": _l("Input should be a valid date (YYYY-MM-DD)"),
    "date_type": _l("Input should be a valid date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": _l("Input should be a valid date or datetime (ISO 8601)"),
    "date_from_datetime_inexact": _l("Datetimes provided to dates should have zero time - e.g. be exact dates"),
    "time_parsing": _l("Input should be in a valid time format (HH:MM)"),
    "time_type": _l("Input should be in a valid time format (HH:MM)"),
    "json_invalid": _l("Invalid JSON"),
}


def validation_message(error: Mapping[str, Any]) -> str:
    """One pydantic error's message in the request's language. English keeps pydantic's own
    words exactly; our validators raise ValueError with a lazy message, said as it is."""
    kind, ctx, english_text = error.get("type"), error.get("ctx") or {}, str(error.get("msg", ""))
    if current_language() == "en":
        return english_text
    if kind == "value_error" and ctx.get("error") is not None:
        return str(ctx["error"])
    if kind in _SIMPLE_MESSAGES:
        return str(_SIMPLE_MESSAGES[kind])
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return _("Input should be one of: %(expected)s", expected=str(ctx["expected"]).replace(" or ", ", "))
    if kind == "greater_than_equal" and "ge" in ctx:
        return _("Input should be greater than or equal to %(limit)s", limit=ctx["ge"])
    if kind == "less_than_equal" and "le" in ctx:
        return _("Input should be less than or equal to %(limit)s", limit=ctx["le"])
    if kind == "greater_than" and "gt" in ctx:
        return _("Input should be greater than %(limit)s", limit=ctx["gt"])
    if kind == "less_than" and "lt" in ctx:
        return _("Input should be less than %(limit)s", limit=ctx["lt"])
    if kind == "string_too_long" and "max_length" in ctx:
        return _n("String should have at most %(num)s character", "String should have at most %(num)s characters",
                  ctx["max_length"])
    if kind == "string_too_short" and "min_length" in ctx:
        return _n("String should have at least %(num)s character", "String should have at least %(num)s characters",
                  ctx["min_length"])
    if kind == "too_long" and "max_length" in ctx:
        return _n("Give at most %(num)s item", "Give at most %(num)s items", ctx["max_length"])
    if kind == "too_short" and "min_length" in ctx:
        return _n("Give at least %(num)s item", "Give at least %(num)s items", ctx["min_length"])
    if kind == "decimal_max_places" and "decimal_places" in ctx:
        return _n("Decimal input should have no more than %(num)s decimal place",
                  "Decimal input should have no more than %(num)s decimal places", ctx["decimal_places"])
    return english_text


def from_problem(exc: ApiProblem) -> Response:
    return problem_response(exc.status, exc.detail, errors=exc.errors, slug=exc.slug, headers=exc.headers)


def domain_errors(errors: Mapping[str, list[Any]], field_paths: Mapping[str, tuple | None] | None = None
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
