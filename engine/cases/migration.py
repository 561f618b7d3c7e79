"""Moving a running case to another version of its process (SPEC §5), on SpiffWorkflow's
`bpmn.util.diff`: the safety rules (`plan`) and the `Engine.migrate` / `Engine.migrate_version` verbs.

A migration is safe when every task the case has already created (done, ready or waiting)
still has its element in the new version, and every subprocess it runs still exists. Tasks
that are ready or waiting are re-predicted from the new diagram; completed ones keep their
history. What is unsafe is refused with the reason, naming the elements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine.basics.errors import Conflict
from engine.cases import task_index
from engine.models import versions
from engine.models.spiff import SERIALIZER
from engine.store.schema import Case, CaseEvent, ModelVersion

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


class MigrationVerbs:
    """The Engine's verbs that move running cases to another version (mixed into engine.cases.engine.Engine,
    whose transaction, _load, _build and _advance they use)."""

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
            target = self._build(s, target_row)
            moves = plan(workflow, target)
            preview.update(moves.as_dict())
            if dry_run:
                s.rollback()
                return preview
            if not moves.safe:
                raise Conflict(f"No se puede migrar el caso {case.id} a la versión {target_row.version}: "
                               + "; ".join(moves.reasons))
            moves._apply()
            preview["migrated"] = True
            case.model_version_id = target_row.id
            s.add(CaseEvent(case_id=case.id, at=self.now(), actor=actor, kind="migrated",
                            name=f"v{current.version} → v{target_row.version}", detail=preview))
            self._advance(s, case, target, workflow, actor)
            task_index.refresh_ready_rows(s, case, target, workflow)
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
