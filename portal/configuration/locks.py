"""Locked settings (SPEC §3): a property marked ``"x-locked": true`` in a template's schema
may not be overridden by programs or campaigns."""
from __future__ import annotations

from typing import Any

from portal.configuration.paths import ConfigError, iter_leaves, walk_properties
from portal.i18n import _l

LOCKED_MESSAGE = _l("This setting is locked by the template and cannot be overridden.")


def locked_paths(schema: dict[str, Any]) -> set[str]:
    """Dotted paths of every property marked ``"x-locked": true`` (nested objects included)."""
    return {path for path, sub in walk_properties(schema) if sub.get("x-locked") is True}


def touches_lock(override_path: str, override_value: Any, locked: str) -> bool:
    """Does an override leaf at ``override_path`` change the locked path (or anything beneath it)?"""
    if override_path == locked or override_path.startswith(locked + "."):
        return True
    # an ancestor replaced by a non-object value replaces the locked setting too
    return (locked.startswith(override_path + ".") or override_path == "") and not isinstance(override_value, dict)


def locked_override_errors(schema: dict[str, Any], overrides: dict[str, Any] | None) -> list[ConfigError]:
    """One error per override leaf that touches a property marked ``"x-locked": true``."""
    locked = locked_paths(schema)
    if not locked or not overrides:
        return []
    return sorted(
        {ConfigError(path, LOCKED_MESSAGE) for path, value in iter_leaves(overrides)
         if any(touches_lock(path, value, lock) for lock in locked)},
        key=lambda e: e.path,
    )
