"""the write path: change sets and field-level changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('change_set',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='done', nullable=False),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('undoes', sa.Integer(), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_set'))
    )
    op.create_index('ix_change_set_import_batch_id', 'change_set', ['import_batch_id'], unique=False)
    op.create_table('change',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('change_set_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('row_key', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['change_set_id'], ['change_set.id'], name=op.f('fk_change_change_set_id_change_set'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change'))
    )
    op.create_index('ix_change_change_set_id', 'change', ['change_set_id'], unique=False)
    op.create_index('ix_change_person_id', 'change', ['person_id', 'change_set_id'], unique=False)
    op.create_index('ix_change_row', 'change', ['entity', 'row_key', 'change_set_id'], unique=False)


def downgrade() -> None:
    op.drop_table('change')
    op.drop_table('change_set')
