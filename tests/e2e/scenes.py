"""Scenes the browser tests build on the live server's database, once per module: a private
mentorship program (so no catalog test counts it) of the master template, and Acme's active
campaigns of it. Call inside the live server's app context and a ``transaction()``."""
from __future__ import annotations

from datetime import date
from typing import Any


def acme():
    import sqlalchemy as sa

    from portal.auth.models import Company
    from portal.db import db

    return db.session.scalars(sa.select(Company).where(Company.name == "Acme Corp")).one()


def mentorship_program(label: str, city: str) -> Any:
    """An active, private program of a fresh copy of the mentorship master, for job seekers
    in ``city`` speaking Ukrainian and English; ``label`` keeps its keys apart."""
    from portal.beneficiaries.operations import create_group
    from portal.configuration.masters import load_master
    from portal.program_templates.operations import create_template, publish_template
    from portal.programs.operations import launch_program, transition_program

    master = load_master("mentorship")
    template = create_template(None, key=f"{label}-e2e-mentorship", name=f"Mentorship ({label} e2e)",
                               category="mentorship", config_schema=master["config_schema"],
                               default_config=master["default_config"])
    publish_template(None, template)
    group = create_group(None, name=f"Job seekers in {city} ({label} e2e)", group_type="job_seekers",
                         country="NO", languages=["uk", "en"], eligible_categories=["mentorship"])
    program = launch_program(None, template=template, group=group, visibility="private",
                             name=f"Mentoring {city} ({label})")
    transition_program(None, program, "active")
    return program


def active_campaign(program: Any, name: str, *, start_date: date | None = None, max_enrollment: int = 10) -> Any:
    """Acme's active campaign of ``program`` (flushed: it has its id)."""
    from portal.campaigns.operations import create_campaign, transition_campaign
    from portal.db import db

    campaign = create_campaign(None, program=program, company=acme(), name=name,
                               start_date=start_date or date(date.today().year, 1, 1), max_enrollment=max_enrollment)
    transition_campaign(None, campaign, "active")
    db.session.flush()
    return campaign
