"""The draft/active/paused/completed/archived state machine that programs and
campaigns share (SPEC §2.3), and the template lifecycle (SPEC §2.1)."""
from __future__ import annotations

from portal.errors import InvalidTransition
from portal.i18n import _, _l

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
MOVE_LABELS = {"active": _l("Start"), "paused": _l("Pause"), "completed": _l("Complete"), "archived": _l("Archive")}

# Every state a status badge shows (templates/_macros.html ``badge``, the ``status_label``
# filter), in words: the run lifecycle above, the template lifecycle, and the states of the
# other records the screens badge (enrollments, groups, users, matches, valuation sets, L2I
# subscriptions, API tokens, jobs, webhook deliveries). An unknown state reads as its key.
STATUS_LABELS = {
    DRAFT: _l("draft"), ACTIVE: _l("active"), PAUSED: _l("paused"), COMPLETED: _l("completed"),
    ARCHIVED: _l("archived"), DEPRECATED: _l("deprecated"), "inactive": _l("inactive"),
    "waitlisted": _l("waitlisted"), "dropped": _l("dropped"), "erased": _l("erased"), "expired": _l("expired"),
    "canceled": _l("canceled"), "revoked": _l("revoked"), "proposed": _l("proposed"), "ended": _l("ended"),
    "retired": _l("retired"), "queued": _l("queued"), "running": _l("running"), "succeeded": _l("succeeded"),
    "failed": _l("failed"), "pending": _l("pending"), "delivered": _l("delivered"), "retrying": _l("retrying"),
}


def status_label(status: str | None) -> str:
    """A state in words for the reader ("active", "aktiv", "активна"); unknown: its key."""
    if status in STATUS_LABELS:
        return str(STATUS_LABELS[status])
    return str(status or "").replace("_", " ")

# Moves that cannot be undone ask first (the confirmation page, or htmx's hx-confirm): a
# completed or archived run never runs again, a deprecated or archived template version
# launches nothing new. Starting, pausing and resuming can be undone, so they don't ask.
MOVES_THAT_ASK = frozenset({COMPLETED, ARCHIVED, DEPRECATED})


def asks_confirmation(target: str) -> bool:
    return target in MOVES_THAT_ASK


# What a move that asks does, as the confirmation says it, for a program and a campaign.
RUN_MOVE_CONSEQUENCES = {
    ("campaign", COMPLETED): _l("The campaign is marked as finished: it takes no new enrollments, and its "
                                "enrollments and figures stay as they are. It cannot be started again, only archived."),
    ("campaign", ARCHIVED): _l("The campaign is archived: it takes no new enrollments and can no longer be edited or "
                               "started again. Its enrollments, figures and activity stay readable."),
    ("program", COMPLETED): _l("The program is marked as finished: it leaves the catalog and its campaigns take no "
                               "new enrollments. It cannot be started again, only archived."),
    ("program", ARCHIVED): _l("The program is archived: it leaves the catalog, its campaigns take no new "
                              "enrollments, and it can no longer be edited or started again. Its figures stay readable."),
}


def run_move_question(target: str, name: str) -> str:
    """The question a lifecycle button asks before a move that cannot be undone."""
    if target == ACTIVE:
        return _("Start “%(name)s”?", name=name)
    if target == PAUSED:
        return _("Pause “%(name)s”?", name=name)
    if target == COMPLETED:
        return _("Complete “%(name)s”?", name=name)
    if target == ARCHIVED:
        return _("Archive “%(name)s”?", name=name)
    raise KeyError(target)
