"""The register of data-subject requests (portal.privacy.requests, SPEC §2.12).

Revision ID: 1e487ff2b1a5
Revises: c4e1a9b7d2f3
Create Date: 2026-11-30 23:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '1e487ff2b1a5'
down_revision = 'c4e1a9b7d2f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'privacy_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participant_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('received_on', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=100), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=True),
        sa.Column('outcome_note', sa.String(length=1000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lock_version', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('access', 'erasure', 'rectification', 'objection')",
                           name=op.f('ck_privacy_requests_kind_allowed')),
        sa.CheckConstraint("outcome IN ('exported', 'erased', 'by_hand')",
                           name=op.f('ck_privacy_requests_outcome_allowed')),
        sa.CheckConstraint('(closed_at IS NULL) = (outcome IS NULL)',
                           name=op.f('ck_privacy_requests_closed_has_outcome')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_privacy_requests_closed_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                                name=op.f('fk_privacy_requests_participant_id_participants'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_privacy_requests_recorded_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_requests')),
    )
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.create_index('ix_privacy_requests_open', ['closed_at', 'received_on', 'id'], unique=False)
        batch_op.create_index('ix_privacy_requests_participant', ['participant_id'], unique=False)


def downgrade():
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_privacy_requests_participant')
        batch_op.drop_index('ix_privacy_requests_open')
    op.drop_table('privacy_requests')
