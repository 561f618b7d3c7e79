"""The database: connection and sessions (db), the tables (schema), the Alembic revisions (alembic/),
backup and restore (backup).

Queries that mean something to the programme live with their feature (engine.cases, engine.programme).
"""
