"""``flask tokens create``: how an operator sets up a connector (SPEC §4.2). It prints the
new token once, on standard output alone, so ``TOKEN=$(flask tokens create …)`` works."""
from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portal.db import db, transaction
from portal.errors import DomainError, ValidationFailed
from portal.tokens.operations import DEFAULT_EXPIRY_DAYS, SCOPES

tokens_cli = AppGroup("tokens", help="Personal access tokens for the JSON API.")


@tokens_cli.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What uses it, e.g. 'Kintell connector'.")
@click.option("--scopes", required=True, help=f"Comma-separated, from: {', '.join(SCOPES)}.")
@click.option("--expires-days", type=int, default=DEFAULT_EXPIRY_DAYS, show_default=True, help="1 to 365.")
def create_token_command(email: str, name: str, scopes: str, expires_days: int) -> None:
    """Create a token for a user and print it (shown this once)."""
    from portal.auth.models import User
    from portal.auth.operations import normalize_email
    from portal.tokens.operations import create_token

    try:
        user = db.session.scalars(sa.select(User).where(User.email == normalize_email(email))).first()
    except DomainError:
        user = None
    if user is None:
        click.echo(f"No user with the e-mail {email!r}.", err=True)
        sys.exit(2)
    try:
        with transaction():
            user = db.session.get(User, user.id)
            token, text = create_token(None, user, name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                                       expires_days=expires_days)
    except DomainError as exc:
        messages = exc.errors.items() if isinstance(exc, ValidationFailed) else [(exc.field or "", [exc.message])]
        for field, texts in messages:
            for text_ in texts:
                click.echo(f"{field}: {text_}" if field else text_, err=True)
        sys.exit(2)
    click.echo(text)
    click.echo(f"Created token {token.prefix}… “{token.name}” for {user.email} (scopes {', '.join(token.scopes)}; "
               f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC). It is not shown again.", err=True)
