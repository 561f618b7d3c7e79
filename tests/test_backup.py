"""`cpe backup` / `cpe restore` (engine/store/backup.py): a backup restored into a fresh database holds
every row of every table, exactly; the target must be empty and at the same revision."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import JSON, func, select

from cli.context import CliContext
from cli.main import cpe
from engine.accounts import apitokens, logins
from engine.assembly import build_engine
from engine.basics.clock import as_utc
from engine.cases.comments import add_comment
from engine.models.validation import collect_files
from engine.programme.workshops import seed_catalogue
from engine.store import backup
from engine.store.db import alembic_config
from engine.store.schema import Base, Case, User
from webapp import create_app

from .conftest import fresh_database

MODEL = Path(__file__).parent / "models" / "diagnostico"
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()  # the newest migration
REGISTRO = {"rut": "76.086.428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}


@pytest.fixture
def target_url(tmp_path):
    """A second fresh database: another SQLite file, or another PostgreSQL schema."""
    with fresh_database(tmp_path, "destino") as url:
        yield url


@pytest.fixture
def target(target_url, clock):
    eng = build_engine(url=target_url, clock=clock)
    eng.upgrade()
    yield eng
    eng.db.dispose()


@pytest.fixture
def filled(engine, clock):
    """A database with data in most tables, built through the engine's verbs."""
    engine.deploy(collect_files([MODEL]), author="ana", message="inicial")
    seed_catalogue(engine)
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", rubros=["alimentos"],
                       full_name="Eje Ñandú", email="eje@example.cl")
    engine.create_user("analista", "secreto-123", "analista")
    apitokens.create_token(engine, "eje.rm", name="sra", days=30)
    logins.record(engine, "eje.rm", "10.0.0.1", False)
    cases = []
    for i, (web, idiomas) in enumerate([("si", "ingles"), ("no", "ninguno"), (None, None)]):
        clock.advance(minutes=7, microseconds=123457)
        case_id = engine.start("diagnostico_rapido", {**REGISTRO, "razon_social": f"Empresa {i} «ñ»"})
        cases.append(case_id)
        [task] = engine.ready_tasks(case_id=case_id)
        if web is not None:
            engine.complete(task["id"], {"respuestas": {"web": web, "idiomas": idiomas}})
    add_comment(engine, cases[0], "eje.rm", "Llamar el lunes — \"urgente\" <b>sí</b>")
    return engine


def snapshot(eng) -> dict:
    """Every row of every table, with JSON columns' SQL NULL told apart from JSON null."""
    result = {}
    with eng.db.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = list(table.columns)
            flags = [c.is_(None) for c in columns if isinstance(c.type, JSON)]
            rows = connection.execute(select(*columns, *flags).order_by(*table.primary_key.columns)).all()
            result[table.name] = [tuple(as_utc(v) if hasattr(v, "tzinfo") and hasattr(v, "hour") else v
                                        for v in row) for row in rows]
    return result


def test_restore_gives_back_every_row_exactly(filled, target, tmp_path):
    source = snapshot(filled)
    assert all(source[name] for name in ("users", "model_versions", "companies", "cases", "tasks",
                                         "case_events", "api_tokens", "comments", "login_attempts", "workshops"))
    summary = backup.backup(filled, tmp_path / "copia.cpe.gz")
    assert summary["rows"] == sum(len(rows) for rows in source.values())
    seed_catalogue(target)  # what `cpe db upgrade` leaves: the catalogue only, replaced by the backup's
    restored = backup.restore(target, tmp_path / "copia.cpe.gz")
    assert restored["tables"] == summary["tables"]
    assert snapshot(target) == source
    # every case, with its tasks and history, reads the same through the engine
    with target.Session() as s:
        case_ids = s.scalars(select(Case.id).order_by(Case.id)).all()
        max_user = s.scalar(select(func.max(User.id)))
    for case_id in case_ids:
        assert target.case(case_id) == filled.case(case_id)
    # new rows get fresh ids (on PostgreSQL: the sequences were moved past the restored ids)
    new_case = target.start("diagnostico_rapido", {**REGISTRO, "razon_social": "Después"})
    assert new_case == max(case_ids) + 1
    target.create_user("nuevo", "secreto-123", "analista")
    assert target.get_user("nuevo").id == max_user + 1
    [task] = target.ready_tasks(case_id=case_ids[-1])
    before = len(target.case(case_ids[-1])["history"])
    target.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}})
    after = target.case(case_ids[-1])
    assert after["status"] in ("active", "completed") and len(after["history"]) > before


def test_the_file_is_versioned_gzip_json_lines(filled, tmp_path):
    backup.backup(filled, tmp_path / "copia.gz")
    with gzip.open(tmp_path / "copia.gz", "rt", encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    header = lines[0]
    assert header["format"] == "cpe-backup" and header["format_version"] == 1 and header["revision"] == HEAD
    sections = [line["table"] for line in lines if isinstance(line, dict) and "table" in line]
    assert sections == [t.name for t in Base.metadata.sorted_tables]
    assert sections.index("companies") < sections.index("cases") < sections.index("tasks")
    assert lines[-1] == {"end": True, "rows": sum(header["tables"].values())}
    assert not (tmp_path / "copia.gz.partial").exists()


def test_refuses_a_target_with_data_and_changes_nothing(filled, target, tmp_path):
    backup.backup(filled, tmp_path / "copia.gz")
    target.create_user("alguien", "secreto-123", "analista")
    before = snapshot(target)
    with pytest.raises(backup.BackupError, match=r"no está vacía \(users \(1\)\)"):
        backup.restore(target, tmp_path / "copia.gz")
    assert snapshot(target) == before


def test_refuses_another_revision(filled, target, tmp_path):
    backup.backup(filled, tmp_path / "copia.gz")
    with gzip.open(tmp_path / "copia.gz", "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    header = json.loads(lines[0])
    header["revision"] = "0003"
    with gzip.open(tmp_path / "vieja.gz", "wt", encoding="utf-8") as out:
        out.writelines([json.dumps(header) + "\n", *lines[1:]])
    with pytest.raises(backup.BackupError, match=f"revisión 0003 del esquema y la base de destino está en la {HEAD}"):
        backup.restore(target, tmp_path / "vieja.gz")
    assert not any(snapshot(target).values())


def test_a_truncated_backup_changes_nothing(filled, target, tmp_path):
    backup.backup(filled, tmp_path / "copia.gz")
    with gzip.open(tmp_path / "copia.gz", "rt", encoding="utf-8") as handle:
        lines = handle.readlines()
    with gzip.open(tmp_path / "cortada.gz", "wt", encoding="utf-8") as out:
        out.writelines(lines[:-5])
    with pytest.raises(backup.BackupError, match="no se cambió nada"):
        backup.restore(target, tmp_path / "cortada.gz")
    assert not any(snapshot(target).values())
    (tmp_path / "basura.gz").write_bytes(b"no es gzip")
    with pytest.raises(backup.BackupError, match="no es una copia de `cpe backup`"):
        backup.restore(target, tmp_path / "basura.gz")


def _runner(eng):
    app = create_app({"ENGINE": eng, "SECRET_KEY": "test"})

    def invoke(*args, input=None):
        return CliRunner().invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app), input=input)
    return invoke


def test_cli_backup_and_restore(filled, target, tmp_path):
    path = tmp_path / "copia.gz"
    made = _runner(filled)("backup", path, "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["revision"] == HEAD
    declined = _runner(target)("restore", path, input="n\n")
    assert declined.exit_code != 0 and not any(snapshot(target).values())
    done = _runner(target)("restore", path, "--yes")
    assert done.exit_code == 0, done.output
    assert snapshot(target) == snapshot(filled)
    again = _runner(target)("restore", path, "--yes")
    assert again.exit_code != 0
    assert "la base de destino no está vacía" in again.stderr
