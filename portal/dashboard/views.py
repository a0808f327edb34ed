from __future__ import annotations

from flask import Blueprint, abort, redirect, url_for
from flask_login import current_user, login_required

from portal.activity.queries import describe, recent_events
from portal.dashboard.queries import home_figures, progress_overview
from portal.web import render

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def root():
    return redirect(url_for("dashboard.home" if current_user.is_authenticated else "auth.sign_in"))


@bp.get("/home")
@login_required
def home():
    return render("dashboard/home.html", figures=home_figures(current_user),
                  events=recent_events(current_user), describe=describe)


@bp.get("/home/progress")
@login_required
def progress():
    """The program manager's ready-to-complete and needs-attention counts per campaign: a page
    of its own that the home page loads into its card (htmx), so the home stays quick."""
    if not current_user.is_program_manager:
        abort(403)
    return render("dashboard/progress.html", block="progress", overview=progress_overview(current_user))
