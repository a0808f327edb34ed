"""``flask privacy retention [--apply] [--today YYYY-MM-DD]``: who is due for erasure under
their beneficiary groups' retention periods; a dry run unless ``--apply``."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from portal.db import utcnow
from portal.text import plural

privacy_cli = AppGroup("privacy", help="Personal data rights: retention.")


@privacy_cli.command("retention")
@click.option("--apply", "apply_", is_flag=True, help="Erase everyone listed (without it: a dry run that changes nothing).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Count periods up to this day instead of today (UTC).")
def retention_command(apply_: bool, today) -> None:  # type: ignore[no-untyped-def]
    """List participants whose retention period has run out; --apply erases them."""
    from portal.privacy.retention import apply_retention

    day: date = today.date() if today else utcnow().date()
    run = apply_retention(day, apply=apply_)
    for person in run.due:
        outcome = ""
        if apply_:
            outcome = "  erased" if person.participant_id in run.erased else \
                f"  NOT erased: {run.failed.get(person.participant_id, '')}"
        click.echo(f"{person.ref}  due {person.due_on.isoformat()}  ({', '.join(person.groups)}){outcome}")
    if apply_:
        click.echo(f"Erased {plural(len(run.erased), 'participant')}"
                   + (f"; {len(run.failed)} refused." if run.failed else "."), err=True)
    else:
        click.echo(f"{plural(len(run.due), 'participant')} due (dry run: nothing changed; --apply erases them).",
                   err=True)
