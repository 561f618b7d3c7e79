"""Drafts of long forms (the TPE): what a person has typed so far in a task's form, kept
until the task is completed (`Engine.complete` deletes the task's drafts).

One draft per task and owner. The owner is whoever fills the form: an executive's
username in the web app, "pyme" for the company in its portal. A draft is unfinished by
nature, so it is not validated against the form, only bounded in size.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.basics.case_values import check as check_value
from engine.basics.clock import as_utc
from engine.basics.errors import Conflict, NotFound
from engine.store.schema import TaskDraft, TaskRow

MAX_CHARS = 200_000  # of the draft as JSON text
MAX_OWNER = 120


def save_draft(engine, task_id: str, owner: str, data: dict) -> dict:
    """Store (or replace) `owner`'s draft of a ready task; returns it as `load_draft` does.

    ValueError for a bad owner or data (not a dict, not JSON, over MAX_CHARS),
    NotFound for an unknown task, Conflict if the task is no longer ready.
    """
    data = _clean(owner, data)
    with engine.transaction() as s:
        # A completion running meanwhile waits for this transaction and then deletes the
        # draft; one that committed first makes us see the task completed.
        row = s.scalar(engine.locked(select(TaskRow).where(TaskRow.id == task_id)))
        if row is None:
            raise NotFound(f"no existe la tarea {task_id}")
        if row.state != "ready":
            raise Conflict(f"La tarea «{row.name}» ya no está disponible: fue completada o cancelada; "
                           "el borrador no se guardó.")
        now = engine.now()
        draft = s.get(TaskDraft, (task_id, owner))
        if draft is None:
            draft = TaskDraft(task_id=task_id, owner=owner, data=data, updated_at=now)
            s.add(draft)
        else:
            draft.data, draft.updated_at = data, now
        return _as_dict(draft)


def load_draft(engine, task_id: str, owner: str) -> dict | None:
    """`owner`'s draft of the task as {"task_id", "owner", "data", "updated_at"}, or None."""
    with engine.Session() as s:
        draft = s.get(TaskDraft, (task_id, owner))
        return _as_dict(draft) if draft is not None else None


def _clean(owner, data) -> dict:
    if not isinstance(owner, str) or not owner.strip() or len(owner) > MAX_OWNER:
        raise ValueError("Falta el dueño del borrador (un usuario o «pyme»).")
    if not isinstance(data, dict):
        raise ValueError("El borrador debe ser un objeto con los campos del formulario.")
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError("El borrador contiene valores que no se pueden guardar.") from None
    check_value(data)  # ValueRefused (a ValueError): lone surrogates, NUL, huge numbers, deep nesting
    if len(text) > MAX_CHARS:
        raise ValueError(f"El borrador es demasiado grande ({len(text):,} caracteres; máximo {MAX_CHARS:,})."
                         .replace(",", "."))
    return json.loads(text)  # a plain-JSON copy, independent of the caller's objects


def _as_dict(draft: TaskDraft) -> dict:
    return {"task_id": draft.task_id, "owner": draft.owner, "data": draft.data, "updated_at": as_utc(draft.updated_at)}

