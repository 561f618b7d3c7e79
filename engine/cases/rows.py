"""The rows every engine verb reads and writes, with SQLAlchemy Core statements built once
(bound parameters instead of a new statement object per call; the compiled form is cached by
SQLAlchemy): the task being completed, the acting user, the process version to start, the case
row with its optimistic lock, the serialized workflow and the history.

Reads return plain rows (attribute access by column name), not ORM objects: nothing enters the
session's unit of work. The case row is the exception, loaded with the ORM by Engine._case
because the service operators change it through the session (engine/programme/operators.py)."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, insert, select, true, update
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.basics.errors import Conflict, NotFound
from engine.store.schema import (
    Case,
    CaseEvent,
    CaseState,
    Company,
    ModelVersion,
    SegmentChange,
    TaskDraft,
    TaskRow,
    User,
)

CASES, STATES, EVENTS = Case.__table__, CaseState.__table__, CaseEvent.__table__
TASKS, DRAFTS, USERS, VERSIONS = TaskRow.__table__, TaskDraft.__table__, User.__table__, ModelVersion.__table__
SEGMENT_CHANGES = SegmentChange.__table__

# the columns of a case row that a step writes (engine/cases/steps.py), always all of them: one
# statement shape, one compiled form
STEP_COLUMNS = ("data", "updated_at", "next_timer_at", "segmento", "resultado", "puntaje_final", "status",
                "error", "ended_at", "message_waits")

# the task with the acting user, in one round trip (user_* are NULL for no or an inactive user)
_TASK = select(TASKS, USERS.c.username.label("user_username"), USERS.c.role.label("user_role"),
               USERS.c.region.label("user_region")) \
    .select_from(TASKS.outerjoin(USERS, and_(USERS.c.username == bindparam("username"), USERS.c.active == true()))) \
    .where(TASKS.c.id == bindparam("task_id"))
_READY_IDS = select(TASKS.c.id).where(TASKS.c.case_id == bindparam("case_id"), TASKS.c.state == "ready")
_FINISH_TASK = update(TASKS).where(TASKS.c.id == bindparam("task_id"), TASKS.c.state == "ready") \
    .values(state="completed", completed_at=bindparam("at"), completed_by=bindparam("actor"))
_DELETE_DRAFTS = delete(DRAFTS).where(DRAFTS.c.task_id == bindparam("task_id"))
_VERSION_COLUMNS = (VERSIONS.c.id, VERSIONS.c.key, VERSIONS.c.version, VERSIONS.c.name)
_LATEST = select(*_VERSION_COLUMNS).where(VERSIONS.c.kind == "process", VERSIONS.c.key == bindparam("key")) \
    .order_by(VERSIONS.c.version.desc()).limit(1)
_VERSION = select(*_VERSION_COLUMNS).where(VERSIONS.c.kind == "process", VERSIONS.c.key == bindparam("key"),
                                           VERSIONS.c.version == bindparam("version"))
# UPDATE … SET the columns named in the parameters (STEP_COLUMNS and lock_version)
_STORE_CASE = update(CASES).where(CASES.c.id == bindparam("b_case"), CASES.c.lock_version == bindparam("b_read"))
_INSERT_STATE = insert(STATES)
_UPDATE_STATE = update(STATES).where(STATES.c.case_id == bindparam("b_case"))
_INSERT_EVENTS = insert(EVENTS)
_INSERT_CASE = insert(CASES)
_CASE = select(Case).where(Case.id == bindparam("case_id"))  # the workflow is in case_states: not read here
_CASE_LOCKED = _CASE.with_for_update()
_COMPANY = select(Company).where(Company.rut == bindparam("rut"))
_STATE = select(STATES.c.workflow).where(STATES.c.case_id == bindparam("case_id"))
# a task row with its process: plain rows (tasks' columns, then process_key, process_version, version_id)
_TASKS_WITH_VERSION = select(TASKS, VERSIONS.c.key.label("process_key"), VERSIONS.c.version.label("process_version"),
                             VERSIONS.c.id.label("version_id")) \
    .join(CASES, CASES.c.id == TASKS.c.case_id).join(VERSIONS, VERSIONS.c.id == CASES.c.model_version_id)
_ANY_TASK = _TASKS_WITH_VERSION.where(TASKS.c.id == bindparam("task_id"))
_READY = _TASKS_WITH_VERSION.where(TASKS.c.state == "ready")
_VERSION_NUMBER = select(VERSIONS.c.version).where(VERSIONS.c.id == bindparam("version_id"))
_HISTORY = select(EVENTS.c.at, EVENTS.c.actor, EVENTS.c.kind, EVENTS.c.bpmn_id, EVENTS.c.name, EVENTS.c.detail) \
    .where(EVENTS.c.case_id == bindparam("case_id")).order_by(EVENTS.c.id)
_READY_OF_CASE = _READY.where(TASKS.c.case_id == bindparam("case_id")) \
    .order_by(TASKS.c.created_at, TASKS.c.id).limit(bindparam("limit"))

COMPANY_FIELDS = ("razon_social", "tipo_persona", "region", "comuna", "rubro", "productos", "tipo_oferta",
                  "ventas_uf", "empleados", "contacto_nombre", "contacto_email", "contacto_telefono",
                  "liderada_por_mujer", "consentimiento_datos", "origen")


def insert_case(s, **values) -> Case:
    """A new case row (one INSERT, no unit of work), returned as a persistent ORM object with
    the stored values (nothing more is read), as `case` gives it."""
    values = {"segmento": None, "resultado": None, "puntaje_final": None, "ejecutivo": None, "data": {},
              "lock_version": 1, "next_timer_at": None, "error": None, "message_waits": None,
              "updated_at": values["created_at"], "ended_at": None, **values}
    values["id"] = s.execute(_INSERT_CASE, values).inserted_primary_key[0]
    new = Case(**values)
    make_transient_to_detached(new)  # as if just loaded: every attribute committed
    s.add(new)
    return new


def case(s, case_id, lock=False) -> Case:
    """The case row as an ORM object (the operators change it through the session); `lock`
    takes its row lock until the transaction ends (FOR UPDATE: PostgreSQL only; on SQLite every write
    transaction already serializes writers)."""
    locked = lock and s.get_bind().dialect.name == "postgresql"
    found = s.scalar(_CASE_LOCKED if locked else _CASE, {"case_id": case_id})
    if found is None:
        raise NotFound(f"no existe el caso {case_id}")
    return found


def workflow_state(s, case_id) -> dict:
    return s.scalar(_STATE, {"case_id": case_id})


def ready_tasks_query(case_id=None):
    """The ready tasks as rows of `_TASKS_WITH_VERSION`: for one case (a statement built once),
    or the base to filter further."""
    return _READY if case_id is None else _READY_OF_CASE


def task_with_version(s, task_id):
    """Any task as a row of `_TASKS_WITH_VERSION` (NotFound if there is none)."""
    found = s.execute(_ANY_TASK, {"task_id": task_id}).first()
    if found is None:
        raise NotFound(f"no existe la tarea {task_id}")
    return found


def version_number(s, version_id) -> int:
    return s.scalar(_VERSION_NUMBER, {"version_id": version_id})


def history(s, case_id) -> list:
    """The case's history rows (at, actor, kind, bpmn_id, name, detail), oldest first."""
    return s.execute(_HISTORY, {"case_id": case_id}).all()


def upsert_company(s, data, now) -> Company:
    """The company of the start data (by RUT), created or updated with its fields."""
    company = s.scalar(_COMPANY, {"rut": data["rut"]})
    if company is None:
        company = Company(rut=data["rut"], created_at=now)
        s.add(company)
    for name in COMPANY_FIELDS:
        if name in data:
            setattr(company, name, data[name])
    company.updated_at = now
    if company.id is None:
        s.flush()  # the case row needs its id; a known company is written with the case
    return company


class Account(NamedTuple):
    """What roles.may_work needs of a user."""

    username: str
    role: str
    region: str | None


def task(s, task_id, username=None):
    """The inbox row of a task (NotFound if there is none) and, if `username` is given, that
    user if active (else None), read together: (row, account)."""
    row = s.execute(_TASK, {"task_id": task_id, "username": username}).first()
    if row is None:
        raise NotFound(f"no existe la tarea {task_id}")
    account = Account(row.user_username, row.user_role, row.user_region) if row.user_username else None
    return row, account


def process_version(s, process_id, version=None):
    """(id, key, version, name) of a process's latest or given version; the BPMN text is not
    read (the compiled process comes from the spec cache)."""
    if version is None:
        row = s.execute(_LATEST, {"key": process_id}).first()
    else:
        row = s.execute(_VERSION, {"key": process_id, "version": version}).first()
    if row is None:
        raise NotFound(f"no existe el proceso '{process_id}'" + (f" versión {version}" if version else ""))
    return row


def ready_task_ids(s, case_id) -> set:
    return set(s.execute(_READY_IDS, {"case_id": case_id}).scalars())


def finish_task(s, row, now, actor) -> None:
    """Mark the inbox row of a task being completed and delete its drafts. The UPDATE only
    passes a still-ready row: a second completion of the same task gets a Conflict, never a
    second event. The row goes first (it is what a draft being saved locks: engine/cases/drafts.py)."""
    if s.execute(_FINISH_TASK, {"task_id": row.id, "at": now, "actor": actor}).rowcount != 1:
        raise Conflict(f"La tarea «{row.name}» ya no está disponible: fue completada o cancelada.")
    s.execute(_DELETE_DRAFTS, {"task_id": row.id})


def store_case(s, case: Case, values: dict) -> int:
    """UPDATE the case row with `values` (every name of STEP_COLUMNS) if its lock_version is
    still the one this transaction read, else StaleDataError (Engine.transaction turns it into a
    Conflict), as the ORM's version_id_col would; returns the new lock_version. The ORM object
    takes the stored values as committed ones, so the unit of work has nothing to write."""
    version = case.lock_version
    params = {"b_case": case.id, "b_read": version, "lock_version": version + 1}
    params.update((name, values[name]) for name in STEP_COLUMNS)
    with s.no_autoflush:  # a value already set on the object (recovery.schedule) is written here, once
        stored = s.execute(_STORE_CASE, params).rowcount
    if stored != 1:
        raise StaleDataError(f"cases {case.id}: lock_version {version} is no longer the stored one")
    for name, value in values.items():
        set_committed_value(case, name, value)
    set_committed_value(case, "lock_version", version + 1)
    return version + 1


def store_state(s, case_id: int, state: dict, new: bool = False) -> None:
    """Write the case's serialized workflow (table case_states, apart from the wide-scanned
    `cases`); the optimistic lock of the case row, written just before, guards it."""
    if new:
        s.execute(_INSERT_STATE, {"case_id": case_id, "workflow": state})
    else:
        s.execute(_UPDATE_STATE, {"b_case": case_id, "workflow": state})


def insert_events(s, events: list[dict]) -> None:
    """History rows, all with the same keys (engine/cases/steps.py `event`): one executemany."""
    s.execute(_INSERT_EVENTS, events)


def insert_segment_change(s, company_id, case_id, desde, hacia, at) -> None:
    s.execute(insert(SEGMENT_CHANGES).values(company_id=company_id, case_id=case_id, desde=desde, hacia=hacia,
                                             at=at))
