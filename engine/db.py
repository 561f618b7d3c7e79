"""Database connection and schema migrations (Alembic)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def default_url(instance_dir: str | os.PathLike | None = None) -> str:
    url = os.environ.get("CPE_DATABASE_URL")
    if url:
        return url
    folder = Path(instance_dir or Path.cwd() / "instance")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'cpe.sqlite3'}"


def make_engine(url: str):
    kwargs = {"future": True}
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
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


def session_factory(engine):
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db_engine) -> None:
    """Create or migrate the schema to the latest revision."""
    from alembic import command

    config = alembic_config(str(db_engine.url.render_as_string(hide_password=False)))
    with db_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
