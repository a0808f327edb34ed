"""Jobs remember when their current phase started, so the page's "time left" is measured
within the phase (a confirm reads, checks and saves: each phase counts its rows anew).

Revision ID: e5b7c9d1a2f4
Revises: 106808c04357
Create Date: 2026-11-30 14:10:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5b7c9d1a2f4'
down_revision = '106808c04357'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phase_started_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('phase_started_at')
