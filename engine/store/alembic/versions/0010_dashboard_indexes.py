"""dashboard: covering indexes for the regional and per-company reads and the executives' load

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

DASHBOARD = ['created_at', 'ejecutivo', 'rubro', 'segmento', 'resultado']


def upgrade():
    # The dashboard (engine/programme/indicators.py, dashboard.py) selects the entries by
    # `company_id IS NOT NULL` and often `region = …`; the planners (SQLite's above all) pick the
    # indexes on those columns, and each row was then a read of the wide cases table. With the
    # columns the dashboard reads after the same leading columns, those reads are index-only.
    op.drop_index('ix_cases_region_status', table_name='cases')
    op.create_index('ix_cases_region_status', 'cases', ['region', 'status', *DASHBOARD, 'company_id', 'ended_at'])
    op.drop_index('ix_cases_company_region', table_name='cases')
    op.create_index('ix_cases_company_region', 'cases', ['company_id', 'region', *DASHBOARD, 'status'])
    # The load chart and the assignment of an executive (engine/programme/operators.py) count the
    # active cases per executive: with (status, ejecutivo) first they come already grouped.
    op.create_index('ix_cases_executive_load', 'cases', ['status', 'ejecutivo', 'region', 'rubro'])


def downgrade():
    op.drop_index('ix_cases_executive_load', table_name='cases')
    op.drop_index('ix_cases_company_region', table_name='cases')
    op.create_index('ix_cases_company_region', 'cases', ['company_id', 'region'])
    op.drop_index('ix_cases_region_status', table_name='cases')
    op.create_index('ix_cases_region_status', 'cases', ['region', 'status'])
