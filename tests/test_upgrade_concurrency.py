"""`cpe db upgrade` run by several machines at once as they start (a common deploy step) on
one PostgreSQL database: they wait for each other, every one succeeds, the schema and the
workshop catalogue are loaded once."""

from __future__ import annotations

import os
import subprocess

import pytest
from sqlalchemy import create_engine, func, select, text

from engine.programme.workshops import load_catalogue
from engine.store.schema import Workshop

from .multiproc import BIN, ROOT

pytestmark = pytest.mark.skipif(
    not os.environ.get("CPE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="varias actualizaciones simultáneas del esquema: solo PostgreSQL (SQLite es de una sola máquina)")


def test_concurrent_upgrades_wait_for_each_other(database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPE_")}
    env["CPE_DATABASE_URL"] = database_url
    procs = [subprocess.Popen([str(BIN / "cpe"), "db", "upgrade"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], outputs
    db = create_engine(database_url)
    try:
        with db.connect() as conn:
            assert len(conn.execute(text("SELECT version_num FROM alembic_version")).all()) == 1
            assert conn.scalar(select(func.count()).select_from(Workshop)) == len(load_catalogue())
    finally:
        db.dispose()
