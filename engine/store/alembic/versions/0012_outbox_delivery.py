"""outbox: delivery state (status, attempts, next attempt, claim, last error) for `cpe worker`

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# Before this revision nothing was ever mailed: an old message is history, not something to send now.
OLD = timedelta(days=7)
OLD_REASON = "anterior al envío por correo: no se envió"


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='pending'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error', sa.String(length=300), nullable=True))
    # Existing rows keep their meaning: what was sent is `sent`, what has no address is
    # `sin_direccion`; a message written more than OLD before this upgrade is `failed` (never sent,
    # an analyst can still retry it from /correo/), a recent one is due now.
    op.execute("UPDATE outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.execute("UPDATE outbox SET status = 'sin_direccion' WHERE sent_at IS NULL "
               "AND (to_address IS NULL OR TRIM(to_address) = '')")
    op.execute(sa.text("UPDATE outbox SET status = 'failed', last_error = :reason "
                       "WHERE status = 'pending' AND created_at < :cutoff")
               .bindparams(sa.bindparam("cutoff", datetime.now(UTC) - OLD, type_=sa.DateTime(timezone=True)),
                           reason=OLD_REASON))
    op.execute("UPDATE outbox SET next_attempt_at = created_at WHERE status = 'pending'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.alter_column('attempts', server_default=None)
        batch_op.create_index('ix_outbox_status_due', ['status', 'next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_status_due')
        batch_op.drop_column('last_error')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('status')
