"""One step of a case: run its workflow as far as it goes, then store it (the summary columns,
the inbox index, the history and the serialized workflow) in the caller's transaction.

The rows are written with SQLAlchemy Core (engine/cases/rows.py), one statement per table and step:
the case row by an UPDATE that checks and bumps `lock_version` (optimistic locking, as the ORM's
version_id_col does), the inbox index by engine/cases/task_index.py, the history in one executemany.
The ORM object of the case is then told the stored values, so the unit of work has nothing
left to write for it."""

from __future__ import annotations

import logging

from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.exc import SQLAlchemyError

from engine.basics.errors import Conflict, EngineError
from engine.cases import messages, recovery, rows, task_index
from engine.models import spiff
from engine.models.sandbox import SandboxError
from engine.operators.dispatch import ServiceContext, ServiceError
from engine.store.schema import Case

log = logging.getLogger(__name__)

SUMMARY_FIELDS = ("segmento", "resultado", "puntaje_final")
SUMMARY_TEXT = 20  # characters of the segmento and resultado columns (engine/store/schema.py)


def summary_value(name: str, value):
    """`(value, None)` if the case's summary column `name` can hold the model's value, else
    `(None, reason)`: the column is an index for lists and indicators, the case's data keeps the
    value. A model may leave anything plain in its data; PostgreSQL would refuse the step's UPDATE."""
    if value is None:
        return None, None
    if name == "puntaje_final":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e15:
            return value, None  # finite: engine.basics.case_values refused NaN and infinities on the way in
        return None, "no es un número"
    if isinstance(value, str) and len(value) <= SUMMARY_TEXT:
        return value, None
    return None, f"no es un texto de hasta {SUMMARY_TEXT} caracteres"


def advance(s, case: Case, compiled, workflow, actor, now, cache, completed_task=None, new_case=False,
            operators=None, failure=None) -> None:
    """Run the workflow as far as it goes, then store it with its index and history (one
    serialization); after the commit the workflow stays in `cache` (spiff.WorkflowCache).
    Its service tasks call the operators of `operators` (the Engine's table; None: none known).
    `failure`: what the model raised before the step (a message it could not catch,
    engine/cases/messages.py): the case goes to error with it, as if the step had raised it."""
    automatic = []

    def record(task):
        spec = task.task_spec
        if getattr(spec, "bpmn_name", None) and not spec.manual:
            automatic.append((spec.bpmn_id, spec.bpmn_name, type(spec).__name__))

    ctx = ServiceContext(session=s, case=case, now=now, form=lambda key: _form(compiled, key), actor=actor,
                         operators=operators)
    error = settled = None
    with spiff.service_context(ctx):
        try:
            if failure is not None:
                raise failure
            if completed_task is not None:
                completed_task.run()
            settled = spiff.settle(workflow, did_complete_task=record)
            if settled.waiting:  # a wait new since the last step may take a message already sent
                settled = messages.take_pending(s, case, workflow, settled, s.get_bind().dialect.name, now,
                                                lambda: spiff.settle(workflow, did_complete_task=record))
        except (SQLAlchemyError, Conflict):
            raise  # the database or a concurrent change: the whole transaction rolls back (retried later)
        except Exception as exc:  # noqa: BLE001 - whatever the model's code or an operator raised: case in error
            error = _describe_error(exc, workflow, case.id)
    if settled is None:
        settled = spiff.open_tasks(workflow)
    for bpmn_id, name, kind in automatic:
        event(s, case.id, now, "sistema", "step_completed", bpmn_id=bpmn_id, name=name, detail={"type": kind})
    sent = messages.thrown(workflow)
    for m in sent:
        event(s, case.id, now, "sistema", "message_sent", name=f"Mensaje «{m['name']}» enviado",
              detail={"nombre": m["name"], "correlaciones": m["correlations"]})
    # What the caller or an operator left pending in the unit of work (history rows added with
    # the ORM, a migrated version) is written first, so the history keeps its order and the case
    # row's lock_version below is the stored one. Usually there is nothing: no statement.
    s.flush()
    ready = settled.ready
    waits = messages.waits(settled.waiting)
    snapshot = _case_data(workflow, ready)
    previous_segment = case.segmento
    values = {"data": snapshot, "updated_at": now, "next_timer_at": spiff.next_timer_of(settled.waiting),
              "ended_at": case.ended_at, "message_waits": waits or None}
    earlier = case.data or {}
    for name in SUMMARY_FIELDS:
        if name not in snapshot:
            values[name] = getattr(case, name)
            continue
        values[name], problem = summary_value(name, snapshot[name])
        if problem and snapshot[name] != earlier.get(name):  # said once, when the model sets it
            event(s, case.id, now, "sistema", "warning", name=f"«{name}» {problem}: el caso sigue, sin ese "
                  "valor en las listas ni en los indicadores", detail={"campo": name})
    if error:
        recovery.schedule(case, workflow, error, case.error, now)  # automatic retry, if the model asks
        values.update(status="error", error=error, next_timer_at=case.next_timer_at)
        event(s, case.id, now, "sistema", "error", bpmn_id=error.get("bpmn_id"), name=error.get("name"),
              detail=error)
    elif workflow.is_completed():
        values.update(status="completed", error=None, ended_at=now, next_timer_at=None)
        event(s, case.id, now, "sistema", "case_completed", detail={"resultado": snapshot.get("resultado")})
    else:
        values.update(status="active", error=None)
    if values["status"] != "active":
        waits = values["message_waits"] = None  # a case in error or ended receives nothing
    # what it threw and waits for (messages to other cases): no statement when neither changed
    if messages.store(s, case, sent, waits or [], now):
        courier = s.info.get("message_courier")
        if courier is not None:
            s.info.setdefault("after_commit", []).append(lambda: courier(case.id))
    version = rows.store_case(s, case, values)
    task_index.sync(s, case, compiled, ready, now, new_case=new_case)
    segment = values["segmento"]
    if segment and segment != previous_segment:
        rows.insert_segment_change(s, case.company_id, case.id, previous_segment, segment, now)
    events = s.info.pop("events", None)
    if events:  # the step's history in one INSERT (executemany, no RETURNING)
        rows.insert_events(s, events)
    spiff.prune(workflow)  # only what is still open is stored (and cached): a step costs the same at any age
    rows.store_state(s, case.id, spiff.dump(workflow), new=new_case)  # after the case row: same lock order
    stamp = (case.id, version, now, compiled.version_id)
    s.info.setdefault("after_commit", []).append(lambda: cache.put(*stamp, workflow))


def event(s, case_id, at, actor, kind, bpmn_id=None, name=None, task_id=None, detail=None) -> None:
    """A history row of the step being stored; `advance` writes them all at once."""
    s.info.setdefault("events", []).append({"case_id": case_id, "at": at, "actor": actor, "kind": kind,
                                            "bpmn_id": bpmn_id, "name": name, "task_id": task_id,
                                            "detail": detail or {}})


def _form(compiled, key):
    form = compiled.forms.get(key)
    if form is None:
        raise ServiceError("puntaje_formulario", f"el formulario '{key}' no está desplegado con este proceso")
    return form


def _chain(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


_PLACES = (("ScriptTask", "en el script de «{}»"), ("Gateway", "en una condición de «{}»"),
           ("BusinessRuleTask", "en la tabla de decisión de «{}»"), ("ServiceTask", "en un parámetro de «{}»"))


def _where(spec, name) -> str:
    kinds = [cls.__name__ for cls in type(spec).__mro__] if spec is not None else []
    for kind, text in _PLACES:
        if any(k.endswith(kind) for k in kinds):
            return text.format(name)
    return f"en «{name}»"


def _describe_error(exc, workflow=None, case_id=None) -> dict:
    """The case's error: the model's own error (its type and message, where it happened; or a
    value it produced that a case may not hold, engine.basics.case_values), an operator's refusal,
    SpiffWorkflow's description of a model problem, or — for a failure of our own code — a
    generic Spanish message, with the traceback in the log."""
    task = getattr(exc, "task", None)
    if task is None and workflow is not None:
        failed = workflow.get_tasks(state=TaskState.ERROR)
        task = failed[0] if failed else None
    spec = getattr(task, "task_spec", None)
    name = getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or "un paso automático"
    chain = list(_chain(exc))
    service = next((e for e in chain if isinstance(e, ServiceError)), None)
    model = next((e for e in chain if isinstance(e, (SandboxError, EngineError))), None)  # Spanish for people
    if service is not None:
        message = str(service)
    elif model is not None:
        message = f"{model} {_where(spec, name)}"
    elif all(isinstance(e, (WorkflowException, RuntimeError)) for e in chain):
        message = str(exc)  # SpiffWorkflow's account of a model problem, or the engine's own
    else:
        log.error("caso %s: error interno al ejecutar «%s»", case_id, name, exc_info=exc)
        message = (f"error interno al ejecutar «{name}»; quedó registrado para el equipo de la plataforma. "
                   "Reintente el paso u omítalo.")
    return {"message": message, "bpmn_id": getattr(spec, "bpmn_id", None),
            "name": getattr(spec, "bpmn_name", None), "type": type(model or exc).__name__}


def _case_data(workflow, ready) -> dict:
    source = ready[0] if ready else workflow.last_task
    data = dict(source.data) if source is not None else {}
    return spiff.json_safe(data)

