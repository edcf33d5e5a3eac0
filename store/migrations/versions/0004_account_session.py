"""server-side sign-in sessions (the cookie's token hash) and the accounts epoch

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_session',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=True),
    sa.Column('handoff_sha256', sa.String(length=64), nullable=True),
    sa.Column('handoff_expires_at', sa.DateTime(), nullable=True),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_account_session_account_id_account'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_session')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_account_session_token_sha256')),
    sa.UniqueConstraint('handoff_sha256', name=op.f('uq_account_session_handoff_sha256'))
    )
    op.create_index('ix_account_session_account_id', 'account_session', ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_account_session_account_id', table_name='account_session')
    op.drop_table('account_session')
