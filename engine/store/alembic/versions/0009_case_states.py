"""case states: the serialized workflow of each case moves out of `cases` into `case_states`

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # `cases.workflow` (~10 kB of JSON a case) made every scan of `cases` (lists, indicators,
    # dashboard) read it; now only the engine reads it, to act on one case (engine/cases/engine.py).
    op.create_table('case_states',
    sa.Column('case_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('workflow', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    op.execute('INSERT INTO case_states (case_id, workflow) SELECT id, workflow FROM cases')
    # SQLite (>= 3.35) drops the column in place: a batch "move and copy" of `cases` cannot run
    # here, since dropping the old table fails the foreign keys of its children (tasks, events…)
    # with PRAGMA foreign_keys on, and that pragma cannot change inside the upgrade's transaction.
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('workflow')


def downgrade():
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('workflow', sa.JSON(), nullable=True))
    op.execute('UPDATE cases SET workflow = (SELECT s.workflow FROM case_states s WHERE s.case_id = cases.id)')
    if op.get_bind().dialect.name != 'sqlite':  # SQLite cannot add NOT NULL in place (see above)
        op.alter_column('cases', 'workflow', existing_type=sa.JSON(), nullable=False)
    op.drop_table('case_states')
