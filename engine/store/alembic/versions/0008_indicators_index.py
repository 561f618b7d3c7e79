"""indicators: a covering index over the case summary columns the dashboard aggregates

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # The dashboard (engine/programme/indicators.py, dashboard.py) reads only these columns; with them
    # in one index the aggregates are index-only scans instead of scans of the wide cases table
    # (its JSON columns: on SQLite `created_at` sits after them, on overflow pages).
    op.create_index('ix_cases_indicators', 'cases',
                    ['created_at', 'region', 'ejecutivo', 'rubro', 'segmento', 'resultado', 'status',
                     'company_id', 'id'])


def downgrade():
    op.drop_index('ix_cases_indicators', table_name='cases')
