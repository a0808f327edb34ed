"""A campaign's enrollments: list (keyset, fail-closed filters), one, and the writes —
enroll, complete, drop — through the enrollment operations the screens call
(:func:`portal.enrollments.intake.enroll_from_form`, ``complete_enrollment``,
``drop_enrollment``). Company admins see beneficiaries under their pseudonym only."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from portal.api import schemas, serializers
from portal.api.blueprint import COMMON_PROBLEMS, api_user, bp, json_body, problems, query_params, requires
from portal.api.conditional import check_version, etag_of
from portal.api.idempotency import Reply, idempotent_write, versioned_reply
from portal.api.lists import check_cursor, page_body
from portal.api.problems import NOT_YOURS_TO_SEE, ApiProblem, body_error, domain_errors
from portal.campaigns.models import Campaign
from portal.db import db
from portal.enrollments import operations as ops
from portal.enrollments.intake import enroll_from_form
from portal.enrollments.models import Enrollment, Participant
from portal.enrollments.queries import enrollment_page
from portal.errors import DomainError, ValidationFailed
from portal.i18n import _
from portal.tenancy import get_visible_or_404, visible

WRITE_PROBLEMS = (*COMMON_PROBLEMS, 400, 404, 409, 415, 422)
# Where the enrollment rules' fields (the enroll form's) sit in the API's body.
ENROLL_FIELDS = {
    "participant_id": ("participant_id",), "role": ("role",), "campaign": None,
    **{name: ("participant", name) for name in ("display_name", "email", "year_of_birth", "languages", "country",
                                                 "external_ref")},
}


def _refused(exc: DomainError, field_paths: dict | None = None) -> ApiProblem:
    errors = exc.errors if isinstance(exc, ValidationFailed) else {exc.field or "": [exc.message]}
    return ApiProblem(exc.status_code, exc.message, errors=domain_errors(errors, field_paths))


def _enrollment_in(campaign: Campaign, enrollment_id: int, *, for_update: bool = False) -> Enrollment:
    enrollment = get_visible_or_404(Enrollment, enrollment_id, api_user(), for_update=for_update)
    if enrollment.campaign_id != campaign.id:
        raise ApiProblem(404, NOT_YOURS_TO_SEE)
    return enrollment


def _enrollment_reply(campaign: Campaign, enrollment: Enrollment, status: int = 200) -> Reply:
    return versioned_reply(enrollment, lambda: serializers.enrollment(api_user(), enrollment, campaign), status,
                           lambda: url_for("api.get_enrollment", campaign_id=campaign.id, enrollment_id=enrollment.id))


@bp.get("/campaigns/<int:campaign_id>/enrollments")
@bp.output(schemas.Page[schemas.EnrollmentOut])
@requires("read")
@bp.doc(tags=["Enrollments"], responses=problems(*COMMON_PROBLEMS, 404, 422))
@query_params(schemas.EnrollmentQuery)
def list_enrollments(campaign_id: int, query: schemas.EnrollmentQuery):
    """List a campaign's enrollments

    Newest first, filtered by status and role."""
    user = api_user()
    campaign = get_visible_or_404(Campaign, campaign_id, user)
    page = enrollment_page(campaign, user, status=query.status, role=query.role, search=None,
                           cursor=check_cursor(query.cursor), size=query.limit)
    return page_body([serializers.enrollment(user, e, campaign) for e in page.items], page.next_cursor)


@bp.get("/campaigns/<int:campaign_id>/enrollments/<int:enrollment_id>")
@bp.output(schemas.EnrollmentOut)
@requires("read")
@bp.doc(tags=["Enrollments"], responses=problems(*COMMON_PROBLEMS, 404))
def get_enrollment(campaign_id: int, enrollment_id: int):
    """Get one enrollment

    Its ETag is its version: send it as If-Match to complete or drop it."""
    campaign = get_visible_or_404(Campaign, campaign_id, api_user())
    enrollment = _enrollment_in(campaign, enrollment_id)
    return serializers.enrollment(api_user(), enrollment, campaign), {"ETag": etag_of(enrollment.lock_version)}


@bp.post("/campaigns/<int:campaign_id>/enrollments")
@bp.output(schemas.EnrollmentOut, status_code=201, description="Enrolled, or waitlisted when the campaign is full "
                                                                "and has a waitlist (see status).")
@requires("enrollments:write")
@bp.doc(tags=["Enrollments"], responses=problems(*WRITE_PROBLEMS))
@json_body(schemas.EnrollmentCreate)
def create_enrollment(campaign_id: int, body: schemas.EnrollmentCreate):
    """Enroll a participant

    The enroll screen's rules: program managers enroll anyone; a company admin enrolls its
    own employees, as volunteers. A participant given by its fields is found (e-mail, then
    external reference, within your own people) or created. Needs an Idempotency-Key."""
    user = api_user()
    campaign = get_visible_or_404(Campaign, campaign_id, user)

    def work() -> Reply:
        participant_id = body.participant_id
        if participant_id is not None and db.session.scalar(
                sa.select(Participant.id).where(Participant.id == participant_id, visible(Participant, user))) is None:
            raise ApiProblem(422, _("That participant was not found."),
                             errors=[body_error(["participant_id"], _("No participant with this id among yours."))])
        try:
            enrollment = enroll_from_form(user, campaign.id, participant_id=participant_id,
                                          new_participant=body.participant.model_dump() if body.participant else {},
                                          role=body.role, legal_basis=body.legal_basis,
                                          consent_given_on=body.consent_given_on)
        except DomainError as exc:
            raise _refused(exc, ENROLL_FIELDS) from None
        return _enrollment_reply(campaign, enrollment, 201)

    return idempotent_write(work)


def _move(campaign_id: int, enrollment_id: int, action: str, reason: str = ""):
    user = api_user()
    campaign = get_visible_or_404(Campaign, campaign_id, user)
    _enrollment_in(campaign, enrollment_id)  # 404 before anything else

    def work() -> Reply:
        enrollment = _enrollment_in(campaign, enrollment_id, for_update=True)
        check_version(enrollment.lock_version, "enrollment")
        try:
            if action == "complete":
                ops.complete_enrollment(user, enrollment, expected_version=enrollment.lock_version)
            else:
                ops.drop_enrollment(user, enrollment, reason, expected_version=enrollment.lock_version)
        except DomainError as exc:
            raise _refused(exc, {"status": None, "reason": ("reason",)}) from None
        return _enrollment_reply(campaign, enrollment)

    return idempotent_write(work)


@bp.post("/campaigns/<int:campaign_id>/enrollments/<int:enrollment_id>/complete")
@bp.output(schemas.EnrollmentOut)
@requires("enrollments:write")
@bp.doc(tags=["Enrollments"], responses=problems(*WRITE_PROBLEMS, 412, 428))
def complete_enrollment(campaign_id: int, enrollment_id: int):
    """Complete an enrollment

    Needs If-Match (the enrollment's ETag) and an Idempotency-Key. Only an active enrollment
    can be completed (409 otherwise, naming the moves allowed)."""
    return _move(campaign_id, enrollment_id, "complete")


@bp.post("/campaigns/<int:campaign_id>/enrollments/<int:enrollment_id>/drop")
@bp.output(schemas.EnrollmentOut)
@requires("enrollments:write")
@bp.doc(tags=["Enrollments"], responses=problems(*WRITE_PROBLEMS, 412, 428))
@json_body(schemas.EnrollmentDrop, optional=True)
def drop_enrollment(campaign_id: int, enrollment_id: int, body: schemas.EnrollmentDrop):
    """Drop an enrollment

    Needs If-Match and an Idempotency-Key. A dropped beneficiary's seat goes to the longest
    waiting person on the waitlist."""
    return _move(campaign_id, enrollment_id, "drop", body.reason)
