"""activities run online: planning fields, sign-up/review/check-in fields, invitations, stewards

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ACTIVITY_COLUMNS = [
    sa.Column('street', sa.String(length=64), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('online_link', sa.String(length=500), nullable=True),
    sa.Column('signup_deadline', sa.DateTime(), nullable=True),
    sa.Column('needs_review', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('audience', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('state', sa.String(length=16), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('questions', sa.Text(), nullable=True),
]
PARTICIPATION_COLUMNS = [
    sa.Column('answers', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('pass_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('checked_in_by', sa.String(length=64), nullable=True),
    sa.Column('checkin_nonce', sa.String(length=64), nullable=True),
    sa.Column('checkin_day', sa.Date(), nullable=True),
    sa.Column('notice', sa.String(length=16), nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table('activity') as batch:
        for column in ACTIVITY_COLUMNS:
            batch.add_column(column)
    with op.batch_alter_table('participation') as batch:
        for column in PARTICIPATION_COLUMNS:
            batch.add_column(column)
    op.create_table('invitation',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_invitation_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_invitation_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'person_id', name=op.f('pk_invitation'))
    )
    op.create_index('ix_invitation_person_id', 'invitation', ['person_id'], unique=False)
    op.create_table('steward_activity',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_steward_activity_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_steward_activity_activity_id_activity'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'activity_id', name=op.f('pk_steward_activity'))
    )


def downgrade() -> None:
    op.drop_table('steward_activity')
    op.drop_table('invitation')
    with op.batch_alter_table('participation') as batch:
        for column in PARTICIPATION_COLUMNS:
            batch.drop_column(column.name)
    with op.batch_alter_table('activity') as batch:
        for column in ACTIVITY_COLUMNS:
            batch.drop_column(column.name)
