"""Another executive in charge of a running case (the regional head's redistribution, thesis §3.4.2
block 4): the case row's `ejecutivo`, the case variable the diagram assigns its tasks by, the ready
tasks assigned to the one who hands the case over, and a history row saying who moved it.

It works in the caller's transaction (the `redistribuir_casos` operator, engine/programme/operators.py),
on a case that is not the one running: the case row's optimistic lock is bumped, so a step of that case
taken at the same time fails with a conflict instead of undoing the change, and the engine's cached
workflow of that case is not reused."""

from __future__ import annotations

from sqlalchemy import update

from engine.cases import rows
from engine.models import spiff
from engine.store.schema import CaseEvent, TaskRow


def reassign(s, case_id: int, old: str, new: str, now, actor: str, variable: str | None = None,
             reason: str = "") -> bool:
    """Put `new` in charge of case `case_id` instead of `old`. `variable`: the case variable that
    names the executive in charge (what the diagram's `asignadoA` reads), rewritten where it is `old`
    so the tasks still to come go to `new`. False, and nothing changed, if the case is not active or
    `old` is not in charge of it any more."""
    case = rows.case(s, case_id, lock=True)
    if case.status != "active" or case.ejecutivo != old:
        return False
    case.ejecutivo = new
    case.updated_at = now
    if variable:
        state = rows.workflow_state(s, case_id)
        if spiff.replace_variable(state, variable, old, new):
            rows.store_state(s, case_id, state)
        if (case.data or {}).get(variable) == old:
            case.data = {**case.data, variable: new}
    moved = s.execute(update(TaskRow).where(TaskRow.case_id == case_id, TaskRow.state == "ready",
                                            TaskRow.assignee == old).values(assignee=new)).rowcount
    s.add(CaseEvent(case_id=case_id, at=now, actor=actor, kind="executive_reassigned", bpmn_id=None,
                    name=f"Ejecutivo a cargo: {new} (antes {old})",
                    detail={"desde": old, "hacia": new, "tareas": moved, "motivo": reason}))
    s.flush()  # the case row's UPDATE checks and bumps its lock_version now
    return True
