"""Impact report snapshots (SPEC §2.11): a report's content frozen as one canonical JSON
text with its SHA-256, and the expiring, revocable share links that show one snapshot to
people without an account.

Revision ID: 9c41d7e2a5b8
Revises: b8d2f4a6c913
Create Date: 2026-11-30 16:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c41d7e2a5b8'
down_revision = 'b8d2f4a6c913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'report_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('period_key', sa.String(length=40), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('content_json', sa.Text(), nullable=False),
        sa.Column('content_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("scope IN ('campaign', 'company')", name=op.f('ck_report_snapshots_scope_known')),
        sa.CheckConstraint("scope = 'company' OR campaign_id IS NOT NULL",
                           name=op.f('ck_report_snapshots_campaign_for_campaign_scope')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_report_snapshots_campaign_id_campaigns'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_report_snapshots_company_id_companies'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_snapshots_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_snapshots')),
    )
    op.create_index('ix_report_snapshots_company', 'report_snapshots', ['company_id', 'created_at'])
    op.create_index('ix_report_snapshots_campaign', 'report_snapshots', ['campaign_id', 'created_at'])
    op.create_table(
        'report_share_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('label', sa.String(length=120), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.Column('last_viewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_report_share_links_company_id_companies'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_share_links_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['snapshot_id'], ['report_snapshots.id'],
                                name=op.f('fk_report_share_links_snapshot_id_report_snapshots'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_share_links')),
    )
    op.create_index('ix_report_share_links_snapshot', 'report_share_links', ['snapshot_id'])


def downgrade():
    op.drop_index('ix_report_share_links_snapshot', table_name='report_share_links')
    op.drop_table('report_share_links')
    op.drop_index('ix_report_snapshots_campaign', table_name='report_snapshots')
    op.drop_index('ix_report_snapshots_company', table_name='report_snapshots')
    op.drop_table('report_snapshots')
