"""Index enrollments by creation time: the home trend chart and the activity of the
last weeks read a recent range of enrollments across all campaigns.

Revision ID: 6d641e053f45
Revises: 1943173a3da4
Create Date: 2026-11-24 20:47:52.579840

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6d641e053f45'
down_revision = '1943173a3da4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_enrollments_created', ['created_at', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollments_created')

