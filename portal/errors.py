"""Domain exceptions. Operations raise them; views map them to field errors and
status codes (see portal.web).

A rule words its refusal once, as a lazy string (``_l``). The exception turns it into text
when it is raised, which is in the language of whoever made the request (or started the
job, which runs in that person's language), so ``message`` is a plain ``str`` that flash
messages, JSON, the database and Jinja's escaping all take as it is."""
from __future__ import annotations

from typing import Any

from portal.i18n import _l


def _text(message: Any) -> Any:
    """A lazy message as text in the current language (anything else as it is)."""
    return message if message is None or isinstance(message, str) else str(message)


class DomainError(Exception):
    """A rule refused the change. ``field`` names the form field (or JSON path) it belongs to."""

    status_code = 422

    def __init__(self, message: Any, field: str | None = None):
        message = _text(message)
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Several field errors at once: ``errors`` maps field -> list of messages."""

    def __init__(self, errors: dict[str, list[Any]]):
        errors = {name: [_text(m) for m in messages] for name, messages in errors.items()}
        first = next(iter(errors.items()), ("", [""]))
        super().__init__(first[1][0], first[0])
        self.errors = errors


class InvalidTransition(DomainError):
    status_code = 409

    def __init__(self, current: str, target: str, allowed: list[str]):
        from portal.lifecycle import status_label

        allowed_text = ", ".join(status_label(a) for a in allowed) if allowed else _l("none (this state is final)")
        super().__init__(_l("Cannot move from %(current)s to %(target)s. Allowed from %(current)s: %(allowed)s.",
                            current=status_label(current), target=status_label(target), allowed=allowed_text),
                         "status")
        self.current, self.target, self.allowed = current, target, allowed


class StaleEdit(DomainError):
    status_code = 409

    def __init__(self, what: Any = None):
        if what is None:
            message = _l("Someone else changed this record while you were editing. Reload to see their changes, "
                         "then apply yours again.")
        else:
            message = _l("Someone else changed %(what)s while you were editing. Reload to see their changes, "
                         "then apply yours again.", what=what)
        super().__init__(message, None)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: Any = None):
        super().__init__(_l("That record was not found.") if what is None
                         else _l("%(what)s was not found.", what=what), None)


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, message: Any = None):
        super().__init__(_l("You are not allowed to do that.") if message is None else message, None)


class ConfigInvalid(ValidationFailed):
    """A configuration document failed validation; ``problems`` keep each JSON path so
    forms can show every message next to its own field."""

    def __init__(self, field: str, problems: list):  # list[ConfigError]
        super().__init__({field: [_l("%(path)s: %(message)s", path=p.path or _l("(root)"), message=p.message)
                                  for p in problems]})
        self.field = field
        self.problems = problems
