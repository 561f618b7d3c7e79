"""One step of a case: run its workflow as far as it goes, then store it (the summary columns,
the inbox index, the history and the serialized workflow) in the caller's transaction."""

from __future__ import annotations

from SpiffWorkflow.exceptions import WorkflowException
from sqlalchemy import insert, update

from . import recovery, runtime, taskindex
from .schema import Case, CaseEvent, CaseState, SegmentChange
from .services.registry import ServiceContext, ServiceError

SUMMARY_FIELDS = ("segmento", "resultado", "puntaje_final")


def advance(s, case: Case, compiled, workflow, actor, now, cache, completed_task=None, new_case=False) -> None:
    """Run the workflow as far as it goes, then store it with its index and history (one
    serialization); after the commit the workflow stays in `cache` (runtime.WorkflowCache)."""
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
        event(s, case.id, now, "sistema", "step_completed", bpmn_id=bpmn_id, name=name, detail={"type": kind})
    ready = runtime.ready_user_tasks(workflow)
    taskindex.sync(s, case, compiled, ready, now, new_case=new_case)
    snapshot = _case_data(workflow, ready)
    case.data = snapshot
    previous_segment = case.segmento
    for name in SUMMARY_FIELDS:
        if name in snapshot:
            setattr(case, name, snapshot[name])
    if case.segmento and case.segmento != previous_segment:
        s.add(SegmentChange(company_id=case.company_id, case_id=case.id, desde=previous_segment,
                            hacia=case.segmento, at=now))
    case.updated_at = now
    case.next_timer_at = runtime.next_timer(workflow)
    if error:
        recovery.schedule(case, workflow, error, case.error, now)  # automatic retry, if the model asks
        case.status, case.error = "error", error
        event(s, case.id, now, "sistema", "error", bpmn_id=error.get("bpmn_id"), name=error.get("name"),
               detail=error)
    elif workflow.is_completed():
        case.status, case.error, case.ended_at, case.next_timer_at = "completed", None, now, None
        event(s, case.id, now, "sistema", "case_completed", detail={"resultado": snapshot.get("resultado")})
    else:
        case.status, case.error = "active", None
    events = s.info.pop("events", None)
    if events:  # the step's history in one INSERT (executemany, no RETURNING)
        s.execute(insert(CaseEvent), events)
    s.flush()  # the commit would flush anyway; now lock_version is the stored one
    store_state(s, case.id, runtime.dump(workflow), new=new_case)  # after the case row: same lock order
    stamp = (case.id, case.lock_version, case.updated_at, compiled.version_id)
    s.info.setdefault("after_commit", []).append(lambda: cache.put(*stamp, workflow))


def store_state(s, case_id: int, state: dict, new: bool = False) -> None:
    """Write the case's serialized workflow (table case_states, apart from the wide-scanned
    `cases`); the optimistic lock of the case row, flushed just before, guards it."""
    if new:
        s.execute(insert(CaseState).values(case_id=case_id, workflow=state))
    else:
        s.execute(update(CaseState).where(CaseState.case_id == case_id).values(workflow=state)
                  .execution_options(synchronize_session=False))


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


def _describe_error(exc) -> dict:
    task = getattr(exc, "task", None)
    spec = getattr(task, "task_spec", None)
    cause = getattr(exc, "error", None) or exc.__cause__
    message = str(cause) if isinstance(cause, ServiceError) else str(exc)
    return {"message": message, "bpmn_id": getattr(spec, "bpmn_id", None),
            "name": getattr(spec, "bpmn_name", None), "type": type(exc).__name__}


def _case_data(workflow, ready) -> dict:
    source = ready[0] if ready else workflow.last_task
    data = dict(source.data) if source is not None else {}
    return runtime.json_safe(data)
