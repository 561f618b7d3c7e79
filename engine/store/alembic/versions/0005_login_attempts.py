"""login attempts: the lockout per username and per client address

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index('ix_login_attempts_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_login_attempts_username_at', ['username', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempts_username_at')
        batch_op.drop_index('ix_login_attempts_ip_at')
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))
    op.drop_table('login_attempts')
