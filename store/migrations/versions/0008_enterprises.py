"""enterprises keyed by 统一社会信用代码, shareholders, risk records, person-enterprise links; API keys; the enterprise-data service's cache

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sa.String(length=12), nullable=False),
    sa.Column('access', sa.String(length=16), nullable=False),
    sa.Column('scope_districts', sa.Text(), server_default='', nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_sha256', name=op.f('uq_api_key_key_sha256'))
    )
    op.create_table('enterprise',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('legal_representative', sa.String(length=64), nullable=True),
    sa.Column('registered_capital', sa.Float(), nullable=True),
    sa.Column('capital_currency', sa.String(length=16), nullable=True),
    sa.Column('founded_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('industry', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_enterprise_credit_code'))
    )
    op.create_index('ix_enterprise_name_key', 'enterprise', ['name_key'], unique=False)
    op.create_table('provider_cache',
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('credit_code', name=op.f('pk_provider_cache'))
    )
    op.create_table('risk_record',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('case_number', sa.String(length=100), nullable=True),
    sa.Column('authority', sa.String(length=100), nullable=True),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.Column('obligation', sa.Text(), nullable=True),
    sa.Column('performance', sa.String(length=32), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('recorded_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_risk_record_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_record'))
    )
    op.create_index('ix_risk_record_enterprise_id', 'risk_record', ['enterprise_id', 'kind'], unique=False)
    op.create_table('shareholder',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('subscribed_amount', sa.Float(), nullable=True),
    sa.Column('share', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_shareholder_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shareholder'))
    )
    op.create_index('ix_shareholder_enterprise_id', 'shareholder', ['enterprise_id', 'name'], unique=False)
    op.create_table('enterprise_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], name=op.f('fk_enterprise_link_enterprise_id_enterprise'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_enterprise_link_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_link'))
    )
    op.create_index('ix_enterprise_link_enterprise_id', 'enterprise_link', ['enterprise_id'], unique=False)
    op.create_index('ix_enterprise_link_person_id', 'enterprise_link', ['person_id', 'enterprise_id', 'role'], unique=True)


def downgrade() -> None:
    op.drop_table('provider_cache')
    op.drop_table('api_key')
    op.drop_table('enterprise_link')
    op.drop_table('shareholder')
    op.drop_table('risk_record')
    op.drop_table('enterprise')
