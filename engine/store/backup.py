"""Backup and restore of the whole database (issue 8: nothing lost), for SQLite and PostgreSQL.

A backup is a gzip file of JSON lines, portable between the two databases:

1. a header: ``{"format": "cpe-backup", "format_version": 1, "revision": <Alembic revision>,
   "created_at", "source": <dialect>, "tables": {name: row count}}``;
2. for each table of `Base.metadata`, in dependency order (parents first): a line
   ``{"table": name, "columns": [...], "rows": n}`` followed by `n` lines, each a JSON array of
   the row's values in that column order, rows sorted by primary key;
3. a last line ``{"end": true, "rows": total}``, so a truncated file is refused.

Values: date-times as ISO 8601 in UTC (microseconds kept); JSON columns as ``[value]`` so
that SQL NULL (``null``) and a JSON ``null`` (``[null]``) stay different; the rest as JSON.

A restore loads a backup into an empty database at the same schema revision, in one
transaction (refused, changing nothing, otherwise), then moves PostgreSQL's sequences past
the restored ids.
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, DateTime, func, insert, null, select, text

from engine.basics.clock import as_utc
from engine.basics.errors import EngineError
from engine.store.schema import Base

FORMAT = "cpe-backup"
FORMAT_VERSION = 1
BATCH = 1000
# Tables that `cpe db upgrade` fills with reference data (the workshop catalogue): a target that
# has only these rows still counts as empty, and their rows are replaced by the backup's.
SEEDED_TABLES = ("workshops",)


class BackupError(EngineError):
    pass


def current_revision(connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _tables():
    return list(Base.metadata.sorted_tables)


def _encode(column, value):
    if isinstance(column.type, JSON):
        return None if value is _SQL_NULL else [value]
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        return (as_utc(value) if column.type.timezone else value).isoformat()
    return value


def _decode(column, value):
    if isinstance(column.type, JSON):
        if value is None:
            return null()
        if not isinstance(value, list) or len(value) != 1:
            raise BackupError(f"copia dañada: valor JSON inválido en {column.table.name}.{column.name}")
        return JSON.NULL if value[0] is None else value[0]
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return value


_SQL_NULL = object()


def backup(engine, path: str | os.PathLike) -> dict:
    """Write every table to `path` (gzip JSON lines) from one consistent snapshot.

    The file is written beside `path` and renamed into place only when complete."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    counts: dict[str, int] = {}
    connection = engine.db.connect()
    if engine.db.dialect.name == "postgresql":
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
    try:
        with connection.begin():
            revision = current_revision(connection)
            if revision is None:
                raise BackupError("la base de datos no tiene esquema (ejecute `cpe db upgrade`)")
            tables = _tables()
            for table in tables:
                counts[table.name] = connection.scalar(select(func.count()).select_from(table))
            header = {"format": FORMAT, "format_version": FORMAT_VERSION, "revision": revision,
                      "created_at": engine.now().astimezone(UTC).isoformat(), "source": engine.db.dialect.name,
                      "tables": counts}
            with gzip.open(partial, "wt", encoding="utf-8") as out:
                out.write(_line(header))
                for table in tables:
                    _dump_table(connection, table, counts[table.name], out)
                out.write(_line({"end": True, "rows": sum(counts.values())}))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        connection.close()
    os.replace(partial, path)
    return {"file": str(path), "revision": revision, "tables": counts, "rows": sum(counts.values())}


def _line(document) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def _dump_table(connection, table, count, out) -> None:
    columns = list(table.columns)
    json_columns = [c for c in columns if isinstance(c.type, JSON)]
    query = (select(*columns, *[c.is_(None).label(f"_null_{c.name}") for c in json_columns])
             .order_by(*table.primary_key.columns))
    out.write(_line({"table": table.name, "columns": [c.name for c in columns], "rows": count}))
    written = 0
    for row in connection.execution_options(yield_per=BATCH).execute(query):
        mapping = row._mapping
        values = []
        for column in columns:
            value = mapping[column]
            if isinstance(column.type, JSON) and mapping[f"_null_{column.name}"]:
                value = _SQL_NULL
            values.append(_encode(column, value))
        out.write(_line(values))
        written += 1
    if written != count:
        raise BackupError(f"la tabla {table.name} cambió durante la copia; repita `cpe backup`")


def read_header(path: str | os.PathLike) -> dict:
    """The header of a backup file (checks that it is one)."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            header = json.loads(handle.readline() or "null")
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(f"{path} no es una copia de `cpe backup` (se espera un archivo gzip de líneas JSON)") \
            from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path} no es una copia de `cpe backup`")
    if header.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} tiene el formato {header.get('format_version')}; "
                          f"esta versión lee el formato {FORMAT_VERSION}")
    return header


def check_target(connection, header: dict) -> list[str]:
    """Seeded tables to clear before loading; raises if the target is not an empty database at
    the backup's revision."""
    revision = current_revision(connection)
    if revision is None:
        raise BackupError(f"la base de destino no tiene esquema: ejecute `cpe db upgrade` (la copia es de la "
                          f"revisión {header['revision']}) y vuelva a intentar")
    if revision != header["revision"]:
        raise BackupError(f"la copia es de la revisión {header['revision']} del esquema y la base de destino "
                          f"está en la {revision}; use una base en la misma revisión")
    known = {t.name for t in _tables()}
    unknown = sorted(set(header.get("tables", {})) - known)
    if unknown:
        raise BackupError(f"la copia tiene tablas que este esquema no conoce: {', '.join(unknown)}")
    filled = {t.name: n for t in _tables() if (n := connection.scalar(select(func.count()).select_from(t)))}
    if set(filled) - set(SEEDED_TABLES):
        listing = ", ".join(f"{name} ({n})" for name, n in filled.items())
        raise BackupError(f"la base de destino no está vacía ({listing}); restaure solo en una base nueva "
                          f"(no se cambió nada)")
    return sorted(filled)


def inspect(engine, path: str | os.PathLike) -> dict:
    """The backup's header, after checking (read-only) that it can be restored into `engine`."""
    header = read_header(path)
    with engine.db.connect() as connection:
        check_target(connection, header)
    return header


def restore(engine, path: str | os.PathLike) -> dict:
    """Load the backup at `path` into `engine`'s empty database, in one transaction."""
    header = read_header(path)
    tables = {t.name: t for t in _tables()}
    connection = engine.db.connect()
    if engine.db.dialect.name == "sqlite":
        connection = connection.execution_options(sqlite_immediate=True)
    counts: dict[str, int] = {}
    try:
        with connection.begin():
            seeded = check_target(connection, header)
            for name in reversed([t.name for t in _tables() if t.name in seeded]):
                connection.execute(tables[name].delete())
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                handle.readline()
                _load(connection, handle, tables, header, counts)
            if engine.db.dialect.name == "postgresql":
                reset_sequences(connection)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"copia dañada o incompleta ({exc}); no se cambió nada") from None
    finally:
        connection.close()
    return {"file": str(path), "revision": header["revision"], "tables": counts, "rows": sum(counts.values())}


def _load(connection, handle, tables, header, counts) -> None:
    expected = header.get("tables", {})
    while True:
        line = handle.readline()
        if not line:
            raise BackupError("copia incompleta: falta la línea final; no se cambió nada")
        section = json.loads(line)
        if not isinstance(section, dict):
            raise BackupError("copia dañada: se esperaba el comienzo de una tabla; no se cambió nada")
        if section.get("end"):
            break
        table = tables.get(section.get("table"))
        if table is None:
            raise BackupError(f"la copia tiene una tabla que este esquema no conoce: {section.get('table')}")
        columns = [table.columns[name] if name in table.columns else None for name in section["columns"]]
        if any(c is None for c in columns) or len(columns) != len(table.columns):
            raise BackupError(f"las columnas de {table.name} en la copia no son las del esquema; no se cambió nada")
        batch, loaded = [], 0
        for _ in range(section["rows"]):
            values = json.loads(handle.readline() or "null")
            if not isinstance(values, list) or len(values) != len(columns):
                raise BackupError(f"copia dañada o incompleta en la tabla {table.name}; no se cambió nada")
            batch.append({c.name: _decode(c, v) for c, v in zip(columns, values, strict=True)})
            if len(batch) >= BATCH:
                connection.execute(insert(table), batch)
                loaded += len(batch)
                batch = []
        if batch:
            connection.execute(insert(table), batch)
            loaded += len(batch)
        if loaded != expected.get(table.name, loaded):
            raise BackupError(f"copia dañada: la tabla {table.name} no tiene las filas que anuncia")
        counts[table.name] = loaded
    if set(counts) != set(expected) or sum(counts.values()) != section.get("rows"):
        raise BackupError("copia incompleta: faltan tablas o filas; no se cambió nada")


def reset_sequences(connection) -> None:
    """Move each serial primary key's sequence past the restored ids (next insert: max(id) + 1)."""
    for table in _tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
            continue
        sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                     {"table": table.name, "column": pk[0].name})
        if sequence is None:
            continue
        highest = connection.scalar(select(func.max(pk[0])))
        connection.execute(text("SELECT setval(CAST(:sequence AS regclass), :value, :called)"),
                           {"sequence": sequence, "value": highest or 1, "called": highest is not None})
