"""Which kinds of delivery an enrollment can record (SPEC §2.9).

The kinds come from the template, never from a list in code: they are the keys of the
campaign's effective ``impact.sroiWeights`` (template defaults ← program ← campaign), less
the two the portal derives itself. A template author who adds a weight adds a kind.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.campaigns.settings import campaign_config

if TYPE_CHECKING:
    from portal.campaigns.models import Campaign

DERIVED_KINDS = frozenset({"milestone_reached", "program_completed"})
SESSION_PREFIX = "session"


def recordable_kinds(config: dict[str, Any] | None) -> list[str]:
    """The keys of ``impact.sroiWeights`` in ``config`` minus the derived ones: sessions
    first, then by name (PostgreSQL's JSONB keeps no key order, so the order is the portal's)."""
    impact = (config or {}).get("impact")
    weights = impact.get("sroiWeights") if isinstance(impact, dict) else None
    if not isinstance(weights, dict):
        return []
    return sorted((str(kind) for kind in weights if kind not in DERIVED_KINDS),
                  key=lambda kind: (not is_session_kind(kind), kind))


def campaign_kinds(campaign: Campaign) -> list[str]:
    return recordable_kinds(campaign_config(campaign))


def is_session_kind(kind: str) -> bool:
    """Scheduled sessions take attendance (present / excused / unexcused); other kinds do not."""
    return kind.startswith(SESSION_PREFIX)


def kind_label(kind: str) -> str:
    """"session_completed" → "Session completed"."""
    words = kind.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else kind
