"""``flask api spec`` writes docs/openapi.json (the committed contract; ``--check`` fails
when it differs from the code's), ``flask api sweep`` deletes idempotency keys past 24 hours."""
from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

api_cli = AppGroup("api", help="The JSON API: its OpenAPI document and housekeeping.")


@api_cli.command("spec")
@click.option("--check", is_flag=True, help="Only compare: exit 1 when docs/openapi.json is out of date.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write here instead of docs/openapi.json ('-' for standard output).")
def spec_command(check: bool, output: str | None) -> None:
    """Write the OpenAPI document generated from the code."""
    from portal.api.spec import COMMITTED_SPEC, document, dump

    text = dump(document(current_app))
    if output == "-":
        click.echo(text, nl=False)
        return
    path = COMMITTED_SPEC if output is None else __import__("pathlib").Path(output)
    if check:
        if not path.exists() or path.read_text() != text:
            click.echo(f"{path} is out of date: run `flask api spec`.", err=True)
            sys.exit(1)
        click.echo(f"{path} is up to date.")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    click.echo(f"Wrote {path}.")


@api_cli.command("sweep")
def sweep_command() -> None:
    """Delete stored Idempotency-Key answers older than 24 hours."""
    from portal.api.idempotency import sweep_expired
    from portal.db import transaction

    with transaction():
        count = sweep_expired()
    click.echo(f"Deleted {count} expired idempotency keys.")
