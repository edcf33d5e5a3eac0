"""person status: followed, or no longer followed (left, transferred, deceased) since a date

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 17:00:00.000000

Persons no longer followed leave the headcounts and stay findable with their history.
Other systems that insert persons need not name the column: its default is `followed`,
and a NULL (a system that lists every column) counts as followed too.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='followed', nullable=True))
        batch_op.add_column(sa.Column('status_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('status_on')
        batch_op.drop_column('status')
