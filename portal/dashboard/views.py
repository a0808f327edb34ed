from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user, login_required

from portal.activity.queries import describe, recent_events
from portal.dashboard.queries import home_figures
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
