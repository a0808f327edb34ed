"""Valuation sets (SPEC §2.11): versioned like templates — draft → active → retired, only a
draft changes, a key has at most one draft and one active version, and activating version
n+1 retires the active one (programs pinned to it keep it until they upgrade) — and the pin
of a program to one active version. Each operation takes the acting user, changes the
session, writes its activity event and flushes; the caller commits once.

Field rules (every problem at its field, ValidationFailed → 422, nothing saved): a proxy is
a plain amount of 0 to 10,000,000 per unit with at most 2 decimals; deadweight, attribution,
displacement and drop-off are 0–100 %; a duration 1–10 whole years; a discount rate 0–20 %.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from portal import reference
from portal.activity.operations import record_event
from portal.db import db, utcnow
from portal.errors import DomainError, InvalidTransition, StaleEdit, ValidationFailed
from portal.forms import decimal_places, parse_decimal
from portal.i18n import _l, number
from portal.impact.models import (
    ACTIVE,
    COMPLETION,
    DELIVERY,
    DRAFT,
    MILESTONE,
    OUTCOME_TYPES,
    PROGRAM_COMPLETED,
    RETIRED,
    VALUATION_TRANSITIONS,
    ValuationEntry,
    ValuationSet,
)
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import status_label

if TYPE_CHECKING:
    from portal.auth.models import User
    from portal.programs.models import Program

MAX_PROXY = Decimal(10_000_000)  # per unit, in major units
MAX_RATE = Decimal(20)
DEFAULT_RATE = Decimal("3.50")
PERCENT_FIELDS = ("deadweight", "attribution", "displacement", "drop_off")
PERCENT_LABELS = {"deadweight": _l("Deadweight"), "attribution": _l("Attribution"),
                  "displacement": _l("Displacement"), "drop_off": _l("Drop-off per year")}
OUTCOME_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
OUTCOME_TYPE_LABELS = {DELIVERY: _l("Delivery kind"), MILESTONE: _l("Milestone"), COMPLETION: _l("Program completed")}
# The fields a version comparison names (set fields and entry fields).
FIELD_LABELS = {"name": _l("Name"), "currency": _l("Currency"), "discount_rate": _l("Discount rate"),
                "proxy_minor": _l("Financial proxy"), "source_text": _l("Source"), "source_url": _l("Source address"),
                "duration_years": _l("Duration (years)"), **PERCENT_LABELS}
CHANGE_LABELS = {"added": _l("Added"), "removed": _l("Removed"), "changed": _l("Changed")}
ENTRY_FIELDS = ("outcome_type", "outcome", "proxy_minor", "source_text", "source_url", *PERCENT_FIELDS,
                "duration_years")


# --- pure field rules ------------------------------------------------------------------------
def _percent(value: Any, label: Any, errors: dict[str, list[str]], name: str, *, high: Decimal = Decimal(100),
             default: Decimal | None = Decimal(0)) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            errors[name] = [_l("Enter a percentage from 0 to %(high)s.", high=number(high))]
            return Decimal(0)
        return default
    try:
        value_ = parse_decimal(value)
    except ValueError as exc:
        errors[name] = [str(exc)]
        return Decimal(0)
    if not Decimal(0) <= value_ <= high:
        errors[name] = [_l("%(name)s is a percentage from 0 to %(high)s.", name=label, high=number(high))]
    elif decimal_places(value_) > 2:
        errors[name] = [_l("Use at most 2 decimal places.")]
    return value_.quantize(Decimal("0.01")) if name not in errors else Decimal(0)


def clean_set_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Name (1–255), description (≤ 5000), an ISO 4217 currency, a discount rate of 0–20 %."""
    errors: dict[str, list[str]] = {}
    name = (raw.get("name") or "").strip() if isinstance(raw.get("name"), str) else ""
    if not 1 <= len(name) <= 255:
        errors["name"] = [_l("Enter a name of 1 to 255 characters.")]
    description = raw.get("description") or ""
    if not isinstance(description, str) or len(description) > 5000:
        errors["description"] = [_l("Use at most 5000 characters.")]
        description = ""
    currency = (raw.get("currency") or "").strip().upper() if isinstance(raw.get("currency"), str) else ""
    if currency not in reference.currencies():
        errors["currency"] = [_l("Enter an ISO 4217 currency code such as NOK or EUR.")]
    rate = _percent(raw.get("discount_rate"), _l("Discount rate"), errors, "discount_rate", high=MAX_RATE,
                    default=DEFAULT_RATE)
    if errors:
        raise ValidationFailed(errors)
    return {"name": name, "description": description.strip(), "currency": currency, "discount_rate": rate}


def parse_outcome(value: Any) -> tuple[str, str] | None:
    """"delivery:session_completed" → ("delivery", "session_completed"); None when unreadable."""
    if not isinstance(value, str) or ":" not in value:
        return None
    kind, _, key = value.strip().partition(":")
    if kind not in OUTCOME_TYPES:
        return None
    if kind == COMPLETION:
        return COMPLETION, PROGRAM_COMPLETED
    return (kind, key) if OUTCOME_KEY.fullmatch(key) else None


def clean_entry(raw: dict[str, Any]) -> dict[str, Any]:
    """One entry's fields (``outcome`` as "type:key", ``proxy`` in major units)."""
    errors: dict[str, list[str]] = {}
    outcome = parse_outcome(raw.get("outcome"))
    if outcome is None:
        errors["outcome"] = [_l("Choose the outcome: a delivery kind, a milestone key (lowercase letters, digits, "
                                "_ and -) or program completed.")]
        outcome = (DELIVERY, "")
    proxy = Decimal(0)
    value = raw.get("proxy")
    if value is None or (isinstance(value, str) and not value.strip()):
        errors["proxy"] = [_l("Enter the value of one unit of this outcome, e.g. 1250.00.")]
    else:
        try:
            proxy = parse_decimal(value)
        except ValueError as exc:
            errors["proxy"] = [str(exc)]
        else:
            if proxy < 0:
                errors["proxy"] = [_l("A financial proxy is zero or more.")]
            elif proxy > MAX_PROXY:
                errors["proxy"] = [_l("That is more than %(max)s per unit: check the amount (it is per unit, "
                                      "in major units such as kroner or euros).", max=number(MAX_PROXY))]
            elif decimal_places(proxy) > 2:
                errors["proxy"] = [_l("Use at most 2 decimal places.")]
    source_text = raw.get("source_text") if isinstance(raw.get("source_text"), str) else ""
    source_text = source_text.strip()
    if not 1 <= len(source_text) <= 1000:
        errors["source_text"] = [_l("Say where the figure comes from (1 to 1000 characters): a study, a "
                                    "statistic, a price list.")]
    source_url = raw.get("source_url") if isinstance(raw.get("source_url"), str) else ""
    source_url = source_url.strip()
    if source_url:
        parts = urlsplit(source_url) if len(source_url) <= 500 else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in
                                                                                              source_url):
            errors["source_url"] = [_l("Enter a web address starting with https:// (at most 500 characters), "
                                       "or leave it empty.")]
    percents = {name: _percent(raw.get(name), PERCENT_LABELS[name], errors, name) for name in PERCENT_FIELDS}
    duration = raw.get("duration_years")
    if isinstance(duration, str) and duration.strip().isdigit() and len(duration.strip()) <= 3:
        duration = int(duration.strip())
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 10:
        errors["duration_years"] = [_l("Enter how many years the outcome lasts: a whole number from 1 to 10.")]
        duration = 1
    if errors:
        raise ValidationFailed(errors)
    return {"outcome_type": outcome[0], "outcome": outcome[1], "proxy_minor": int(proxy * 100),
            "source_text": source_text, "source_url": source_url, **percents, "duration_years": duration}


# --- versions ----------------------------------------------------------------------------------
def _check_version(valuation_set: ValuationSet, expected_version: int | None) -> None:
    if expected_version is not None and valuation_set.lock_version != expected_version:
        raise StaleEdit(valuation_set.label)


def ensure_draft(valuation_set: ValuationSet) -> None:
    if valuation_set.status != DRAFT:
        raise DomainError(_l("Only drafts can be changed; version %(version)s is %(status)s. Start a new version "
                             "to change it.", version=valuation_set.version, status=status_label(valuation_set.status)),
                          "status")


def _event(verb: str, actor: User | None, valuation_set: ValuationSet, data: dict[str, Any] | None = None) -> None:
    record_event(f"impact.valuation_set.{verb}", actor=actor, subject=valuation_set,
                 data={"key": valuation_set.key, "version": valuation_set.version, **(data or {})},
                 label=valuation_set.label)


def create_valuation_set(actor: User | None, *, key: str = "", **fields: Any) -> ValuationSet:
    """A new valuation set starts as draft version 1 (discount rate 3.5 % unless given)."""
    values = clean_set_fields(fields)
    key = (key or "").strip()
    if key and (problem := key_problem(key, ValuationSet.key)):
        raise ValidationFailed({"key": [problem]})
    valuation_set = ValuationSet(key=key or unique_key(ValuationSet.key, key_from_name(values["name"])), version=1,
                                 status=DRAFT, created_by_id=actor.id if actor else None, **values)
    db.session.add(valuation_set)
    _event("created", actor, valuation_set)
    return valuation_set


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def update_valuation_set(actor: User | None, valuation_set: ValuationSet, *, expected_version: int | None,
                         **fields: Any) -> ValuationSet:
    """Change a draft's name, description, currency or discount rate."""
    _check_version(valuation_set, expected_version)
    ensure_draft(valuation_set)
    values = clean_set_fields(fields)
    changes = {name: {"from": _jsonable(getattr(valuation_set, name)), "to": _jsonable(value)}
               for name, value in values.items() if getattr(valuation_set, name) != value}
    for name, value in values.items():
        setattr(valuation_set, name, value)
    if changes:
        db.session.flush()
        _event("updated", actor, valuation_set, {"changes": changes})
    return valuation_set


def save_entry(actor: User | None, valuation_set: ValuationSet, *, expected_version: int | None,
               entry: ValuationEntry | None = None, **raw: Any) -> ValuationEntry:
    """Add an entry to a draft, or change one of its entries. One entry per outcome."""
    _check_version(valuation_set, expected_version)
    ensure_draft(valuation_set)
    values = clean_entry(raw)
    clash = db.session.scalar(sa.select(ValuationEntry.id).where(
        ValuationEntry.set_id == valuation_set.id, ValuationEntry.outcome_type == values["outcome_type"],
        ValuationEntry.outcome == values["outcome"]))
    if clash is not None and (entry is None or clash != entry.id):
        raise ValidationFailed({"outcome": [_l("This outcome is valued in this set already: change that entry.")]})
    created = entry is None
    if created:
        entry = ValuationEntry(set_id=valuation_set.id, **values)
        db.session.add(entry)
        changes: dict[str, Any] = {name: _jsonable(v) for name, v in values.items() if name != "source_text"}
    else:
        changes = {name: {"from": _jsonable(getattr(entry, name)), "to": _jsonable(value)}
                   for name, value in values.items() if getattr(entry, name) != value and name != "source_text"}
        if entry.source_text != values["source_text"]:
            changes["source_text"] = "changed"
        for name, value in values.items():
            setattr(entry, name, value)
    valuation_set.updated_at = utcnow()  # moves the set's version: an open form of the old draft is stale
    db.session.flush()
    _event("updated", actor, valuation_set, {"entry": f"{entry.outcome_type}:{entry.outcome}",
                                             "entry_added" if created else "entry_changed": changes})
    return entry


def remove_entry(actor: User | None, valuation_set: ValuationSet, entry: ValuationEntry, *,
                 expected_version: int | None) -> None:
    _check_version(valuation_set, expected_version)
    ensure_draft(valuation_set)
    outcome = f"{entry.outcome_type}:{entry.outcome}"
    db.session.delete(entry)
    valuation_set.updated_at = utcnow()
    db.session.flush()
    _event("updated", actor, valuation_set, {"entry_removed": outcome})


def activate(actor: User | None, valuation_set: ValuationSet, *, expected_version: int | None) -> ValuationSet:
    """Draft → active (immutable from now on). It needs at least one entry. The key's
    active version, if any, is retired: programs pinned to it keep it until upgraded."""
    _check_version(valuation_set, expected_version)
    _check_move(valuation_set, ACTIVE)
    if not valuation_set.entries:
        raise DomainError(_l("Add at least one valued outcome before activating the set."), "entries")
    previous = db.session.scalars(sa.select(ValuationSet).where(
        ValuationSet.key == valuation_set.key, ValuationSet.status == ACTIVE).with_for_update()).first()
    if previous is not None:
        previous.status, previous.retired_at = RETIRED, utcnow()
        db.session.flush()  # free the one-active-per-key slot before taking it
        _event("retired", actor, previous, {"replaced_by_version": valuation_set.version})
    valuation_set.status, valuation_set.activated_at = ACTIVE, utcnow()
    db.session.flush()
    _event("activated", actor, valuation_set, {"replaces_version": previous.version if previous else None})
    return valuation_set


def retire(actor: User | None, valuation_set: ValuationSet, *, expected_version: int | None) -> ValuationSet:
    """Active → retired: no new pins; pinned programs keep it until upgraded."""
    _check_version(valuation_set, expected_version)
    _check_move(valuation_set, RETIRED)
    valuation_set.status, valuation_set.retired_at = RETIRED, utcnow()
    db.session.flush()
    _event("retired", actor, valuation_set)
    return valuation_set


def _check_move(valuation_set: ValuationSet, target: str) -> None:
    if target not in VALUATION_TRANSITIONS.get(valuation_set.status, ()):
        raise InvalidTransition(valuation_set.status, target, list(VALUATION_TRANSITIONS.get(valuation_set.status, ())))


def new_version(actor: User | None, source: ValuationSet) -> tuple[ValuationSet, bool]:
    """Copy a non-draft version and its entries into draft version max + 1 of the same key;
    the key's draft when it has one. Returns (draft, created)."""
    existing = db.session.scalars(sa.select(ValuationSet).where(
        ValuationSet.key == source.key, ValuationSet.status == DRAFT)).first()
    if existing is not None:
        return existing, False
    highest = db.session.scalar(sa.select(sa.func.max(ValuationSet.version)).where(ValuationSet.key == source.key))
    draft = ValuationSet(key=source.key, version=(highest or 0) + 1, name=source.name,
                         description=source.description, currency=source.currency,
                         discount_rate=source.discount_rate, status=DRAFT, created_by_id=actor.id if actor else None)
    draft.entries = [ValuationEntry(**{name: getattr(e, name) for name in ENTRY_FIELDS}) for e in source.entries]
    db.session.add(draft)
    _event("created", actor, draft, {"copied_from_version": source.version})
    return draft, True


def delete_draft(actor: User | None, valuation_set: ValuationSet, *, expected_version: int | None) -> None:
    _check_version(valuation_set, expected_version)
    ensure_draft(valuation_set)
    _event("deleted", actor, valuation_set)
    db.session.delete(valuation_set)
    db.session.flush()


# --- comparing versions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class EntryChange:
    outcome_type: str
    outcome: str
    change: str  # "added", "removed", "changed"
    fields: tuple[tuple[str, Any, Any], ...] = ()  # (field, old, new)


def set_diff(base: ValuationSet, other: ValuationSet) -> tuple[list[tuple[str, Any, Any]], list[EntryChange]]:
    """What changes from ``base`` to ``other``: set fields (currency, rate, name) and entries."""
    head = [(name, getattr(base, name), getattr(other, name)) for name in ("name", "currency", "discount_rate")
            if getattr(base, name) != getattr(other, name)]
    old = {(e.outcome_type, e.outcome): e for e in base.entries}
    new = {(e.outcome_type, e.outcome): e for e in other.entries}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append(EntryChange(*key, "removed"))
        elif key not in old:
            changes.append(EntryChange(*key, "added"))
        else:
            fields = tuple((name, getattr(old[key], name), getattr(new[key], name)) for name in ENTRY_FIELDS[2:]
                           if getattr(old[key], name) != getattr(new[key], name))
            if fields:
                changes.append(EntryChange(*key, "changed", fields))
    return head, changes


# --- pinning a program -------------------------------------------------------------------------------
def pin_program(actor: User | None, program: Program, valuation_set: ValuationSet | None, *,
                expected_version: int | None) -> Program:
    """Pin ``program`` to an active valuation set version (None: no SROI, only points).
    The pin changes only this way, so a program's SROI never moves under it."""
    if expected_version is not None and program.lock_version != expected_version:
        raise StaleEdit(_l("this program"))
    if valuation_set is not None and valuation_set.status != ACTIVE:
        raise ValidationFailed({"valuation_set_id": [_l("%(set)s is %(status)s: pin an active version.",
                                                         set=valuation_set.label,
                                                         status=status_label(valuation_set.status))]})
    before = program.valuation_set_id
    after = valuation_set.id if valuation_set is not None else None
    if before == after:
        return program
    old = db.session.get(ValuationSet, before) if before else None
    program.valuation_set_id = after
    db.session.flush()
    record_event("program.updated", actor=actor, subject=program, data={"valuation_set": {
        "from": old.label if old else None, "to": valuation_set.label if valuation_set else None}})
    return program
