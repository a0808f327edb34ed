"""What an activity event says, in words, to the person reading it (SPEC §2.7).

One describer for every place events are shown (the activity log, the timelines of the
detail pages, the home page): each event becomes a :class:`Sentence` — who did what to
which object ("Maria raised the cap of Acme – Language Q1 from 40 to 50"), the object
linked only when the reader may open it, and the changed fields old → new.

Privacy (SPEC §2.5): people are named through ``participant_label`` (a company admin
reads its own employees by name and everyone else, beneficiaries above all, as its
company pseudonym); a participant's field values are shown only to readers who may know
who the participant is; a company admin never gets a link to a participant page.
Nothing here reads an event's raw data into the page except the fields named below.

Lookups are batched: :func:`describe_events` reads what it needs for a whole list of
events in at most three statements (enrollments with their participant and campaign,
participants, template versions), whatever the number of events.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for
from markupsafe import Markup, escape

from portal import reference
from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db

# --- what a sentence is ----------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of words; with ``url`` it is a link to the object it names."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str | None  # None: the value is not shown (only that it changed)
    new: str | None

    @property
    def values_shown(self) -> bool:
        return self.old is not None or self.new is not None


@dataclass(frozen=True)
class Sentence:
    pieces: tuple[Piece, ...]
    kind: str  # the event's kind in words: "Campaign updated"
    changes: tuple[FieldChange, ...] = ()
    url: str | None = None  # the main object's page, when the reader may open it

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> Markup:
        return Markup("").join(
            Markup('<a href="{}">{}</a>').format(p.url, p.text) if p.url else escape(p.text) for p in self.pieces
        )


# --- the facts a list of events needs, read in a few statements -------------------------


@dataclass(frozen=True)
class PersonFacts:
    """What participant_label / may_see_identity read of a participant."""

    id: int
    company_id: int | None
    display_name: str


@dataclass(frozen=True)
class EnrollmentFacts:
    campaign_id: int
    campaign_name: str
    role: str
    person: PersonFacts


@dataclass
class Facts:
    enrollments: dict[int, EnrollmentFacts] = field(default_factory=dict)
    participants: dict[int, PersonFacts] = field(default_factory=dict)
    templates: dict[int, tuple[str, int]] = field(default_factory=dict)  # id → (key, version)


def _ids(events: Iterable[ActivityEvent], subject_type: str) -> set[int]:
    return {e.subject_id for e in events if e.subject_type == subject_type and e.subject_id is not None}


def read_facts(events: Sequence[ActivityEvent], viewer: User) -> Facts:
    """Everything the sentences of ``events`` name beyond the event row, scoped to ``viewer``
    through portal.tenancy (what it may not see is simply absent)."""
    from portal.campaigns.models import Campaign
    from portal.enrollments.models import Enrollment, Participant
    from portal.program_templates.models import ProgramTemplate
    from portal.tenancy import visible

    facts = Facts()
    if ids := _ids(events, "enrollments"):
        rows = db.session.execute(
            sa.select(Enrollment.id, Enrollment.campaign_id, Enrollment.role, Campaign.name,
                      Participant.id, Participant.company_id, Participant.display_name)
            .join(Campaign, Campaign.id == Enrollment.campaign_id)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .where(Enrollment.id.in_(ids), visible(Enrollment, viewer))
        ).all()
        facts.enrollments = {r[0]: EnrollmentFacts(r[1], r[3], r[2], PersonFacts(r[4], r[5], r[6])) for r in rows}
    if ids := _ids(events, "participants"):
        rows = db.session.execute(
            sa.select(Participant.id, Participant.company_id, Participant.display_name)
            .where(Participant.id.in_(ids), visible(Participant, viewer))
        ).all()
        facts.participants = {r[0]: PersonFacts(r[0], r[1], r[2]) for r in rows}
    if (ids := _ids(events, "program_templates")) and viewer.is_program_manager:
        rows = db.session.execute(
            sa.select(ProgramTemplate.id, ProgramTemplate.key, ProgramTemplate.version)
            .where(ProgramTemplate.id.in_(ids), visible(ProgramTemplate, viewer))
        ).all()
        facts.templates = {r[0]: (r[1], r[2]) for r in rows}
    return facts


# --- field changes ------------------------------------------------------------------------

FIELD_LABELS = {
    "name": "Name", "description": "Description", "start_date": "Start date", "end_date": "End date",
    "target_enrollment": "Target", "max_enrollment": "Cap", "waitlist_enabled": "Waitlist",
    "target_volunteers": "Volunteer target", "currency": "Currency", "budget_allocated": "Budget",
    "seat_price": "Seat price", "internal_code": "Internal code", "tags": "Tags", "sdg_goals": "SDGs",
    "category": "Category", "config_schema": "Configuration schema", "default_config": "Default settings",
    "ui_schema": "Form layout", "group_type": "Group type", "country": "Country", "region": "Region", "city": "City",
    "age_min": "Minimum age", "age_max": "Maximum age", "languages": "Languages",
    "language_requirement": "Language requirement", "eligible_categories": "Eligible categories",
    "active_from": "Active from", "active_until": "Active until", "status": "Status", "share_bp": "Share",
    "amount": "Amount", "period_start": "Period start", "period_end": "Period end", "program_id": "Program",
    "campaign_id": "Campaign", "display_name": "Name", "email": "E-mail", "year_of_birth": "Year of birth",
    "external_ref": "External reference", "company_id": "Company", "is_enabled": "Active",
    "template_version": "Template version",
}
_FIELD_ORDER = {name: i for i, name in enumerate(FIELD_LABELS)}
_MONEY = {"budget_allocated", "seat_price", "amount", "annual_price"}
_ON_OFF = {"waitlist_enabled", "is_enabled"}
_HIDDEN_VALUES = {"program_id", "campaign_id", "company_id", "config_schema", "default_config", "ui_schema"}
_NOT_CHANGES = {"subscription_id"}
_LONG_TEXT = 80


def _value(name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name in _ON_OFF or isinstance(value, bool):
        return "on" if value else "off"
    if name in _MONEY and isinstance(value, int):
        return f"{Decimal(value) / 100:,.2f}"
    if name == "share_bp" and isinstance(value, int):
        return f"{Decimal(value) / 100:.2f} %"
    if name == "languages" and isinstance(value, list):
        return ", ".join(reference.language_name(str(v)) for v in value)
    if name == "country":
        return reference.country_name(str(value))
    if name == "sdg_goals" and isinstance(value, list):
        return ", ".join(reference.sdg_name(v) for v in value)
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value)
    if isinstance(value, dict):
        return "changed"
    text = str(value).replace("_", " ") if name in ("status", "group_type", "language_requirement") else str(value)
    return text if len(text) <= _LONG_TEXT else text[: _LONG_TEXT - 1] + "…"


def _is_change(value: Any) -> bool:
    return isinstance(value, dict) and {"from", "to"} <= set(value) and set(value) <= {"from", "to", "label"}


def field_changes(event: ActivityEvent, *, show_values: bool = True) -> tuple[FieldChange, ...]:
    """The fields an event changed, old → new, in words. ``show_values=False`` names the
    fields without their values (a participant the reader may not identify)."""
    data = event.data if isinstance(event.data, dict) else {}
    changes: list[FieldChange] = []
    if _is_change(data):  # a lifecycle move: {"from": "draft", "to": "active"}
        changes.append(FieldChange("Status", _value("status", data["from"]), _value("status", data["to"])))
    # PostgreSQL's JSONB keeps no key order: list the fields in the forms' order.
    for name, value in sorted(data.items(), key=lambda item: (_FIELD_ORDER.get(item[0], len(_FIELD_ORDER)), item[0])):
        if name in _NOT_CHANGES:
            continue
        if _is_change(value):
            label = FIELD_LABELS.get(name, name.replace("_", " ").capitalize())
            if not show_values or name in _HIDDEN_VALUES:
                changes.append(FieldChange(label, None, None))
            else:
                changes.append(FieldChange(label, _value(name, value["from"]), _value(name, value["to"])))
        elif value == {"changed": True} or (value == "changed" and name in FIELD_LABELS):
            changes.append(FieldChange(FIELD_LABELS.get(name, name.replace("_", " ").capitalize()), None, None))
    settings = data.get("config_changes") if isinstance(data.get("config_changes"), dict) else {}
    for path, value in sorted(settings.items()):
        if _is_change(value):
            label = value.get("label") or path
            changes.append(FieldChange(str(label), _value(path, value["from"]), _value(path, value["to"])))
    return tuple(changes)


# --- the sentences --------------------------------------------------------------------------

SUBJECT_KINDS = {
    "program.template": "Template",
    "program.campaign": "Campaign",
    "program.enrollment": "Enrollment",
    "program.match": "Match",
    "program.delivery": "Delivery",
    "impact.valuation_set": "Valuation set",
    "program": "Program",
    "beneficiary_group": "Beneficiary group",
    "participant": "Participant",
    "l2i.subscription": "L2I subscription",
    "l2i.allocation": "L2I allocation",
    "user": "User",
    "company": "Company",
    "webhook.endpoint": "Webhook endpoint",  # portal.webhooks
}
KIND_LABELS = {
    "user.signed_in": "Signed in",
    "user.signed_out": "Signed out",
    "user.password_reset": "Password reset",
    "user.token_created": "API token created",
    "user.token_revoked": "API token revoked",
    "user.language_chosen": "Language chosen",
}


def event_kind(event: ActivityEvent) -> str:
    """The kind of change in a few words: "Campaign paused", "Enrollment promoted"."""
    if event.type in KIND_LABELS:
        return KIND_LABELS[event.type]
    prefix, _, verb = event.type.rpartition(".")
    return f"{SUBJECT_KINDS.get(prefix, prefix)} {verb.replace('_', ' ')}"


RUN_VERBS = {"created": "created", "started": "started", "paused": "paused", "completed": "completed",
             "archived": "archived"}
# One changed figure reads as a verb: "raised the cap of X from 40 to 50".
_FIGURES = {"max_enrollment": "cap", "target_enrollment": "target", "budget_allocated": "budget",
            "seat_price": "seat price", "target_volunteers": "volunteer target"}


class _Say:
    """Builds one event's sentence for one reader."""

    def __init__(self, event: ActivityEvent, viewer: User, facts: Facts):
        self.e, self.viewer, self.facts = event, viewer, facts
        self.data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
        self.pm = bool(viewer.is_program_manager)

    # who
    def actor(self) -> Piece:
        return Piece(self.e.actor.name if self.e.actor is not None else "The system")

    # which object, linked only where the reader may open it
    def label(self, fallback: str = "") -> str:
        return self.e.subject_label or fallback or f"{self.e.subject_type.replace('_', ' ')}"

    def subject(self) -> Piece:
        return Piece(self.label(), self.subject_url())

    def subject_url(self) -> str | None:
        e, sid = self.e, self.e.subject_id
        if sid is None:
            return None
        if e.subject_type == "campaigns":
            return url_for("campaigns.detail", campaign_id=sid)
        if e.subject_type == "l2i_subscriptions":
            return url_for("l2i.detail", subscription_id=sid)
        if e.subject_type == "l2i_allocations" and isinstance(self.data.get("subscription_id"), int):
            return url_for("l2i.detail", subscription_id=self.data["subscription_id"])
        if e.subject_type == "enrollments":
            enrollment = self.facts.enrollments.get(sid)
            if enrollment is None:
                return None
            if self.pm or self.may_identify(enrollment.person):
                return url_for("enrollments.detail", campaign_id=enrollment.campaign_id, enrollment_id=sid)
            # A company admin's beneficiary: the campaign, never a page about the person.
            return url_for("campaigns.detail", campaign_id=enrollment.campaign_id)
        if not self.pm:  # the pages below are the program team's
            return None
        if e.subject_type == "programs":
            return url_for("programs.detail", program_id=sid)
        if e.subject_type == "beneficiary_groups":
            return url_for("beneficiaries.detail", group_id=sid)
        if e.subject_type == "participants":
            return url_for("participants.detail", participant_id=sid) if sid in self.facts.participants else None
        if e.subject_type == "users":
            return url_for("admin.user_detail", user_id=sid)
        if e.subject_type == "companies":
            return url_for("admin.index")
        if e.subject_type == "program_templates" and sid in self.facts.templates:
            key, version = self.facts.templates[sid]
            return url_for("program_templates.version_detail", key=key, version=version)
        return None

    # people
    def may_identify(self, person: PersonFacts) -> bool:
        from portal.enrollments.privacy import may_see_identity

        return may_see_identity(self.viewer, person)

    def person(self, person: PersonFacts | None, fallback: str = "a participant") -> Piece:
        from portal.enrollments.privacy import participant_label

        if person is None:
            return Piece(fallback)
        name = participant_label(self.viewer, person)
        url = url_for("participants.detail", participant_id=person.id) if self.pm else None
        return Piece(name if self.may_identify(person) else f"participant {name}", url)

    def enrollment(self) -> tuple[Piece, Piece, EnrollmentFacts | None]:
        """(the person, the campaign) an enrollment event is about."""
        facts = self.facts.enrollments.get(self.e.subject_id or 0)
        if facts is None:  # not visible (or gone): the label written at the time ("<pseudonym> in <campaign>")
            return Piece(self.label("an enrollment")), Piece(""), None
        return (self.person(facts.person),
                Piece(facts.campaign_name, url_for("campaigns.detail", campaign_id=facts.campaign_id)), facts)

    def changes(self) -> tuple[FieldChange, ...]:
        if self.e.subject_type == "participants":
            person = self.facts.participants.get(self.e.subject_id or 0)
            return field_changes(self.e, show_values=person is not None and self.may_identify(person))
        return field_changes(self.e)


def _w(*parts: str | Piece) -> tuple[Piece, ...]:
    return tuple(p if isinstance(p, Piece) else Piece(p) for p in parts)


def _changed_names(changes: Sequence[FieldChange]) -> str:
    names = [c.label.lower() if c.label not in ("SDGs",) else c.label for c in changes]
    if not names:
        return "the details"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _run_move(noun: str) -> Callable[[_Say, str], tuple[Piece, ...]]:
    def say(s: _Say, verb: str) -> tuple[Piece, ...]:
        return _w(s.actor(), f" {RUN_VERBS.get(verb, verb)} the {noun} ", s.subject())
    return say


def _template(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "updated":
        return _w(s.actor(), f" changed the {_changed_names(s.changes())} of the draft template ", s.subject())
    if verb == "deprecated" and s.data.get("deprecated_by_version"):
        return _w(s.actor(), " deprecated ", s.subject(), f" (replaced by version {s.data['deprecated_by_version']})")
    if verb == "created":
        return _w(s.actor(), " created the template ", s.subject())
    return _w(s.actor(), f" {verb} the template ", s.subject())


def _program(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _w(s.actor(), " launched the program ", s.subject(), " as a draft")
    if verb == "updated":
        version = s.data.get("template_version")
        if _is_change(version):
            return _w(s.actor(), " upgraded ", s.subject(),
                      f" from template version {version['from']} to {version['to']}")
        return _w(s.actor(), " changed the settings of the program ", s.subject())
    return _run_move("program")(s, verb)


def _campaign(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _w(s.actor(), " created the campaign ", s.subject(), " as a draft")
    if verb == "capacity_reached":
        cap = s.data.get("max_enrollment")
        return _w(s.subject(), f" reached its cap{f' of {cap}' if isinstance(cap, int) else ''}")
    if verb == "updated":
        if "config_overrides" in s.data or "config_changes" in s.data:
            return _w(s.actor(), " changed the settings of ", s.subject())
        changes = [(k, v) for k, v in s.data.items() if _is_change(v)]
        if len(changes) == 1 and changes[0][0] in _FIGURES:
            name, change = changes[0]
            old, new = change["from"], change["to"]
            if isinstance(old, int) and isinstance(new, int) and old != new:
                return _w(s.actor(), f" {'raised' if new > old else 'lowered'} the {_FIGURES[name]} of ", s.subject(),
                          f" from {_value(name, old)} to {_value(name, new)}")
            if old is None:
                return _w(s.actor(), f" set the {_FIGURES[name]} of ", s.subject(), f" to {_value(name, new)}")
            if new is None:
                return _w(s.actor(), f" removed the {_FIGURES[name]} of ", s.subject())
        return _w(s.actor(), f" changed the {_changed_names(s.changes())} of ", s.subject())
    return _run_move("campaign")(s, verb)


def _enrollment(s: _Say, verb: str) -> tuple[Piece, ...]:
    if s.e.subject_type == "campaigns" and s.data.get("import"):  # one event for a whole CSV import
        n, waitlisted = s.data.get("enrolled", 0), s.data.get("waitlisted", 0)
        rest = f" ({waitlisted} on the waitlist)" if waitlisted else ""
        return _w(s.actor(), f" imported {n} enrollment{'' if n == 1 else 's'}{rest} into ", s.subject())
    person, campaign, facts = s.enrollment()
    if facts is None:
        return _w(s.actor(), f" — {event_kind(s.e).lower()}: ", person)
    role = facts.role
    as_role = " as a volunteer" if role == "volunteer" else ""
    if verb == "created":
        return _w(s.actor(), " enrolled ", person, " in ", campaign, as_role)
    if verb == "waitlisted":
        return _w(s.actor(), " put ", person, " on the waitlist of ", campaign)
    if verb == "promoted":
        return _w(person, " moved from the waitlist into a seat in ", campaign)
    if verb == "completed":
        return _w(s.actor(), " marked ", person, " as having completed ", campaign)
    if verb == "milestone_reached":  # the daily job: time was the last threshold (SPEC §2.10)
        names = [str(n) for n in s.data.get("milestone_names") or []] or ["a milestone"]
        return _w(person, f" reached {' and '.join('“' + n + '”' for n in names)} in ", campaign)
    if verb == "dropped":
        words: list[str | Piece] = [s.actor(), " dropped ", person, " from ", campaign]
        reason = s.data.get("reason")
        if reason and facts is not None and s.may_identify(facts.person):
            words.append(f" (reason: {_value('reason', reason)})")
        return _w(*words)
    if verb == "consent_withdrawn":  # portal.privacy
        return _w(s.actor(), " recorded that ", person, " withdrew consent in ", campaign)
    return _w(s.actor(), f" {verb} the enrollment of ", person, " in ", campaign)


def _participant(s: _Say, verb: str) -> tuple[Piece, ...]:
    person = s.person(s.facts.participants.get(s.e.subject_id or 0))
    if verb == "created":
        return _w(s.actor(), " added ", person)
    if verb in ("erased", "data_exported"):  # portal.privacy
        return _w(s.actor(), " erased the personal data of " if verb == "erased" else " exported the data held about ",
                  person)
    return _w(s.actor(), f" changed the {_changed_names(s.changes())} of ", person)


def _group(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _w(s.actor(), " created the beneficiary group ", s.subject())
    if verb == "updated":
        return _w(s.actor(), f" changed the {_changed_names(s.changes())} of the group ", s.subject())
    if verb == "status_changed" and _is_change(s.data.get("status")):
        target = s.data["status"]["to"]
        word = {"active": "reactivated", "inactive": "deactivated", "archived": "archived"}.get(target, f"set to {target}")
        return _w(s.actor(), f" {word} the group ", s.subject())
    return _w(s.actor(), f" {verb.replace('_', ' ')} the group ", s.subject())


def _share(s: _Say) -> str:
    share = s.data.get("share_bp")
    return f"{_value('share_bp', share)} of " if isinstance(share, int) else ""


def _l2i(s: _Say, verb: str) -> tuple[Piece, ...]:
    noun = s.e.type.split(".")[1]
    if noun == "subscription":
        if verb == "created":
            return _w(s.actor(), " recorded the L2I subscription ", s.subject())
        return _w(s.actor(), f" {verb.replace('_', ' ')} the L2I subscription ", s.subject())
    if verb == "created":
        return _w(s.actor(), f" allocated {_share(s)}the L2I subscription ", s.subject())
    if verb == "removed":
        return _w(s.actor(), f" removed an allocation of {_share(s)}the L2I subscription ", s.subject())
    return _w(s.actor(), f" changed the {_changed_names(s.changes())} of an allocation of ", s.subject())


def _user(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb in ("signed_in", "signed_out"):
        return _w(s.subject(), f" signed {verb.split('_')[1]}")
    if verb == "created":
        return _w(s.actor(), " added the user ", s.subject())
    if verb == "password_reset":
        return _w(s.actor(), " reset the password of ", s.subject())
    if verb in ("token_created", "token_revoked"):  # portal.tokens: the token's name and prefix, never the token
        name = s.data.get("name") if isinstance(s.data.get("name"), str) else "a token"
        return _w(s.actor(), f" {verb.split('_')[1]} the API token “{name}” of ", s.subject())
    return _w(s.actor(), f" {verb.replace('_', ' ')} the user ", s.subject())


def _company(s: _Say, verb: str) -> tuple[Piece, ...]:
    return _w(s.actor(), f" {'added' if verb == 'created' else verb.replace('_', ' ')} the company ", s.subject())


_BY_PREFIX: dict[str, Callable[[_Say, str], tuple[Piece, ...]]] = {
    "program.template": _template, "program.campaign": _campaign, "program.enrollment": _enrollment,
    "program": _program, "participant": _participant, "beneficiary_group": _group, "l2i.subscription": _l2i,
    "l2i.allocation": _l2i, "user": _user, "company": _company,
}


def describe_event(event: ActivityEvent, viewer: User, facts: Facts) -> Sentence:
    say = _Say(event, viewer, facts)
    prefix, _, verb = event.type.rpartition(".")
    builder = _BY_PREFIX.get(prefix)
    pieces = builder(say, verb) if builder else _w(say.actor(), f" — {event_kind(event).lower()}: ", say.subject())
    return Sentence(pieces=pieces, kind=event_kind(event), changes=say.changes(), url=say.subject_url())


def describe_events(events: Sequence[ActivityEvent], viewer: User) -> list[Sentence]:
    """The sentences of ``events`` for ``viewer``, with the facts they need read in one go."""
    facts = read_facts(events, viewer)
    return [describe_event(e, viewer, facts) for e in events]


class Describer:
    """The ``describe`` templates receive: ``describe(event)`` is one event's sentence for the
    signed-in user; ``describe.each(events)`` pairs a whole list with its sentences, reading
    what they need once (the timeline macro and the activity log use that)."""

    @staticmethod
    def _viewer() -> User:
        from flask_login import current_user

        return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]

    def __call__(self, event: ActivityEvent) -> Sentence:
        return describe_events([event], self._viewer())[0]

    def each(self, events: Sequence[ActivityEvent]) -> list[tuple[ActivityEvent, Sentence]]:
        events = list(events)
        return list(zip(events, describe_events(events, self._viewer()), strict=True))


describe = Describer()
