"""The engine's public face: one object whose verbs the web app, the CLI, the API, the
simulator and the benchmark all use. Each verb is one database transaction."""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from engine.accounts import users
from engine.basics import case_values
from engine.basics import clock as clockmod
from engine.basics.clock import iso_utc
from engine.basics.errors import Conflict, Forbidden, NotFound
from engine.cases import rows, scheduler, steps
from engine.cases.messages import MessageVerbs
from engine.cases.migration import MigrationVerbs
from engine.cases.queries import offered_to
from engine.cases.recovery import RecoveryVerbs
from engine.domain import roles
from engine.domain.rut import normalize_rut
from engine.models import diff, spiff, versions
from engine.store.db import default_url, locking, open_database, session_factory, upgrade
from engine.store.schema import Case, CaseEvent, Company, ModelVersion, TaskRow, User

clockmod.install()
log = logging.getLogger(__name__)


class Engine(RecoveryVerbs, MigrationVerbs, MessageVerbs):
    """Build it with engine.assembly.build_engine, which hands it the programme's operators:
    `operator_table` (operator id -> engine.operators.dispatch.Operator) is what service tasks may call,
    what deploys check them against and what `catalog()` lists. The verbs for failed steps (retry, skip,
    retry_due) are in engine/cases/recovery.py, those that move cases (migrate, migrate_version) in
    engine/cases/migration.py, those that carry messages between cases (deliver_message,
    deliver_messages, messages) in engine/cases/messages.py."""

    def __init__(self, url: str | None = None, clock=None, instance_dir=None, workflow_cache: int = 1024,
                 workflow_cache_tasks: int | None = 50_000, *, operator_table: dict):
        self.operator_table = operator_table
        self.url = url or default_url(instance_dir)
        self.db = open_database(self.url)
        self.Session = session_factory(self.db)
        self.clock = clock or clockmod.configured()  # CPE_CLOCK_FILE: shared virtual time (tests only)
        self.specs = spiff.SpecCache()
        # at most 1024 workflows and 50 000 tasks (~4 kB a task: ~200 MB a process)
        self.workflows = spiff.WorkflowCache(workflow_cache, workflow_cache_tasks)

    # -- infrastructure ------------------------------------------------------------
    def upgrade(self) -> None:
        upgrade(self.db)

    def now(self) -> datetime:
        return self.clock.now()

    @contextmanager
    def transaction(self, clock=None):
        with clockmod.using(clock or self.clock), self.Session() as session:
            if self.db.dialect.name == "sqlite":
                session.connection(execution_options={"sqlite_immediate": True})
            # a step that sent messages calls it after the commit (engine/cases/messages.py)
            session.info["message_courier"] = lambda case_id: self.messages_sent(case_id, clock)
            try:
                yield session
                session.commit()
                for callback in session.info.pop("after_commit", ()):
                    callback()
            except StaleDataError:
                session.rollback()
                raise Conflict("El caso fue modificado por otra persona al mismo tiempo; "
                               "recargue e intente de nuevo.") from None
            except BaseException:
                session.rollback()
                raise

    def locked(self, query, skip_locked=False):
        """`query` taking row locks until the transaction ends, on PostgreSQL (engine.store.db.locking)."""
        return locking(query, self.db.dialect.name, skip_locked)

    # -- users -----------------------------------------------------------------------
    def create_user(self, username, password, role, region=None, rubros=(), full_name="", email=None):
        users.check_new_user(username, role, region, password)
        with self.transaction() as s:
            if s.scalar(select(User.id).where(User.username == username)):
                raise Conflict(f"el usuario '{username}' ya existe")
            s.add(User(username=username, password_hash=users.hash_password(password), role=role,
                       region=region, rubros=list(rubros), full_name=full_name or username, email=email,
                       created_at=self.now()))

    def authenticate(self, username, password):
        with self.Session() as s:
            user = s.scalar(select(User).where(User.username == username, User.active.is_(True)))
            if user is None or not users.verify_password(user.password_hash, password):
                return None
            return user

    def get_user(self, username):
        with self.Session() as s:
            return s.scalar(select(User).where(User.username == username))

    # -- models ----------------------------------------------------------------------
    def validate(self, files, lanes=None):
        """Problems found in `files` (nothing is stored); `lanes`: {lane name: role} as for deploy."""
        with self.Session() as s:
            return versions.check(s, files, self.operator_table, lanes)

    def deploy(self, files, author="sistema", message="", lanes=None):
        """Validate and store new versions; identical content is a no-op. Returns what happened.
        `lanes`: {lane name: role} for lanes not named after a role (engine/models/lane_roles.py)."""
        with self.transaction() as s:
            return versions.deploy(s, files, author, message, self.now(), self._build, self.operator_table, lanes)

    def lane_suggestions(self, files, lanes=None) -> list[dict]:
        """The lanes of `files` not named after a role, with the role each maps to now or None."""
        with self.Session() as s:
            return versions.lane_suggestions(s, files, lanes)

    def models(self):
        with self.Session() as s:
            return versions.listing(s)

    def model_version(self, kind, key, version=None) -> dict:
        """One stored version of a process, decision or form, with its content."""
        with self.Session() as s:
            row = versions.version_row(s, kind, key, version)
            return {"kind": row.kind, "key": row.key, "version": row.version, "name": row.name,
                    "filename": row.filename, "checksum": row.checksum, "author": row.author,
                    "message": row.message, "created_at": iso_utc(row.created_at), "content": row.content,
                    "dependencies": row.dependencies}

    def catalog(self) -> dict:
        """What a diagram may use: the service operators with their parameters, the deployed
        forms and decisions, and the roles that lanes name (for editors and pickers)."""
        with self.Session() as s:
            latest = {kind: sorted(versions.latest_versions(s, kind)) for kind in ("form", "decision", "process")}
        return {"operators": [{"id": op.id, "description": op.description, "params": list(op.params),
                               "optional": list(op.optional)} for op in self.operator_table.values()],
                "forms": latest["form"], "decisions": latest["decision"], "processes": latest["process"],
                "roles": list(roles.ROLES)}

    def compare(self, kind, key, a, b) -> dict:
        """What changed from version `a` to version `b` of a model."""
        old, new = self.model_version(kind, key, a), self.model_version(kind, key, b)
        result = {"kind": kind, "key": key, "from_version": old["version"], "to_version": new["version"]}
        if kind == "form":
            result["diff"] = diff.compare_text(old["content"], new["content"], f"{key} v{a}", f"{key} v{b}")
        else:
            result.update(diff.compare_xml(old["content"], new["content"]))
        return result

    def _build(self, s, row: ModelVersion) -> spiff.CompiledProcess:
        return self.specs.get(row.id, lambda: versions.compile_process(s, row))

    # -- cases -----------------------------------------------------------------------
    def start(self, process_id, data=None, version=None, actor="sistema") -> int:
        with self.transaction() as s:
            return self.start_in(s, process_id, data, version, actor, prepare=scheduler.start_by_hand)

    def start_in(self, s, process_id, data=None, version=None, actor="sistema", prepare=None, origin=None,
                 on_start=None) -> int:
        """`start` inside the caller's transaction `s`; `prepare(workflow)` may adjust the new
        workflow before it first runs (engine/cases/scheduler.py fires its timer start event).
        `origin`: the case whose message starts this one (engine/cases/messages.py): no start form
        (the message is the input), and the new case takes its region, rubro and company unless the
        data gives them. `on_start(case_id)` is called once the case row exists, before it first runs.

        The data must be plain JSON (engine.basics.case_values: ValueRefused otherwise), checked before the
        start form sees it (jsonschema lets NaN through minimum/maximum) and again after."""
        data = {} if data is None else data
        case_values.check_fields(data)
        data = dict(data)
        row = rows.process_version(s, process_id, version)
        compiled = self._compiled(s, row.id)
        if compiled.start_form and origin is None:
            data = compiled.forms[compiled.start_form].validate(data)
            case_values.check_fields(data)
        now = self.now()
        company = rows.upsert_company(s, data, now) if data.get("rut") else None
        workflow = compiled.new_workflow()
        if prepare is not None:
            prepare(workflow)
        workflow.get_next_task(state=TaskState.READY).data.update(data)
        company_id, region, rubro = company.id if company else None, data.get("region"), data.get("rubro")
        if origin is not None:
            company_id, region, rubro = company_id or origin.company_id, region or origin.region, rubro or origin.rubro
        case = rows.insert_case(s, process_key=process_id, model_version_id=row.id, status="active",
                                company_id=company_id, region=region, rubro=rubro, created_by=actor, created_at=now)
        steps.event(s, case.id, now, actor, "case_started", name=row.name,
                    detail={"version": row.version, "data": data})
        if on_start is not None:
            on_start(case.id)
        self._advance(s, case, compiled, workflow, actor, new_case=True)
        return case.id

    def open_case_of(self, rut, process_id) -> int | None:
        """The case of `process_id` in progress for the company with this RUT, if any (thesis §3.4.2: one TPE
        and one programme case per company; a second start is refused with a link to this one)."""
        try:
            rut = normalize_rut(rut)
        except ValueError:
            return None
        with self.Session() as s:
            return s.scalar(select(Case.id).join(Company, Company.id == Case.company_id)
                            .where(Company.rut == rut, Case.process_key == process_id,
                                   Case.status.in_(("active", "error"))).order_by(Case.id).limit(1))

    def start_form(self, process_id, version=None) -> dict | None:
        """The JSON Schema that validates the start data of a process (None if it has none)."""
        compiled = self.compiled_process(process_id, version)
        return compiled.forms[compiled.start_form].schema if compiled.start_form else None

    def start_role(self, process_id, version=None) -> str | None:
        """The role of the lane that holds the process's start event (None if it is in no lane): who may
        start a case of it by hand (engine.domain.roles.may_start)."""
        return self.compiled_process(process_id, version).start_role

    def operators(self, process_id, version=None) -> set[str]:
        """The service operators a process version calls (its subprocesses' too)."""
        return self.compiled_process(process_id, version).operators()

    def human_tasks(self, process_id, version=None) -> set[str]:
        """The ids of the tasks people do in a process version (its subprocesses' too)."""
        return self.compiled_process(process_id, version).human_tasks()

    def compiled_process(self, process_id, version=None) -> spiff.CompiledProcess:
        """The compiled process version (the latest if `version` is None), from the spec cache."""
        with self.Session() as s:
            return self._build(s, versions.version_row(s, "process", process_id, version))

    def _advance(self, s, case: Case, compiled, workflow, actor, completed_task=None, now=None, new_case=False,
                 failure=None):
        """Run the workflow as far as it goes and store it: see engine/cases/steps.py."""
        steps.advance(s, case, compiled, workflow, actor, now or self.now(), self.workflows,
                      completed_task=completed_task, new_case=new_case, operators=self.operator_table,
                      failure=failure)

    def _load(self, s, case_id, for_update=False):
        case, compiled = self._case(s, case_id, for_update)
        return case, compiled, self._workflow(s, case, compiled)

    def _case(self, s, case_id, for_update=False):
        case = rows.case(s, case_id, lock=for_update)
        return case, self._compiled(s, case.model_version_id)

    def _compiled(self, s, version_id) -> spiff.CompiledProcess:
        return self.specs.get(version_id, lambda: versions.compile_process(s, s.get(ModelVersion, version_id)))

    def _workflow(self, s, case, compiled):
        """The case's workflow: the cached object if it is the stored state, else deserialized
        (the only read of `case_states`)."""
        workflow = self.workflows.take(case.id, case.lock_version, case.updated_at, compiled.version_id)
        if workflow is not None:
            return workflow
        return compiled.restore(rows.workflow_state(s, case.id))

    def ready_tasks(self, case_id=None, user=None, limit=200):
        with self.Session() as s:
            query = rows.ready_tasks_query(case_id if user is None else None)
            if case_id is not None and user is not None:
                query = query.where(rows.TASKS.c.case_id == case_id)
            if user is not None:
                account = s.scalar(select(User).where(User.username == user))
                if account is None:
                    raise NotFound(f"no existe el usuario '{user}'")
                query = query.where(offered_to(account))
            if case_id is None or user is not None:
                query = query.order_by(rows.TASKS.c.created_at, rows.TASKS.c.id).limit(bindparam("limit"))
            found = s.execute(query, {"case_id": case_id, "limit": limit}).all()
            return [self._task_dict(s, row) for row in found]

    def _task_dict(self, s, row, with_form=True):
        """A task as the verbs give it; `row` as engine/cases/rows.py reads it (with its process)."""
        item = {"id": row.id, "case_id": row.case_id, "bpmn_id": row.bpmn_id, "name": row.name, "lane": row.lane,
                "region": row.region, "assignee": row.assignee, "state": row.state, "process_id": row.process_key,
                "process_version": row.process_version, "created_at": iso_utc(row.created_at),
                "due_at": iso_utc(row.due_at), "form_id": row.form_key}
        if with_form:
            form = self._compiled(s, row.version_id).forms.get(row.form_key)
            item["form"] = form.schema if form else None
        return item

    def task(self, task_id):
        with self.Session() as s:
            return self._task_dict(s, rows.task_with_version(s, task_id))

    def complete(self, task_id, data, user=None, actor=None):
        """Validate `data` against the task's form and complete it; the task stays ready on error.

        `user` is checked against the task's lane, region and assignee; without a user (the
        CLI, or the company portal after its own check) `actor` names who acted in the history.
        The answers must be plain JSON (engine.basics.case_values: ValueRefused, naming the field), checked
        before anything else: the form's own validation is not made for NaN or deep nesting.
        """
        if isinstance(data, dict):
            case_values.check_fields(data)
        with self.transaction() as s:
            row, account = rows.task(s, task_id, user)
            if row.state != "ready":
                who = f" por {row.completed_by}" if row.completed_by else ""
                raise Conflict(f"La tarea «{row.name}» ya no está disponible: fue completada{who} o cancelada.")
            if user is not None:
                if account is None:
                    raise NotFound(f"no existe el usuario '{user}'")
                if not roles.may_work(account, row.lane, row.region, row.assignee):
                    raise Forbidden("No tiene permiso para completar esta tarea.")
            case, compiled = self._case(s, row.case_id, for_update=True)
            if case.status != "active":
                raise Conflict(f"El caso {case.id} no está activo (estado: {case.status}).")
            form = compiled.forms.get(row.form_key) if row.form_key else None
            clean = form.validate(data) if form else (data or {})
            case_values.check_fields(clean)
            workflow = self._workflow(s, case, compiled)
            task = workflow.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.READY:
                raise Conflict(f"La tarea «{row.name}» ya no está disponible.")
            task.data.update(clean)
            now, actor = self.now(), user or actor or "cli"
            rows.finish_task(s, row, now, actor)
            steps.event(s, case.id, now, actor, "task_completed", bpmn_id=row.bpmn_id, name=row.name,
                        task_id=row.id, detail={"data": clean, "form": row.form_key})
            self._advance(s, case, compiled, workflow, actor, completed_task=task)
            return {"case_id": case.id, "status": case.status}

    def claim(self, task_id, user):
        """Take a task offered to the user's role and region; it becomes assigned to them."""
        with self.transaction() as s:
            row = self._ready_task(s, task_id)
            if row.assignee == user:
                return
            if row.assignee is not None:
                raise Conflict(f"La tarea ya fue tomada por {row.assignee}.")
            account = s.scalar(select(User).where(User.username == user, User.active.is_(True)))
            if account is None or not roles.may_work(account, row.lane, row.region, None):
                raise Forbidden("No tiene permiso para tomar esta tarea.")
            row.assignee = user
            self._task_event(s, row, user, "task_claimed")

    def release(self, task_id, user):
        """Give a task back to the pool of its role and region."""
        with self.transaction() as s:
            row = self._ready_task(s, task_id)
            if row.assignee != user:
                raise Forbidden("Solo quien tiene asignada la tarea puede liberarla.")
            row.assignee = None
            self._task_event(s, row, user, "task_released")

    def _ready_task(self, s, task_id) -> TaskRow:
        row = s.scalar(self.locked(select(TaskRow).where(TaskRow.id == task_id)))
        if row is None:
            raise NotFound(f"no existe la tarea {task_id}")
        if row.state != "ready":
            raise Conflict(f"La tarea «{row.name}» ya no está disponible.")
        return row

    def _task_event(self, s, row, actor, kind):
        s.add(CaseEvent(case_id=row.case_id, at=self.now(), actor=actor, kind=kind, bpmn_id=row.bpmn_id,
                        name=row.name, task_id=row.id, detail={}))

    def case(self, case_id):
        """The case with its data and history, always showable: data an older version stored
        without engine.basics.case_values' checks (lone surrogates, NaN) comes repaired (`_shown`)."""
        with self.Session() as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFound(f"no existe el caso {case_id}")
            events = rows.history(s, case_id)
            return {
                "id": case.id, "process_id": case.process_key, "version": rows.version_number(s, case.model_version_id),
                "status": case.status,
                "data": _shown(case.data or {}), "segmento": case.segmento, "resultado": case.resultado,
                "ejecutivo": case.ejecutivo, "region": case.region, "error": _shown(case.error),
                "next_timer_at": iso_utc(case.next_timer_at), "created_at": iso_utc(case.created_at),
                "ended_at": iso_utc(case.ended_at),
                "history": [{"at": iso_utc(e.at), "actor": e.actor, "kind": e.kind, "bpmn_id": e.bpmn_id,
                             "name": e.name, "detail": _shown(e.detail)} for e in events],
            }

    def fire_due_timers(self, now=None, limit=200, regions=None) -> int:
        """Advance every active case whose next timer is due; returns how many were advanced.
        `regions`: only the cases of these regions (a backfill that shares its database with
        others on their own clocks, engine/simulate/backfill.py).

        A timer is due once its time has passed (strictly, as SpiffWorkflow decides it), so a
        case selected here always moves.

        Each case is its own transaction. On PostgreSQL due cases are claimed with
        FOR UPDATE SKIP LOCKED, so several workers never fire one timer twice; elsewhere
        the optimistic lock makes the loser of a race roll back.
        """
        moment = now or self.now()
        frozen = clockmod.VirtualClock(moment) if now is not None else None
        fired = 0
        due = select(Case.id).where(Case.status == "active", Case.next_timer_at < moment)
        if regions is not None:
            due = due.where(Case.region.in_(sorted(regions)))
        with self.Session() as s:
            ids = s.scalars(due.order_by(Case.next_timer_at).limit(limit)).all()
        for case_id in ids:
            try:
                with self.transaction(frozen) as s:
                    query = select(Case).where(Case.id == case_id, Case.status == "active",
                                               Case.next_timer_at < moment)
                    if s.scalar(self.locked(query, skip_locked=True)) is None:
                        continue
                    case, compiled, workflow = self._load(s, case_id)
                    self._advance(s, case, compiled, workflow, "temporizador", now=moment)
            except Conflict:
                continue
            except OperationalError:
                raise  # the database itself is failing: the worker retries the whole round later
            except Exception:  # noqa: BLE001 - one broken case must not hold back every other timer
                log.exception("caso %s: no se pudo disparar su temporizador; se reintentará", case_id)
                continue
            fired += 1
        return fired


def _shown(value):
    """`value` itself if it is strict JSON (the usual case: one pass in C), else the repaired copy
    that engine.basics.case_values.displayable makes."""
    try:
        json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return case_values.displayable(value)
    return value


__all__ = ["Engine"]
