"""From an activity event to its deliveries, in the event's own transaction.

:func:`portal.activity.operations.record_event` calls :func:`fan_out` for every event: an
event of a subscribable type writes one :class:`WebhookDelivery` per enabled endpoint that
subscribed to its type (and, with a company filter, to its company). Both are in the same
transaction, so a delivery exists exactly when its event does; a rolled-back change sends
nothing.

Just before that transaction commits (a ``before_commit`` listener), a ``webhooks.deliver``
job is recorded in the same transaction (on Procrastinate, deferred on the same connection),
so it exists exactly when the deliveries do and runs after the commit. A job sends every
first attempt waiting, not only its own transaction's, so a transaction that finds such a job
still queued records none (1,000 events in a burst make a handful of jobs, not 1,000). The
narrow race — that job starting its last look just before this transaction commits — is
covered by the retry sweep, which takes any first attempt still waiting after
``FIRST_ATTEMPT_GRACE``. In the tests' ``inline`` mode every such transaction gets its job,
run right after the request that committed it.

The enabled endpoints are read once per transaction (most transactions record several
events, an import thousands), and not at all for event types nobody can subscribe to.
"""
from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from flask import after_this_request, has_request_context

from portal.activity.models import ActivityEvent
from portal.db import db, utcnow
from portal.webhooks.events import SUBSCRIBABLE, event_payload
from portal.webhooks.models import PENDING, WebhookDelivery, WebhookEndpoint
from portal.webhooks.schedule import FIRST_ATTEMPT_GRACE

DELIVER_KIND = "webhooks.deliver"
JOB_CHUNK = 100  # delivery ids noted in a job's params (what it was started for)
_ENDPOINTS = "portal.webhooks.endpoints"  # session.info: this transaction's enabled endpoints
_PENDING = "portal.webhooks.pending"  # session.info: ids of deliveries written in this transaction


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def _subscribers(session: sa.orm.Session) -> list[tuple[int, frozenset[str], int | None]]:
    cached = session.info.get(_ENDPOINTS)
    if cached is None:
        rows = session.execute(sa.select(WebhookEndpoint.id, WebhookEndpoint.event_types, WebhookEndpoint.company_id)
                               .where(WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id)).all()
        cached = [(row.id, frozenset(row.event_types or ()), row.company_id) for row in rows]
        session.info[_ENDPOINTS] = cached
    return cached


def forget_endpoints() -> None:
    """An endpoint changed in this transaction: read them again for the next event."""
    db.session.info.pop(_ENDPOINTS, None)


def fan_out(event: ActivityEvent) -> list[WebhookDelivery]:
    """One delivery per endpoint subscribed to ``event`` (in the caller's transaction)."""
    if event.type not in SUBSCRIBABLE:
        return []
    session = db.session()
    targets = [endpoint_id for endpoint_id, types, company_id in _subscribers(session)
               if event.type in types and (company_id is None or company_id == event.company_id)]
    if not targets:
        return []
    session.flush()  # the event's id and time go into the message
    payload = event_payload(event)
    deliveries = [queue_delivery(endpoint_id, event.type, payload, event_id=event.id) for endpoint_id in targets]
    return deliveries


def queue_delivery(endpoint_id: int, event_type: str, payload: dict[str, Any], *,
                   event_id: int | None = None) -> WebhookDelivery:
    """Write one pending delivery; the transaction's commit hands it to a job."""
    now = utcnow()
    delivery = WebhookDelivery(endpoint_id=endpoint_id, event_id=event_id, event_type=event_type,
                               message_id=new_message_id(), payload=payload, status=PENDING, attempts=0,
                               next_attempt_at=now + FIRST_ATTEMPT_GRACE, created_at=now)
    session = db.session()
    session.add(delivery)
    session.flush()
    session.info.setdefault(_PENDING, []).append(delivery.id)
    return delivery


@sa.event.listens_for(sa.orm.Session, "before_commit")
def _record_delivery_jobs(session: sa.orm.Session) -> None:
    ids = session.info.pop(_PENDING, None)
    session.info.pop(_ENDPOINTS, None)
    if not ids:
        return
    from portal.jobs.models import QUEUED, Job
    from portal.jobs.queue import start_job  # the jobs package imports the task registry, which imports us
    from portal.jobs.runner import backend_name

    inline = backend_name() == "inline"
    if not inline and session.scalar(sa.select(Job.id).where(Job.kind == DELIVER_KIND, Job.status == QUEUED).limit(1)):
        return  # a job that has not started yet sends these too (it takes every first attempt waiting)
    jobs = [start_job(DELIVER_KIND, actor=None, params={"delivery_ids": ids[:JOB_CHUNK]})]
    if inline and has_request_context():
        job_ids = [job.id for job in jobs]

        @after_this_request
        def _run_inline(response):  # noqa: ANN001, ANN202  (the tests' harness: after the commit)
            from portal.jobs.runner import run_job

            for job_id in job_ids:
                run_job(job_id)
            return response


@sa.event.listens_for(sa.orm.Session, "after_soft_rollback")
def _forget_after_rollback(session: sa.orm.Session, previous_transaction: sa.orm.SessionTransaction) -> None:
    if previous_transaction.nested:  # a savepoint: the transaction's other deliveries still stand
        return
    session.info.pop(_PENDING, None)
    session.info.pop(_ENDPOINTS, None)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _forget_after_commit(session: sa.orm.Session) -> None:
    session.info.pop(_ENDPOINTS, None)
