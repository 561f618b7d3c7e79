"""tasks: the newest completed tasks of an element, for the simulation's task durations

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # engine/simulate/history.py reads, per task element, its most recently completed tasks
    # (WHERE bpmn_id = … AND state = 'completed' ORDER BY completed_at DESC LIMIT …): in this
    # index they are contiguous and in order, with the times and the case to join, so a history of
    # a million tasks costs a few thousand index entries per element instead of a scan and a sort.
    op.create_index('ix_tasks_history', 'tasks', ['bpmn_id', 'state', 'completed_at', 'created_at', 'case_id'])


def downgrade():
    op.drop_index('ix_tasks_history', table_name='tasks')
