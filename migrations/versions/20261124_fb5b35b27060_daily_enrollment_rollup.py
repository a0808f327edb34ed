"""Daily enrollment rollup: enrollments created per campaign and day, kept by the
enrollment operations, so charts read days instead of millions of rows. Backfilled here.

Revision ID: fb5b35b27060
Revises: 6d641e053f45
Create Date: 2026-11-24 20:52:12.616232

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fb5b35b27060'
down_revision = '6d641e053f45'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enrollment_days',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('enrollments', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('enrollments >= 0', name=op.f('ck_enrollment_days_enrollments_nonnegative')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_enrollment_days_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'day', name=op.f('pk_enrollment_days'))
    )
    with op.batch_alter_table('enrollment_days', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_days_day', ['day'], unique=False)

    # Backfill from the enrollments already there (one GROUP BY; works on SQLite and PostgreSQL).
    op.execute(
        "INSERT INTO enrollment_days (campaign_id, day, enrollments, created_at, updated_at) "
        "SELECT campaign_id, date(created_at), count(*), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
        "FROM enrollments GROUP BY campaign_id, date(created_at)"
    )


def downgrade():
    with op.batch_alter_table('enrollment_days', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_days_day')

    op.drop_table('enrollment_days')
