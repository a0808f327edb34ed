"""CSV import and export of a campaign's enrollments."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/campaigns/<int:campaign_id>")
