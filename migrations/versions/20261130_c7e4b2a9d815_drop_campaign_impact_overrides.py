"""Drop campaign overrides of impact settings (SPEC §2.11: impact.* comes from the template
and program layers only; a sponsor never sets the weights its own impact is measured with).

A data migration, no schema change: every campaign whose configuration layer overrides
anything under ``impact`` loses those overrides (its other overrides stay), its version
counter moves on (an open form based on the old layer is refused as stale) and one
``program.campaign.updated`` activity event per campaign names the dropped paths, with the
layer before and after. The downgrade leaves the data as it is: the events keep what was
dropped.

Revision ID: c7e4b2a9d815
Revises: a3c1f0d9b7e2
Create Date: 2026-11-30 14:10:00

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "c7e4b2a9d815"
down_revision = "a3c1f0d9b7e2"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
CLOSED_SECTION = "impact"

campaigns = sa.table(
    "campaigns",
    sa.column("id", sa.Integer), sa.column("company_id", sa.Integer), sa.column("name", sa.String),
    sa.column("config_overrides", JSON), sa.column("lock_version", sa.Integer),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
events = sa.table(
    "activity_events",
    sa.column("type", sa.String), sa.column("actor_id", sa.Integer), sa.column("company_id", sa.Integer),
    sa.column("subject_type", sa.String), sa.column("subject_id", sa.Integer),
    sa.column("subject_label", sa.String), sa.column("data", JSON),
    sa.column("created_at", sa.DateTime(timezone=True)), sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _leaf_paths(value, prefix):
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaf_paths(child, f"{prefix}.{key}")
    else:
        yield prefix


def upgrade():
    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":  # stored as naive UTC text there (portal.db.UTCDateTime)
        now = now.replace(tzinfo=None)
    rows = connection.execute(sa.select(campaigns.c.id, campaigns.c.company_id, campaigns.c.name,
                                        campaigns.c.config_overrides, campaigns.c.lock_version)).all()
    for row in rows:
        overrides = row.config_overrides
        if not isinstance(overrides, dict) or CLOSED_SECTION not in overrides:
            continue
        kept = {key: value for key, value in overrides.items() if key != CLOSED_SECTION}
        dropped = sorted(_leaf_paths(overrides[CLOSED_SECTION], CLOSED_SECTION))
        connection.execute(campaigns.update().where(campaigns.c.id == row.id).values(
            config_overrides=kept, lock_version=(row.lock_version or 1) + 1, updated_at=now))
        connection.execute(events.insert().values(
            type="program.campaign.updated", actor_id=None, company_id=row.company_id, subject_type="campaigns",
            subject_id=row.id, subject_label=(row.name or "")[:255], created_at=now, updated_at=now,
            data={"dropped_overrides": dropped, "config_overrides": {"from": overrides, "to": kept},
                  "reason": "Impact settings come from the template and the program only (SPEC §2.11)."}))


def downgrade():
    pass  # the dropped overrides stay dropped; each campaign's event records them
