"""Moving running cases to another version of their process: the `Engine.migrate` and
`Engine.migrate_version` verbs (the safety rules themselves are in engine/migration.py)."""

from __future__ import annotations

from sqlalchemy import select

from engine import migration, taskindex
from engine.basics.errors import Conflict
from engine.models import versions
from engine.store.schema import Case, CaseEvent, ModelVersion


def migrate(engine, case_id, to_version, dry_run=False, actor="sistema") -> dict:
    """Move a running case to another version of its process (or only preview it).

    Unsafe moves are refused with the reasons (Conflict); the preview says what would
    change. A real move is one transaction, recorded in the case's history.
    """
    with engine.transaction() as s:
        case, compiled, workflow = engine._load(s, case_id, for_update=True)
        current = s.get(ModelVersion, case.model_version_id)
        target_row = versions.version_row(s, "process", case.process_key, to_version)
        preview = {"case_id": case.id, "process_id": case.process_key, "from_version": current.version,
                   "to_version": target_row.version, "dry_run": bool(dry_run), "migrated": False}
        if case.status not in ("active", "error"):
            raise Conflict(f"El caso {case.id} está {case.status}: solo se migran casos en curso.")
        if target_row.id == current.id:
            raise Conflict(f"El caso {case.id} ya está en la versión {current.version}.")
        target = engine._build(s, target_row)
        plan = migration.plan(workflow, target)
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
        s.add(CaseEvent(case_id=case.id, at=engine.now(), actor=actor, kind="migrated",
                        name=f"v{current.version} → v{target_row.version}", detail=preview))
        engine._advance(s, case, target, workflow, actor)
        taskindex.refresh_ready_rows(s, case, target, workflow)
        return preview


def migrate_version(engine, process_id, from_version, to_version, dry_run=False, actor="sistema",
                    limit=1000) -> list[dict]:
    """Migrate (or preview) every running case of one version, each in its own transaction;
    a case that cannot move is reported with the reason and left as it was."""
    with engine.Session() as s:
        row = versions.version_row(s, "process", process_id, from_version)
        ids = s.scalars(select(Case.id).where(Case.model_version_id == row.id,
                                              Case.status.in_(("active", "error")))
                        .order_by(Case.id).limit(limit)).all()
    results = []
    for case_id in ids:
        try:
            results.append(migrate(engine, case_id, to_version, dry_run=dry_run, actor=actor))
        except Conflict as exc:
            results.append({"case_id": case_id, "process_id": process_id, "from_version": from_version,
                            "to_version": to_version, "dry_run": bool(dry_run), "migrated": False,
                            "safe": False, "reasons": [str(exc)], "changed": [], "added": [], "reset": []})
    return results
