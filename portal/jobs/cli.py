"""``flask jobs work`` (a worker for the configured backend) and ``flask jobs sweep``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portal.db import transaction

jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("work")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty instead of waiting for more jobs.")
def work_command(burst: bool) -> None:
    """Run jobs: Procrastinate on PostgreSQL, the jobs table on SQLite. Start as many as you like."""
    from portal.jobs.queue import work

    work(current_app._get_current_object(), burst=burst)


@jobs_cli.command("sweep")
def sweep_command() -> None:
    """Delete uploaded files and job outputs whose time is over."""
    from portal.jobs.files import sweep_expired

    with transaction():
        count = sweep_expired()
    click.echo(f"Deleted {count} expired file{'s' if count != 1 else ''}.")
