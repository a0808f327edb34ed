"""Which kinds of delivery an enrollment can record (SPEC §2.9).

The kinds come from the template, never from a list in code: they are the keys of the
campaign's effective ``impact.sroiWeights`` (template defaults ← program ← campaign), less
the two the portal derives itself. A template author who adds a weight adds a kind.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from portal.campaigns.settings import campaign_config
from portal.configuration.labels import humanise
from portal.i18n import _l

if TYPE_CHECKING:
    from portal.campaigns.models import Campaign

DERIVED_KINDS = frozenset({"milestone_reached", "program_completed"})
SESSION_PREFIX = "session"

# The labels of the kinds the master templates define, in every language. A kind a template
# adds is data: it reads as its key made into words (in the language it was written in).
KIND_LABELS = {
    "session_completed": _l("Session completed"),
    "cefr_level_advanced": _l("CEFR level advanced"),
    "assessment_passed": _l("Assessment passed"),
    "vocabulary_milestone": _l("Vocabulary milestone"),
    "program_completed": _l("Program completed"),
    "cultural_integration_event": _l("Cultural integration event"),
    "match_created": _l("Match created"),
    "event_attended": _l("Event attended"),
    "checkin_completed": _l("Check-in completed"),
    "skill_share_completed": _l("Skill share completed"),
    "milestone_reached": _l("Milestone reached"),
    "community_integration": _l("Community integration"),
    "goal_achieved": _l("Goal achieved"),
    "mentee_employed": _l("Mentee employed"),
    "mentor_referral": _l("Mentor referral"),
}
# Attendance as a sentence names it ("· present") and as a choice ("Present"); how a delivery came in.
ATTENDANCE_WORDS = {"present": _l("present"), "excused": _l("excused"), "unexcused": _l("unexcused")}
ATTENDANCE_LABELS = {"present": _l("Present"), "excused": _l("Excused"), "unexcused": _l("Unexcused")}
SOURCE_WORDS = {"manual": _l("manual")}  # csv, api and the connectors are names: shown as they are


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


def kind_words(kind: str) -> str:
    """The key made into English words, for any kind: "session_completed" → "Session
    completed", "cefr_level_advanced" → "CEFR level advanced" (the configuration's own
    rule, portal.configuration.labels.humanise). What stored labels (activity events)
    keep, whatever the language of whoever recorded it."""
    return humanise(kind) if kind else kind


def kind_label(kind: str) -> str:
    """What a kind is called on screen, in the reader's language: a known kind's translated
    label, another one's words (:func:`kind_words`)."""
    known = KIND_LABELS.get(kind)
    return str(known) if known is not None else kind_words(kind)


def attendance_word(value: str | None) -> str:
    """"present" → "present" / "til stede" / "присутній"; an unknown value as it is."""
    word = ATTENDANCE_WORDS.get(value or "")
    return str(word) if word is not None else (value or "")


def source_word(source: str | None) -> str:
    """How a delivery came in, as the timeline says it (a connector keeps its own name)."""
    word = SOURCE_WORDS.get(source or "")
    return str(word) if word is not None else (source or "")
