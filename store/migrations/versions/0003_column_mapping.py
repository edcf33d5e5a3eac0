"""saved column mappings per header signature

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('column_mapping',
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('labels', sa.Text(), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=False),
    sa.Column('saved_at', sa.DateTime(), nullable=False),
    sa.Column('saved_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('signature', name=op.f('pk_column_mapping'))
    )


def downgrade() -> None:
    op.drop_table('column_mapping')
