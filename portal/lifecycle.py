"""The draft/active/paused/completed/archived state machine that programs and
campaigns share (SPEC §2.3), and the template lifecycle (SPEC §2.1)."""
from __future__ import annotations

from portal.errors import InvalidTransition

DRAFT, ACTIVE, PAUSED, COMPLETED, ARCHIVED = "draft", "active", "paused", "completed", "archived"
RUN_STATUSES = (DRAFT, ACTIVE, PAUSED, COMPLETED, ARCHIVED)

RUN_TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (ACTIVE, ARCHIVED),
    ACTIVE: (PAUSED, COMPLETED, ARCHIVED),
    PAUSED: (ACTIVE, COMPLETED, ARCHIVED),
    COMPLETED: (ARCHIVED,),
    ARCHIVED: (),
}

# The event suffix each target state writes: program.started, program.campaign.paused…
RUN_EVENT_FOR_TARGET = {ACTIVE: "started", PAUSED: "paused", COMPLETED: "completed", ARCHIVED: "archived"}

DEPRECATED = "deprecated"
TEMPLATE_STATUSES = (DRAFT, ACTIVE, DEPRECATED, ARCHIVED)
TEMPLATE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (ACTIVE,),
    ACTIVE: (DEPRECATED, ARCHIVED),
    DEPRECATED: (ARCHIVED,),
    ARCHIVED: (),
}


def allowed_moves(current: str, table: dict[str, tuple[str, ...]] = RUN_TRANSITIONS) -> list[str]:
    return list(table.get(current, ()))


def check_transition(current: str, target: str, table: dict[str, tuple[str, ...]] = RUN_TRANSITIONS) -> None:
    """Refuse any move the table does not list, naming the moves that are allowed."""
    if target not in table.get(current, ()):
        raise InvalidTransition(current, target, allowed_moves(current, table))

# What the lifecycle buttons say for each target state (programs and campaigns).
MOVE_LABELS = {"active": "Start", "paused": "Pause", "completed": "Complete", "archived": "Archive"}
