"""Deliveries (SPEC §2.9): record one, list, read, correct and void an enrollment's
deliveries through :mod:`portal.deliveries.operations`, and record many of a campaign in
one all-or-nothing batch (with a dry run) through :func:`portal.deliveries.batch.record_batch`
— the operations the delivery form, the attendance sheet and the CSV import call.

A re-sent delivery with the same ``source_id`` adds nothing (the operation answers the one
already recorded: 200 instead of 201; in a batch it is counted as already recorded). A
company admin records only for its own employees' volunteer enrollments; every other item
of a batch is refused with the same words, whoever it is about.
"""
from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import url_for

from portal.api import schemas, serializers
from portal.api.blueprint import BODY_LIMITS, COMMON_PROBLEMS, api_user, bp, json_body, problems, query_params, requires
from portal.api.conditional import check_version, etag_of
from portal.api.idempotency import Reply, _key, idempotent_write, versioned_reply
from portal.api.lists import check_cursor, page_body
from portal.api.problems import NOT_YOURS_TO_SEE, ApiProblem, body_error, domain_errors
from portal.campaigns.models import Campaign
from portal.db import db, transaction
from portal.deliveries import operations as ops
from portal.deliveries.batch import NOT_IN_CAMPAIGN, ROW, BatchRefused, record_batch
from portal.deliveries.models import Delivery
from portal.enrollments.models import Enrollment
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _l, _n, number
from portal.pagination import keyset_page
from portal.tenancy import get_visible_or_404

WRITE_PROBLEMS = (*COMMON_PROBLEMS, 400, 404, 409, 415, 422)
# A re-sent source_id answers the delivery already recorded, 200 instead of 201: documented too.
ALREADY_RECORDED = {200: {"description": "This source_id was recorded before with the same details: the delivery "
                                         "already recorded; nothing was added.",
                          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeliveryOut"}}}}}
# The operation's field names where they differ from the body's.
FIELD_PATHS = {"meta": ("metadata",), "": None}
# One wording for every batch item a company admin may not record for (a beneficiary, someone
# else's employee, an id outside the campaign): the answer tells nothing about whose it is.
NOT_YOUR_VOLUNTEER = _l("Not one of your volunteers' enrollments in this campaign: you record deliveries for your "
                        "own employees' volunteer enrollments.")
# A tuple, compared when used: each is text in the reader's language only then.
_NOT_YOURS = (NOT_IN_CAMPAIGN, ops.BENEFICIARY_DELIVERIES_BY_PROGRAM_TEAM)
# A batch of 10,000 items is more than the API's usual body limit: its own, 8 MiB by default.
BODY_LIMITS["api.record_delivery_batch"] = ("PORTAL_API_MAX_BATCH_BYTES",
                                            int(os.environ.get("PORTAL_API_MAX_BATCH_BYTES", 8 * 1024 * 1024)))


def _refused(exc: DomainError) -> ApiProblem:
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [exc.message]}
    return ApiProblem(exc.status_code, exc.message, errors=domain_errors(errors, FIELD_PATHS))


def _enrollment(enrollment_id: int, *, for_update: bool = False) -> Enrollment:
    return get_visible_or_404(Enrollment, enrollment_id, api_user(), for_update=for_update)


def _delivery_of(enrollment: Enrollment, delivery_id: int, *, for_update: bool = False) -> Delivery:
    stmt = sa.select(Delivery).where(Delivery.id == delivery_id, Delivery.enrollment_id == enrollment.id)
    delivery = db.session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if delivery is None:
        raise ApiProblem(404, NOT_YOURS_TO_SEE)
    return delivery


def _reply(enrollment: Enrollment, delivery: Delivery, status: int = 200) -> Reply:
    return versioned_reply(delivery, lambda: serializers.delivery(api_user(), delivery, enrollment), status,
                           lambda: url_for("api.get_delivery", enrollment_id=enrollment.id, delivery_id=delivery.id))


def _values(fields: schemas.DeliveryFields) -> dict[str, Any]:
    """The body as the keyword arguments of ``record_delivery`` (and a batch item)."""
    return {"kind": fields.kind, "occurred_on": fields.occurred_on, "occurred_time": fields.occurred_time,
            "quantity": fields.quantity, "duration_minutes": fields.duration_minutes, "attendance": fields.attendance,
            "match_id": fields.match_id, "partner_attendance": fields.partner_attendance,
            "source_id": fields.source_id, "meta": fields.metadata, "note": fields.note}


# --- one enrollment's deliveries --------------------------------------------------------------
@bp.get("/enrollments/<int:enrollment_id>/deliveries")
@bp.output(schemas.Page[schemas.DeliveryOut])
@requires("read")
@bp.doc(tags=["Deliveries"], responses=problems(*COMMON_PROBLEMS, 404, 422))
@query_params(schemas.DeliveryQuery)
def list_deliveries(enrollment_id: int, query: schemas.DeliveryQuery):
    """List an enrollment's deliveries

    Newest recorded first, void ones included (marked). Notes and void reasons are the
    program team's; a pseudonymised participant's source ids and metadata are left out."""
    enrollment = _enrollment(enrollment_id)
    stmt = sa.select(Delivery).where(Delivery.enrollment_id == enrollment.id)
    if query.kind:
        stmt = stmt.where(Delivery.kind == query.kind)
    page = keyset_page(stmt, Delivery, check_cursor(query.cursor), query.limit)
    return page_body([serializers.delivery(api_user(), d, enrollment) for d in page.items], page.next_cursor)


@bp.get("/enrollments/<int:enrollment_id>/deliveries/<int:delivery_id>")
@bp.output(schemas.DeliveryOut)
@requires("read")
@bp.doc(tags=["Deliveries"], responses=problems(*COMMON_PROBLEMS, 404))
def get_delivery(enrollment_id: int, delivery_id: int):
    """Get one delivery

    Its ETag is its version: send it as If-Match to correct or void it."""
    enrollment = _enrollment(enrollment_id)
    delivery = _delivery_of(enrollment, delivery_id)
    return serializers.delivery(api_user(), delivery, enrollment), {"ETag": etag_of(delivery.lock_version)}


@bp.post("/enrollments/<int:enrollment_id>/deliveries")
@bp.output(schemas.DeliveryOut, status_code=201, description="Recorded.")
@requires("deliveries:write")
@bp.doc(tags=["Deliveries"], responses={**problems(*WRITE_PROBLEMS), **ALREADY_RECORDED})
@json_body(schemas.DeliveryCreate)
def create_delivery(enrollment_id: int, body: schemas.DeliveryCreate):
    """Record a delivery

    The delivery form's rules: a kind of this program, a date between the enrollment's start
    and today, the enrollment active (or completed within 90 days) in an active or paused
    campaign. Program managers record for anyone; a company admin for its own employees'
    volunteer enrollments. A session of a match (``match_id``) writes the partner's delivery
    too. Send ``source_id`` so that a re-sent delivery adds nothing. Needs an Idempotency-Key."""
    user = api_user()
    _enrollment(enrollment_id)  # 404 before anything else

    def work() -> Reply:
        enrollment = _enrollment(enrollment_id)
        source_id = (body.source_id or "").strip() or None
        before = db.session.scalar(sa.select(Delivery.id).where(
            Delivery.source == body.source, Delivery.source_id == source_id,
            Delivery.enrollment_id == enrollment.id)) if source_id else None
        try:
            delivery = ops.record_delivery(user, enrollment, **_values(body), source=body.source)
        except DomainError as exc:
            raise _refused(exc) from None
        return _reply(enrollment, delivery, 200 if before is not None and before == delivery.id else 201)

    return idempotent_write(work)


@bp.patch("/enrollments/<int:enrollment_id>/deliveries/<int:delivery_id>")
@bp.output(schemas.DeliveryOut)
@requires("deliveries:write")
@bp.doc(tags=["Deliveries"], responses=problems(*WRITE_PROBLEMS, 412, 428))
@json_body(schemas.DeliveryCorrection)
def correct_delivery(enrollment_id: int, delivery_id: int, body: schemas.DeliveryCorrection):
    """Correct a delivery

    Only the fields sent change, under the rules of recording; a match session's shared
    facts (kind, date, time, quantity, duration) change on both deliveries. A void delivery
    is not corrected (409). Needs If-Match (the delivery's ETag)."""
    user = api_user()
    _delivery_of(_enrollment(enrollment_id), delivery_id)  # 404 before anything else
    changes = body.model_dump(exclude_unset=True)
    if "metadata" in changes:
        changes["meta"] = changes.pop("metadata")
    with transaction():
        enrollment = _enrollment(enrollment_id)
        delivery = _delivery_of(enrollment, delivery_id, for_update=True)
        check_version(delivery.lock_version, "delivery")
        try:
            ops.correct_delivery(user, delivery, expected_version=delivery.lock_version, **changes)
        except DomainError as exc:
            raise _refused(exc) from None
        reply = _reply(enrollment, delivery)
    return reply.response()


@bp.post("/enrollments/<int:enrollment_id>/deliveries/<int:delivery_id>/void")
@bp.output(schemas.DeliveryOut)
@requires("deliveries:write")
@bp.doc(tags=["Deliveries"], responses=problems(*WRITE_PROBLEMS, 412, 428))
@json_body(schemas.DeliveryVoid, optional=True)
def void_delivery(enrollment_id: int, delivery_id: int, body: schemas.DeliveryVoid):
    """Void a delivery

    It stays, marked void, and counts nowhere any more (nor does its match counterpart).
    Needs If-Match and an Idempotency-Key."""
    user = api_user()
    _delivery_of(_enrollment(enrollment_id), delivery_id)

    def work() -> Reply:
        enrollment = _enrollment(enrollment_id)
        delivery = _delivery_of(enrollment, delivery_id, for_update=True)
        check_version(delivery.lock_version, "delivery")
        try:
            ops.void_delivery(user, delivery, reason=body.reason, expected_version=delivery.lock_version)
        except DomainError as exc:
            raise _refused(exc) from None
        return _reply(enrollment, delivery)

    return idempotent_write(work)


# --- a campaign's batch -----------------------------------------------------------------------
class _DryRunDone(Exception):
    """Ends a dry run's transaction (rolled back) carrying what the batch would have done."""

    def __init__(self, body: dict[str, Any]):
        super().__init__("dry run")
        self.body = body


def _batch_item(item: schemas.DeliveryBatchItem) -> dict[str, Any]:
    values = {"enrollment_id": item.enrollment_id, **_values(item)}
    if item.match_id is None:
        values.pop("partner_attendance")
    return values


def _batch_refused(exc: BatchRefused, company_admin: bool) -> ApiProblem:
    errors = []
    for index, problems_ in sorted(exc.errors.items()):
        if company_admin and any(m in _NOT_YOURS for m in problems_.get(ROW, ())):
            problems_ = {ROW: [NOT_YOUR_VOLUNTEER]}
        for field, messages in problems_.items():
            where = ["items", index, *(FIELD_PATHS.get(field) or (field,) if field else ())]
            errors.extend(body_error(where, message) for message in messages)
    n = len(exc.errors)
    return ApiProblem(exc.status_code, _n("%(count)s item could not be recorded, so nothing was saved. Each is named "
                                          "in errors[] by its place in the body.",
                                          "%(count)s items could not be recorded, so nothing was saved. Each is "
                                          "named in errors[] by its place in the body.", n, count=number(n)),
                      errors=errors)


@bp.post("/campaigns/<int:campaign_id>/deliveries/batch")
@bp.output(schemas.DeliveryBatchResult, description="Recorded (or, with dry_run, what would be).")
@requires("deliveries:write")
@bp.doc(tags=["Deliveries"], responses=problems(*WRITE_PROBLEMS, 413))
@json_body(schemas.DeliveryBatch)
def record_delivery_batch(campaign_id: int, body: schemas.DeliveryBatch):
    """Record many deliveries

    Up to 10,000 deliveries of one campaign's enrollments in one transaction, all or
    nothing, with the CSV import's semantics: every item passes the rules of recording one;
    if any is refused, every refused item is named (``pointer`` ``#/items/17/occurred_on``)
    and nothing is saved. Items whose ``source_id`` was already recorded with the same
    details add nothing. ``dry_run: true`` checks everything and answers what confirming
    would do, saving nothing (and storing no Idempotency-Key). One activity event for the
    batch. Needs an Idempotency-Key."""
    user = api_user()
    get_visible_or_404(Campaign, campaign_id, user)
    items = [_batch_item(item) for item in body.items]

    def work() -> Reply:
        campaign = get_visible_or_404(Campaign, campaign_id, user)
        try:
            done = record_batch(user, campaign, items, source=body.source, max_items=schemas.MAX_BATCH_ITEMS,
                                summary_label=f"API batch of deliveries into {campaign.name}")
        except BatchRefused as exc:
            raise _batch_refused(exc, user.is_company_admin) from None
        except DomainError as exc:
            raise _refused(exc) from None
        return Reply(schemas.DeliveryBatchResult(
            dry_run=body.dry_run, items=len(items), recorded=done.recorded, already_recorded=done.replayed,
            already_recorded_items=done.replayed_items, deliveries=done.deliveries, attendance=done.attendance,
            milestones_reached=sum(len(keys) for keys in done.milestones_reached.values())).model_dump())

    if not body.dry_run:
        return idempotent_write(work)
    _key()  # a dry run needs a key like every POST, but stores none: it changed nothing
    try:
        with transaction():
            raise _DryRunDone(work().body)
    except _DryRunDone as dry:
        return Reply(dry.body).response()
