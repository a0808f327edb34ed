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

Every sentence is one whole message in the reader's language (portal.i18n), its objects
put in where its placeholders are (see ``_fill``), so a language orders the words its way.

Lookups are batched: :func:`describe_events` reads what it needs for a whole list of
events in at most three statements (enrollments with their participant and campaign,
participants, template versions), whatever the number of events.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for
from markupsafe import Markup, escape

from portal import reference
from portal.activity.models import ActivityEvent
from portal.auth.models import User
from portal.db import db
from portal.i18n import _, _l, _lp, ngettext, number, show_date
from portal.lifecycle import status_label

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
    kind: str  # the event's kind in words: "Campaign updated" (text in the reader's language)
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
    ref: str = ""  # the program team's pseudonymous reference (what privacy events name)


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
    campaigns: dict[int, str] = field(default_factory=dict)  # id → name (matches, deliveries, consent)
    reports: dict[int, str] = field(default_factory=dict)  # report snapshot id → its period's key
    existing: set[tuple[str, int]] = field(default_factory=set)  # (subject type, id) still there to link


def _ids(events: Iterable[ActivityEvent], subject_type: str) -> set[int]:
    return {e.subject_id for e in events if e.subject_type == subject_type and e.subject_id is not None}


# The enrollments a match's or a delivery's event names in its data (ids only: SPEC §2.5).
_ENROLLMENT_KEYS = {"matches": ("volunteer_enrollment_id", "beneficiary_enrollment_id"),
                    "deliveries": ("enrollment_id",)}


def _data_ids(events: Iterable[ActivityEvent], keys_by_subject: dict[str, tuple[str, ...]]) -> set[int]:
    found: set[int] = set()
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        for key in keys_by_subject.get(e.subject_type, ()):
            if isinstance(data.get(key), int) and not isinstance(data.get(key), bool):
                found.add(data[key])
    return found


def read_facts(events: Sequence[ActivityEvent], viewer: User) -> Facts:
    """Everything the sentences of ``events`` name beyond the event row, scoped to ``viewer``
    through portal.tenancy (what it may not see is simply absent)."""
    from portal.campaigns.models import Campaign
    from portal.enrollments.models import Enrollment, Participant
    from portal.program_templates.models import ProgramTemplate
    from portal.tenancy import visible

    facts = Facts()
    if ids := _ids(events, "enrollments") | _data_ids(events, _ENROLLMENT_KEYS):
        rows = db.session.execute(
            sa.select(Enrollment.id, Enrollment.campaign_id, Enrollment.role, Campaign.name,
                      Participant.id, Participant.company_id, Participant.display_name, Participant.ref)
            .join(Campaign, Campaign.id == Enrollment.campaign_id)
            .join(Participant, Participant.id == Enrollment.participant_id)
            .where(Enrollment.id.in_(ids), visible(Enrollment, viewer))
        ).all()
        facts.enrollments = {r[0]: EnrollmentFacts(r[1], r[3], r[2], PersonFacts(r[4], r[5], r[6], r[7] or ""))
                             for r in rows}
    if ids := _ids(events, "participants"):
        rows = db.session.execute(
            sa.select(Participant.id, Participant.company_id, Participant.display_name, Participant.ref)
            .where(Participant.id.in_(ids), visible(Participant, viewer))
        ).all()
        facts.participants = {r[0]: PersonFacts(r[0], r[1], r[2], r[3] or "") for r in rows}
    # The campaign of a match or delivery whose enrollments the reader may not see (or that are gone).
    if ids := _data_ids(events, {"matches": ("campaign_id",), "deliveries": ("campaign_id",),
                                 "enrollments": ("campaign_id",)}):
        facts.campaigns = dict(db.session.execute(
            sa.select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids), visible(Campaign, viewer))).all())
    if ids := _ids(events, "report_snapshots"):
        from portal.reports.models import ReportSnapshot

        facts.reports = dict(db.session.execute(
            sa.select(ReportSnapshot.id, ReportSnapshot.period_key)
            .where(ReportSnapshot.id.in_(ids), visible(ReportSnapshot, viewer))).all())
    if viewer.is_program_manager:  # the program team's own pages: link only what is still there
        from portal.impact.models import ValuationSet
        from portal.webhooks.models import WebhookEndpoint

        for model in (ValuationSet, WebhookEndpoint):
            if ids := _ids(events, model.__tablename__):
                facts.existing |= {(model.__tablename__, i) for i in db.session.scalars(
                    sa.select(model.id).where(model.id.in_(ids)))}
    if (ids := _ids(events, "program_templates")) and viewer.is_program_manager:
        rows = db.session.execute(
            sa.select(ProgramTemplate.id, ProgramTemplate.key, ProgramTemplate.version)
            .where(ProgramTemplate.id.in_(ids), visible(ProgramTemplate, viewer))
        ).all()
        facts.templates = {r[0]: (r[1], r[2]) for r in rows}
    return facts


# --- field changes ------------------------------------------------------------------------

FIELD_LABELS = {
    "name": _l("Name"), "description": _l("Description"), "start_date": _l("Start date"), "end_date": _l("End date"),
    "target_enrollment": _l("Target"), "max_enrollment": _l("Cap"), "waitlist_enabled": _l("Waitlist"),
    "target_volunteers": _l("Volunteer target"), "currency": _l("Currency"), "budget_allocated": _l("Budget"),
    "seat_price": _l("Seat price"), "internal_code": _l("Internal code"), "tags": _l("Tags"), "sdg_goals": _l("SDGs"),
    "category": _l("Category"), "config_schema": _l("Configuration schema"), "default_config": _l("Default settings"),
    "ui_schema": _l("Form layout"), "group_type": _l("Group type"), "country": _l("Country"), "region": _l("Region"),
    "city": _l("City"), "age_min": _l("Minimum age"), "age_max": _l("Maximum age"), "languages": _l("Languages"),
    "language_requirement": _l("Language requirement"), "eligible_categories": _l("Eligible categories"),
    "active_from": _l("Active from"), "active_until": _l("Active until"), "status": _l("Status"), "share_bp": _l("Share"),
    "amount": _l("Amount"), "period_start": _l("Period start"), "period_end": _l("Period end"),
    "program_id": _l("Program"), "campaign_id": _l("Campaign"), "display_name": _lp("person", "Name"), "email": _l("E-mail"),
    "year_of_birth": _l("Year of birth"), "external_ref": _l("External reference"), "company_id": _l("Company"),
    "is_enabled": _l("Active"), "template_version": _l("Template version"),
    # deliveries, valuation sets and entries, webhook endpoints
    "kind": _l("Kind"), "occurred_on": _l("Date"), "quantity": _l("Quantity"), "attendance": _l("Attendance"),
    "note": _l("Note"), "discount_rate": _l("Discount rate"), "valuation_set": _l("Valuation set"),
    "outcome": _l("Outcome"), "proxy_minor": _l("Financial proxy"), "source_text": _l("Source"),
    "source_url": _l("Source address"), "deadweight": _l("Deadweight"), "attribution": _l("Attribution"),
    "displacement": _l("Displacement"), "drop_off": _l("Drop-off per year (%)"),
    "duration_years": _l("Duration (years)"), "url": _l("URL"), "event_types": _l("Events"), "enabled": _l("Active"),
}
_FIELD_ORDER = {name: i for i, name in enumerate(FIELD_LABELS)}
_MONEY = {"budget_allocated", "seat_price", "amount", "annual_price", "proxy_minor"}
_PERCENTS = {"discount_rate", "deadweight", "attribution", "displacement", "drop_off"}
_COUNTS = {"max_enrollment", "target_enrollment", "target_volunteers"}
_DATES = {"start_date", "end_date", "active_from", "active_until", "period_start", "period_end", "occurred_on"}
_ON_OFF = {"waitlist_enabled", "is_enabled", "enabled"}
_HIDDEN_VALUES = {"program_id", "campaign_id", "company_id", "config_schema", "default_config", "ui_schema"}
_NOT_CHANGES = {"subscription_id"}
_LONG_TEXT = 80


def _field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name.replace("_", " ").capitalize()


def _value(name: str, value: Any) -> str:
    """A field's value as the reader reads it (numbers, money and dates in their language)."""
    if value is None or value == "" or value == []:
        return "—"
    if name in _ON_OFF or isinstance(value, bool):
        return _("on") if value else _("off")
    if name in _MONEY and isinstance(value, int):
        return number(Decimal(value) / 100, 2)
    if name in _PERCENTS and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return f"{number(Decimal(value), 2)} %"
        except ArithmeticError:
            return str(value)
    if name == "quantity" and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return number(Decimal(value).normalize())  # "2.000" → "2", "1.500" → "1.5"
        except ArithmeticError:
            return str(value)
    if name == "kind" and isinstance(value, str):
        from portal.deliveries.kinds import kind_label

        return kind_label(value)
    if name == "share_bp" and isinstance(value, int):
        return f"{number(Decimal(value) / 100, 2)} %"
    if name in _COUNTS and isinstance(value, int):
        return number(value)
    if name in _DATES and isinstance(value, str):
        try:
            return show_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    if name == "languages" and isinstance(value, list):
        return ", ".join(reference.language_name(str(v)) for v in value)
    if name == "country":
        return reference.country_name(str(value))
    if name == "sdg_goals" and isinstance(value, list):
        return ", ".join(reference.sdg_name(v) for v in value)
    if isinstance(value, list):
        return ", ".join(str(v).replace("_", " ") for v in value)
    if isinstance(value, dict):
        return _("changed")
    if name == "status":
        return status_label(str(value))
    text = str(value).replace("_", " ") if name in ("group_type", "language_requirement") else str(value)
    return text if len(text) <= _LONG_TEXT else text[: _LONG_TEXT - 1] + "…"


def _is_change(value: Any) -> bool:
    return isinstance(value, dict) and {"from", "to"} <= set(value) and set(value) <= {"from", "to", "label"}


def field_changes(event: ActivityEvent, *, show_values: bool = True) -> tuple[FieldChange, ...]:
    """The fields an event changed, old → new, in words. ``show_values=False`` names the
    fields without their values (a participant the reader may not identify)."""
    data = event.data if isinstance(event.data, dict) else {}
    changes: list[FieldChange] = []
    if _is_change(data):  # a lifecycle move: {"from": "draft", "to": "active"}
        changes.append(FieldChange(_field_label("status"), _value("status", data["from"]), _value("status", data["to"])))
    # PostgreSQL's JSONB keeps no key order: list the fields in the forms' order.
    for name, value in sorted(data.items(), key=lambda item: (_FIELD_ORDER.get(item[0], len(_FIELD_ORDER)), item[0])):
        if name in _NOT_CHANGES:
            continue
        if _is_change(value):
            label = _field_label(name)
            if not show_values or name in _HIDDEN_VALUES:
                changes.append(FieldChange(label, None, None))
            else:
                changes.append(FieldChange(label, _value(name, value["from"]), _value(name, value["to"])))
        elif value == {"changed": True} or (value == "changed" and name in FIELD_LABELS):
            changes.append(FieldChange(_field_label(name), None, None))
    for nested in ("changes", "entry_changed"):  # {field: {"from", "to"}} one level down
        inner = data.get(nested)
        if isinstance(inner, dict):
            for name, value in sorted(inner.items(), key=lambda item: (_FIELD_ORDER.get(item[0], len(_FIELD_ORDER)),
                                                                        item[0])):
                if _is_change(value):
                    shown = show_values and name not in _HIDDEN_VALUES
                    changes.append(FieldChange(_field_label(name), _value(name, value["from"]) if shown else None,
                                               _value(name, value["to"]) if shown else None))
                elif value == {"changed": True} or value == "changed":
                    changes.append(FieldChange(_field_label(name), None, None))
    if isinstance(data.get("changed"), list):  # only the names of what changed (a webhook endpoint)
        changes.extend(FieldChange(_field_label(str(name)), None, None) for name in data["changed"])
    settings = data.get("config_changes") if isinstance(data.get("config_changes"), dict) else {}
    for path, value in sorted(settings.items()):
        if _is_change(value):
            label = value.get("label") or path
            changes.append(FieldChange(str(label), _value(path, value["from"]), _value(path, value["to"])))
    return tuple(changes)


# --- the kinds of event -------------------------------------------------------------------

# The subjects the activity log filters by (an event type's prefix).
SUBJECT_KINDS = {
    "program.template": _l("Template"),
    "program.campaign": _l("Campaign"),
    "program.enrollment": _l("Enrollment"),
    "program.match": _l("Match"),
    "program.delivery": _l("Delivery"),
    "impact.valuation_set": _l("Valuation set"),
    "impact.report": _l("Impact report"),
    "program": _l("Program"),
    "beneficiary_group": _l("Beneficiary group"),
    "participant": _l("Participant"),
    "l2i.subscription": _l("L2I subscription"),
    "l2i.allocation": _l("L2I allocation"),
    "user": _l("User"),
    "company": _l("Company"),
    "webhook.endpoint": _l("Webhook endpoint"),  # portal.webhooks
}
# Every event type the portal writes (portal.activity.operations.EVENT_TYPE_PATTERNS), in words.
KIND_LABELS = {
    "program.template.created": _l("Template created"),
    "program.template.updated": _l("Template updated"),
    "program.template.published": _l("Template published"),
    "program.template.deprecated": _l("Template deprecated"),
    "program.template.archived": _l("Template archived"),
    "program.template.deleted": _l("Template deleted"),
    "program.created": _l("Program created"),
    "program.updated": _l("Program updated"),
    "program.started": _l("Program started"),
    "program.paused": _l("Program paused"),
    "program.completed": _l("Program completed"),
    "program.archived": _l("Program archived"),
    "program.campaign.created": _l("Campaign created"),
    "program.campaign.updated": _l("Campaign updated"),
    "program.campaign.started": _l("Campaign started"),
    "program.campaign.paused": _l("Campaign paused"),
    "program.campaign.completed": _l("Campaign completed"),
    "program.campaign.archived": _l("Campaign archived"),
    "program.campaign.capacity_reached": _l("Campaign capacity reached"),
    "program.enrollment.created": _l("Enrollment created"),
    "program.enrollment.waitlisted": _l("Enrollment waitlisted"),
    "program.enrollment.promoted": _l("Enrollment promoted"),
    "program.enrollment.completed": _l("Enrollment completed"),
    "program.enrollment.dropped": _l("Enrollment dropped"),
    "program.enrollment.updated": _l("Enrollment updated"),
    "program.enrollment.milestone_reached": _l("Enrollment milestone reached"),
    "program.enrollment.consent_withdrawn": _l("Enrollment consent withdrawn"),
    "program.match.proposed": _l("Match proposed"),
    "program.match.confirmed": _l("Match confirmed"),
    "program.match.ended": _l("Match ended"),
    "program.delivery.recorded": _l("Delivery recorded"),
    "program.delivery.corrected": _l("Delivery corrected"),
    "program.delivery.voided": _l("Delivery voided"),
    "impact.report.created": _l("Impact report created"),
    "impact.report.shared": _l("Impact report shared"),
    "impact.report.unshared": _l("Impact report unshared"),
    "impact.report.viewed": _l("Impact report viewed"),
    "impact.valuation_set.created": _l("Valuation set created"),
    "impact.valuation_set.updated": _l("Valuation set updated"),
    "impact.valuation_set.activated": _l("Valuation set activated"),
    "impact.valuation_set.retired": _l("Valuation set retired"),
    "impact.valuation_set.deleted": _l("Valuation set deleted"),
    "participant.created": _l("Participant created"),
    "participant.updated": _l("Participant updated"),
    "participant.erased": _l("Participant erased"),
    "participant.data_exported": _l("Participant data exported"),
    "participant.request_recorded": _l("Data request recorded"),
    "participant.request_closed": _l("Data request closed"),
    "beneficiary_group.created": _l("Beneficiary group created"),
    "beneficiary_group.updated": _l("Beneficiary group updated"),
    "beneficiary_group.status_changed": _l("Beneficiary group status changed"),
    "l2i.subscription.created": _l("L2I subscription created"),
    "l2i.subscription.updated": _l("L2I subscription updated"),
    "l2i.allocation.created": _l("L2I allocation created"),
    "l2i.allocation.updated": _l("L2I allocation updated"),
    "l2i.allocation.removed": _l("L2I allocation removed"),
    "user.created": _l("User created"),
    "user.reactivated": _l("User reactivated"),
    "user.deactivated": _l("User deactivated"),
    "user.password_reset": _l("Password reset"),
    "user.signed_in": _l("Signed in"),
    "user.signed_out": _l("Signed out"),
    "user.token_created": _l("API token created"),
    "user.token_revoked": _l("API token revoked"),
    "user.language_chosen": _l("Language chosen"),
    "company.created": _l("Company created"),
    "webhook.endpoint.created": _l("Webhook endpoint created"),
    "webhook.endpoint.updated": _l("Webhook endpoint updated"),
    "webhook.endpoint.enabled": _l("Webhook endpoint enabled"),
    "webhook.endpoint.disabled": _l("Webhook endpoint disabled"),
    "webhook.endpoint.secret_rotated": _l("Webhook endpoint secret rotated"),
    "webhook.endpoint.deleted": _l("Webhook endpoint deleted"),
}


def event_kind(event: ActivityEvent) -> str:
    """The kind of change in a few words: "Campaign paused", "Enrollment promoted"."""
    label = KIND_LABELS.get(event.type)
    if label is not None:
        return str(label)
    # A type this list does not know yet: its subject, then its code.
    prefix, _dot, verb = event.type.rpartition(".")
    return _("%(subject)s: %(change)s", subject=SUBJECT_KINDS.get(prefix, prefix), change=verb.replace("_", " "))


# --- the sentences --------------------------------------------------------------------------
# Each sentence is one whole translatable message with named placeholders, so a language
# orders its words as it needs. It is translated with every placeholder standing for a
# marker, then split at the markers, where the pieces go (a linked object, a name, a
# figure): the links stay links in any word order.

_MARK = "\x00"
_MARKED = re.compile(f"{_MARK}(\\w+){_MARK}")
_SLOT_NAMES = ("actor", "subject", "person", "campaign", "fields", "old", "new", "cap", "version", "count",
               "waitlisted", "milestones", "reason", "share", "token", "language", "status", "kind", "volunteer",
               "delivery", "date", "period", "outcome", "set")
SLOTS = {name: f"{_MARK}{name}{_MARK}" for name in _SLOT_NAMES}


def _fill(said: str, **parts: Piece | str) -> tuple[Piece, ...]:
    """A translated sentence whose placeholders hold markers, as pieces with ``parts`` in place."""
    pieces: list[Piece] = []
    for index, chunk in enumerate(_MARKED.split(said)):
        if index % 2 == 0:
            if chunk:
                pieces.append(Piece(chunk))
            continue
        part = parts.get(chunk)
        if isinstance(part, Piece):
            pieces.append(part)
        elif part is not None:
            pieces.append(Piece(str(part)))
    return tuple(pieces)


def _say(message: Any, **parts: Piece | str) -> tuple[Piece, ...]:
    """``message``: a sentence from ``_``/``_l`` without variables (its placeholders unfilled)."""
    return _fill(str(message) % SLOTS, **parts)


class _Say:
    """Builds one event's sentence for one reader."""

    def __init__(self, event: ActivityEvent, viewer: User, facts: Facts):
        self.e, self.viewer, self.facts = event, viewer, facts
        self.data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
        self.pm = bool(viewer.is_program_manager)

    # who
    def actor(self) -> Piece:
        return Piece(self.e.actor.name if self.e.actor is not None else _("The system"))

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
        if e.subject_type in ("enrollments", "deliveries"):
            enrollment_id = sid if e.subject_type == "enrollments" else self.data.get("enrollment_id")
            enrollment = self.facts.enrollments.get(enrollment_id) if isinstance(enrollment_id, int) else None
            if enrollment is None:
                return None
            if self.pm or self.may_identify(enrollment.person):
                return url_for("enrollments.detail", campaign_id=enrollment.campaign_id, enrollment_id=enrollment_id)
            # A company admin's beneficiary: the campaign, never a page about the person.
            return url_for("campaigns.detail", campaign_id=enrollment.campaign_id)
        if e.subject_type == "matches":  # the campaign's matches (a company admin reads its own)
            campaign_id = self.data.get("campaign_id")
            return url_for("matches.index", campaign_id=campaign_id) if campaign_id in self.facts.campaigns else None
        if e.subject_type == "report_snapshots":
            return url_for("reports.snapshot", snapshot_id=sid) if sid in self.facts.reports else None
        if not self.pm:  # the pages below are the program team's
            return None
        if e.subject_type == "valuation_sets":
            return url_for("impact.set_detail", set_id=sid) if ("valuation_sets", sid) in self.facts.existing else None
        if e.subject_type == "webhook_endpoints":
            return (url_for("webhooks.detail", webhook_id=sid) if ("webhook_endpoints", sid) in self.facts.existing
                    else None)
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

    def person(self, person: PersonFacts | None, fallback: str | None = None) -> Piece:
        from portal.enrollments.privacy import participant_label

        if person is None:
            return Piece(fallback or _("a participant"))
        name = participant_label(self.viewer, person)
        url = url_for("participants.detail", participant_id=person.id) if self.pm else None
        return Piece(name if self.may_identify(person) else _("participant %(name)s", name=name), url)

    def enrollment(self) -> tuple[Piece, Piece, EnrollmentFacts | None]:
        """(the person, the campaign) an enrollment event is about."""
        facts = self.facts.enrollments.get(self.e.subject_id or 0)
        if facts is None:  # not visible (or gone): the label written at the time ("<pseudonym> in <campaign>")
            return Piece(self.label(_("an enrollment"))), Piece(""), None
        return (self.person(facts.person),
                Piece(facts.campaign_name, url_for("campaigns.detail", campaign_id=facts.campaign_id)), facts)

    def changes(self) -> tuple[FieldChange, ...]:
        if self.e.subject_type == "participants":
            if self.e.type in PRIVACY_EVENT_TYPES:
                return ()
            person = self.facts.participants.get(self.e.subject_id or 0)
            return field_changes(self.e, show_values=person is not None and self.may_identify(person))
        if self.e.subject_type == "matches" and isinstance(self.data.get("to"), str):  # a match's move
            was = self.data.get("from")
            return (FieldChange(_field_label("status"), _value("status", was) if was else "—",
                                _value("status", self.data["to"])),)
        return field_changes(self.e)

    def campaign(self, campaign_id: Any) -> Piece:
        """A campaign named by an event's data, linked (the reader may see it) or "a campaign"."""
        name = self.facts.campaigns.get(campaign_id) if isinstance(campaign_id, int) else None
        if name is None:
            return Piece(_("a campaign"))
        return Piece(name, url_for("campaigns.detail", campaign_id=campaign_id))

    def enrolled(self, enrollment_id: Any, fallback: str) -> tuple[Piece, Piece | None]:
        """(the person, their campaign) of an enrollment an event's data names; the person as
        the reader may know them (a beneficiary is a company's pseudonym), or ``fallback``."""
        facts = self.facts.enrollments.get(enrollment_id) if isinstance(enrollment_id, int) else None
        if facts is None:
            return Piece(fallback), None
        return (self.person(facts.person),
                Piece(facts.campaign_name, url_for("campaigns.detail", campaign_id=facts.campaign_id)))

    def privacy_subject(self) -> Piece:
        """Who a privacy event is about: only the pseudonymous label the event stores (a
        reference, "Erased participant"), linked to the privacy page for the program team."""
        sid = self.e.subject_id
        url = (url_for("privacy.participant", participant_id=sid)
               if self.pm and sid is not None and sid in self.facts.participants else None)
        return Piece(self.label(_("a participant")), url)

    def fields(self) -> str:
        """The changed fields' names in a phrase: "the name, waitlist and budget"'s middle."""
        return _changed_names(self.changes())

    def generic(self, target: Piece | None = None) -> tuple[Piece, ...]:
        """Any event without a sentence of its own: who, the kind of change, what."""
        return _say(_("%(actor)s — %(kind)s: %(subject)s"), actor=self.actor(), kind=event_kind(self.e).lower(),
                    subject=target or self.subject())


def _listed(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c" in the reader's language."""
    if len(items) <= 1:
        return items[0] if items else ""
    return _("%(items)s and %(last)s", items=", ".join(items[:-1]), last=items[-1])


def _changed_names(changes: Sequence[FieldChange]) -> str:
    # A field's name inside a sentence is lower case, except an abbreviation ("SDGs").
    names = [c.label if len(c.label) > 1 and c.label[0].isupper() and c.label[1].isupper() else c.label.lower()
             for c in changes]
    if not names:
        return _("the details")
    return _listed(names)


def _run_move(s: _Say, verb: str, program: bool) -> tuple[Piece, ...]:
    """A program's or a campaign's lifecycle move."""
    actor, subject = s.actor(), s.subject()
    if program:
        said = {"started": _l("%(actor)s started the program %(subject)s"),
                "paused": _l("%(actor)s paused the program %(subject)s"),
                "completed": _l("%(actor)s completed the program %(subject)s"),
                "archived": _l("%(actor)s archived the program %(subject)s")}.get(verb)
    else:
        said = {"started": _l("%(actor)s started the campaign %(subject)s"),
                "paused": _l("%(actor)s paused the campaign %(subject)s"),
                "completed": _l("%(actor)s completed the campaign %(subject)s"),
                "archived": _l("%(actor)s archived the campaign %(subject)s")}.get(verb)
    return _say(said, actor=actor, subject=subject) if said is not None else s.generic()


def _template(s: _Say, verb: str) -> tuple[Piece, ...]:
    actor = s.actor()
    if verb == "updated":
        return _say(_("%(actor)s changed the %(fields)s of the draft template %(subject)s"), actor=actor,
                    fields=s.fields(), subject=s.subject())
    if verb == "deprecated" and s.data.get("deprecated_by_version"):
        return _say(_("%(actor)s deprecated %(subject)s (replaced by version %(version)s)"), actor=actor,
                    subject=s.subject(), version=str(s.data["deprecated_by_version"]))
    said = {"created": _l("%(actor)s created the template %(subject)s"),
            "published": _l("%(actor)s published the template %(subject)s"),
            "deprecated": _l("%(actor)s deprecated the template %(subject)s"),
            "archived": _l("%(actor)s archived the template %(subject)s"),
            "deleted": _l("%(actor)s deleted the template %(subject)s")}.get(verb)
    return _say(said, actor=actor, subject=s.subject()) if said is not None else s.generic()


def _program(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _say(_("%(actor)s launched the program %(subject)s as a draft"), actor=s.actor(), subject=s.subject())
    if verb == "updated":
        version = s.data.get("template_version")
        if _is_change(version):
            return _say(_("%(actor)s upgraded %(subject)s from template version %(old)s to %(new)s"),
                        actor=s.actor(), subject=s.subject(), old=str(version["from"]), new=str(version["to"]))
        pin = s.data.get("valuation_set")
        if _is_change(pin):  # portal.impact.operations.pin_program: the sets' labels
            if pin["to"]:
                return _say(_("%(actor)s pinned the program %(subject)s to the valuation set %(set)s"),
                            actor=s.actor(), subject=s.subject(), set=str(pin["to"]))
            return _say(_("%(actor)s unpinned the program %(subject)s from its valuation set"), actor=s.actor(),
                        subject=s.subject())
        return _say(_("%(actor)s changed the settings of the program %(subject)s"), actor=s.actor(),
                    subject=s.subject())
    return _run_move(s, verb, program=True)


# One changed figure reads as a verb: "raised the cap of X from 40 to 50". For each figure:
# raised, lowered (from old to new), set (to new, from nothing), removed.
_FIGURES = {
    "max_enrollment": (_l("%(actor)s raised the cap of %(subject)s from %(old)s to %(new)s"),
                       _l("%(actor)s lowered the cap of %(subject)s from %(old)s to %(new)s"),
                       _l("%(actor)s set the cap of %(subject)s to %(new)s"),
                       _l("%(actor)s removed the cap of %(subject)s")),
    "target_enrollment": (_l("%(actor)s raised the target of %(subject)s from %(old)s to %(new)s"),
                          _l("%(actor)s lowered the target of %(subject)s from %(old)s to %(new)s"),
                          _l("%(actor)s set the target of %(subject)s to %(new)s"),
                          _l("%(actor)s removed the target of %(subject)s")),
    "budget_allocated": (_l("%(actor)s raised the budget of %(subject)s from %(old)s to %(new)s"),
                         _l("%(actor)s lowered the budget of %(subject)s from %(old)s to %(new)s"),
                         _l("%(actor)s set the budget of %(subject)s to %(new)s"),
                         _l("%(actor)s removed the budget of %(subject)s")),
    "seat_price": (_l("%(actor)s raised the seat price of %(subject)s from %(old)s to %(new)s"),
                   _l("%(actor)s lowered the seat price of %(subject)s from %(old)s to %(new)s"),
                   _l("%(actor)s set the seat price of %(subject)s to %(new)s"),
                   _l("%(actor)s removed the seat price of %(subject)s")),
    "target_volunteers": (_l("%(actor)s raised the volunteer target of %(subject)s from %(old)s to %(new)s"),
                          _l("%(actor)s lowered the volunteer target of %(subject)s from %(old)s to %(new)s"),
                          _l("%(actor)s set the volunteer target of %(subject)s to %(new)s"),
                          _l("%(actor)s removed the volunteer target of %(subject)s")),
}


def _campaign(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _say(_("%(actor)s created the campaign %(subject)s as a draft"), actor=s.actor(), subject=s.subject())
    if verb == "capacity_reached":
        cap = s.data.get("max_enrollment")
        if isinstance(cap, int):
            return _say(_("%(subject)s reached its cap of %(cap)s"), subject=s.subject(), cap=number(cap))
        return _say(_("%(subject)s reached its cap"), subject=s.subject())
    if verb == "updated":
        if "config_overrides" in s.data or "config_changes" in s.data:
            return _say(_("%(actor)s changed the settings of %(subject)s"), actor=s.actor(), subject=s.subject())
        changes = [(k, v) for k, v in s.data.items() if _is_change(v)]
        if len(changes) == 1 and changes[0][0] in _FIGURES:
            name, change = changes[0]
            old, new = change["from"], change["to"]
            raised, lowered, set_to, removed = _FIGURES[name]
            if isinstance(old, int) and isinstance(new, int) and old != new:
                return _say(raised if new > old else lowered, actor=s.actor(), subject=s.subject(),
                            old=_value(name, old), new=_value(name, new))
            if old is None:
                return _say(set_to, actor=s.actor(), subject=s.subject(), new=_value(name, new))
            if new is None:
                return _say(removed, actor=s.actor(), subject=s.subject())
        return _say(_("%(actor)s changed the %(fields)s of %(subject)s"), actor=s.actor(), fields=s.fields(),
                    subject=s.subject())
    return _run_move(s, verb, program=False)


def _enrollment(s: _Say, verb: str) -> tuple[Piece, ...]:
    if s.e.subject_type == "campaigns" and s.data.get("import"):  # one event for a whole CSV import
        n, waitlisted = s.data.get("enrolled", 0), s.data.get("waitlisted", 0)
        if waitlisted:
            said = ngettext("%(actor)s imported %(count)s enrollment (%(waitlisted)s on the waitlist) into %(subject)s",
                            "%(actor)s imported %(count)s enrollments (%(waitlisted)s on the waitlist) into "
                            "%(subject)s", n, **SLOTS)
        else:
            said = ngettext("%(actor)s imported %(count)s enrollment into %(subject)s",
                            "%(actor)s imported %(count)s enrollments into %(subject)s", n, **SLOTS)
        return _fill(said, actor=s.actor(), count=number(n), waitlisted=number(waitlisted), subject=s.subject())
    if verb == "consent_withdrawn":  # portal.privacy: the reference the label stores, never a name
        facts = s.facts.enrollments.get(s.e.subject_id or 0)
        ref = (facts.person.ref if facts is not None and facts.person.ref
               else s.label(_("a participant")).split(" in campaign #")[0])
        url = (url_for("privacy.participant", participant_id=facts.person.id)
               if s.pm and facts is not None else None)
        campaign = (Piece(facts.campaign_name, url_for("campaigns.detail", campaign_id=facts.campaign_id))
                    if facts is not None else s.campaign(s.data.get("campaign_id")))
        return _say(_("%(actor)s recorded that %(person)s withdrew consent in %(campaign)s"), actor=s.actor(),
                    person=Piece(ref, url), campaign=campaign)
    person, campaign, facts = s.enrollment()
    if facts is None:
        return s.generic(person)
    actor = s.actor()
    if verb == "created":
        if facts.role == "volunteer":
            return _say(_("%(actor)s enrolled %(person)s in %(campaign)s as a volunteer"), actor=actor,
                        person=person, campaign=campaign)
        return _say(_("%(actor)s enrolled %(person)s in %(campaign)s"), actor=actor, person=person, campaign=campaign)
    if verb == "waitlisted":
        return _say(_("%(actor)s put %(person)s on the waitlist of %(campaign)s"), actor=actor, person=person,
                    campaign=campaign)
    if verb == "promoted":
        return _say(_("%(person)s moved from the waitlist into a seat in %(campaign)s"), person=person,
                    campaign=campaign)
    if verb == "completed":
        return _say(_("%(actor)s marked %(person)s as having completed %(campaign)s"), actor=actor, person=person,
                    campaign=campaign)
    if verb == "milestone_reached":  # the daily job: time was the last threshold (SPEC §2.10)
        names = [str(n) for n in s.data.get("milestone_names") or []]
        if not names:
            return _say(_("%(person)s reached a milestone in %(campaign)s"), person=person, campaign=campaign)
        quoted = _listed([_("“%(name)s”", name=n) for n in names])
        return _say(_("%(person)s reached %(milestones)s in %(campaign)s"), person=person, milestones=quoted,
                    campaign=campaign)
    if verb == "dropped":
        reason = s.data.get("reason")
        if reason and s.may_identify(facts.person):
            return _say(_("%(actor)s dropped %(person)s from %(campaign)s (reason: %(reason)s)"), actor=actor,
                        person=person, campaign=campaign, reason=_value("reason", reason))
        return _say(_("%(actor)s dropped %(person)s from %(campaign)s"), actor=actor, person=person,
                    campaign=campaign)
    if verb == "updated":
        return _say(_("%(actor)s updated the enrollment of %(person)s in %(campaign)s"), actor=actor, person=person,
                    campaign=campaign)
    return s.generic(person)


def _participant(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "erased":  # portal.privacy: the label is "Erased participant" / "Erased volunteer"
        if s.data.get("reason") == "retention":
            return _say(_("%(actor)s erased the personal data of %(person)s when the retention period ended"),
                        actor=s.actor(), person=s.privacy_subject())
        return _say(_("%(actor)s erased the personal data of %(person)s"), actor=s.actor(), person=s.privacy_subject())
    if verb == "data_exported":  # portal.privacy: the label is the participant's reference
        return _say(_("%(actor)s exported the data held about %(person)s"), actor=s.actor(),
                    person=s.privacy_subject())
    person = s.person(s.facts.participants.get(s.e.subject_id or 0))
    if verb == "created":
        return _say(_("%(actor)s added %(person)s"), actor=s.actor(), person=person)
    if verb == "request_recorded":  # portal.privacy: the stored reference, never the live name
        return _say(_("%(actor)s recorded a data request from %(person)s"), actor=s.actor(),
                    person=s.privacy_subject())
    if verb == "request_closed":
        return _say(_("%(actor)s closed a data request from %(person)s"), actor=s.actor(),
                    person=s.privacy_subject())
    return _say(_("%(actor)s changed the %(fields)s of %(person)s"), actor=s.actor(), fields=s.fields(),
                person=person)


def _group(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _say(_("%(actor)s created the beneficiary group %(subject)s"), actor=s.actor(), subject=s.subject())
    if verb == "updated":
        return _say(_("%(actor)s changed the %(fields)s of the group %(subject)s"), actor=s.actor(),
                    fields=s.fields(), subject=s.subject())
    if verb == "status_changed" and _is_change(s.data.get("status")):
        target = s.data["status"]["to"]
        said = {"active": _l("%(actor)s reactivated the group %(subject)s"),
                "inactive": _l("%(actor)s deactivated the group %(subject)s"),
                "archived": _l("%(actor)s archived the group %(subject)s")}.get(target)
        if said is None:
            return _say(_("%(actor)s set the status of the group %(subject)s to %(status)s"), actor=s.actor(),
                        subject=s.subject(), status=status_label(str(target)))
        return _say(said, actor=s.actor(), subject=s.subject())
    return s.generic()


def _l2i(s: _Say, verb: str) -> tuple[Piece, ...]:
    noun = s.e.type.split(".")[1]
    if noun == "subscription":
        if verb == "created":
            return _say(_("%(actor)s recorded the L2I subscription %(subject)s"), actor=s.actor(), subject=s.subject())
        if verb == "updated":
            return _say(_("%(actor)s changed the %(fields)s of the L2I subscription %(subject)s"), actor=s.actor(),
                        fields=s.fields(), subject=s.subject())
        return s.generic()
    share = s.data.get("share_bp")
    share_text = _value("share_bp", share) if isinstance(share, int) else None
    if verb == "created":
        if share_text:
            return _say(_("%(actor)s allocated %(share)s of the L2I subscription %(subject)s"), actor=s.actor(),
                        share=share_text, subject=s.subject())
        return _say(_("%(actor)s allocated the L2I subscription %(subject)s"), actor=s.actor(), subject=s.subject())
    if verb == "removed":
        if share_text:
            return _say(_("%(actor)s removed an allocation of %(share)s of the L2I subscription %(subject)s"),
                        actor=s.actor(), share=share_text, subject=s.subject())
        return _say(_("%(actor)s removed an allocation of the L2I subscription %(subject)s"), actor=s.actor(),
                    subject=s.subject())
    return _say(_("%(actor)s changed the %(fields)s of an allocation of %(subject)s"), actor=s.actor(),
                fields=s.fields(), subject=s.subject())


def _user(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "signed_in":
        return _say(_("%(subject)s signed in"), subject=s.subject())
    if verb == "signed_out":
        return _say(_("%(subject)s signed out"), subject=s.subject())
    if verb == "created":
        return _say(_("%(actor)s added the user %(subject)s"), actor=s.actor(), subject=s.subject())
    if verb == "reactivated":
        return _say(_("%(actor)s reactivated the user %(subject)s"), actor=s.actor(), subject=s.subject())
    if verb == "deactivated":
        return _say(_("%(actor)s deactivated the user %(subject)s"), actor=s.actor(), subject=s.subject())
    if verb == "password_reset":
        return _say(_("%(actor)s reset the password of %(subject)s"), actor=s.actor(), subject=s.subject())
    if verb in ("token_created", "token_revoked"):  # portal.tokens: the token's name and prefix, never the token
        name = s.data.get("name") if isinstance(s.data.get("name"), str) else None
        if verb == "token_created":
            said = (_l("%(actor)s created the API token “%(token)s” of %(subject)s") if name
                    else _l("%(actor)s created an API token of %(subject)s"))
        else:
            said = (_l("%(actor)s revoked the API token “%(token)s” of %(subject)s") if name
                    else _l("%(actor)s revoked an API token of %(subject)s"))
        return _say(said, actor=s.actor(), token=name or "", subject=s.subject())
    if verb == "language_chosen":
        from portal.i18n import LANGUAGES

        code = s.data.get("language")
        return _say(_("%(subject)s chose to read the portal in %(language)s"), subject=s.subject(),
                    language=LANGUAGES.get(code, str(code or "")) if isinstance(code, str) else "")
    return s.generic()


def _company(s: _Say, verb: str) -> tuple[Piece, ...]:
    if verb == "created":
        return _say(_("%(actor)s added the company %(subject)s"), actor=s.actor(), subject=s.subject())
    return s.generic()


def _match(s: _Say, verb: str) -> tuple[Piece, ...]:
    """portal.matches: the pair by the names the reader may know (a beneficiary is a pseudonym)."""
    volunteer, campaign = s.enrolled(s.data.get("volunteer_enrollment_id"), _("a volunteer"))
    person, beneficiary_campaign = s.enrolled(s.data.get("beneficiary_enrollment_id"), _("a participant"))
    campaign = campaign or beneficiary_campaign or s.campaign(s.data.get("campaign_id"))
    if campaign.url is not None and (matches := s.subject_url()) is not None:  # the campaign's matches
        campaign = Piece(campaign.text, matches)
    said = {"proposed": _l("%(actor)s proposed %(volunteer)s as the volunteer of %(person)s in %(campaign)s"),
            "confirmed": _l("%(actor)s confirmed the match of %(volunteer)s with %(person)s in %(campaign)s"),
            "ended": _l("%(actor)s ended the match of %(volunteer)s with %(person)s in %(campaign)s")}.get(verb)
    if said is None:
        return s.generic()
    return _say(said, actor=s.actor(), volunteer=volunteer, person=person, campaign=campaign)


def _delivery(s: _Say, verb: str) -> tuple[Piece, ...]:
    """portal.deliveries: one delivery (its kind and day, for whom), or a sheet or file of them."""
    if s.e.subject_type == "campaigns":  # one event for a whole attendance sheet or delivery file
        n = s.data.get("recorded") if isinstance(s.data.get("recorded"), int) else 0
        said = ngettext("%(actor)s recorded %(count)s delivery in %(subject)s",
                        "%(actor)s recorded %(count)s deliveries in %(subject)s", n, **SLOTS)
        return _fill(said, actor=s.actor(), count=number(n), subject=s.subject())
    person, campaign = s.enrolled(s.data.get("enrollment_id"), _("a participant"))
    campaign = campaign or s.campaign(s.data.get("campaign_id"))
    kind = s.data.get("kind")
    what = _("“%(name)s”", name=_value("kind", kind)) if isinstance(kind, str) and kind else _("a delivery")
    day = _value("occurred_on", s.data.get("occurred_on"))
    said = {"recorded": _l("%(actor)s recorded %(delivery)s on %(date)s for %(person)s in %(campaign)s"),
            "corrected": _l("%(actor)s corrected %(delivery)s of %(date)s for %(person)s in %(campaign)s"),
            "voided": _l("%(actor)s voided %(delivery)s of %(date)s for %(person)s in %(campaign)s")}.get(verb)
    if said is None:
        return s.generic()
    return _say(said, actor=s.actor(), delivery=Piece(what, s.subject_url()), date=day, person=person,
                campaign=campaign)


def _outcome(value: Any) -> str:
    """"delivery:session_completed" → "“Session completed”"."""
    from portal.deliveries.kinds import kind_label

    return _("“%(name)s”", name=kind_label(str(value).rpartition(":")[2]))


def _valuation_set(s: _Say, verb: str) -> tuple[Piece, ...]:
    """portal.impact: a valuation set's versions and entries (the program team's)."""
    actor, subject = s.actor(), s.subject()
    if verb == "created" and s.data.get("copied_from_version") is not None:
        return _say(_("%(actor)s started %(subject)s as a copy of version %(version)s"), actor=actor,
                    subject=subject, version=str(s.data["copied_from_version"]))
    if verb == "updated":
        if "entry_removed" in s.data:
            return _say(_("%(actor)s removed the outcome %(outcome)s from %(subject)s"), actor=actor,
                        outcome=_outcome(s.data["entry_removed"]), subject=subject)
        if "entry_added" in s.data:
            return _say(_("%(actor)s valued the outcome %(outcome)s in %(subject)s"), actor=actor,
                        outcome=_outcome(s.data.get("entry", "")), subject=subject)
        if "entry_changed" in s.data:
            return _say(_("%(actor)s changed the %(fields)s of the outcome %(outcome)s in %(subject)s"),
                        actor=actor, fields=s.fields(), outcome=_outcome(s.data.get("entry", "")), subject=subject)
        return _say(_("%(actor)s changed the %(fields)s of the valuation set %(subject)s"), actor=actor,
                    fields=s.fields(), subject=subject)
    if verb == "activated" and s.data.get("replaces_version") is not None:
        return _say(_("%(actor)s activated %(subject)s in place of version %(version)s"), actor=actor,
                    subject=subject, version=str(s.data["replaces_version"]))
    if verb == "retired" and s.data.get("replaced_by_version") is not None:
        return _say(_("%(actor)s retired %(subject)s: version %(version)s replaces it"), actor=actor,
                    subject=subject, version=str(s.data["replaced_by_version"]))
    said = {"created": _l("%(actor)s created the valuation set %(subject)s"),
            "activated": _l("%(actor)s activated the valuation set %(subject)s"),
            "retired": _l("%(actor)s retired the valuation set %(subject)s"),
            "deleted": _l("%(actor)s deleted the draft valuation set %(subject)s")}.get(verb)
    return _say(said, actor=actor, subject=subject) if said is not None else s.generic()


def _period_words(key: Any) -> str:
    """A report period's key ("2026-Q2", "2026-01-15..2026-03-31") in the reader's words."""
    from portal.reports.periods import InvalidPeriod, parse_period

    text = str(key or "")
    start, dots, end = text.partition("..")
    try:
        return (parse_period(None, start=start, end=end) if dots else parse_period(text)).label
    except (InvalidPeriod, ValueError):
        return text or "—"


def _report(s: _Say, verb: str) -> tuple[Piece, ...]:
    """portal.reports: a frozen impact report and its share links (never a link's address)."""
    sid = s.e.subject_id
    period = Piece(_period_words(s.facts.reports.get(sid or 0, s.data.get("period"))), s.subject_url())
    if verb == "created":
        return _say(_("%(actor)s froze the impact report for %(period)s"), actor=s.actor(), period=period)
    if verb == "shared":
        until = s.data.get("expires_at")
        return _say(_("%(actor)s shared the impact report for %(period)s by a link that works until %(date)s"),
                    actor=s.actor(), period=period, date=_value("end_date", until) if isinstance(until, str) else "—")
    if verb == "unshared":
        return _say(_("%(actor)s switched off a link to the impact report for %(period)s"), actor=s.actor(),
                    period=period)
    if verb == "viewed":
        return _say(_("Someone opened a shared link to the impact report for %(period)s"), period=period)
    return s.generic()


def _webhook(s: _Say, verb: str) -> tuple[Piece, ...]:
    """portal.webhooks: endpoints (the program team's; never a secret)."""
    if verb == "updated":
        return _say(_("%(actor)s changed the %(fields)s of the webhook endpoint %(subject)s"), actor=s.actor(),
                    fields=s.fields(), subject=s.subject())
    said = {"created": _l("%(actor)s registered the webhook endpoint %(subject)s"),
            "enabled": _l("%(actor)s switched on the webhook endpoint %(subject)s"),
            "disabled": _l("%(actor)s switched off the webhook endpoint %(subject)s"),
            "secret_rotated": _l("%(actor)s replaced the signing secret of the webhook endpoint %(subject)s"),
            "deleted": _l("%(actor)s deleted the webhook endpoint %(subject)s")}.get(verb)
    return _say(said, actor=s.actor(), subject=s.subject()) if said is not None else s.generic()


_BY_PREFIX: dict[str, Callable[[_Say, str], tuple[Piece, ...]]] = {
    "program.template": _template, "program.campaign": _campaign, "program.enrollment": _enrollment,
    "program": _program, "participant": _participant, "beneficiary_group": _group, "l2i.subscription": _l2i,
    "l2i.allocation": _l2i, "user": _user, "company": _company, "program.match": _match,
    "program.delivery": _delivery, "impact.valuation_set": _valuation_set, "impact.report": _report,
    "webhook.endpoint": _webhook,
}
# What the privacy operations write (portal.privacy): sentences name only the stored label.
PRIVACY_EVENT_TYPES = frozenset({"participant.erased", "participant.data_exported",
                                 "program.enrollment.consent_withdrawn", "participant.request_recorded",
                                 "participant.request_closed"})


def describe_event(event: ActivityEvent, viewer: User, facts: Facts) -> Sentence:
    say = _Say(event, viewer, facts)
    prefix, _dot, verb = event.type.rpartition(".")
    builder = _BY_PREFIX.get(prefix)
    pieces = builder(say, verb) if builder else say.generic()
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
