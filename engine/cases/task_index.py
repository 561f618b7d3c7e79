"""The inbox index: the `tasks` table kept in step with a case's workflow (one row per human
task; the inbox, the case page and the API read it without deserializing any workflow)."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from engine.cases.rows import DRAFTS, TASKS, ready_task_ids
from engine.models import spiff, versions
from engine.store.schema import TaskRow


def sync(s, case, compiled, ready_tasks, now, new_case=False) -> None:
    """Rows for the user tasks that became ready (`ready_tasks`: spiff.ready_user_tasks of the
    workflow); rows of ready tasks that are gone become cancelled (with their drafts deleted).
    A new case has no rows yet: nothing is read. SQLAlchemy Core: the ids of the case's ready
    rows are read, and at most one UPDATE, one DELETE and one INSERT (executemany) are written."""
    ready = {str(t.id): t for t in ready_tasks}
    stored = set()
    if not new_case:
        stored = ready_task_ids(s, case.id)
    cancelled = [task_id for task_id in stored if task_id not in ready]
    if cancelled:  # a half-filled form of a task that is gone helps no one
        s.execute(update(TASKS).where(TASKS.c.id.in_(cancelled), TASKS.c.state == "ready")
                  .values(state="cancelled", completed_at=now))
        s.execute(delete(DRAFTS).where(DRAFTS.c.task_id.in_(cancelled)))
    rows = [_row(case, compiled, task_id, task, now, s) for task_id, task in ready.items() if task_id not in stored]
    if rows:
        s.execute(insert(TASKS), rows)


def _row(case, compiled, task_id, task, now, s=None) -> dict:
    props = spiff.task_properties(task)
    named = spiff.task_assignment(compiled, task)
    expression = props.get("asignadoA") or (named.expression if named else None)
    assignee = None
    if expression:
        try:
            assignee = task.workflow.script_engine.evaluate(task, expression)
        except Exception:  # noqa: BLE001 - an unresolvable assignee goes to the pool
            assignee = None
    elif named and named.users and s is not None:  # camunda:assignee/candidateUsers: the first who is a user
        assignee = next(iter(versions.existing_users(s, named.users)), None)
    spec = task.task_spec
    return {"id": task_id, "case_id": case.id, "bpmn_id": spec.bpmn_id, "name": spec.bpmn_name or spec.bpmn_id,
            "lane": spiff.task_lane(compiled, task), "form_key": spiff.task_form_key(compiled, task),
            "region": case.region,
            "assignee": assignee if isinstance(assignee, str) else None, "state": "ready", "created_at": now,
            "due_at": spiff.task_due(task, now), "completed_at": None, "completed_by": None}


def refresh_ready_rows(s, case, compiled, workflow) -> None:
    """Ready tasks that survived a migration show the new version's name, lane and form."""
    ready = {str(t.id): t for t in spiff.ready_user_tasks(workflow)}
    for row in s.scalars(select(TaskRow).where(TaskRow.case_id == case.id, TaskRow.state == "ready")):
        task = ready.get(row.id)
        if task is not None:
            spec = task.task_spec
            row.bpmn_id, row.name = spec.bpmn_id, spec.bpmn_name or spec.bpmn_id
            row.lane = spiff.task_lane(compiled, task)
            row.form_key = spiff.task_form_key(compiled, task)
