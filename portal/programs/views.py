"""Program screens (program managers): list, launch wizard, detail, lifecycle, upgrade."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("programs", __name__, url_prefix="/programs")
