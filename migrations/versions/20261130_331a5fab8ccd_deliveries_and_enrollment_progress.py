"""Deliveries (SPEC §2.9) and each enrollment's progress counters per kind (SPEC §2.10).

* ``deliveries``: one thing done for an enrollment — kind (a key of the effective
  ``impact.sroiWeights``), date and optional time, quantity (exact, 3 decimals, ≥ 0), duration,
  attendance for sessions, the match it belongs to and its counterpart on the partner's
  enrollment, source and source id (a partial unique index on (source, source_id,
  enrollment_id) where a source id is given), metadata, note, who recorded it, and the void
  marks (a delivery is never deleted). Optimistic locking through ``lock_version``.
* ``enrollment_progress``: per enrollment and kind, the counted deliveries, their quantity and
  the latest date — moved by the delivery operations in the delivery's transaction.

New tables only: downgrade drops them (and the deliveries recorded in them).

Revision ID: 331a5fab8ccd
Revises: 15d4b72e553a
Create Date: 2026-11-30 13:48:25.545210

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# revision identifiers, used by Alembic.
revision = '331a5fab8ccd'
down_revision = '15d4b72e553a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enrollment_progress',
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('counted_quantity', sa.Numeric(precision=15, scale=3), nullable=False),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('last_on', sa.Date(), nullable=True),
    sa.CheckConstraint('counted_quantity >= 0', name=op.f('ck_enrollment_progress_quantity_nonnegative')),
    sa.CheckConstraint('deliveries >= 0', name=op.f('ck_enrollment_progress_deliveries_nonnegative')),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_enrollment_progress_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enrollment_id', 'kind', name=op.f('pk_enrollment_progress'))
    )
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enrollment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=100), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('occurred_time', sa.Time(), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('attendance', sa.String(length=16), nullable=True),
    sa.Column('match_id', sa.Integer(), nullable=True),
    sa.Column('counterpart_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=True),
    sa.Column('metadata', JSON, nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_by_id', sa.Integer(), nullable=True),
    sa.Column('void_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("attendance IN ('present', 'excused', 'unexcused')", name=op.f('ck_deliveries_attendance_allowed')),
    sa.CheckConstraint("source IN ('manual', 'csv', 'api', 'kintell', 'buddy', 'upskilling')", name=op.f('ck_deliveries_source_allowed')),
    sa.CheckConstraint('duration_minutes IS NULL OR duration_minutes >= 0', name=op.f('ck_deliveries_duration_nonnegative')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_deliveries_quantity_nonnegative')),
    sa.CheckConstraint('voided_at IS NOT NULL OR (voided_by_id IS NULL AND void_reason IS NULL)', name=op.f('ck_deliveries_void_fields')),
    sa.ForeignKeyConstraint(['counterpart_id'], ['deliveries.id'], name=op.f('fk_deliveries_counterpart_id_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['enrollment_id'], ['enrollments.id'], name=op.f('fk_deliveries_enrollment_id_enrollments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['match_id'], ['matches.id'], name=op.f('fk_deliveries_match_id_matches'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_deliveries_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['voided_by_id'], ['users.id'], name=op.f('fk_deliveries_voided_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_enrollment_occurred', ['enrollment_id', 'occurred_on', 'id'], unique=False)
        batch_op.create_index('ix_deliveries_match', ['match_id'], unique=False)
        batch_op.create_index('uq_deliveries_source_id', ['source', 'source_id', 'enrollment_id'], unique=True, sqlite_where=sa.text('source_id IS NOT NULL'), postgresql_where=sa.text('source_id IS NOT NULL'))



def downgrade():
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('uq_deliveries_source_id', sqlite_where=sa.text('source_id IS NOT NULL'), postgresql_where=sa.text('source_id IS NOT NULL'))
        batch_op.drop_index('ix_deliveries_match')
        batch_op.drop_index('ix_deliveries_enrollment_occurred')

    op.drop_table('deliveries')
    op.drop_table('enrollment_progress')
