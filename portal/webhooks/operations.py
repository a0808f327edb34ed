"""Webhook endpoints: register, edit, enable/disable, rotate the secret, delete, and send a
test event (SPEC §4.2). Program managers only; each change writes its activity event. The
caller owns the transaction (views wrap these in ``transaction()``).

The rules: the URL passes :func:`portal.webhooks.addresses.check_url` (HTTPS, public
addresses only); at least one known event type; a description of at most 200 characters;
an optional company filter naming an existing company. The secret is made here and
returned once by :func:`create_endpoint` and :func:`rotate_secret`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from portal.activity.operations import record_event
from portal.auth.models import PROGRAM_MANAGER, Company, User
from portal.db import db, utcnow
from portal.errors import DomainError, Forbidden, NotFound, StaleEdit, ValidationFailed
from portal.i18n import _l
from portal.webhooks.addresses import UnsafeURL, allow_private, check_url, parse_url
from portal.webhooks.events import EVENT_TYPES, NO_COMPANY_TYPES, TEST_EVENT_TYPE, sample_payload, type_label
from portal.webhooks.fanout import forget_endpoints, queue_delivery
from portal.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.webhooks.signing import new_secret

DESCRIPTION_MAX_LENGTH = 200
# After a rotation the old secret keeps signing (beside the new one) this long.
ROTATION_OVERLAP = timedelta(hours=24)
LOG_SIZE = 50


def _require_manager(actor: User | None) -> None:
    if actor is not None and actor.role != PROGRAM_MANAGER:
        raise Forbidden(_l("Only program managers manage webhooks."))


def clean_endpoint_fields(url: str | None, description: str | None, event_types: list[str] | None,
                          company_id: int | None) -> dict[str, Any]:
    """The endpoint rules (see the module docstring): clean values, or ValidationFailed with every problem."""
    errors: dict[str, list[Any]] = {}
    try:
        if allow_private():  # testing: any well-formed URL (no DNS look-up for names nobody will call)
            parse_url(url or "", allow_insecure=True)
        else:
            check_url(url or "", private_ok=False)
    except UnsafeURL as exc:
        errors["url"] = [exc.message]
    description = " ".join((description or "").split())
    if len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [_l("Keep the description to %(max)s characters.", max=DESCRIPTION_MAX_LENGTH)]
    chosen = list(dict.fromkeys(event_types or []))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        errors["event_types"] = [_l("Unknown event type %(type)s.", type=repr(unknown[0]))]
    elif not chosen:
        errors["event_types"] = [_l("Choose at least one event type.")]
    elif company_id is not None and (program_team := [t for t in chosen if t in NO_COMPANY_TYPES]):
        errors["event_types"] = [_l("%(type)s is never sent to one company's endpoint (it concerns the program team "
                                    "only): leave it out, or choose all companies.", type=type_label(program_team[0]))]
    if company_id is not None and db.session.get(Company, company_id) is None:
        errors["company_id"] = [_l("Choose a company from the list, or all companies.")]
    if errors:
        raise ValidationFailed(errors)
    return {"url": (url or "").strip(), "description": description,
            "event_types": [t for t in EVENT_TYPES if t in chosen], "company_id": company_id}


def _event(event_type: str, actor: User | None, endpoint: WebhookEndpoint, data: dict[str, Any] | None = None) -> None:
    # Program managers only (company None); never the secret.
    record_event(event_type, actor=actor, subject=endpoint, company_id=None, label=endpoint.name[:255],
                 data={"url": endpoint.url, **(data or {})})


def create_endpoint(actor: User | None, *, url: str, description: str = "", event_types: list[str],
                    company_id: int | None = None) -> tuple[WebhookEndpoint, str]:
    """A new enabled endpoint and its secret, which is returned here once."""
    _require_manager(actor)
    clean = clean_endpoint_fields(url, description, event_types, company_id)
    secret = new_secret()
    endpoint = WebhookEndpoint(**clean, secret=secret, enabled=True, created_by_id=actor.id if actor else None)
    db.session.add(endpoint)
    db.session.flush()
    forget_endpoints()
    _event("webhook.endpoint.created", actor, endpoint, {"event_types": endpoint.event_types})
    return endpoint, secret


def get_endpoint(endpoint_id: int, *, for_update: bool = False) -> WebhookEndpoint:
    stmt = sa.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    endpoint = db.session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if endpoint is None:
        raise NotFound(_l("That webhook endpoint"))
    return endpoint


def update_endpoint(actor: User | None, endpoint: WebhookEndpoint, *, expected_version: int | None, url: str,
                    description: str, event_types: list[str], company_id: int | None, enabled: bool) -> WebhookEndpoint:
    """Change what the endpoint receives and where; refused when someone saved it meanwhile."""
    _require_manager(actor)
    if expected_version is not None and endpoint.lock_version != expected_version:
        raise StaleEdit(_l("this webhook endpoint"))
    clean = clean_endpoint_fields(url, description, event_types, company_id)
    clean["enabled"] = bool(enabled)
    changed = sorted(k for k, v in clean.items() if getattr(endpoint, k) != v)
    if not changed:
        return endpoint
    for key, value in clean.items():
        setattr(endpoint, key, value)
    db.session.flush()
    forget_endpoints()
    _event("webhook.endpoint.updated", actor, endpoint, {"changed": changed})
    return endpoint


def set_enabled(actor: User | None, endpoint: WebhookEndpoint, enabled: bool) -> WebhookEndpoint:
    """Turn sending on or off. While off, new events make no deliveries and pending ones fail."""
    _require_manager(actor)
    if endpoint.enabled == enabled:
        return endpoint
    endpoint.enabled = enabled
    db.session.flush()
    forget_endpoints()
    _event("webhook.endpoint.enabled" if enabled else "webhook.endpoint.disabled", actor, endpoint)
    return endpoint


def rotate_secret(actor: User | None, endpoint: WebhookEndpoint) -> str:
    """A new secret (returned once); the old one keeps signing beside it for ROTATION_OVERLAP."""
    _require_manager(actor)
    now = utcnow()
    endpoint.previous_secret, endpoint.previous_secret_expires_at = endpoint.secret, now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    db.session.flush()
    _event("webhook.endpoint.secret_rotated", actor, endpoint,
           {"previous_secret_expires_at": endpoint.previous_secret_expires_at.isoformat()})
    return endpoint.secret


def delete_endpoint(actor: User | None, endpoint: WebhookEndpoint) -> None:
    """Gone with its delivery log; nothing more is sent to it."""
    _require_manager(actor)
    _event("webhook.endpoint.deleted", actor, endpoint)
    db.session.delete(endpoint)
    db.session.flush()
    forget_endpoints()


def send_test_event(actor: User | None, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` message to this endpoint, sent like any other (enabled endpoints only)."""
    _require_manager(actor)
    if not endpoint.enabled:
        raise DomainError(_l("This endpoint is disabled: enable it to send a test event."))
    return queue_delivery(endpoint.id, TEST_EVENT_TYPE, sample_payload(endpoint.id, utcnow().isoformat()))


# --- reading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EndpointRow:
    endpoint: WebhookEndpoint
    last_status: str | None
    last_at: Any
    failed: int


def endpoint_rows() -> list[EndpointRow]:
    """Every endpoint with its latest delivery's status and its failed count (three statements)."""
    endpoints = list(db.session.scalars(sa.select(WebhookEndpoint).options(sa.orm.joinedload(WebhookEndpoint.company))
                                        .order_by(WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc())))
    ids = [e.id for e in endpoints]
    latest: dict[int, tuple[str, Any]] = {}
    failed: dict[int, int] = {}
    if ids:
        newest = (sa.select(WebhookDelivery.endpoint_id, sa.func.max(WebhookDelivery.id).label("id"))
                  .where(WebhookDelivery.endpoint_id.in_(ids)).group_by(WebhookDelivery.endpoint_id).subquery())
        for endpoint_id, status, created in db.session.execute(
                sa.select(WebhookDelivery.endpoint_id, WebhookDelivery.status, WebhookDelivery.created_at)
                .join(newest, newest.c.id == WebhookDelivery.id)):
            latest[endpoint_id] = (status, created)
        failed = dict(db.session.execute(
            sa.select(WebhookDelivery.endpoint_id, sa.func.count()).where(
                WebhookDelivery.endpoint_id.in_(ids), WebhookDelivery.status == "failed")
            .group_by(WebhookDelivery.endpoint_id)).tuples().all())
    return [EndpointRow(e, *(latest.get(e.id) or (None, None)), failed.get(e.id, 0)) for e in endpoints]


def recent_deliveries(endpoint_id: int, limit: int = LOG_SIZE) -> list[WebhookDelivery]:
    return list(db.session.scalars(sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def recent_attempts(endpoint_id: int, limit: int = LOG_SIZE) -> list[tuple[WebhookAttempt, WebhookDelivery]]:
    """The endpoint's last attempts, newest first, each with its delivery."""
    return list(db.session.execute(
        sa.select(WebhookAttempt, WebhookDelivery).join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookAttempt.attempted_at.desc(), WebhookAttempt.id.desc()).limit(limit)).tuples())


def companies() -> list[tuple[int, str]]:
    return list(db.session.execute(sa.select(Company.id, Company.name).order_by(Company.name)).tuples())
