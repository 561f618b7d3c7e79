"""Fixtures: a fresh engine and database per test.

SQLite by default; with CPE_TEST_DATABASE_URL set to a PostgreSQL URL each test gets
its own schema in that database (created and dropped around the test).
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.assembly import build_engine
from engine.basics.clock import VirtualClock

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("CPE_TEST_DATABASE_URL")


def _pg_psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


@contextmanager
def fresh_database(tmp_path, name: str = "cpe"):
    """The URL of an empty database: an SQLite file, or a PostgreSQL schema dropped afterwards."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        return
    schema = f"{name[:2]}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_psycopg(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{_pg_psycopg(PG_URL)}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path):
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def engine(database_url, clock):
    eng = build_engine(url=database_url, clock=clock)
    eng.upgrade()
    yield eng
    eng.db.dispose()


@pytest.fixture
def deployed(engine):
    """An engine with the shipped processes, decisions and forms deployed."""
    from engine.models.validation import collect_files

    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="inicial")
    return engine
