"""messages between cases: case_messages (thrown, pending or delivered), waiting_messages (what
open cases wait for) and cases.message_waits

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:  # in place (see 0009)
        batch_op.add_column(sa.Column('message_waits', sa.JSON(), nullable=True))
    op.create_table(
        'case_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=True),
        sa.Column('correlations', sa.JSON(), nullable=False),
        sa.Column('sender_case_id', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('receiver_case_id', sa.Integer(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['sender_case_id'], ['cases.id']),
        sa.ForeignKeyConstraint(['receiver_case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_case_messages_pending', 'case_messages', ['status', 'name', 'id'])
    op.create_index(op.f('ix_case_messages_sender_case_id'), 'case_messages', ['sender_case_id'])
    op.create_index(op.f('ix_case_messages_receiver_case_id'), 'case_messages', ['receiver_case_id'])
    op.create_table(
        'waiting_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('message_name', sa.String(length=300), nullable=False),
        sa.Column('correlations', sa.JSON(), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_waiting_messages_name', 'waiting_messages', ['message_name', 'case_id'])
    op.create_index(op.f('ix_waiting_messages_case_id'), 'waiting_messages', ['case_id'])


def downgrade():
    op.drop_index(op.f('ix_waiting_messages_case_id'), table_name='waiting_messages')
    op.drop_index('ix_waiting_messages_name', table_name='waiting_messages')
    op.drop_table('waiting_messages')
    op.drop_index(op.f('ix_case_messages_receiver_case_id'), table_name='case_messages')
    op.drop_index(op.f('ix_case_messages_sender_case_id'), table_name='case_messages')
    op.drop_index('ix_case_messages_pending', table_name='case_messages')
    op.drop_table('case_messages')
    with op.batch_alter_table('cases', schema=None, recreate='never') as batch_op:  # in place (see 0009)
        batch_op.drop_column('message_waits')
