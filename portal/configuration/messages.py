"""JSON Schema's error messages in the reader's language (issue #19).

jsonschema writes its messages in English ("200 is greater than the maximum of 180"); the
configuration forms, the upgrade review and the API show them next to the setting. Here each
error of a keyword the portal's schemas use is rebuilt as a lazy translated string from the
error's own parts, word for word the English jsonschema writes, so English stays as it was and
Norwegian and Ukrainian readers get theirs, with the limits as placeholders. A keyword without
a translation keeps jsonschema's text."""
from __future__ import annotations

import ast
import re
from typing import Any

from babel import numbers as babel_numbers
from flask_babel.speaklater import LazyString
from jsonschema.exceptions import ValidationError

from portal.i18n import _l, current_language


def _shown_now(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or current_language() == "en":
        return repr(value)
    return babel_numbers.format_decimal(value, locale=current_language(), decimal_quantization=False)


def shown(value: Any) -> LazyString:
    """A value as jsonschema writes it (``repr``), numbers in the reader's own decimal sign
    ("0,95" in nb and uk), decided when the message is read."""
    return LazyString(_shown_now, value)


_REQUIRED = re.compile(r"(?s)(.*) is a required property")


def missing_property(error: ValidationError) -> str | None:
    """The property a ``required`` error says is missing ("'key' is a required property" → key)."""
    if error.validator != "required" or not (match := _REQUIRED.fullmatch(str(error.message))):
        return None
    try:
        name = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return name if isinstance(name, str) else None


def error_message(error: ValidationError) -> Any:
    """``error``'s message, translated (a lazy string) where the keyword has a translation."""
    keyword, limit, value = error.validator, error.validator_value, error.instance
    if keyword == "minimum":
        return _l("%(value)s is less than the minimum of %(limit)s", value=shown(value), limit=shown(limit))
    if keyword == "maximum":
        return _l("%(value)s is greater than the maximum of %(limit)s", value=shown(value), limit=shown(limit))
    if keyword == "exclusiveMinimum":
        return _l("%(value)s is less than or equal to the minimum of %(limit)s", value=shown(value),
                  limit=shown(limit))
    if keyword == "exclusiveMaximum":
        return _l("%(value)s is greater than or equal to the maximum of %(limit)s", value=shown(value),
                  limit=shown(limit))
    if keyword == "multipleOf":
        return _l("%(value)s is not a multiple of %(limit)s", value=shown(value), limit=LazyString(
            lambda: str(limit) if current_language() == "en" else _shown_now(limit)))
    if keyword in ("minItems", "minLength", "minProperties"):
        if limit == 1:
            return _l("%(value)s should be non-empty", value=repr(value))
        if keyword == "minProperties":
            return _l("%(value)s does not have enough properties", value=repr(value))
        return _l("%(value)s is too short", value=repr(value))
    if keyword in ("maxItems", "maxLength", "maxProperties"):
        if limit == 0:
            return _l("%(value)s is expected to be empty", value=repr(value))
        if keyword == "maxProperties":
            return _l("%(value)s has too many properties", value=repr(value))
        return _l("%(value)s is too long", value=repr(value))
    if keyword == "uniqueItems":
        return _l("%(value)s has non-unique elements", value=repr(value))
    if keyword == "pattern":
        return _l("%(value)s does not match %(pattern)s", value=repr(value), pattern=repr(limit))
    if keyword == "enum":
        return _l("%(value)s is not one of %(options)s", value=repr(value), options=repr(limit))
    if keyword == "const":
        return _l("%(expected)s was expected", expected=repr(limit))
    if keyword == "type":
        types = limit if isinstance(limit, list) else [limit]
        return _l("%(value)s is not of type %(types)s", value=repr(value),
                  types=", ".join(repr(t) for t in types))
    if keyword == "required" and (match := _REQUIRED.fullmatch(str(error.message))):
        return _l("%(name)s is a required property", name=match.group(1))
    if keyword in ("anyOf", "oneOf") and str(error.message).endswith("is not valid under any of the given schemas"):
        return _l("%(value)s is not valid under any of the given schemas", value=repr(value))
    return error.message
