"""A job's page: live progress while it runs (htmx polling; without JavaScript the page
refreshes itself), then its outcome. Only the user who started a job sees it (404 for
anyone else, as for a job that never existed).

What a finished job leads to depends on its kind: the feature that starts a kind registers
an :class:`Outcome` builder with :func:`outcome_for` (e.g. a dry run forwards to its
table, a confirm to the campaign with a message, an export offers its download).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, make_response, redirect
from flask_login import current_user, login_required

from portal.db import db
from portal.i18n import _l, ngettext, number
from portal.jobs.files import find_file
from portal.jobs.models import FAILED, REFUSED, SUCCEEDED, Job
from portal.web import is_partial_request, render

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
POLL_SECONDS = 1


@dataclass(frozen=True)
class Outcome:
    title: str  # what the job does, e.g. "Checking people.csv"
    back_url: str  # where the user came from
    back_label: str = _l("Back")
    next_url: str | None = None  # a succeeded job forwards here
    message: str | None = None  # flashed when forwarding, else shown
    download: tuple[str, str] | None = None  # (file token, purpose) offered for download


OUTCOMES: dict[str, Callable[[Job], Outcome]] = {}


def time_left_text(seconds: int | None) -> str | None:
    """The estimate in words: "about 40 seconds left", "about 3 minutes left", "about 2 hours left"."""
    if not seconds:
        return None
    if seconds < 90:
        return ngettext("about %(count)s second left", "about %(count)s seconds left", seconds, count=number(seconds))
    minutes = round(seconds / 60)
    if minutes < 90:
        return ngettext("about %(count)s minute left", "about %(count)s minutes left", minutes, count=number(minutes))
    hours = round(seconds / 3600)
    return ngettext("about %(count)s hour left", "about %(count)s hours left", hours, count=number(hours))


def outcome_for(kind: str) -> Callable[[Callable[[Job], Outcome]], Callable[[Job], Outcome]]:
    def register(builder: Callable[[Job], Outcome]) -> Callable[[Job], Outcome]:
        OUTCOMES[kind] = builder
        return builder

    return register


def own_job_or_404(job_id: int) -> Job:
    job = db.session.get(Job, job_id)
    if job is None or job.created_by_id != current_user.id:
        abort(404)
    return job


@bp.get("/<int:job_id>", endpoint="detail")
@login_required
def detail(job_id: int) -> Response:
    """Progress while the job runs; when it succeeded and leads somewhere, go there."""
    job = own_job_or_404(job_id)
    outcome = OUTCOMES[job.kind](job)
    if job.status == SUCCEEDED and outcome.next_url:
        if outcome.message:
            flash(str(outcome.message), "success")
        if is_partial_request():
            response = make_response("", 200)
            response.headers["HX-Redirect"] = outcome.next_url
            return response
        return redirect(outcome.next_url, 303)
    # A job refused for its input (a file that is not CSV, too many rows…) answers like a refused form.
    status = 422 if job.status == FAILED and job.phase == REFUSED else 200
    response = render("jobs/detail.html", block="job_status", job=job, outcome=outcome, poll_seconds=POLL_SECONDS,
                      time_left=time_left_text(job.seconds_left()), status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/download", endpoint="download")
@login_required
def download(job_id: int) -> Response:
    """The file a finished job wrote (its owner only, until it expires)."""
    job = own_job_or_404(job_id)
    outcome = OUTCOMES[job.kind](job)
    if job.status != SUCCEEDED or outcome.download is None:
        abort(404)
    token, purpose = outcome.download
    stored = find_file(token, purpose=purpose, owner_id=current_user.id)
    response = make_response(stored.data)
    response.mimetype = stored.content_type
    response.headers["Content-Disposition"] = f'attachment; filename="{stored.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
