"""Personal data rights (SPEC §2.12): each enrollment's legal basis, its consent date and
when consent was withdrawn; when a participant's identity was erased; a retention period
per beneficiary group.

Existing enrollments are backfilled with the default basis, ``legitimate_interest``, by the
column's server default (they were enrolled before anyone recorded consent, so there is
no consent date to claim). The columns are added with plain ``ALTER TABLE … ADD COLUMN``
(CHECKs as column constraints), never by rebuilding the table: on SQLite a rebuild of
``enrollments`` would drop the triggers that keep ``enrollment_tallies``.

Revision ID: b8d2f4a6c913
Revises: b8d2f4a6c1e9
Create Date: 2026-11-30 16:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d2f4a6c913'
down_revision = 'b8d2f4a6c1e9'
branch_labels = None
depends_on = None

_BASES = "'consent', 'legitimate_interest', 'contract'"


def upgrade():
    op.add_column('enrollments', sa.Column(
        'legal_basis', sa.String(length=24),
        sa.CheckConstraint(f"legal_basis IN ({_BASES})", name=op.f('ck_enrollments_legal_basis_allowed')),
        nullable=False, server_default='legitimate_interest'))
    op.add_column('enrollments', sa.Column('consent_given_on', sa.Date(), nullable=True))
    op.add_column('enrollments', sa.Column('consent_withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('participants', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('beneficiary_groups', sa.Column(
        'retention_months', sa.Integer(),
        sa.CheckConstraint("retention_months IS NULL OR retention_months > 0",
                           name=op.f('ck_beneficiary_groups_retention_months_positive')),
        nullable=True))


def downgrade():
    # SQLite drops a column together with its column CHECK, in place (no rebuild).
    op.drop_column('beneficiary_groups', 'retention_months')
    op.drop_column('participants', 'erased_at')
    op.drop_column('enrollments', 'consent_withdrawn_at')
    op.drop_column('enrollments', 'consent_given_on')
    op.drop_column('enrollments', 'legal_basis')
