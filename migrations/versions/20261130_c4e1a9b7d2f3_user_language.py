"""Each user's language (portal.i18n): None follows the browser's Accept-Language.

Revision ID: c4e1a9b7d2f3
Revises: a7c3e9d2b5f1
Create Date: 2026-11-30 19:30:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e1a9b7d2f3'
down_revision = 'a7c3e9d2b5f1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')
