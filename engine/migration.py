"""Moving a running case to another version of its process (SPEC §5), on SpiffWorkflow's
`bpmn.util.diff`.

A migration is safe when every task the case has already created (done, ready or waiting)
still has its element in the new version, and every subprocess it runs still exists. Tasks
that are ready or waiting are re-predicted from the new diagram; completed ones keep their
history. What is unsafe is refused with the reason, naming the elements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.models.spiff import SERIALIZER

LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED


@dataclass
class Plan:
    safe: bool
    reasons: list = field(default_factory=list)  # why it is not safe (Spanish)
    changed: list = field(default_factory=list)  # [{"bpmn_id", "name", "attributes"}] of elements the case touched
    added: list = field(default_factory=list)  # bpmn ids new in the target version
    reset: list = field(default_factory=list)  # [{"bpmn_id", "name"}] ready/waiting steps re-predicted
    _apply: object = None

    def as_dict(self) -> dict:
        return {"safe": self.safe, "reasons": self.reasons, "changed": self.changed, "added": self.added,
                "reset": self.reset}


def _label(spec) -> dict:
    return {"bpmn_id": getattr(spec, "bpmn_id", None) or spec.name, "name": getattr(spec, "bpmn_name", None)}


def _visible(spec) -> bool:
    """Elements an analyst drew (not the engine's internal start/end/boundary helper specs)."""
    return bool(getattr(spec, "bpmn_id", None))


def plan(workflow, target) -> Plan:
    """What moving `workflow` to the compiled process `target` would do, and whether it is safe."""
    registry = SERIALIZER.registry
    spec_diff = SpecDiff(registry, workflow.spec, target.spec)
    top = WorkflowDiff(workflow, spec_diff)
    subprocesses = {}
    for sp_id, sp in workflow.subprocesses.items():
        new_sp = target.subprocess_specs.get(sp.spec.name)
        subprocesses[sp_id] = WorkflowDiff(sp, SpecDiff(registry, sp.spec, new_sp)) if new_sp else None
    reasons = []
    removed = sorted({t.task_spec.bpmn_id or t.task_spec.name for t in top.removed if _visible(t.task_spec)})
    if removed:
        reasons.append("la nueva versión no tiene elementos por los que el caso ya pasó o en los que está: "
                       + ", ".join(removed))
    elif top.removed:
        reasons.append("la estructura interna del proceso cambió de forma incompatible")
    for sp_id, sp_diff in subprocesses.items():
        name = workflow.subprocesses[sp_id].spec.name
        if sp_diff is None:
            reasons.append(f"el subproceso «{name}» no existe en la nueva versión")
        elif sp_diff.removed:
            gone = sorted({t.task_spec.bpmn_id or t.task_spec.name for t in sp_diff.removed})
            reasons.append(f"el subproceso «{name}» perdió elementos en uso: {', '.join(gone)}")
    changed, seen = [], set()
    for task in top.changed:
        spec = task.task_spec
        if _visible(spec) and spec.name not in seen:
            seen.add(spec.name)
            changed.append(dict(_label(spec), attributes=sorted(spec_diff.changed[spec])))
    added = sorted({s.bpmn_id for s in target.spec.task_specs.values()
                    if _visible(s) and s.name not in workflow.spec.task_specs})
    reset = [_label(t.task_spec) for t in workflow.get_tasks(state=LIVE, skip_subprocesses=True)
             if _visible(t.task_spec)]

    def apply():
        migrate_workflow(top, workflow, target.spec)
        for sp_id, sp_diff in subprocesses.items():
            migrate_workflow(sp_diff, workflow.subprocesses[sp_id], target.subprocess_specs[
                workflow.subprocesses[sp_id].spec.name])

    return Plan(safe=not reasons, reasons=reasons, changed=changed, added=added, reset=reset, _apply=apply)

