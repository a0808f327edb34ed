"""Participants screens (program managers): search, detail, edit."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("participants", __name__, url_prefix="/participants")
