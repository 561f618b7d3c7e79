"""Read-only queries for lists and pages: served from the indexed columns (task index,
case summary), never by deserializing workflows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select, union, union_all

from engine.basics.clock import as_utc
from engine.domain import roles
from engine.store.schema import Activity, Case, CaseEvent, Company, Derivation, ModelVersion, TaskRow, TpeHistory, User

PER_PAGE = 25


@dataclass
class InboxFilters:
    process: str | None = None
    name: str | None = None
    region: str | None = None
    segmento: str | None = None
    version: int | None = None
    due: str | None = None  # overdue | soon (within DUE_SOON) | none
    scope: str = "all"  # all | mine | pool
    order: str = "oldest"  # oldest | newest | due


DUE_SOON = timedelta(days=3)
DUE_STATES = ("overdue", "soon", "none")


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
    return _mine(user.username) | _pool(user)


def _mine(username):
    return TaskRow.assignee == username


def _pool(user):
    """Unassigned tasks offered to the user's role (and, for regional roles, region)."""
    offered = TaskRow.assignee.is_(None) & TaskRow.lane.in_(roles.lanes_of(user))
    if user.region:
        offered = offered & (TaskRow.region == user.region)
    return offered


def inbox(engine, username: str, filters: InboxFilters | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the user's inbox with the counts of its tabs.

    The tasks offered to the user are two disjoint sets, "mine" (assigned to them) and "pool"
    (unassigned, offered to their role and region), each served by its own covering index
    (ix_tasks_mine, ix_tasks_pool; ix_tasks_due for due dates): counts are sums of index-only
    counts, the page is chosen from the tasks' indexes alone (each set gives its first rows in
    order, then the two are merged), and only the rows shown are joined to their case and company."""
    filters = filters or InboxFilters()
    now = engine.now()
    with engine.Session() as s:
        user = s.scalar(select(User).where(User.username == username))
        ready = TaskRow.state == "ready"
        sets = {"mine": _mine(username), "pool": _pool(user)}

        def count(*where):
            return s.scalar(select(func.count()).select_from(TaskRow).where(ready, *where))

        counts = {key: count(condition) for key, condition in sets.items()}
        counts["all"] = counts["mine"] + counts["pool"]
        overdue = {key: count(condition, TaskRow.due_at < now) for key, condition in sets.items()}
        counts["overdue"] = overdue["mine"] + overdue["pool"]

        task_filters = []
        if filters.name:
            task_filters.append(TaskRow.name == filters.name)
        if filters.region:
            task_filters.append(TaskRow.region == filters.region)
        if filters.due == "overdue":
            task_filters.append(TaskRow.due_at < now)
        elif filters.due == "soon":
            task_filters.extend([TaskRow.due_at >= now, TaskRow.due_at < now + DUE_SOON])
        elif filters.due == "none":
            task_filters.append(TaskRow.due_at.is_(None))
        # Filters on the case: the matching case ids come from the indexes on cases (a case row is
        # large: a join would read one per candidate task), then the tasks' covering index is probed.
        # A case's process is its version's key, so process and version select version ids.
        case_filters = []
        if filters.process or filters.version:
            versions = select(ModelVersion.id).where(ModelVersion.kind == "process")
            if filters.process:
                versions = versions.where(ModelVersion.key == filters.process)
            if filters.version:
                versions = versions.where(ModelVersion.version == filters.version)
            case_filters.append(Case.model_version_id.in_(versions))
        if filters.segmento:
            case_filters.append(Case.segmento == filters.segmento)
        if case_filters:
            task_filters.append(TaskRow.case_id.in_(select(Case.id).where(*case_filters)))
        shown = [key for key in sets if filters.scope in ("all", key)]

        def candidates(key):
            return select(TaskRow.id, TaskRow.created_at, TaskRow.due_at).where(ready, sets[key], *task_filters)

        if not case_filters and not filters.name and not filters.region and filters.due in (None, "overdue"):
            total = sum((overdue if filters.due else counts)[key] for key in shown)
        else:
            total = sum(s.scalar(select(func.count()).select_from(candidates(key).subquery())) for key in shown)

        def order(c):
            return {"newest": (c.created_at.desc(), c.id),
                    # tasks without a due date last, on every database
                    "due": (c.due_at.is_(None), c.due_at, c.created_at, c.id)}.get(filters.order, (c.created_at, c.id))

        first = (page - 1) * per_page
        parts = [candidates(key).order_by(*order(TaskRow)).limit(first + per_page).subquery() for key in shown]
        merged = parts[0] if len(parts) == 1 else union_all(*(select(part) for part in parts)).subquery()
        ids = s.scalars(select(merged.c.id).order_by(*order(merged.c)).offset(first).limit(per_page)).all()
        position = {task_id: i for i, task_id in enumerate(ids)}
        rows = sorted(s.execute(
            select(TaskRow, Case.process_key, ModelVersion.version, Case.segmento, Company.razon_social, Company.rut)
            .join(Case, Case.id == TaskRow.case_id).join(ModelVersion, ModelVersion.id == Case.model_version_id)
            .outerjoin(Company, Company.id == Case.company_id).where(TaskRow.id.in_(ids))).all(),
            key=lambda row: position[row[0].id]) if ids else []
        items = [{"id": t.id, "case_id": t.case_id, "name": t.name, "lane": t.lane, "region": t.region,
                  "assignee": t.assignee, "created_at": t.created_at, "process": process, "version": version,
                  "segmento": segmento, "razon_social": razon_social, "rut": rut, "form_id": t.form_key,
                  "due_at": t.due_at, "overdue": t.due_at is not None and as_utc(t.due_at) < now,
                  "due_soon": t.due_at is not None and now <= as_utc(t.due_at) < now + DUE_SOON}
                 for t, process, version, segmento, razon_social, rut in rows]
        counts["names"] = sorted(s.scalars(union(*(select(TaskRow.name).where(ready, condition)
                                                   for condition in sets.values()))))
        counts["processes"] = sorted(s.scalars(select(ModelVersion.key).where(ModelVersion.kind == "process")
                                               .distinct()))
        return Page(items, total, page, per_page, counts)


def cases(engine, region: str | None, search: str | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of cases, newest first, optionally of one region and searched by company name or RUT.

    The search looks up the matching companies first (scanning ix_companies_search) and reaches
    their cases through ix_cases_company_region; the count and the page's ids come from indexes, and only the rows
    shown are read (their summary columns: never the serialized workflow)."""
    with engine.Session() as s:
        where = []
        if region:
            where.append(Case.region == region)
        if search:
            like = f"%{search.strip()}%"
            matches = [_ilike(s, Company.razon_social, like), _ilike(s, Company.rut, like)]
            where.append(Case.company_id.in_(select(Company.id).where(or_(*matches))))
        total = s.scalar(select(func.count()).select_from(Case).where(*where))
        ids = s.scalars(select(Case.id).where(*where).order_by(Case.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
        rows = s.execute(select(Case.id, Case.process_key, Case.status, Case.segmento, Case.resultado, Case.region,
                                Case.ejecutivo, Company.razon_social, Company.rut, Case.created_at, Case.updated_at)
                         .outerjoin(Company, Company.id == Case.company_id).where(Case.id.in_(ids))
                         .order_by(Case.id.desc())).all() if ids else []
        items = [{"id": c.id, "process": c.process_key, "status": c.status, "segmento": c.segmento,
                  "resultado": c.resultado, "region": c.region, "ejecutivo": c.ejecutivo,
                  "razon_social": c.razon_social, "rut": c.rut, "created_at": c.created_at, "updated_at": c.updated_at}
                 for c in rows]
        return Page(items, total, page, per_page)


def _ilike(session, column, pattern):
    """Case-insensitive LIKE. On SQLite, ILIKE is rendered as lower(column) LIKE lower(pattern), yet
    SQLite's LIKE already ignores case exactly as far as its lower() folds it (ASCII letters): plain
    LIKE gives the same answer there at a third of the cost. Other databases get ILIKE."""
    return column.like(pattern) if session.get_bind().dialect.name == "sqlite" else column.ilike(pattern)


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
            "tpe_history": _tpe_history(s, case.company_id) if company else [],
            "tasks": [{"id": t.id, "name": t.name, "lane": t.lane, "assignee": t.assignee, "created_at": t.created_at}
                      for t in s.scalars(select(TaskRow).where(TaskRow.case_id == case_id, TaskRow.state == "ready")
                                         .order_by(TaskRow.created_at))],
        }


def _tpe_history(s, company_id) -> list[dict]:
    """Every revision of the company's TPE, oldest first: score, when and who (`submitted_by`, the
    username or `pyme`; `submitted_by_name`, the user's full name when the username is a user's)."""
    history = s.scalars(select(TpeHistory).where(TpeHistory.company_id == company_id)
                        .order_by(TpeHistory.revision)).all()
    who = {h.submitted_by for h in history if h.submitted_by}
    names = dict(s.execute(select(User.username, User.full_name).where(User.username.in_(who))).all()) if who else {}
    return [{"revision": h.revision, "puntaje": h.puntaje, "submitted_at": h.submitted_at, "case_id": h.case_id,
             "form_key": h.form_key, "submitted_by": h.submitted_by, "submitted_by_name": names.get(h.submitted_by)}
            for h in history]


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
