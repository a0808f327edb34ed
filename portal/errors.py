"""Domain exceptions. Operations raise them; views map them to field errors and
status codes (see portal.web)."""
from __future__ import annotations


class DomainError(Exception):
    """A rule refused the change. ``field`` names the form field (or JSON path) it belongs to."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Several field errors at once: ``errors`` maps field -> list of messages."""

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.items()), ("", [""]))
        super().__init__(first[1][0], first[0])
        self.errors = errors


class InvalidTransition(DomainError):
    status_code = 409

    def __init__(self, current: str, target: str, allowed: list[str]):
        allowed_text = ", ".join(allowed) if allowed else "none (this state is final)"
        super().__init__(f"Cannot move from {current} to {target}. Allowed from {current}: {allowed_text}.", "status")
        self.current, self.target, self.allowed = current, target, allowed


class StaleEdit(DomainError):
    status_code = 409

    def __init__(self, what: str = "this record"):
        super().__init__(
            f"Someone else changed {what} while you were editing. Reload to see their changes, then apply yours again.",
            None,
        )


class NotFound(DomainError):
    status_code = 404

    def __init__(self, what: str = "That record"):
        super().__init__(f"{what} was not found.", None)


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, message: str = "You are not allowed to do that."):
        super().__init__(message, None)


class ConfigInvalid(ValidationFailed):
    """A configuration document failed validation; ``problems`` keep each JSON path so
    forms can show every message next to its own field."""

    def __init__(self, field: str, problems: list):  # list[ConfigError]
        super().__init__({field: [f"{p.path or '(root)'}: {p.message}" for p in problems]})
        self.field = field
        self.problems = problems
