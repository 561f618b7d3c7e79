"""workshops (talleres): the catalogue, sessions by region or national, registrations and attendance

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('workshops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('workshop_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workshop_id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.String(length=300), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workshop_id'], ['workshops.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workshop_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_workshop_sessions_starts_region', ['starts_at', 'region'], unique=False)
        batch_op.create_index(batch_op.f('ix_workshop_sessions_workshop_id'), ['workshop_id'], unique=False)
    op.create_table('workshop_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=80), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('marked_by', sa.String(length=80), nullable=True),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['workshop_sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id', 'company_id', name='uq_workshop_registration')
    )
    with op.batch_alter_table('workshop_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workshop_registrations_company_id'), ['company_id'], unique=False)


def downgrade():
    with op.batch_alter_table('workshop_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_registrations_company_id'))
    op.drop_table('workshop_registrations')
    with op.batch_alter_table('workshop_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workshop_sessions_workshop_id'))
        batch_op.drop_index('ix_workshop_sessions_starts_region')
    op.drop_table('workshop_sessions')
    op.drop_table('workshops')