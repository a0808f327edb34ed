"""Command-line interface: ``flask seed``, ``flask users create``, ``flask events export``.
Each command calls the same operations as the screens."""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from portal.db import db, transaction
from portal.errors import DomainError, ValidationFailed
from portal.text import plural

users_cli = AppGroup("users", help="Manage portal users.")
events_cli = AppGroup("events", help="Activity events.")
progress_cli = AppGroup("progress", help="Progress and milestones (SPEC §2.10).")


def _fail(exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"{field}: {message}", err=True)
    else:
        click.echo(exc.message, err=True)
    sys.exit(2)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["program_manager", "company_admin"]), required=True)
@click.option("--company", "company_key", help="Company key (required for company admins).")
@click.password_option("--password", help="Initial password (prompted when omitted).")
def create_user_command(email: str, name: str, role: str, company_key: str | None, password: str) -> None:
    """Create a user (the first program manager, for instance)."""
    from portal.auth.models import Company
    from portal.auth.operations import create_user

    company_id = None
    if company_key:
        company_id = db.session.scalar(sa.select(Company.id).where(Company.key == company_key))
        if company_id is None:
            click.echo(f"No company with key {company_key!r}.", err=True)
            sys.exit(2)
    try:
        with transaction():
            user = create_user(None, email=email, name=name, role=role, password=password, company_id=company_id)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Created {user.role} {user.email}.")


def _parse_since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use an ISO 8601 time, e.g. 2026-01-31T00:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@events_cli.command("export")
@click.option("--since", "since", required=True, help="ISO 8601 time; events at or after it.")
@click.option("--output", "-o", type=click.File("w"), default="-", help="File to write (default: standard output).")
def export_events_command(since: str, output) -> None:  # type: ignore[no-untyped-def]
    """Write activity events as JSON lines, oldest first."""
    from portal.activity.export import iter_event_records

    count = 0
    for record in iter_event_records(_parse_since(since)):
        output.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    click.echo(f"Exported {plural(count, 'event')}.", err=True)


@progress_cli.command("daily")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day to run for, YYYY-MM-DD (default: today, UTC).")
def progress_daily_command(day: datetime | None) -> None:
    """Run the daily progress job now: record the milestones whose last threshold is time
    (daysActive), dated the day each became true — what the job runner does once a day."""
    from portal.db import utcnow
    from portal.jobs.queue import run_daily_progress

    today = day.date() if day is not None else utcnow().date()
    recorded = run_daily_progress(today)
    click.echo(f"Daily progress for {today.isoformat()}: {plural(recorded, 'milestone')} recorded.")


@click.command("seed")
@click.option("--quiet", is_flag=True, help="Do not print the demo sign-ins.")
@with_appcontext
def seed_command(quiet: bool) -> None:
    """Load demo data (idempotent) and print the demo sign-ins."""
    from portal.seed import DEMO_PASSWORD, demo_sign_ins, seed_demo_data

    created = seed_demo_data()
    click.echo("Seeded demo data." if created else "Demo data already present; nothing added.")
    if not quiet:
        click.echo(f"\nDemo sign-ins (password for all: {DEMO_PASSWORD})")
        for email, role, company in demo_sign_ins():
            click.echo(f"  {email:<34} {role:<16} {company or ''}")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(events_cli)
    app.cli.add_command(progress_cli)
    app.cli.add_command(seed_command)
    from portal.jobs.cli import jobs_cli

    app.cli.add_command(jobs_cli)
    from portal.privacy.cli import privacy_cli

    app.cli.add_command(privacy_cli)
    from portal.api.cli import api_cli
    from portal.tokens.cli import tokens_cli

    app.cli.add_command(tokens_cli)
    app.cli.add_command(api_cli)
