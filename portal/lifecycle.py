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

# Moves that cannot be undone ask first (the confirmation page, or htmx's hx-confirm): a
# completed or archived run never runs again, a deprecated or archived template version
# launches nothing new. Starting, pausing and resuming can be undone, so they don't ask.
MOVES_THAT_ASK = frozenset({COMPLETED, ARCHIVED, DEPRECATED})


def asks_confirmation(target: str) -> bool:
    return target in MOVES_THAT_ASK


# What a move that asks does, as the confirmation says it, for a program and a campaign.
RUN_MOVE_CONSEQUENCES = {
    ("campaign", COMPLETED): "The campaign is marked as finished: it takes no new enrollments, and its enrollments "
                             "and figures stay as they are. It cannot be started again, only archived.",
    ("campaign", ARCHIVED): "The campaign is archived: it takes no new enrollments and can no longer be edited or "
                            "started again. Its enrollments, figures and activity stay readable.",
    ("program", COMPLETED): "The program is marked as finished: it leaves the catalog and its campaigns take no new "
                            "enrollments. It cannot be started again, only archived.",
    ("program", ARCHIVED): "The program is archived: it leaves the catalog, its campaigns take no new enrollments, "
                           "and it can no longer be edited or started again. Its figures stay readable.",
}


def run_move_question(target: str, name: str) -> str:
    """The question a lifecycle button asks before a move that cannot be undone."""
    return f"{MOVE_LABELS[target]} “{name}”?"
