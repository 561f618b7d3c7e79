"""timer starts: processes started by a timer start event, and each occurrence's case

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('timer_starts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_key', sa.String(length=120), nullable=False),
    sa.Column('bpmn_id', sa.String(length=120), nullable=False),
    sa.Column('model_version_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('expression', sa.String(length=300), nullable=False),
    sa.Column('next_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('remaining', sa.Integer(), nullable=True),
    sa.Column('fired', sa.Integer(), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_case_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('process_key', 'bpmn_id', name='uq_timer_start')
    )
    with op.batch_alter_table('timer_starts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_starts_next_at'), ['next_at'], unique=False)

    op.create_table('timer_start_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timer_start_id', sa.Integer(), nullable=False),
    sa.Column('occurrence', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['timer_start_id'], ['timer_starts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('timer_start_id', 'occurrence', name='uq_timer_start_run')
    )
    with op.batch_alter_table('timer_start_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_start_runs_case_id'), ['case_id'], unique=False)


def downgrade():
    with op.batch_alter_table('timer_start_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_start_runs_case_id'))
    op.drop_table('timer_start_runs')
    with op.batch_alter_table('timer_starts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_starts_next_at'))
    op.drop_table('timer_starts')
