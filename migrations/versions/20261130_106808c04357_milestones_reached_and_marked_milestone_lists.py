"""Milestones (SPEC §2.10): the milestones each enrollment reached, and the mark that makes a
template's array a milestone list.

* ``enrollment_milestones``: one row per enrollment and milestone key (the primary key makes
  reaching idempotent), with the date, the name at the time and the delivery that reached it.
* Data: the milestone lists of templates already in the database get ``"x-milestones": true``
  in their config schema — the masters' mentorship ``progression.milestones`` and buddy
  ``milestones.integrationStages`` (every version of every template with an array of objects
  with a ``key`` at either path, so templates made from a master are marked too). Programs
  already launched read the schema of the version they are pinned to, so they pick the mark up
  with no upgrade of their own. A fresh seed has it from the master JSON files.

Downgrade removes the mark from those paths and drops the table (the milestones reached).

Revision ID: 106808c04357
Revises: 331a5fab8ccd
Create Date: 2026-11-30 13:57:40.709010

"""
import copy

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '106808c04357'
down_revision = '331a5fab8ccd'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
MARK = "x-milestones"
MILESTONE_PATHS = (("progression", "milestones"), ("milestones", "integrationStages"))

templates = sa.table("program_templates", sa.column("id", sa.Integer), sa.column("config_schema", JSON))


def _array_at(schema, path):
    node = schema
    for part in path:
        properties = node.get("properties") if isinstance(node, dict) else None
        node = properties.get(part) if isinstance(properties, dict) else None
    if not isinstance(node, dict) or node.get("type") != "array":
        return None
    items = node.get("items")
    keyed = isinstance(items, dict) and isinstance(items.get("properties"), dict) and "key" in items["properties"]
    return node if keyed else None


def _mark(marked: bool) -> None:
    connection = op.get_bind()
    for template_id, schema in connection.execute(sa.select(templates.c.id, templates.c.config_schema)).all():
        if not isinstance(schema, dict):
            continue
        changed = copy.deepcopy(schema)
        touched = False
        for path in MILESTONE_PATHS:
            node = _array_at(changed, path)
            if node is None:
                continue
            if marked and node.get(MARK) is not True:
                node[MARK] = True
                touched = True
            elif not marked and MARK in node:
                del node[MARK]
                touched = True
        if touched:
            connection.execute(sa.update(templates).where(templates.c.id == template_id).values(config_schema=changed))


def upgrade():
    op.create_table('enrollment_milestones',
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('reached_on', sa.Date(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_enrollment_milestones_delivery_id_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_enrollment_milestones_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enrollment_id', 'key', name=op.f('pk_enrollment_milestones'))
    )
    _mark(True)


def downgrade():
    _mark(False)
    op.drop_table('enrollment_milestones')
