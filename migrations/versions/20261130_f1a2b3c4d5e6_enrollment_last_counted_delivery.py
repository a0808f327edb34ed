"""Each enrollment keeps the date of its latest counted delivery (maintained by the delivery
operations in the delivery's transaction), backfilled from the deliveries, and two indexes
so the campaign page's needs-attention and program-length lists are bounded indexed reads.

Revision ID: f1a2b3c4d5e6
Revises: e5b7c9d1a2f4
Create Date: 2026-11-30 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e5b7c9d1a2f4'
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD / DROP COLUMN (SQLite ≥ 3.35 has both), not batch mode: recreating the
# enrollments table on SQLite would drop the enrollment tallies' triggers on it.
def upgrade():
    op.add_column('enrollments', sa.Column('last_counted_delivery_on', sa.Date(), nullable=True))
    op.create_index('ix_enrollments_campaign_attention', 'enrollments',
                    ['campaign_id', 'status', 'last_counted_delivery_on', 'enrolled_at'], unique=False)
    op.create_index('ix_enrollments_campaign_status_enrolled', 'enrollments',
                    ['campaign_id', 'status', 'enrolled_at'], unique=False)
    # Backfill: counted = not void, and present where attendance applies (SPEC §2.9).
    op.execute(
        "UPDATE enrollments SET last_counted_delivery_on = ("
        " SELECT max(d.occurred_on) FROM deliveries d WHERE d.enrollment_id = enrollments.id"
        " AND d.voided_at IS NULL AND (d.attendance IS NULL OR d.attendance = 'present'))"
        " WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.enrollment_id = enrollments.id)")


def downgrade():
    op.drop_index('ix_enrollments_campaign_status_enrolled', table_name='enrollments')
    op.drop_index('ix_enrollments_campaign_attention', table_name='enrollments')
    op.drop_column('enrollments', 'last_counted_delivery_on')
