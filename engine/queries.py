"""Read-only queries for lists and pages: served from the indexed columns (task index,
case summary), never by deserializing workflows."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from .schema import Activity, Case, CaseEvent, Company, Derivation, ModelVersion, TaskRow, TpeHistory, User

PER_PAGE = 25


@dataclass
class InboxFilters:
    process: str | None = None
    name: str | None = None
    region: str | None = None
    segmento: str | None = None
    scope: str = "all"  # all | mine | pool
    order: str = "oldest"  # oldest | newest


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    counts: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def offered_to(user):
    """SQL condition: tasks this user may work (assigned to them, or offered to their role and region)."""
    lanes = [user.role] + (["pyme"] if user.role == "ejecutivo_cpe" else [])
    offered = TaskRow.assignee.is_(None) & TaskRow.lane.in_(lanes)
    if user.region:
        offered = offered & (TaskRow.region == user.region)
    return (TaskRow.assignee == user.username) | offered


def inbox(engine, username: str, filters: InboxFilters | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    filters = filters or InboxFilters()
    with engine.Session() as s:
        user = s.scalar(select(User).where(User.username == username))
        base = select(TaskRow, Case.process_key, Case.segmento, Company.razon_social, Company.rut) \
            .join(Case, Case.id == TaskRow.case_id).outerjoin(Company, Company.id == Case.company_id) \
            .where(TaskRow.state == "ready", offered_to(user))
        counts = {
            "mine": s.scalar(select(func.count()).select_from(TaskRow).where(
                TaskRow.state == "ready", TaskRow.assignee == username)),
            "pool": s.scalar(select(func.count()).select_from(TaskRow).where(
                TaskRow.state == "ready", TaskRow.assignee.is_(None), offered_to(user))),
        }
        counts["all"] = counts["mine"] + counts["pool"]
        query = base
        if filters.scope == "mine":
            query = query.where(TaskRow.assignee == username)
        elif filters.scope == "pool":
            query = query.where(TaskRow.assignee.is_(None))
        if filters.process:
            query = query.where(Case.process_key == filters.process)
        if filters.name:
            query = query.where(TaskRow.name == filters.name)
        if filters.region:
            query = query.where(TaskRow.region == filters.region)
        if filters.segmento:
            query = query.where(Case.segmento == filters.segmento)
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        order = TaskRow.created_at.desc() if filters.order == "newest" else TaskRow.created_at
        rows = s.execute(query.order_by(order, TaskRow.id).offset((page - 1) * per_page).limit(per_page)).all()
        items = [{"id": t.id, "case_id": t.case_id, "name": t.name, "lane": t.lane, "region": t.region,
                  "assignee": t.assignee, "created_at": t.created_at, "process": process, "segmento": segmento,
                  "razon_social": razon_social, "rut": rut, "form_id": t.form_key}
                 for t, process, segmento, razon_social, rut in rows]
        names = sorted(set(s.scalars(select(TaskRow.name).where(TaskRow.state == "ready", offered_to(user)))))
        counts["names"] = names
        return Page(items, total, page, per_page, counts)


def cases(engine, region: str | None, search: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    with engine.Session() as s:
        query = select(Case, Company.razon_social, Company.rut).outerjoin(Company, Company.id == Case.company_id)
        if region:
            query = query.where(Case.region == region)
        if search:
            like = f"%{search.strip()}%"
            query = query.where(or_(Company.razon_social.ilike(like), Company.rut.ilike(like)))
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.execute(query.order_by(Case.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
        items = [{"id": c.id, "process": c.process_key, "status": c.status, "segmento": c.segmento,
                  "resultado": c.resultado, "region": c.region, "ejecutivo": c.ejecutivo,
                  "razon_social": name, "rut": rut, "created_at": c.created_at, "updated_at": c.updated_at}
                 for c, name, rut in rows]
        return Page(items, total, page, per_page)


def case_record(engine, case_id: int) -> dict:
    """What the case page shows besides `Engine.case`: company, derivations, SRA, TPE history."""
    with engine.Session() as s:
        case = s.get(Case, case_id)
        company = s.get(Company, case.company_id) if case and case.company_id else None
        version = s.get(ModelVersion, case.model_version_id) if case else None
        return {
            "company": {c.name: getattr(company, c.name) for c in Company.__table__.columns} if company else None,
            "process_name": version.name if version else None,
            "derivations": [{"motivo": d.motivo, "institucion": d.institucion, "contacto": d.contacto,
                             "direccion": d.direccion, "fecha": d.fecha}
                            for d in s.scalars(select(Derivation).where(Derivation.case_id == case_id)
                                               .order_by(Derivation.id))],
            "activities": [{"tipo": a.tipo, "detalle": a.detalle, "created_at": a.created_at}
                           for a in s.scalars(select(Activity).where(Activity.case_id == case_id)
                                              .order_by(Activity.id))],
            "tpe_history": [{"revision": h.revision, "puntaje": h.puntaje, "submitted_at": h.submitted_at}
                            for h in s.scalars(select(TpeHistory).where(TpeHistory.company_id == case.company_id)
                                               .order_by(TpeHistory.revision))] if company else [],
            "tasks": [{"id": t.id, "name": t.name, "lane": t.lane, "assignee": t.assignee, "created_at": t.created_at}
                      for t in s.scalars(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.state == "ready")
                                         .order_by(TaskRow.created_at))],
        }


def case_path(engine, case_id: int) -> dict:
    """The case's diagram and where it has been: for highlighting it on the diagram."""
    with engine.Session() as s:
        case = s.get(Case, case_id)
        version = s.get(ModelVersion, case.model_version_id)
        done = list(dict.fromkeys(s.scalars(
            select(CaseEvent.bpmn_id).where(CaseEvent.case_id == case_id, CaseEvent.bpmn_id.is_not(None),
                                            CaseEvent.kind.in_(("step_completed", "task_completed")))
            .order_by(CaseEvent.id))))
        current = list(s.scalars(select(TaskRow.bpmn_id).where(TaskRow.case_id == case_id,
                                                              TaskRow.state == "ready")))
        failed = [case.error["bpmn_id"]] if case.status == "error" and case.error else []
        return {"bpmn": version.content, "process_id": version.key, "done": done, "current": current,
                "failed": failed}
