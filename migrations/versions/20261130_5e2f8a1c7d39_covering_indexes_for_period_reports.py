"""Covering indexes for reports over a period of many campaigns (a company's hundred): impact
tallies by campaign and day (58 → 25 ms for a year of 100 campaigns at 1M deliveries), and
deliveries by enrollment and date carrying what a report sums — kind, attendance, void,
minutes — so it reads no table rows (57 → 11 ms).

Revision ID: 5e2f8a1c7d39
Revises: 9c41d7e2a5b8
Create Date: 2026-11-30 17:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '5e2f8a1c7d39'
down_revision = '9c41d7e2a5b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_impact_tallies_campaign_day', 'impact_tallies',
                    ['campaign_id', 'day', 'role', 'kind', 'detail', 'events', 'quantity'])
    op.drop_index('ix_deliveries_enrollment_occurred', table_name='deliveries')
    op.create_index('ix_deliveries_enrollment_occurred', 'deliveries',
                    ['enrollment_id', 'occurred_on', 'id', 'kind', 'attendance', 'voided_at', 'duration_minutes'])


def downgrade():
    op.drop_index('ix_deliveries_enrollment_occurred', table_name='deliveries')
    op.create_index('ix_deliveries_enrollment_occurred', 'deliveries', ['enrollment_id', 'occurred_on', 'id'])
    op.drop_index('ix_impact_tallies_campaign_day', table_name='impact_tallies')
