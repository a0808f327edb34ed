"""What an endpoint can subscribe to, and what a message says.

The subscribable types are the portal's own activity event types (SPEC §2.7) about the
work itself: campaigns, enrollments, milestones, deliveries and matches, in five groups.

A message is the Standard Webhooks shape ``{"type", "timestamp", "data"}`` plus the event's
``id``. Its ``data`` is built from an allow-list: the subject's table and id, the company's
id, and the ids, references (a participant appears only as the company's pseudonym, as in
the event), statuses, kinds, dates and figures the event carries. Free text (names, notes,
labels, reasons) never leaves the portal: a key not listed here is left out, and a change
record says which fields changed, not their values.
"""
from __future__ import annotations

from typing import Any

from portal.activity.models import ActivityEvent
from portal.i18n import _l

TEST_EVENT_TYPE = "webhook.test"

EVENT_GROUPS: dict[str, tuple[str, ...]] = {
    "Campaigns": tuple(f"program.campaign.{verb}" for verb in (
        "created", "updated", "started", "paused", "completed", "archived", "capacity_reached")),
    "Enrollments": tuple(f"program.enrollment.{verb}" for verb in (
        "created", "waitlisted", "promoted", "completed", "dropped", "updated", "consent_withdrawn")),
    "Milestones": ("program.enrollment.milestone_reached",),
    "Deliveries": tuple(f"program.delivery.{verb}" for verb in ("recorded", "corrected", "voided")),
    "Matches": tuple(f"program.match.{verb}" for verb in ("proposed", "confirmed", "ended")),
}
# The groups' headings on the endpoint form (EVENT_GROUPS' keys are the groups' codes).
GROUP_LABELS: dict[str, Any] = {
    "Campaigns": _l("Campaigns"), "Enrollments": _l("Enrollments"), "Milestones": _l("Milestones"),
    "Deliveries": _l("Deliveries"), "Matches": _l("Matches"),
}
EVENT_TYPES: tuple[str, ...] = tuple(t for types in EVENT_GROUPS.values() for t in types)
SUBSCRIBABLE = frozenset(EVENT_TYPES)
# Recorded for the program team only (the event has no company: portal.privacy), so an
# endpoint narrowed to one company would never receive them: it may not choose them.
NO_COMPANY_TYPES = frozenset({"program.enrollment.consent_withdrawn"})
assert NO_COMPANY_TYPES <= SUBSCRIBABLE

# Keys of an event's data that may travel, each a scalar (or a list of scalars).
SAFE_KEYS = frozenset({
    "campaign_id", "enrollment_id", "participant_ref", "role", "source", "from", "to", "kind", "occurred_on",
    "quantity", "attendance", "match_id", "counterpart_id", "volunteer_enrollment_id", "beneficiary_enrollment_id",
    "milestones_reached", "by", "batch", "rows", "recorded", "replayed", "deliveries", "max_enrollment", "program",
    "status", "voided", "legal_basis",
})
MAX_TEXT = 100  # a longer string value is not an id or a code: left out


def type_label(event_type: str) -> str:
    """An event type in words, as the activity log names that kind of change
    ("program.enrollment.milestone_reached" → "Enrollment milestone reached"); a type the log
    does not name: its code in words ("enrollment milestone reached")."""
    from portal.activity.sentences import KIND_LABELS

    label = KIND_LABELS.get(event_type)
    if label is not None:
        return str(label)
    return event_type.removeprefix("program.").replace(".", " ").replace("_", " ")


def group_label(group: str) -> str:
    return str(GROUP_LABELS.get(group, group))


def _scalar(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT
    return value is None or isinstance(value, bool | int | float)


def safe_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """The allow-listed part of an event's data (see the module's docstring)."""
    clean: dict[str, Any] = {}
    changed: list[str] = []
    for key, value in (data or {}).items():
        if not isinstance(key, str):
            continue
        if isinstance(value, dict) and ("from" in value or "to" in value):
            changed.append(key)  # a change record: which field, never its values
        elif key in SAFE_KEYS and _scalar(value):
            clean[key] = value
        elif key in SAFE_KEYS and isinstance(value, list) and all(_scalar(v) for v in value):
            clean[key] = list(value)
    if changed:
        clean["changed_fields"] = sorted(changed)
    return clean


def event_payload(event: ActivityEvent) -> dict[str, Any]:
    """The message for ``event`` (flushed: it has its id and time)."""
    return {
        "type": event.type,
        "id": event.id,
        "timestamp": event.created_at.isoformat(),
        "data": {"subject": {"type": event.subject_type, "id": event.subject_id}, "company_id": event.company_id,
                 **safe_data(event.data)},
    }


def sample_payload(endpoint_id: int, now_iso: str) -> dict[str, Any]:
    return {"type": TEST_EVENT_TYPE, "id": None, "timestamp": now_iso,
            "data": {"endpoint_id": endpoint_id, "message": "A test event from the Impact Programs Portal."}}
