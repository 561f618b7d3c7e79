"""The engine's public face: one object whose verbs the web app, the CLI, the API, the
simulator and the benchmark all use. Each verb is one database transaction."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

from . import clock as clockmod
from . import compare, migration, runtime, users, versions
from .clock import iso_utc
from .db import default_url, make_engine, session_factory, upgrade
from .errors import Conflict, EngineError, Forbidden, NotFound
from .forms import FormError
from .queries import offered_to
from .schema import Case, CaseEvent, Company, ModelVersion, SegmentChange, TaskDraft, TaskRow, User
from .services.registry import OPERATORS, ROLES, ServiceContext, ServiceError

clockmod.install()

COMPANY_FIELDS = ("razon_social", "tipo_persona", "region", "comuna", "rubro", "productos", "tipo_oferta",
                  "ventas_uf", "empleados", "contacto_nombre", "contacto_email", "contacto_telefono",
                  "liderada_por_mujer", "consentimiento_datos", "origen")
SUMMARY_FIELDS = ("segmento", "resultado", "puntaje_final")


class Engine:
    def __init__(self, url: str | None = None, clock=None, instance_dir=None):
        self.url = url or default_url(instance_dir)
        self.db = make_engine(self.url)
        self.Session = session_factory(self.db)
        self.clock = clock or clockmod.SystemClock()
        self.specs = runtime.SpecCache()

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
            try:
                yield session
                session.commit()
            except StaleDataError:
                session.rollback()
                raise Conflict("El caso fue modificado por otra persona al mismo tiempo; "
                               "recargue e intente de nuevo.") from None
            except BaseException:
                session.rollback()
                raise

    def locked(self, query, skip_locked=False):
        """`query` taking row locks until the transaction ends, on PostgreSQL. On SQLite every
        write transaction already starts with BEGIN IMMEDIATE, which serializes writers."""
        if self.db.dialect.name == "postgresql":
            return query.with_for_update(skip_locked=skip_locked)
        return query

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
    def validate(self, files):
        """Problems found in `files` (nothing is stored)."""
        with self.Session() as s:
            return versions.check(s, files)

    def deploy(self, files, author="sistema", message=""):
        """Validate and store new versions; identical content is a no-op. Returns what happened."""
        with self.transaction() as s:
            return versions.deploy(s, files, author, message, self.now(), self._build)

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
                               "optional": list(op.optional)} for op in OPERATORS.values()],
                "forms": latest["form"], "decisions": latest["decision"], "processes": latest["process"],
                "roles": list(ROLES)}

    def compare(self, kind, key, a, b) -> dict:
        """What changed from version `a` to version `b` of a model."""
        old, new = self.model_version(kind, key, a), self.model_version(kind, key, b)
        result = {"kind": kind, "key": key, "from_version": old["version"], "to_version": new["version"]}
        if kind == "form":
            result["diff"] = compare.compare_text(old["content"], new["content"], f"{key} v{a}", f"{key} v{b}")
        else:
            result.update(compare.compare_xml(old["content"], new["content"]))
        return result

    def _build(self, s, row: ModelVersion) -> runtime.CompiledProcess:
        return self.specs.get(row.id, lambda: versions.compile_process(s, row))

    # -- cases -----------------------------------------------------------------------
    def start(self, process_id, data=None, version=None, actor="sistema") -> int:
        data = dict(data or {})
        with self.transaction() as s:
            row = versions.version_row(s, "process", process_id, version)
            compiled = self._build(s, row)
            if compiled.start_form:
                data = compiled.forms[compiled.start_form].validate(data)
            now = self.now()
            company = self._upsert_company(s, data, now) if data.get("rut") else None
            workflow = compiled.new_workflow()
            workflow.get_next_task(state=TaskState.READY).data.update(data)
            case = Case(process_key=process_id, model_version_id=row.id, status="active",
                        company_id=company.id if company else None, region=data.get("region"),
                        rubro=data.get("rubro"), workflow={}, data={}, created_by=actor,
                        created_at=now, updated_at=now)
            s.add(case)
            s.flush()
            s.add(CaseEvent(case_id=case.id, at=now, actor=actor, kind="case_started", name=row.name,
                            detail={"version": row.version, "data": data}))
            self._advance(s, case, compiled, workflow, actor)
            return case.id

    def start_form(self, process_id, version=None) -> dict | None:
        """The JSON Schema that validates the start data of a process (None if it has none)."""
        with self.Session() as s:
            compiled = self._build(s, versions.version_row(s, "process", process_id, version))
            return compiled.forms[compiled.start_form].schema if compiled.start_form else None

    def _upsert_company(self, s, data, now) -> Company:
        company = s.scalar(select(Company).where(Company.rut == data["rut"]))
        if company is None:
            company = Company(rut=data["rut"], created_at=now)
            s.add(company)
        for name in COMPANY_FIELDS:
            if name in data:
                setattr(company, name, data[name])
        company.updated_at = now
        s.flush()
        return company

    def _advance(self, s, case: Case, compiled, workflow, actor, completed_task=None, now=None):
        """Run the workflow as far as it goes, then store it with its index and history."""
        now = now or self.now()
        automatic = []

        def record(task):
            spec = task.task_spec
            if getattr(spec, "bpmn_name", None) and not spec.manual:
                automatic.append((spec.bpmn_id, spec.bpmn_name, type(spec).__name__))

        ctx = ServiceContext(session=s, case=case, now=now, form=lambda key: _form(compiled, key), actor=actor)
        error = None
        with runtime.service_context(ctx):
            try:
                if completed_task is not None:
                    completed_task.run()
                runtime.run_steps(workflow, did_complete_task=record)
            except (WorkflowException, ServiceError, RuntimeError) as exc:
                error = _describe_error(exc)
        for bpmn_id, name, kind in automatic:
            s.add(CaseEvent(case_id=case.id, at=now, actor="sistema", kind="step_completed", bpmn_id=bpmn_id,
                            name=name, detail={"type": kind}))
        self._sync_tasks(s, case, compiled, workflow, now)
        snapshot = _case_data(workflow)
        case.data = snapshot
        previous_segment = case.segmento
        for name in SUMMARY_FIELDS:
            if name in snapshot:
                setattr(case, name, snapshot[name])
        if case.segmento and case.segmento != previous_segment:
            s.add(SegmentChange(company_id=case.company_id, case_id=case.id, desde=previous_segment,
                                hacia=case.segmento, at=now))
        case.workflow = runtime.dump(workflow)
        case.updated_at = now
        case.next_timer_at = runtime.next_timer(workflow)
        if error:
            case.status, case.error = "error", error
            s.add(CaseEvent(case_id=case.id, at=now, actor="sistema", kind="error", bpmn_id=error.get("bpmn_id"),
                            name=error.get("name"), detail=error))
        elif workflow.is_completed():
            case.status, case.error, case.ended_at, case.next_timer_at = "completed", None, now, None
            s.add(CaseEvent(case_id=case.id, at=now, actor="sistema", kind="case_completed",
                            detail={"resultado": snapshot.get("resultado")}))
        else:
            case.status, case.error = "active", None

    def _sync_tasks(self, s, case, compiled, workflow, now):
        ready = {str(t.id): t for t in runtime.ready_user_tasks(workflow)}
        rows = {r.id: r for r in s.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "ready"))}
        cancelled = [task_id for task_id in rows if task_id not in ready]
        for task_id in cancelled:
            rows[task_id].state, rows[task_id].completed_at = "cancelled", now
        if cancelled:  # a half-filled form of a task that is gone helps no one
            s.execute(delete(TaskDraft).where(TaskDraft.task_id.in_(cancelled)))
        for task_id, task in ready.items():
            if task_id in rows:
                continue
            props = runtime.task_properties(task)
            assignee = None
            if props.get("asignadoA"):
                try:
                    assignee = task.workflow.script_engine.evaluate(task, props["asignadoA"])
                except Exception:  # noqa: BLE001 - an unresolvable assignee goes to the pool
                    assignee = None
            s.add(TaskRow(id=task_id, case_id=case.id, bpmn_id=task.task_spec.bpmn_id,
                          name=task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                          lane=compiled.lanes.get(task.task_spec.bpmn_id), form_key=runtime.form_key(props),
                          region=case.region, assignee=assignee if isinstance(assignee, str) else None,
                          state="ready", created_at=now, due_at=runtime.task_due(task, now)))

    def _load(self, s, case_id, for_update=False):
        query = select(Case).where(Case.id == case_id)
        case = s.scalar(self.locked(query) if for_update else query)
        if case is None:
            raise NotFound(f"no existe el caso {case_id}")
        row = s.get(ModelVersion, case.model_version_id)
        compiled = self._build(s, row)
        return case, compiled, compiled.restore(case.workflow)

    def ready_tasks(self, case_id=None, user=None, limit=200):
        with self.Session() as s:
            query = select(TaskRow, ModelVersion.key, ModelVersion.version).join(Case, Case.id == TaskRow.case_id) \
                .join(ModelVersion, ModelVersion.id == Case.model_version_id).where(TaskRow.state == "ready")
            if case_id is not None:
                query = query.where(TaskRow.case_id == case_id)
            if user is not None:
                account = s.scalar(select(User).where(User.username == user))
                if account is None:
                    raise NotFound(f"no existe el usuario '{user}'")
                query = query.where(offered_to(account))
            rows = s.execute(query.order_by(TaskRow.created_at, TaskRow.id).limit(limit)).all()
            return [self._task_dict(s, r, key, version) for r, key, version in rows]

    def _task_dict(self, s, row: TaskRow, process_key, process_version, with_form=True):
        item = {"id": row.id, "case_id": row.case_id, "bpmn_id": row.bpmn_id, "name": row.name, "lane": row.lane,
                "region": row.region, "assignee": row.assignee, "state": row.state, "process_id": process_key,
                "process_version": process_version, "created_at": iso_utc(row.created_at),
                "due_at": iso_utc(row.due_at), "form_id": row.form_key}
        if with_form:
            case = s.get(Case, row.case_id)
            compiled = self._build(s, s.get(ModelVersion, case.model_version_id))
            form = compiled.forms.get(row.form_key)
            item["form"] = form.schema if form else None
        return item

    def task(self, task_id):
        with self.Session() as s:
            row = s.get(TaskRow, task_id)
            if row is None:
                raise NotFound(f"no existe la tarea {task_id}")
            case = s.get(Case, row.case_id)
            version = s.get(ModelVersion, case.model_version_id)
            return self._task_dict(s, row, version.key, version.version)

    def complete(self, task_id, data, user=None, actor=None):
        """Validate `data` against the task's form and complete it; the task stays ready on error.

        `user` is checked against the task's lane, region and assignee; without a user (the
        CLI, or the company portal after its own check) `actor` names who acted in the history.
        """
        with self.transaction() as s:
            row = s.get(TaskRow, task_id)
            if row is None:
                raise NotFound(f"no existe la tarea {task_id}")
            if row.state != "ready":
                who = f" por {row.completed_by}" if row.completed_by else ""
                raise Conflict(f"La tarea «{row.name}» ya no está disponible: fue completada{who} o cancelada.")
            account = None
            if user is not None:
                account = s.scalar(select(User).where(User.username == user, User.active.is_(True)))
                if account is None:
                    raise NotFound(f"no existe el usuario '{user}'")
                if not users.may_work(account, row.lane, row.region, row.assignee):
                    raise Forbidden("No tiene permiso para completar esta tarea.")
            case, compiled, workflow = self._load(s, row.case_id, for_update=True)
            if case.status != "active":
                raise Conflict(f"El caso {case.id} no está activo (estado: {case.status}).")
            form = compiled.forms.get(row.form_key) if row.form_key else None
            clean = form.validate(data) if form else (data or {})
            task = workflow.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.READY:
                raise Conflict(f"La tarea «{row.name}» ya no está disponible.")
            task.data.update(clean)
            now, actor = self.now(), user or actor or "cli"
            row.state, row.completed_at, row.completed_by = "completed", now, actor
            s.execute(delete(TaskDraft).where(TaskDraft.task_id == row.id))  # flushes the row first: see drafts.py
            s.add(CaseEvent(case_id=case.id, at=now, actor=actor, kind="task_completed", bpmn_id=row.bpmn_id,
                            name=row.name, task_id=row.id, detail={"data": clean, "form": row.form_key}))
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
            if account is None or not users.may_work(account, row.lane, row.region, None):
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
        with self.Session() as s:
            case = s.get(Case, case_id)
            if case is None:
                raise NotFound(f"no existe el caso {case_id}")
            version = s.get(ModelVersion, case.model_version_id)
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()
            return {
                "id": case.id, "process_id": case.process_key, "version": version.version, "status": case.status,
                "data": case.data, "segmento": case.segmento, "resultado": case.resultado,
                "ejecutivo": case.ejecutivo, "region": case.region, "error": case.error,
                "next_timer_at": iso_utc(case.next_timer_at), "created_at": iso_utc(case.created_at),
                "ended_at": iso_utc(case.ended_at),
                "history": [{"at": iso_utc(e.at), "actor": e.actor, "kind": e.kind, "bpmn_id": e.bpmn_id,
                             "name": e.name, "detail": e.detail} for e in events],
            }

    def fire_due_timers(self, now=None, limit=200) -> int:
        """Advance every active case whose next timer is due; returns how many were advanced.

        A timer is due once its time has passed (strictly, as SpiffWorkflow decides it), so a
        case selected here always moves.

        Each case is its own transaction. On PostgreSQL due cases are claimed with
        FOR UPDATE SKIP LOCKED, so several workers never fire one timer twice; elsewhere
        the optimistic lock makes the loser of a race roll back.
        """
        moment = now or self.now()
        frozen = clockmod.VirtualClock(moment) if now is not None else None
        fired = 0
        with self.Session() as s:
            ids = s.scalars(select(Case.id).where(Case.status == "active", Case.next_timer_at < moment)
                            .order_by(Case.next_timer_at).limit(limit)).all()
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
            fired += 1
        return fired

    def migrate(self, case_id, to_version, dry_run=False, actor="sistema") -> dict:
        """Move a running case to another version of its process (or only preview it).

        Unsafe moves are refused with the reasons (Conflict); the preview says what would
        change. A real move is one transaction, recorded in the case's history.
        """
        with self.transaction() as s:
            case, compiled, workflow = self._load(s, case_id, for_update=True)
            current = s.get(ModelVersion, case.model_version_id)
            target_row = versions.version_row(s, "process", case.process_key, to_version)
            preview = {"case_id": case.id, "process_id": case.process_key, "from_version": current.version,
                       "to_version": target_row.version, "dry_run": bool(dry_run), "migrated": False}
            if case.status not in ("active", "error"):
                raise Conflict(f"El caso {case.id} está {case.status}: solo se migran casos en curso.")
            if target_row.id == current.id:
                raise Conflict(f"El caso {case.id} ya está en la versión {current.version}.")
            plan = migration.plan(workflow, self._build(s, target_row))
            preview.update(plan.as_dict())
            if dry_run:
                s.rollback()
                return preview
            if not plan.safe:
                raise Conflict(f"No se puede migrar el caso {case.id} a la versión {target_row.version}: "
                               + "; ".join(plan.reasons))
            plan._apply()
            preview["migrated"] = True
            case.model_version_id = target_row.id
            s.add(CaseEvent(case_id=case.id, at=self.now(), actor=actor, kind="migrated",
                            name=f"v{current.version} → v{target_row.version}", detail=preview))
            self._advance(s, case, self._build(s, target_row), workflow, actor)
            self._refresh_ready_rows(s, case, self._build(s, target_row), workflow)
            return preview

    def migrate_version(self, process_id, from_version, to_version, dry_run=False, actor="sistema",
                        limit=1000) -> list[dict]:
        """Migrate (or preview) every running case of one version, each in its own transaction;
        a case that cannot move is reported with the reason and left as it was."""
        with self.Session() as s:
            row = versions.version_row(s, "process", process_id, from_version)
            ids = s.scalars(select(Case.id).where(Case.model_version_id == row.id,
                                                  Case.status.in_(("active", "error")))
                            .order_by(Case.id).limit(limit)).all()
        results = []
        for case_id in ids:
            try:
                results.append(self.migrate(case_id, to_version, dry_run=dry_run, actor=actor))
            except Conflict as exc:
                results.append({"case_id": case_id, "process_id": process_id, "from_version": from_version,
                                "to_version": to_version, "dry_run": bool(dry_run), "migrated": False,
                                "safe": False, "reasons": [str(exc)], "changed": [], "added": [], "reset": []})
        return results

    def _refresh_ready_rows(self, s, case, compiled, workflow):
        """Ready tasks that survived a migration show the new version's name, lane and form."""
        ready = {str(t.id): t for t in runtime.ready_user_tasks(workflow)}
        for row in s.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "ready")):
            task = ready.get(row.id)
            if task is not None:
                spec = task.task_spec
                row.bpmn_id, row.name = spec.bpmn_id, spec.bpmn_name or spec.bpmn_id
                row.lane = compiled.lanes.get(spec.bpmn_id)
                row.form_key = runtime.form_key(runtime.task_properties(task))

    def retry(self, case_id, actor="sistema"):
        """Run again the step that failed (after the cause was fixed)."""
        with self.transaction() as s:
            case, compiled, workflow = self._load(s, case_id, for_update=True)
            if case.status != "error":
                raise Conflict(f"El caso {case_id} no está en error.")
            for task in workflow.get_tasks(state=TaskState.ERROR):
                task._set_state(TaskState.READY)
            s.add(CaseEvent(case_id=case.id, at=self.now(), actor=actor, kind="retry", detail={}))
            self._advance(s, case, compiled, workflow, actor)
            return {"case_id": case.id, "status": case.status}


def _form(compiled, key):
    form = compiled.forms.get(key)
    if form is None:
        raise ServiceError("puntaje_formulario", f"el formulario '{key}' no está desplegado con este proceso")
    return form


def _describe_error(exc) -> dict:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    cause = getattr(exc, "error", None) or exc.__cause__
    message = str(cause) if isinstance(cause, ServiceError) else str(exc)
    return {"message": message, "bpmn_id": getattr(spec, "bpmn_id", None),
            "name": getattr(spec, "bpmn_name", None), "type": type(exc).__name__}


def _case_data(workflow) -> dict:
    ready = runtime.ready_user_tasks(workflow)
    source = ready[0] if ready else workflow.last_task
    data = dict(source.data) if source is not None else {}
    return runtime.json_safe(data)


__all__ = ["Engine", "EngineError", "NotFound", "Forbidden", "Conflict", "FormError"]
