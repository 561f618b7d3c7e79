"""Programme indicators (SPEC §6, thesis §3.4.3): who entered, exported, moved up a segment,
left or was derived, and the ratios the thesis proposes, filtered by region, period,
executive and rubro.

Everything is counted with aggregate SQL over the indexed columns (case summary, segment
changes, exports, SRA activities, workshop attendance); no workflow is deserialized. The
rules (segment order, what counts as leaving, ratios with an empty denominator) are small
pure functions with table-driven tests (tests/test_indicators.py).

Definitions (also written on the dashboard):
- an *entry* is a case with a company; the company entered on the day its case was created
  (`Case.created_at`), and the filters apply to that case (its region, executive, rubro);
  companies are counted once however many cases they have in the selection;
- *exportadoras*: companies whose case ended as `exportadora`, or with an export registered
  (CompanyExport) after they entered;
- *evolucionaron*: companies with a segment change upwards in `SEGMENT_ORDER`
  (rojo < amarillo < verde < rojo_oscuro); the first classification is not a move;
- *desertaron*: companies whose case ended as `desercion` (6 months without activity) or
  `abandono` (the company stopped answering): both mean it left the programme (SPEC §9);
- *exported with CPE tools*: an exporter that, at or before its export (the case closing as
  exportadora or the first registered export), attended a workshop session or had a promotion
  instrument activity (SRA activity `promocion`: ferias, ruedas de negocio, planes sectoriales).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, exists, func, or_, select, text, union, union_all

from .schema import Activity, Case, CompanyExport, SegmentChange, Workshop, WorkshopRegistration, WorkshopSession
from .services.regions import is_region
from .workshops import local_day_start

SEGMENT_ORDER = ("rojo", "amarillo", "verde", "rojo_oscuro")
LEFT = ("desercion", "abandono")
PYMES_REGISTRADAS = 206_773  # thesis §1.1: PYMEs registered by the SII (denominator of Promoción)
PROMOTION_ACTIVITY = "promocion"
KEYS = ("ingresadas", "exportadoras", "evolucionaron", "desertaron", "derivadas", "eficacia", "evolucion",
        "desercion", "promocion", "asistencia")


# -- pure rules -------------------------------------------------------------------------------

def moved_up(desde: str | None, hacia: str | None, order=SEGMENT_ORDER) -> bool:
    """Whether a segment change is a move up (a first classification, from nothing, is not)."""
    if desde not in order or hacia not in order:
        return False
    return order.index(hacia) > order.index(desde)


def upward_pairs(order=SEGMENT_ORDER) -> list[tuple[str, str]]:
    return [(a, b) for a in order for b in order if moved_up(a, b, order)]


def ratio(part: int, whole: int, reason: str, digits: int = 4) -> tuple[float | None, str | None]:
    """part / whole, or (None, reason) when there is nothing to divide by."""
    if not whole:
        return None, reason
    return round(part / whole, digits), None


NO_ENTRIES = "no ingresaron empresas en la selección"


def ratios(counts: dict, pymes_registradas: int = PYMES_REGISTRADAS) -> tuple[dict, dict]:
    """The thesis's ratios from the counts: values (None when undefined) and the reasons."""
    entered = counts["ingresadas"]
    table = {
        "eficacia": (counts["exportadoras"], entered, NO_ENTRIES, 4),
        "evolucion": (counts["evolucionaron"], entered, NO_ENTRIES, 4),
        "desercion": (counts["desertaron"], entered, NO_ENTRIES, 4),
        "promocion": (entered, pymes_registradas, "el total de PYMEs registradas en Chile es 0", 6),
    }
    values, reasons = {}, {}
    for key, (part, whole, reason, digits) in table.items():
        values[key], why = ratio(part, whole, reason, digits)
        if why:
            reasons[key] = why
    return values, reasons


@dataclass(frozen=True)
class Filters:
    region: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    ejecutivo: str | None = None
    rubro: str | None = None

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


def parse_filters(region=None, date_from=None, date_to=None, ejecutivo=None, rubro=None) -> Filters:
    """Filters from text (CLI options, query string); bad input raises ValueError in Spanish."""
    region = (region or "").strip() or None
    if region is not None and not is_region(region):
        raise ValueError(f"Región desconocida «{region}»: use un código ISO 3166-2:CL, p. ej. CL-RM.")

    def day(value, label):
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        value = (value or "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"La fecha «{label}» debe tener el formato AAAA-MM-DD (recibido «{value}»).") from None

    start, end = day(date_from, "desde"), day(date_to, "hasta")
    if start and end and start > end:
        raise ValueError("La fecha «desde» no puede ser posterior a la fecha «hasta».")
    texts = {}
    for name, value in (("ejecutivo", ejecutivo), ("rubro", rubro)):
        value = (value or "").strip() or None
        if value is not None and len(value) > 80:
            raise ValueError(f"El filtro «{name}» no puede superar 80 caracteres.")
        texts[name] = value
    return Filters(region, start, end, texts["ejecutivo"], texts["rubro"])


# -- queries ----------------------------------------------------------------------------------

def conditions(f: Filters) -> list:
    """SQL conditions over Case selecting the entries (cases of a company) of the filters."""
    return [Case.company_id.is_not(None), *case_conditions(f)]


def case_conditions(f: Filters) -> list:
    """SQL conditions over Case for the filters alone (region, entry period, executive, rubro)."""
    where = []
    if f.region:
        where.append(Case.region == f.region)
    if f.date_from:
        where.append(Case.created_at >= local_day_start(f.date_from))
    if f.date_to:
        where.append(Case.created_at < local_day_start(f.date_to + timedelta(days=1)))
    if f.ejecutivo:
        where.append(Case.ejecutivo == f.ejecutivo)
    if f.rubro:
        where.append(Case.rubro == f.rubro)
    return where


def _flag(condition):
    return func.max(case((condition, 1), else_=0))


def _exporters(where):
    """The companies of the selection that exported after entering (a SQL subquery): closed as
    exportadora, or with an export registered after the entry (a join, not a probe per case)."""
    closed = select(Case.company_id.label("company_id")).where(*where, Case.resultado == "exportadora")
    registered = select(Case.company_id.label("company_id")) \
        .join(CompanyExport, and_(CompanyExport.company_id == Case.company_id,
                                  CompanyExport.created_at >= Case.created_at)).where(*where)
    return union(closed, registered).subquery()


def counts(s, f: Filters) -> dict:
    where = conditions(f)
    # one row per company (one aggregate), then sums: each company counts once per key
    per_company = select(
        Case.company_id, _flag(Case.resultado.in_(LEFT)).label("left"),
        _flag(Case.resultado == "desercion").label("des"), _flag(Case.resultado == "abandono").label("aba"),
        _flag(Case.resultado == "derivada").label("der"),
    ).where(*where).group_by(Case.company_id).subquery()
    c = per_company.c
    row = [int(v) for v in s.execute(select(func.count(), *(func.coalesce(func.sum(col), 0) for col in (
        c.left, c.des, c.aba, c.der))).select_from(per_company)).one()]
    exported = s.scalar(select(func.count()).select_from(_exporters(where)))
    up = or_(*[and_(SegmentChange.desde == a, SegmentChange.hacia == b) for a, b in upward_pairs()])
    evolved = s.scalar(select(func.count(distinct(Case.company_id)))
                       .join(SegmentChange, SegmentChange.case_id == Case.id).where(*where, up))
    return {"ingresadas": row[0], "exportadoras": exported, "evolucionaron": evolved or 0, "desertaron": row[1],
            "derivadas": row[4], "salidas": {"desercion": row[2], "abandono": row[3]}}


def attendance(s, f: Filters, entered: int) -> dict:
    """Asistencia X = entered companies that attended a session of workshop X / entered."""
    attended = dict(s.execute(
        select(Workshop.key, func.count(distinct(Case.company_id))).select_from(Case)
        .join(WorkshopRegistration, WorkshopRegistration.company_id == Case.company_id)
        .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(*conditions(f), WorkshopRegistration.attended.is_(True), WorkshopSession.cancelled.is_(False))
        .group_by(Workshop.key)).all())
    result = {}
    for key, name in s.execute(select(Workshop.key, Workshop.name).where(Workshop.active.is_(True))
                               .order_by(Workshop.position, Workshop.id)):
        value, reason = ratio(attended.get(key, 0), entered, NO_ENTRIES)
        result[key] = {"taller": name, "asistieron": attended.get(key, 0), "valor": value, "motivo": reason}
    return result


def tools(s, f: Filters) -> dict:
    """Exporters with and without CPE tools before their export (see the module's definitions)."""
    where = conditions(f)
    closed = select(Case.company_id.label("company_id"), Case.ended_at.label("at")) \
        .where(*where, Case.resultado == "exportadora")
    registered = select(Case.company_id.label("company_id"), CompanyExport.created_at.label("at")) \
        .join(CompanyExport, and_(CompanyExport.company_id == Case.company_id,
                                  CompanyExport.created_at >= Case.created_at)).where(*where)
    moments = union_all(closed, registered).subquery()
    exporters = select(moments.c.company_id, func.min(moments.c.at).label("at")) \
        .group_by(moments.c.company_id).subquery()
    promoted = exists(select(Activity.id).where(Activity.company_id == exporters.c.company_id,
                                                Activity.tipo == PROMOTION_ACTIVITY,
                                                Activity.created_at <= exporters.c.at))
    trained = exists(select(WorkshopRegistration.id)
                     .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
                     .where(WorkshopRegistration.company_id == exporters.c.company_id,
                            WorkshopRegistration.attended.is_(True), WorkshopSession.cancelled.is_(False),
                            WorkshopSession.starts_at <= exporters.c.at))
    total, with_tools = s.execute(select(func.count(), func.count(case((or_(promoted, trained), 1))))
                                  .select_from(exporters)).one()
    return {"exportaron_con_herramientas": with_tools, "exportaron_sin_herramientas": total - with_tools}


def read_session(engine):
    """A session for the aggregate reads of the dashboard. On PostgreSQL, JIT compilation is off
    for its transaction: these queries are costed high (whole-table aggregates) but run in tens of
    milliseconds, and compiling them took longer than running them."""
    session = engine.Session()
    if engine.db.dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
    return session


def indicators(engine, filters: Filters | None = None, pymes_registradas: int = PYMES_REGISTRADAS) -> dict:
    """The indicators of SPEC §6 for the filters: the keys of `KEYS` plus detail keys."""
    f = filters or Filters()
    if isinstance(pymes_registradas, bool) or not isinstance(pymes_registradas, int) or pymes_registradas < 0:
        raise ValueError("El total de PYMEs registradas debe ser un número entero no negativo.")
    with read_session(engine) as s:
        result = counts(s, f)
        values, reasons = ratios(result, pymes_registradas)
        result.update(values)
        result["asistencia"] = attendance(s, f, result["ingresadas"])
        result.update(tools(s, f))
    result["motivos"] = reasons
    result["pymes_registradas"] = pymes_registradas
    result["filtros"] = f.as_dict()
    return {**{k: result[k] for k in KEYS}, **{k: v for k, v in result.items() if k not in KEYS}}
