"""Database connection and schema migrations (Alembic)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import sessionmaker

from engine.basics.installation import instance_dir as configured_instance_dir

MIGRATIONS = Path(__file__).parent / "alembic"


def default_url(instance_dir: str | os.PathLike | None = None) -> str:
    url = os.environ.get("CPE_DATABASE_URL")
    if url:
        return url
    folder = Path(instance_dir or configured_instance_dir())
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'cpe.sqlite3'}"


def open_database(url: str):
    kwargs = {"future": True}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        # A server restart leaves dead connections in the pool: test each one on checkout
        # (~0.2 ms) so the first request after a restart does not fail.
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _sqlite_transactions(engine, memory=":memory:" in url)
    return engine


def _sqlite_transactions(engine, memory: bool) -> None:
    """Let SQLAlchemy, not the sqlite3 module, start transactions.

    Reads run in a deferred transaction (one consistent snapshot); a transaction that
    will write asks for `sqlite_immediate` and starts with BEGIN IMMEDIATE, so two
    read-modify-write transactions on one case can never interleave.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def locking(query, dialect: str, skip_locked: bool = False):
    """`query` taking row locks until the transaction ends, on PostgreSQL (`dialect`: the database's
    dialect name). On SQLite every write transaction already starts with BEGIN IMMEDIATE, which
    serializes writers: the query is left as it is."""
    return query.with_for_update(skip_locked=skip_locked) if dialect == "postgresql" else query


def session_factory(engine):
    factory = sessionmaker(engine, expire_on_commit=False)

    @event.listens_for(factory, "after_soft_rollback")
    def _forget(session, _previous):
        """Work to do after a commit (`session.info["after_commit"]`, see Engine.transaction)
        and history rows not yet written (`"events"`, see engine/cases/engine.py) are dropped by any
        rollback: what they would record never happened."""
        session.info.pop("after_commit", None)
        session.info.pop("events", None)

    return factory


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


MIGRATION_LOCK = 0x4350455F4D4947  # "CPE_MIG": the advisory lock that serializes upgrades


def upgrade(db_engine) -> None:
    """Create or migrate the schema to the latest revision. On PostgreSQL an advisory lock held
    until the commit makes concurrent upgrades (several machines running `cpe db upgrade` as
    they start) wait for each other: the later ones find the schema up to date."""
    from alembic import command

    config = alembic_config(str(db_engine.url.render_as_string(hide_password=False)))
    with db_engine.begin() as connection:
        serialize_setup(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if db_engine.dialect.name == "sqlite":
        analyze(db_engine)


def analyze(db_engine) -> None:
    """Refresh the planner's statistics (ANALYZE). SQLite keeps none by itself: without them it
    reads the dashboard's aggregates through narrow indexes plus the table instead of the covering
    index (engine/store/schema.py `ix_cases_indicators`). Run by every upgrade (`cpe db upgrade`) and after
    bulk loads (the benchmark's fill); PostgreSQL's autovacuum also analyzes on its own."""
    with db_engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def serialize_setup(connection) -> None:
    """Wait for any other schema upgrade or catalogue load to finish (PostgreSQL advisory lock,
    released at the end of the caller's transaction; `connection` may be a Session)."""
    dialect = connection.get_bind().dialect if hasattr(connection, "get_bind") else connection.dialect
    if dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
