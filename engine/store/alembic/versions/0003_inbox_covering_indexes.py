"""covering indexes for the inbox (tasks assigned to someone, the pool of a role in a region, due
dates) and for the case search (company name and RUT; a company's cases within a region)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_inbox')
        batch_op.drop_index('ix_tasks_assignee')
        batch_op.drop_index('ix_tasks_due')
        batch_op.create_index('ix_tasks_mine',
                              ['assignee', 'state', 'created_at', 'id', 'due_at', 'name', 'case_id'], unique=False)
        batch_op.create_index('ix_tasks_pool',
                              ['state', 'assignee', 'lane', 'region', 'created_at', 'id', 'due_at', 'name',
                               'case_id'], unique=False)
        batch_op.create_index('ix_tasks_due',
                              ['state', 'due_at', 'assignee', 'lane', 'region', 'created_at', 'id', 'name',
                               'case_id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_company_id')
        batch_op.create_index('ix_cases_company_region', ['company_id', 'region'], unique=False)
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.create_index('ix_companies_search', ['razon_social', 'rut'], unique=False)


def downgrade():
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_index('ix_companies_search')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_company_region')
        batch_op.create_index('ix_cases_company_id', ['company_id'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_due')
        batch_op.drop_index('ix_tasks_pool')
        batch_op.drop_index('ix_tasks_mine')
        batch_op.create_index('ix_tasks_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_tasks_assignee', ['assignee', 'state'], unique=False)
        batch_op.create_index('ix_tasks_inbox', ['state', 'lane', 'region', 'created_at'], unique=False)
