"""registry: segment changes, company exports, benefit extracts, personal-data access log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('segment_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('desde', sa.String(length=20), nullable=True),
    sa.Column('hacia', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('segment_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_segment_changes_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_segment_changes_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_segment_changes_company_at', ['company_id', 'at'], unique=False)

    op.create_table('company_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('pais', sa.String(length=80), nullable=False),
    sa.Column('fecha', sa.String(length=10), nullable=False),
    sa.Column('monto_usd', sa.Float(), nullable=False),
    sa.Column('producto', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('company_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_exports_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_company_exports_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_company_exports_created_at'), ['created_at'], unique=False)

    op.create_table('benefit_extracts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficio', sa.String(length=40), nullable=False),
    sa.Column('periodo', sa.String(length=7), nullable=False),
    sa.Column('region', sa.String(length=10), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('filas', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('beneficio', 'periodo', 'region', name='uq_benefit_extract')
    )
    with op.batch_alter_table('benefit_extracts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_benefit_extracts_region'), ['region'], unique=False)

    op.create_table('data_access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=80), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('data_access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_access_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_data_access_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_data_access_subject', ['subject', 'subject_id', 'at'], unique=False)


def downgrade():
    op.drop_table('data_access_log')
    op.drop_table('benefit_extracts')
    op.drop_table('company_exports')
    op.drop_table('segment_changes')
