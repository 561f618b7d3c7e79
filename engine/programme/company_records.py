"""The programme registry (registro CPE; SPEC §6, thesis §3.4.3): per company, who it is, when it
entered, its TPE score, its segment and how it changed, the executive in charge, its SRA activities,
exports, derivations, workshops, cases, and when and why it left.

Read-only functions over indexed columns; the process fills the tables (operators `registrar_sra`,
`registrar_exportacion`, `derivar`, the engine's segment changes, the workshop attendance), never
these functions, and they never deserialize a workflow.

A company's *current* state is that of its latest case (highest id): segment, executive, status.
It is *en programa* while that case is open (active or stopped by an error) and *egresada* once it
ended; the exit date and reason are that case's end and `resultado`.

Scope (who sees what): analysts every company; executives and regional heads only their region's
(by the company's region); company users (pyme) none.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from engine.basics.clock import as_utc
from engine.basics.errors import Forbidden, NotFound
from engine.cases.queries import Page, _ilike
from engine.domain import roles
from engine.programme.workshops import company_workshops
from engine.store.schema import Activity, Case, Company, CompanyExport, Derivation, SegmentChange, Tpe, User

STATES = ("en_programa", "egresada")
SEGMENTS = ("rojo_oscuro", "verde", "amarillo", "rojo")  # SPEC §1, from export-ready down
OPEN_STATUSES = ("active", "error")
PER_PAGE = 25
MAX_PER_PAGE = 200
MAX_SEARCH = 100
EXPORT_LIMIT = 200_000  # rows of one registry export (the whole programme fits)


@dataclass
class RegistryFilters:
    q: str | None = None  # substring of razón social or RUT
    region: str | None = None
    rubro: str | None = None
    segmento: str | None = None
    ejecutivo: str | None = None
    estado: str | None = None  # en_programa | egresada

    def active(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


def scope_region(user) -> str | None:
    """The region `user` is limited to (None: every region). Refuses those who may not see it."""
    if not roles.may(user, roles.SEE_REGISTRY):
        raise Forbidden("No tiene acceso al registro de empresas.")
    if roles.may(user, roles.ALL_REGIONS):
        return None
    if not user.region:
        raise Forbidden("Su usuario no tiene región asignada: no puede ver el registro de empresas.")
    return user.region


def _latest_case():
    """SQL condition on `Case`: it is its company's latest case (no later case of the same company).
    Answered per row by a seek in ix_cases_company_region."""
    later = aliased(Case)
    return ~exists().where(later.company_id == Case.company_id, later.id > Case.id)


def _where(s, filters: RegistryFilters, region: str | None) -> list:
    where = []
    if region:
        where.append(Company.region == region)
    if filters.region:
        where.append(Company.region == filters.region)
    if filters.rubro:
        where.append(Company.rubro == filters.rubro)
    q = (filters.q or "").strip()[:MAX_SEARCH]
    if q:
        like = f"%{q}%"
        where.append(or_(_ilike(s, Company.razon_social, like), _ilike(s, Company.rut, like)))
    on_case = []
    if filters.segmento:
        on_case.append(Case.segmento == filters.segmento)
    if filters.ejecutivo:
        on_case.append(Case.ejecutivo == filters.ejecutivo)
    if filters.estado == "en_programa":
        on_case.append(Case.status.in_(OPEN_STATUSES))
    elif filters.estado == "egresada":
        on_case.append(Case.status == "completed")
    if on_case:
        where.append(Company.id.in_(select(Case.company_id).where(*on_case, _latest_case())))
    return where


def _summaries(s, company_ids: list[int]) -> dict[int, dict]:
    """Entry date, current segment, executive, state and exit of each company, from its first and
    latest cases (two grouped index scans over ix_cases_company_region, then the rows by id)."""
    if not company_ids:
        return {}
    bounds = s.execute(select(Case.company_id, func.min(Case.id), func.max(Case.id))
                       .where(Case.company_id.in_(company_ids)).group_by(Case.company_id)).all()
    ids = {i for _, first, last in bounds for i in (first, last)}
    rows = {r.id: r for r in s.execute(
        select(Case.id, Case.status, Case.segmento, Case.ejecutivo, Case.resultado, Case.created_at, Case.ended_at)
        .where(Case.id.in_(ids)))} if ids else {}
    result = {}
    for company_id, first, last in bounds:
        latest = rows[last]
        ended = latest.status == "completed"
        result[company_id] = {
            "ingreso": as_utc(rows[first].created_at), "caso_actual": last, "segmento": latest.segmento,
            "ejecutivo": latest.ejecutivo, "estado": "egresada" if ended else "en_programa",
            "egreso": as_utc(latest.ended_at) if ended else None, "motivo_egreso": latest.resultado if ended else None,
        }
    return result


def _row(company, summary: dict | None) -> dict:
    summary = summary or {"ingreso": None, "caso_actual": None, "segmento": None, "ejecutivo": None,
                          "estado": None, "egreso": None, "motivo_egreso": None}
    return {"id": company.id, "rut": company.rut, "razon_social": company.razon_social, "region": company.region,
            "rubro": company.rubro, **summary}


_LIST_COLUMNS = (Company.id, Company.rut, Company.razon_social, Company.region, Company.rubro)


def search(engine, user, filters: RegistryFilters | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """One page of the companies `user` may see, by razón social, with the total that match."""
    filters = filters or RegistryFilters()
    region = scope_region(user)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    with engine.Session() as s:
        where = _where(s, filters, region)
        total = s.scalar(select(func.count()).select_from(Company).where(*where))
        companies = s.execute(select(*_LIST_COLUMNS).where(*where).order_by(Company.razon_social, Company.id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
        summaries = _summaries(s, [c.id for c in companies])
        return Page([_row(c, summaries.get(c.id)) for c in companies], total, page, per_page)


def export_rows(engine, user, filters: RegistryFilters | None = None, limit: int = EXPORT_LIMIT) -> list[dict]:
    """Every company of the filtered list (one row each), for the XLSX/CSV export."""
    filters = filters or RegistryFilters()
    region = scope_region(user)
    rows = []
    with engine.Session() as s:
        where = _where(s, filters, region)
        companies = s.execute(select(*_LIST_COLUMNS).where(*where).order_by(Company.razon_social, Company.id)
                              .limit(limit)).all()
        for start in range(0, len(companies), 500):
            chunk = companies[start:start + 500]
            summaries = _summaries(s, [c.id for c in chunk])
            rows.extend(_row(c, summaries.get(c.id)) for c in chunk)
    return rows


def options(engine, user) -> dict:
    """The values the list's filters offer in the user's scope: regions and rubros of its companies,
    the segments of the programme and the executives (CPE and ProChile) of the region."""
    region = scope_region(user)
    with engine.Session() as s:
        in_scope = [Company.region == region] if region else []
        regions = [region] if region else sorted(r for r in s.scalars(select(Company.region).distinct()) if r)
        rubros = sorted(r for r in s.scalars(select(Company.rubro).where(*in_scope).distinct()) if r)
        staff = [User.role.in_(roles.EXECUTIVES)] + ([User.region == region] if region else [])
        ejecutivos = sorted(s.scalars(select(User.username).where(*staff)))
    return {"regiones": regions, "rubros": rubros, "segmentos": list(SEGMENTS), "ejecutivos": ejecutivos,
            "estados": list(STATES)}


def company_record(engine, user, company_id: int) -> dict:
    """Everything the registry holds about one company. NotFound also when it is outside the
    user's region (its existence is not disclosed)."""
    region = scope_region(user)
    with engine.Session() as s:
        company = s.get(Company, company_id)
        if company is None or (region and company.region != region):
            raise NotFound("empresa desconocida")
        cases = s.execute(select(Case.id, Case.process_key, Case.status, Case.segmento, Case.resultado,
                                 Case.ejecutivo, Case.region, Case.created_at, Case.ended_at)
                          .where(Case.company_id == company_id).order_by(Case.id)).all()
        summary = _summaries(s, [company_id]).get(company_id)
        tpe = s.scalar(select(Tpe).where(Tpe.company_id == company_id))
        segments = s.scalars(select(SegmentChange).where(SegmentChange.company_id == company_id)
                             .order_by(SegmentChange.at, SegmentChange.id)).all()
        activities = s.scalars(select(Activity).where(Activity.company_id == company_id)
                               .order_by(Activity.created_at, Activity.id)).all()
        exports = s.scalars(select(CompanyExport).where(CompanyExport.company_id == company_id)
                            .order_by(CompanyExport.fecha, CompanyExport.id)).all()
        derivations = s.scalars(select(Derivation).where(Derivation.company_id == company_id)
                                .order_by(Derivation.created_at, Derivation.id)).all()
        record = {
            **_row(company, summary),
            "tipo_persona": company.tipo_persona, "comuna": company.comuna, "productos": company.productos,
            "tipo_oferta": company.tipo_oferta,
            "tpe": {"puntaje": tpe.puntaje, "fecha": as_utc(tpe.submitted_at), "vigente_hasta": as_utc(tpe.valid_until),
                    "revision": tpe.revision} if tpe else None,
            "segmentos": [{"desde": c.desde, "hacia": c.hacia, "at": as_utc(c.at), "case_id": c.case_id}
                          for c in segments],
            "actividades": [{"tipo": a.tipo, "detalle": a.detalle, "at": as_utc(a.created_at), "case_id": a.case_id}
                            for a in activities],
            "exportaciones": [{"pais": e.pais, "fecha": e.fecha, "monto_usd": e.monto_usd, "producto": e.producto,
                               "at": as_utc(e.created_at), "case_id": e.case_id} for e in exports],
            "derivaciones": [{"motivo": d.motivo, "institucion": d.institucion, "contacto": d.contacto,
                              "direccion": d.direccion, "fecha": d.fecha, "at": as_utc(d.created_at),
                              "case_id": d.case_id} for d in derivations],
            "casos": [{"id": c.id, "process": c.process_key, "status": c.status, "segmento": c.segmento,
                       "resultado": c.resultado, "ejecutivo": c.ejecutivo, "region": c.region,
                       "created_at": as_utc(c.created_at), "ended_at": as_utc(c.ended_at)} for c in cases],
        }
    record["talleres"] = [w for w in company_workshops(engine, company_id) if w["status"] != "cancelled"]
    record["total_exportado_usd"] = round(sum(e["monto_usd"] for e in record["exportaciones"]), 2)
    record["timeline"] = timeline(record)
    return record


def timeline(record: dict) -> list[dict]:
    """The company's history in one list, oldest first: entry to each case, segment changes,
    activities, exports, derivations, workshops attended and the end of each case."""
    events = []
    for c in record["casos"]:
        events.append({"at": c["created_at"], "kind": "ingreso", "case_id": c["id"], "text": c["process"]})
        if c["ended_at"]:
            events.append({"at": c["ended_at"], "kind": "egreso", "case_id": c["id"], "text": c["resultado"] or ""})
    for c in record["segmentos"]:
        events.append({"at": c["at"], "kind": "segmento", "case_id": c["case_id"], "desde": c["desde"],
                       "text": c["hacia"]})
    for a in record["actividades"]:
        events.append({"at": a["at"], "kind": "actividad", "case_id": a["case_id"],
                       "text": f"{a['tipo']}: {a['detalle']}"})
    for e in record["exportaciones"]:
        events.append({"at": e["at"], "kind": "exportacion", "case_id": e["case_id"], "export": e,
                       "text": f"{e['pais']} · {e['producto']}"})
    for d in record["derivaciones"]:
        events.append({"at": d["at"], "kind": "derivacion", "case_id": d["case_id"], "text": d["institucion"]})
    for w in record["talleres"]:
        if w["status"] == "attended":
            events.append({"at": as_utc(w["session"]["starts_at"]), "kind": "taller", "case_id": None,
                           "text": w["session"]["workshop"]})
    order = {"ingreso": 0, "segmento": 1, "actividad": 2, "taller": 3, "derivacion": 4, "exportacion": 5, "egreso": 6}
    return sorted(events, key=lambda e: (e["at"], order[e["kind"]]))
