"""Reading a JSON document typed or posted as text (a template's schema and UI schema, the
overrides a wizard carries between steps): the one place raw JSON enters the portal.

``json.loads`` alone accepts NaN and Infinity, builds integers of any length (and raises
ValueError past 4300 digits), recurses until RecursionError on deep nesting, and keeps NUL
characters and unpaired surrogates that PostgreSQL refuses to store. Here each of those is a
:class:`~portal.errors.ConfigInvalid` naming the form field and the JSON path."""
from __future__ import annotations

import json
from typing import Any

from portal.configuration.limits import (
    MAX_DOCUMENT_BYTES,
    NOT_FINITE_MESSAGE,
    NUMBER_TOO_LARGE_MESSAGE,
    TOO_DEEP_MESSAGE,
    TOO_LARGE_MESSAGE,
    Unacceptable,
    document_problems,
)
from portal.configuration.paths import ConfigError
from portal.errors import ConfigInvalid
from portal.i18n import _l

# Text may be up to four times the document limit, so a pretty-printed document still fits;
# the parsed document itself must fit in MAX_DOCUMENT_BYTES.
MAX_TEXT_CHARS = 4 * MAX_DOCUMENT_BYTES
_MAX_INT_DIGITS = 16  # 10**15 has 16 digits; longer integers are refused without being built


def _constant(name: str) -> Unacceptable:  # NaN, Infinity, -Infinity
    return Unacceptable(NOT_FINITE_MESSAGE)


def _integer(text: str) -> int | Unacceptable:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return Unacceptable(NUMBER_TOO_LARGE_MESSAGE)
    return int(text)


def parse_json_document(text: str | None, field: str) -> Any:
    """The JSON value of ``text``, or ConfigInvalid(field, problems) when it is not JSON or not
    a document the portal can store and validate (see limits.document_problems)."""
    if not isinstance(text, str):
        raise ConfigInvalid(field, [ConfigError("", _l("Enter JSON text."))])
    if len(text) > MAX_TEXT_CHARS:
        raise ConfigInvalid(field, [ConfigError("", TOO_LARGE_MESSAGE)])
    try:
        value = json.loads(text, parse_constant=_constant, parse_int=_integer)
    except json.JSONDecodeError as exc:
        raise ConfigInvalid(field, [ConfigError("", _l(
            "Not valid JSON: %(problem)s at line %(line)s, column %(column)s.", problem=exc.msg, line=exc.lineno,
            column=exc.colno))]) from None
    except RecursionError:
        raise ConfigInvalid(field, [ConfigError("", TOO_DEEP_MESSAGE)]) from None
    except ValueError:  # anything else json refuses to build
        raise ConfigInvalid(field, [ConfigError("", _l("Not valid JSON."))]) from None
    if problems := document_problems(value):
        raise ConfigInvalid(field, problems)
    return value
