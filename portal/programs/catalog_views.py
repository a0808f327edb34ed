"""The catalog: active public programs, a company admin's starting point."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("catalog", __name__, url_prefix="/catalog")
