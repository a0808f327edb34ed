"""Sending deliveries: the ``webhooks.deliver`` job (first attempts, right after the
transaction that wrote them commits) and the retry sweep (later attempts when their time
has come, and any first attempt still waiting after ``FIRST_ATTEMPT_GRACE``).

An attempt never holds a transaction during the HTTP request:

1. claim: the job takes a batch of deliveries waiting for their first attempt
   (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL), the sweep one due delivery with a
   conditional UPDATE; either sets ``locked_until``, so two workers never send the same
   delivery at once and a worker that dies lets go when the lease ends;
2. POST the stored body with fresh Standard Webhooks headers, to an address checked just
   before (:mod:`portal.webhooks.addresses`), with a short timeout, redirects not followed;
3. record each attempt (time, response code, duration, error) and the delivery's new state:
   delivered on a 2xx, otherwise the next attempt on the backoff schedule
   (:mod:`portal.webhooks.schedule`), or failed with the reason once 24 hours have passed.
"""
from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as datetime_time
from typing import Any

import sqlalchemy as sa
from flask import current_app

from portal.db import db, transaction, utcnow
from portal.jobs.runner import JobContext, job_task
from portal.webhooks.addresses import Target, UnsafeURL, check_url
from portal.webhooks.fanout import DELIVER_KIND
from portal.webhooks.models import DELIVERED, FAILED, PENDING, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.webhooks.schedule import next_attempt_at
from portal.webhooks.signing import signed_headers

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0  # connect, and each read
LEASE = timedelta(minutes=2)  # > TIMEOUT_SECONDS × a few: the claim outlives any one attempt
MAX_RESPONSE_BYTES = 64 * 1024  # read and thrown away (the receiver's answer is not kept)
USER_AGENT = "ImpactProgramsPortal-Webhooks/1"
SWEEP_BATCH = 200
SWEEP_BUDGET_SECONDS = 45.0  # a sweep stops starting attempts after this (the next one goes on)
SWEEP_EVERY_SECONDS = 5.0  # the database worker sweeps at most this often


def body_of(payload: dict[str, Any]) -> str:
    """The exact text sent (and signed): the same bytes on every attempt."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


# --- one HTTP request ---------------------------------------------------------------------
@dataclass(frozen=True)
class Response:
    status_code: int | None
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _connection(target: Target, address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to ``target`` made to ``address`` (the one that was checked), while the
    Host header and the TLS certificate check use the host name."""
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect_to_checked_address(_address, timeout=timeout, source_address=None):  # noqa: ANN001, ANN202
        return socket.create_connection((address, target.port), timeout, source_address)

    conn._create_connection = connect_to_checked_address  # type: ignore[attr-defined]
    return conn


def post(url: str, body: str, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS,
         private_ok: bool | None = None) -> Response:
    """POST ``body`` to ``url`` once; any failure is a Response with an error, never an exception."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url, private_ok=private_ok)
    except UnsafeURL as exc:
        return Response(None, took(), exc.english[:300])  # the log's lines are English (see UnsafeURL)
    data = body.encode()
    sent_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    error = "No address of the host answered."
    for address in target.addresses:
        conn = _connection(target, address, timeout)
        try:
            conn.request("POST", target.path, body=data, headers=sent_headers)
            answer = conn.getresponse()
            answer.read(MAX_RESPONSE_BYTES)
            status = answer.status
        except (OSError, http.client.HTTPException) as exc:
            error = _describe(exc)
            if isinstance(exc, ConnectionRefusedError | socket.gaierror):
                continue  # try the host's next address
            return Response(None, took(), error)
        finally:
            conn.close()
        if 300 <= status < 400:
            return Response(status, took(), "The receiver answered with a redirect; webhooks do not follow redirects.")
        return Response(status, took(), None if 200 <= status < 300 else f"The receiver answered {status}.")
    return Response(None, took(), error)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"No answer within {TIMEOUT_SECONDS:g} seconds."
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return f"The TLS connection failed: {exc}"[:300]
    if isinstance(exc, ConnectionRefusedError):
        return "The connection was refused."
    return f"{type(exc).__name__}: {exc}"[:300]


# --- one attempt of one delivery ------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    number: int
    created_at: Any
    message_id: str
    body: str
    url: str
    secrets: list[str]
    enabled: bool


def _claim(delivery_id: int, *, first: bool) -> Claimed | None:
    """Take the delivery for this worker: its first attempt (the job), or a due retry (the sweep)."""
    now = utcnow()
    with transaction():
        conditions = [WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
                      sa.or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now)]
        conditions.append(WebhookDelivery.attempts == 0 if first else WebhookDelivery.next_attempt_at <= now)
        taken = db.session.execute(sa.update(WebhookDelivery).where(*conditions)
                                   .values(locked_until=now + LEASE).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            return None
        row = db.session.execute(
            sa.select(WebhookDelivery, WebhookEndpoint).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id == delivery_id)).one()
        delivery, endpoint = row
        return Claimed(delivery.id, delivery.attempts + 1, delivery.created_at, delivery.message_id,
                       body_of(delivery.payload), endpoint.url, endpoint.signing_secrets(now), endpoint.enabled)


def attempt(delivery_id: int, *, first: bool = False) -> str | None:
    """One attempt of the delivery, when this worker can claim it: its first (``first``) or
    a retry that is due. Returns the outcome (delivered, retrying, failed), or None when
    there was nothing to do."""
    claimed = _claim(delivery_id, first=first)
    if claimed is None:
        return None
    outcomes = _record_outcomes([(claimed, _send(claimed))], utcnow())
    return outcomes[0] if outcomes else None


# --- the job: first attempts in batches ----------------------------------------------------------
FIRST_BATCH = 20  # first attempts claimed (and their outcomes recorded) together
BATCH_LEASE = LEASE + timedelta(seconds=FIRST_BATCH * 2 * TIMEOUT_SECONDS)  # covers a batch of slow receivers
JOB_BUDGET_SECONDS = 60.0  # a job hands over to a new one after this


def _claim_first_attempts(limit: int = FIRST_BATCH) -> list[Claimed]:
    """Take up to ``limit`` deliveries waiting for their first attempt, oldest first (on
    PostgreSQL rows another worker holds are skipped; SQLite's write lock serializes)."""
    now = utcnow()
    with transaction():
        waiting = [WebhookDelivery.status == PENDING, WebhookDelivery.attempts == 0,
                   sa.or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until < now)]
        ids = list(db.session.scalars(sa.select(WebhookDelivery.id).where(*waiting).order_by(WebhookDelivery.id)
                                      .limit(limit).with_for_update(skip_locked=True)))
        if not ids:
            return []
        db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(ids), *waiting)
                           .values(locked_until=now + BATCH_LEASE).execution_options(synchronize_session=False))
        rows = db.session.execute(
            sa.select(WebhookDelivery, WebhookEndpoint).join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id.in_(ids)).order_by(WebhookDelivery.id)).all()
        return [Claimed(d.id, d.attempts + 1, d.created_at, d.message_id, body_of(d.payload), e.url,
                        e.signing_secrets(now), e.enabled) for d, e in rows]


def _outcome(claimed: Claimed, response: Response, now) -> tuple[str, dict[str, Any]]:  # noqa: ANN001
    """What an attempt leads to: (outcome, the delivery's new values)."""
    values: dict[str, Any] = {"attempts": claimed.number, "last_attempt_at": now, "locked_until": None}
    if response.ok:
        return DELIVERED, {**values, "status": DELIVERED, "delivered_at": now, "next_attempt_at": None}
    retry_at = next_attempt_at(claimed.created_at, now, claimed.number) if claimed.enabled else None
    if retry_at is not None:
        return "retrying", {**values, "next_attempt_at": retry_at}
    reason = response.error if not claimed.enabled else (
        f"Gave up after {claimed.number} attempts over 24 hours. Last: {response.error}")
    return FAILED, {**values, "status": FAILED, "next_attempt_at": None, "failed_reason": (reason or "")[:300]}


def _send(claimed: Claimed) -> Response:
    if not claimed.enabled:
        return Response(None, 0, "The endpoint is disabled, so nothing was sent.")
    return post(claimed.url, claimed.body, signed_headers(claimed.secrets, claimed.message_id, claimed.body))


def _record_outcomes(results: list[tuple[Claimed, Response]], now) -> list[str]:  # noqa: ANN001
    """Each attempt and its delivery's new state, in one transaction (deliveries deleted
    meanwhile with their endpoint are left out)."""
    outcomes, updates, attempts = [], [], []
    with transaction():
        alive = set(db.session.scalars(sa.select(WebhookDelivery.id).where(
            WebhookDelivery.id.in_([c.delivery_id for c, _ in results]))))
        for claimed, response in results:
            if claimed.delivery_id not in alive:
                continue
            outcome, values = _outcome(claimed, response, now)
            outcomes.append(outcome)
            updates.append({"id": claimed.delivery_id, **values})
            attempts.append({"delivery_id": claimed.delivery_id, "number": claimed.number, "attempted_at": now,
                             "status_code": response.status_code, "duration_ms": max(0, response.duration_ms),
                             "error": response.error, "outcome": outcome})
        for update in updates:  # one statement per delivery: their new values differ
            key = update.pop("id")
            db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id == key).values(**update)
                               .execution_options(synchronize_session=False))
        if attempts:
            db.session.execute(sa.insert(WebhookAttempt), attempts)
    return outcomes


@job_task(DELIVER_KIND, max_attempts=3)
def deliver_task(ctx: JobContext) -> None:
    """The first attempt of every delivery waiting for one (its own transaction's and any
    other's), a batch at a time, for at most JOB_BUDGET_SECONDS; then a new job takes over."""
    started = time.monotonic()
    counts: dict[str, int] = {}
    done = 0
    more = False
    while True:
        batch = _claim_first_attempts()
        if not batch:
            break
        results = [(claimed, _send(claimed)) for claimed in batch]
        for outcome in _record_outcomes(results, utcnow()):
            counts[outcome] = counts.get(outcome, 0) + 1
        done += len(batch)
        ctx.progress("Sending", done)
        if time.monotonic() - started > JOB_BUDGET_SECONDS:
            more = True
            break
    with transaction():
        if more:
            from portal.jobs.queue import start_job

            start_job(DELIVER_KIND, actor=None, params={"delivery_ids": [], "continues": ctx.job_id})
        ctx.succeed(counts)


_last_sweep = 0.0


def sweep_due(*, force: bool = True, limit: int = SWEEP_BATCH, budget_seconds: float = SWEEP_BUDGET_SECONDS) -> int:
    """Attempt the deliveries whose next attempt is due (oldest first), for at most
    ``budget_seconds``. Returns how many were attempted. With ``force`` False (the database
    worker's loop) it does nothing when the last sweep was under ``SWEEP_EVERY_SECONDS`` ago."""
    global _last_sweep
    started = time.monotonic()
    if not force and started - _last_sweep < SWEEP_EVERY_SECONDS:
        return 0
    _last_sweep = started
    now = utcnow()
    due = list(db.session.scalars(
        sa.select(WebhookDelivery.id).where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now,
                                            sa.or_(WebhookDelivery.locked_until.is_(None),
                                                   WebhookDelivery.locked_until < now))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))
    db.session.rollback()  # end the read before the attempts' own transactions
    attempted = 0
    for delivery_id in due:
        if time.monotonic() - started > budget_seconds:
            break
        try:
            if attempt(delivery_id) is not None:
                attempted += 1
        except Exception:  # one broken delivery must not stop the others
            db.session.rollback()
            log.exception("webhook delivery %s", delivery_id)
    return attempted


def sweep_in_worker() -> None:
    """The database worker's loop calls this on every turn (it sweeps every few seconds)."""
    if current_app.config.get("PORTAL_WEBHOOKS_SWEEP", True):
        sweep_due(force=False)


def prune_finished(today: date) -> int:
    """Delete the deliveries that finished (delivered, or failed for good) more than
    ``PORTAL_WEBHOOK_KEEP_DAYS`` days before ``today``, with their attempts: a payload is a
    copy of an event, kept only as long as someone may need to look at why it went or did not
    (the endpoint's log). Pending deliveries stay, however old. A daily step of both workers;
    returns how many went."""
    cutoff = datetime.combine(today - timedelta(days=current_app.config["PORTAL_WEBHOOK_KEEP_DAYS"]), datetime_time.min,
                              tzinfo=UTC)
    finished_at = sa.func.coalesce(WebhookDelivery.delivered_at, WebhookDelivery.last_attempt_at,
                                   WebhookDelivery.created_at)
    with transaction():
        finished = sa.select(WebhookDelivery.id).where(WebhookDelivery.status.in_((DELIVERED, FAILED)),
                                                       finished_at < cutoff)
        db.session.execute(sa.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(finished)))
        pruned = db.session.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.id.in_(finished))).rowcount
    if pruned:
        log.info("pruned %s finished webhook deliveries", pruned)
    return pruned
