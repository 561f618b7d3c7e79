"""Audit of access to personal data: who viewed or exported what, and when.

The CPE registry holds companies' confidential data (manual: executives keep it
confidential). Every page or file that shows personal data of companies records one row
here, in the same transaction as the read when there is one.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.basics.clock import as_utc
from engine.store.schema import DataAccess

ACTIONS = ("view", "export", "download")


def record(session, *, actor: str, action: str, subject: str, subject_id=None, detail=None, now) -> None:
    """Add one audit row to `session` (the caller commits)."""
    if action not in ACTIONS:
        raise ValueError(f"acción de auditoría desconocida: {action}")
    session.add(DataAccess(at=now, actor=actor or "anónimo", action=action, subject=subject,
                           subject_id=None if subject_id is None else str(subject_id), detail=detail or {}))


def entries(session, *, subject=None, subject_id=None, actor=None, since=None, before=None,
            limit=200, offset=0) -> list[dict]:
    """The latest audit rows, newest first, optionally for one subject or actor and from `since`
    (inclusive) to `before` (exclusive)."""
    query = (select(DataAccess).order_by(DataAccess.at.desc(), DataAccess.id.desc())
             .limit(limit).offset(offset))
    if since is not None:
        query = query.where(DataAccess.at >= since)
    if before is not None:
        query = query.where(DataAccess.at < before)
    if subject is not None:
        query = query.where(DataAccess.subject == subject)
    if subject_id is not None:
        query = query.where(DataAccess.subject_id == str(subject_id))
    if actor is not None:
        query = query.where(DataAccess.actor == actor)
    return [{"id": row.id, "at": as_utc(row.at), "actor": row.actor, "action": row.action, "subject": row.subject,
             "subject_id": row.subject_id, "detail": row.detail} for row in session.scalars(query)]


def actors(session) -> list[str]:
    """Everyone who appears in the log, for the filter of the analysts' page."""
    return list(session.scalars(select(DataAccess.actor).distinct().order_by(DataAccess.actor)))


def record_access(engine, *, actor: str, action: str, subject: str, subject_id=None, detail=None) -> None:
    """One audit row in its own transaction, at the engine's clock (pages, API and CLI)."""
    with engine.transaction() as session:
        record(session, actor=actor, action=action, subject=subject, subject_id=subject_id, detail=detail,
               now=engine.now())


def recent(engine, **filters) -> list[dict]:
    """`entries` in a read session of the engine (same filters)."""
    with engine.Session() as session:
        return entries(session, **filters)


def people(engine) -> list[str]:
    """`actors` in a read session of the engine."""
    with engine.Session() as session:
        return actors(session)
