"""tpe_history: who answered or updated each revision of a company's TPE (submitted_by)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tpe_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_by', sa.String(length=120), nullable=True))
    # Earlier revisions: the TPE was scored in the step that followed the completion of its task, so
    # whoever completed the case's last task up to that moment gave the answers (the company in its
    # portal is `pyme`). A revision with no such task in its case's history stays unknown (NULL).
    op.execute(
        "UPDATE tpe_history SET submitted_by = ("
        "SELECT e.actor FROM case_events e WHERE e.case_id = tpe_history.case_id "
        "AND e.kind = 'task_completed' AND e.at <= tpe_history.submitted_at "
        "ORDER BY e.at DESC, e.id DESC LIMIT 1) "
        "WHERE submitted_by IS NULL AND case_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('tpe_history', schema=None) as batch_op:
        batch_op.drop_column('submitted_by')
