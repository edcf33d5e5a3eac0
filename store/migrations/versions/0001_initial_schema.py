"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 18:36:06.125507
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('activity',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('organizer', sa.String(length=200), nullable=True),
    sa.Column('district_code', sa.String(length=12), nullable=True),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('online', sa.Boolean(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity'))
    )
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.create_index('ix_activity_starts_at', ['starts_at'], unique=False)
        batch_op.create_index('ix_activity_title_starts_at', ['title', 'starts_at'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_action', ['action', 'at'], unique=False)
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)

    op.create_table('category',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_category'))
    )
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=True),
    sa.Column('rows_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('inserted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch'))
    )
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.create_index('ix_import_batch_sha256', ['sha256'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('region',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=True),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index('ix_region_parent_code', ['parent_code'], unique=False)

    op.create_table('tag',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag')),
    sa.UniqueConstraint('name', name=op.f('uq_tag_name'))
    )
    op.create_table('import_change',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('previous', sa.Text(), nullable=True),
    sa.Column('added_tags', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batch.id'], name=op.f('fk_import_change_batch_id_import_batch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_change'))
    )
    with op.batch_alter_table('import_change', schema=None) as batch_op:
        batch_op.create_index('ix_import_change_batch_id', ['batch_id'], unique=False)
        batch_op.create_index('ix_import_change_person_id', ['person_id', 'batch_id'], unique=False)

    op.create_table('person',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('gender', sa.String(length=1), nullable=True),
    sa.Column('ethnicity', sa.String(length=32), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('party', sa.String(length=16), nullable=True),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('district_code', sa.String(length=12), nullable=True),
    sa.Column('street', sa.String(length=64), nullable=True),
    sa.Column('organization', sa.String(length=200), nullable=True),
    sa.Column('position', sa.String(length=200), nullable=True),
    sa.Column('education', sa.String(length=32), nullable=True),
    sa.Column('title', sa.String(length=64), nullable=True),
    sa.Column('stage', sa.String(length=16), server_default='discover', nullable=False),
    sa.Column('source', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_via', sa.String(length=16), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_person_category_code_category')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('id_number', name=op.f('uq_person_id_number'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index('ix_person_category_code', ['category_code'], unique=False)
        batch_op.create_index('ix_person_district_code', ['district_code', 'street'], unique=False)
        batch_op.create_index('ix_person_name_birth_date', ['name', 'birth_date'], unique=False)
        batch_op.create_index('ix_person_phone', ['phone'], unique=False)
        batch_op.create_index('ix_person_stage', ['stage'], unique=False)
        batch_op.create_index('ix_person_updated_at', ['updated_at'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('level', sa.String(length=32), nullable=True),
    sa.Column('term_start', sa.Date(), nullable=True),
    sa.Column('term_end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_appointment_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_person_id', ['person_id'], unique=False)
        batch_op.create_index('ix_appointment_term_end', ['term_end'], unique=False)

    op.create_table('participation',
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('registered_at', sa.DateTime(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['activity_id'], ['activity.id'], name=op.f('fk_participation_activity_id_activity'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_participation_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('activity_id', 'person_id', name=op.f('pk_participation'))
    )
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.create_index('ix_participation_checked_in_at', ['checked_in_at', 'person_id'], unique=False)
        batch_op.create_index('ix_participation_person_id', ['person_id', 'status'], unique=False)
        batch_op.create_index('ix_participation_registered_at', ['registered_at', 'person_id'], unique=False)
        batch_op.create_index('ix_participation_status_registered_at', ['status', 'registered_at'], unique=False)

    op.create_table('person_tag',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_tag_person_id_person'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tag.id'], name=op.f('fk_person_tag_tag_id_tag'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'tag_id', name=op.f('pk_person_tag'))
    )
    with op.batch_alter_table('person_tag', schema=None) as batch_op:
        batch_op.create_index('ix_person_tag_tag_id', ['tag_id', 'person_id'], unique=False)

    op.create_table('stage_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_stage_event_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_event'))
    )
    with op.batch_alter_table('stage_event', schema=None) as batch_op:
        batch_op.create_index('ix_stage_event_person_id', ['person_id', 'entered_at'], unique=False)
        batch_op.create_index('ix_stage_event_stage', ['stage', 'entered_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stage_event', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_event_stage')
        batch_op.drop_index('ix_stage_event_person_id')

    op.drop_table('stage_event')
    with op.batch_alter_table('person_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_person_tag_tag_id')

    op.drop_table('person_tag')
    with op.batch_alter_table('participation', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_status_registered_at')
        batch_op.drop_index('ix_participation_registered_at')
        batch_op.drop_index('ix_participation_person_id')
        batch_op.drop_index('ix_participation_checked_in_at')

    op.drop_table('participation')
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index('ix_appointment_term_end')
        batch_op.drop_index('ix_appointment_person_id')

    op.drop_table('appointment')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_updated_at')
        batch_op.drop_index('ix_person_stage')
        batch_op.drop_index('ix_person_phone')
        batch_op.drop_index('ix_person_name_birth_date')
        batch_op.drop_index('ix_person_district_code')
        batch_op.drop_index('ix_person_category_code')

    op.drop_table('person')
    with op.batch_alter_table('import_change', schema=None) as batch_op:
        batch_op.drop_index('ix_import_change_person_id')
        batch_op.drop_index('ix_import_change_batch_id')

    op.drop_table('import_change')
    op.drop_table('tag')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index('ix_region_parent_code')

    op.drop_table('region')
    op.drop_table('meta')
    with op.batch_alter_table('import_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_import_batch_sha256')

    op.drop_table('import_batch')
    op.drop_table('category')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')
        batch_op.drop_index('ix_audit_log_action')

    op.drop_table('audit_log')
    with op.batch_alter_table('activity', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_title_starts_at')
        batch_op.drop_index('ix_activity_starts_at')

    op.drop_table('activity')
