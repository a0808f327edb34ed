"""Beneficiary group screens (program managers)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("beneficiaries", __name__, url_prefix="/groups")
