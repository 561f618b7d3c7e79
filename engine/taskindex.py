"""The inbox index: the `tasks` table kept in step with a case's workflow (one row per human
task; the inbox, the case page and the API read it without deserializing any workflow)."""

from __future__ import annotations

from sqlalchemy import delete, select

from . import runtime
from .schema import TaskDraft, TaskRow


def sync(s, case, compiled, ready_tasks, now, new_case=False) -> None:
    """Rows for the user tasks that became ready (`ready_tasks`: runtime.ready_user_tasks of the
    workflow); rows of ready tasks that are gone become cancelled (with their drafts deleted).
    A new case has no rows yet: nothing is read."""
    ready = {str(t.id): t for t in ready_tasks}
    rows = {}
    if not new_case:
        with s.no_autoflush:  # pending history rows need not be written before this read
            query = select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "ready")
            rows = {r.id: r for r in s.scalars(query) if r.state == "ready"}
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


def refresh_ready_rows(s, case, compiled, workflow) -> None:
    """Ready tasks that survived a migration show the new version's name, lane and form."""
    ready = {str(t.id): t for t in runtime.ready_user_tasks(workflow)}
    for row in s.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "ready")):
        task = ready.get(row.id)
        if task is not None:
            spec = task.task_spec
            row.bpmn_id, row.name = spec.bpmn_id, spec.bpmn_name or spec.bpmn_id
            row.lane = compiled.lanes.get(spec.bpmn_id)
            row.form_key = runtime.form_key(runtime.task_properties(task))
