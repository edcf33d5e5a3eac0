"""the representatives' front end: personal links, change requests, suggestions, records, surveys

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 16:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _person_fk(table: str):
    return sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f(f'fk_{table}_person_id_person'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table('rep_link',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('expires', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('failed_tries', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_at', sa.DateTime(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    _person_fk('rep_link'),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_rep_link'))
    )
    op.create_table('rep_request',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    _person_fk('rep_request'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_request'))
    )
    op.create_index('ix_rep_request_person_id', 'rep_request', ['person_id', 'submitted_at'], unique=False)
    op.create_index('ix_rep_request_status', 'rep_request', ['status', 'submitted_at'], unique=False)
    op.create_table('rep_request_field',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('accepted_value', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('change_set_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['rep_request.id'], name=op.f('fk_rep_request_field_request_id_rep_request'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_request_field'))
    )
    op.create_index('ix_rep_request_field_request_id', 'rep_request_field', ['request_id'], unique=False)
    op.create_table('rep_suggestion',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='received', nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    _person_fk('rep_suggestion'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_suggestion'))
    )
    op.create_index('ix_rep_suggestion_person_id', 'rep_suggestion', ['person_id', 'submitted_at'], unique=False)
    op.create_index('ix_rep_suggestion_status', 'rep_suggestion', ['status', 'submitted_at'], unique=False)
    op.create_table('rep_record',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('photo_type', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    _person_fk('rep_record'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rep_record'))
    )
    op.create_index('ix_rep_record_person_id', 'rep_record', ['person_id', 'submitted_at'], unique=False)
    op.create_index('ix_rep_record_status', 'rep_record', ['status', 'submitted_at'], unique=False)
    op.create_table('survey',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('intro', sa.Text(), nullable=True),
    sa.Column('anonymous', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey'))
    )
    op.create_table('survey_question',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('prompt', sa.Text(), nullable=False),
    sa.Column('options', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_question_survey_id_survey'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_question'))
    )
    op.create_index('ix_survey_question_survey_id', 'survey_question', ['survey_id', 'position'], unique=False)
    op.create_table('survey_recipient',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_recipient_survey_id_survey'),
                            ondelete='CASCADE'),
    _person_fk('survey_recipient'),
    sa.PrimaryKeyConstraint('survey_id', 'person_id', name=op.f('pk_survey_recipient'))
    )
    op.create_index('ix_survey_recipient_person_id', 'survey_recipient', ['person_id', 'survey_id'], unique=False)
    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('category_code', sa.String(length=32), nullable=True),
    sa.Column('district_code', sa.String(length=12), nullable=True),
    sa.Column('street', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_survey_response_person_id_person'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response'))
    )
    op.create_index('ix_survey_response_survey_id', 'survey_response', ['survey_id'], unique=False)
    op.create_table('survey_answer',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['survey_response.id'],
                            name=op.f('fk_survey_answer_response_id_survey_response'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'],
                            name=op.f('fk_survey_answer_question_id_survey_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_answer'))
    )
    op.create_index('ix_survey_answer_question_id', 'survey_answer', ['question_id', 'value'], unique=False)
    op.create_index('ix_survey_answer_response_id', 'survey_answer', ['response_id'], unique=False)


def downgrade() -> None:
    op.drop_table('survey_answer')
    op.drop_table('survey_response')
    op.drop_table('survey_recipient')
    op.drop_table('survey_question')
    op.drop_table('survey')
    op.drop_table('rep_record')
    op.drop_table('rep_suggestion')
    op.drop_table('rep_request_field')
    op.drop_table('rep_request')
    op.drop_table('rep_link')
