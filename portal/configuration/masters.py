"""The three master templates (SPEC §3.1), kept as JSON documents in ``masters/``: each has
the template's key, name, category, description, tags, SDG goals, ``config_schema``,
``default_config`` and ``ui_schema``. The seed creates templates from them; the new-template
screen starts from one."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MASTERS_DIR = Path(__file__).resolve().parent / "masters"
MASTER_FILES = ("mentorship", "language", "buddy")


def load_master(name: str) -> dict[str, Any]:
    """The master template document ``masters/<name>.json``."""
    return json.loads((MASTERS_DIR / f"{name}.json").read_text(encoding="utf-8"))
