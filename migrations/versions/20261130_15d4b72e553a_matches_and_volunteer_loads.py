"""Matches (SPEC §2.8): pairs of a volunteer and a beneficiary enrollment, and each
volunteer's count of active matches.

* ``matches``: status proposed/active/ended with CHECKs that an active match has a start and
  an ended one an end; a partial unique index allows one open (not ended) match per pair,
  on SQLite and PostgreSQL alike.
* ``match_loads``: one row per volunteer enrollment with ``active_matches``, moved by a
  conditional UPDATE when a match is confirmed (the limit ``maxMenteesPerMentor`` holds
  under concurrency) and kept ≥ 0 by a CHECK.

New tables only: downgrade drops them (and the matches recorded in them).

Revision ID: 15d4b72e553a
Revises: d4e8a1c6f2b3
Create Date: 2026-11-30 13:41:26.285653

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '15d4b72e553a'
down_revision = 'd4e8a1c6f2b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('match_loads',
    sa.Column('volunteer_enrollment_id', sa.Integer(), nullable=False),
    sa.Column('active_matches', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('active_matches >= 0', name=op.f('ck_match_loads_active_matches_nonnegative')),
    sa.ForeignKeyConstraint(['volunteer_enrollment_id'], ['enrollments.id'], name=op.f('fk_match_loads_volunteer_enrollment_id_enrollments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('volunteer_enrollment_id', name=op.f('pk_match_loads'))
    )
    op.create_table('matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('volunteer_enrollment_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_enrollment_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_reason', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status <> 'active' OR started_at IS NOT NULL", name=op.f('ck_matches_active_has_start')),
    sa.CheckConstraint("status <> 'ended' OR ended_at IS NOT NULL", name=op.f('ck_matches_ended_has_end')),
    sa.CheckConstraint("status IN ('proposed', 'active', 'ended')", name=op.f('ck_matches_status_allowed')),
    sa.CheckConstraint('volunteer_enrollment_id <> beneficiary_enrollment_id', name=op.f('ck_matches_two_enrollments')),
    sa.ForeignKeyConstraint(['beneficiary_enrollment_id'], ['enrollments.id'], name=op.f('fk_matches_beneficiary_enrollment_id_enrollments'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_matches_campaign_id_campaigns'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_matches_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['volunteer_enrollment_id'], ['enrollments.id'], name=op.f('fk_matches_volunteer_enrollment_id_enrollments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index('ix_matches_beneficiary', ['beneficiary_enrollment_id', 'status'], unique=False)
        batch_op.create_index('ix_matches_campaign_status', ['campaign_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_matches_volunteer', ['volunteer_enrollment_id', 'status'], unique=False)
        batch_op.create_index('uq_matches_open_pair', ['volunteer_enrollment_id', 'beneficiary_enrollment_id'], unique=True, sqlite_where=sa.text("status <> 'ended'"), postgresql_where=sa.text("status <> 'ended'"))



def downgrade():
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index('uq_matches_open_pair', sqlite_where=sa.text("status <> 'ended'"), postgresql_where=sa.text("status <> 'ended'"))
        batch_op.drop_index('ix_matches_volunteer')
        batch_op.drop_index('ix_matches_campaign_status')
        batch_op.drop_index('ix_matches_beneficiary')

    op.drop_table('matches')
    op.drop_table('match_loads')
