"""Programme indicators (SPEC §6, thesis §3.4.3): who entered, exported, moved up a segment,
left or was derived, and the ratios the thesis proposes, filtered by region, period,
executive and rubro.

Everything is counted with aggregate SQL over the indexed columns (case summary, segment
changes, exports, SRA activities, workshop attendance); no workflow is deserialized. The cases
are read in one pass (`entries`: one GROUP BY over the covering index, no COUNT(DISTINCT)),
and `tally` turns those case counts into company counts. The rules (segment order, what
counts as leaving, ratios with an empty denominator, cases to companies) are small pure
functions with table-driven tests (tests/test_indicators.py).

Definitions (also written on the dashboard):
- an *entry* is a case with a company; the company entered on the day its case was created
  (`Case.created_at`), and the filters apply to that case (its region, executive, rubro);
  companies are counted once however many cases they have in the selection;
- *exportadoras*: companies whose case ended as `exportadora`, or with an export registered
  (CompanyExport) after they entered;
- *evolucionaron*: companies with a segment change upwards in `EVOLUTION_ORDER`
  (rojo < amarillo < verde); the first classification is not a move, and neither is a move to
  rojo_oscuro: thesis §3.1.3 and manual §10 put rojo oscuro outside the CPE ("Empresas
  exportadoras sobre el nivel de los Centros pyme exporta, por lo que no se califica como tal"),
  a company reclassified there is derived, not promoted; the programme's ladder is the one §5.2
  counts ("cuántas suben de categoría de 'amarillo' a 'verde'");
- *desertaron*: companies whose case ended as `desercion` (6 months without activity) or
  `abandono` (the company stopped answering): both mean it left the programme (SPEC §9);
- *exported with CPE tools*: an exporter that, at or before its export (the case closing as
  exportadora or the first registered export), attended a workshop session or had a promotion
  instrument activity (SRA activity `promocion`: ferias, ruedas de negocio, planes sectoriales).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, exists, func, or_, select, text, union_all
from sqlalchemy.orm import aliased

from engine.domain.regions import is_region
from engine.programme.workshops import local_day_start
from engine.store.schema import (
    Activity,
    Case,
    CompanyExport,
    SegmentChange,
    Workshop,
    WorkshopRegistration,
    WorkshopSession,
)

SEGMENT_ORDER = ("rojo", "amarillo", "verde", "rojo_oscuro")  # every segment, for display
EVOLUTION_ORDER = ("rojo", "amarillo", "verde")  # the programme's ladder: what "moved up" means
LEFT = ("desercion", "abandono")
PYMES_REGISTRADAS = 206_773  # thesis §1.1: PYMEs registered by the SII (denominator of Promoción)
PROMOTION_ACTIVITY = "promocion"
# the counts `tally` makes from the entries: companies with a case in the selection that ended so
COUNTED = {"ingresadas": None, "desertaron": LEFT, "desercion": ("desercion",), "abandono": ("abandono",),
           "derivadas": ("derivada",), "cerraron_exportadoras": ("exportadora",)}
KEYS = ("ingresadas", "exportadoras", "evolucionaron", "desertaron", "derivadas", "eficacia", "evolucion",
        "desercion", "promocion", "asistencia")


# -- pure rules -------------------------------------------------------------------------------

def moved_up(desde: str | None, hacia: str | None, order=EVOLUTION_ORDER) -> bool:
    """Whether a segment change is a move up the programme's ladder (a first classification, from
    nothing, is not; nor is a move to or from a segment outside the ladder, rojo_oscuro)."""
    if desde not in order or hacia not in order:
        return False
    return order.index(hacia) > order.index(desde)


def upward_pairs(order=EVOLUTION_ORDER) -> list[tuple[str, str]]:
    return [(a, b) for a in order for b in order if moved_up(a, b, order)]


def ratio(part: int, whole: int, reason: str, digits: int = 4) -> tuple[float | None, str | None]:
    """part / whole, or (None, reason) when there is nothing to divide by."""
    if not whole:
        return None, reason
    return round(part / whole, digits), None


def tally(groups, shared, counted=COUNTED) -> tuple[list[tuple], dict]:
    """Companies from counts of cases (pure). A company with a single case is that case, so
    counting its cases counts it exactly; only the cases of companies with several cases need
    telling apart, and there are few of them.

    - `groups`: (region, segmento, resultado, month, cases) over every entry of the selection;
    - `shared`: (company_id, region, segmento, resultado, month), one row per entry of the
      selection whose company may have other cases (any superset of those companies is right).

    Returns the groups with `companies` in place of `cases` (a company counted once in each
    group, as COUNT(DISTINCT) per group would) and, for each key of `counted`, the companies
    with an entry whose resultado is one of its values (None: any entry), each counted once."""
    cases: dict = {}
    for *key, n in groups:
        cases[tuple(key)] = cases.get(tuple(key), 0) + n
    companies: dict = {}
    for company, *key in shared:
        key = tuple(key)
        cases[key] = cases.get(key, 0) - 1  # now: the cases of single-case companies
        companies.setdefault(key, set()).add(company)
    per_group = [(*key, n + len(companies.get(key, ()))) for key, n in cases.items()]
    result = {}
    for name, outcomes in counted.items():
        chosen = [key for key in cases if outcomes is None or key[2] in outcomes]
        several = set().union(*(companies.get(key, set()) for key in chosen))
        result[name] = sum(cases[key] for key in chosen) + len(several)
    return [g for g in per_group if g[-1]], result


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

def conditions(f: Filters, table=Case) -> list:
    """SQL conditions over Case (or an alias of it) selecting the entries (cases of a company) of the filters."""
    return [table.company_id.is_not(None), *case_conditions(f, table)]


def case_conditions(f: Filters, table=Case) -> list:
    """SQL conditions over Case for the filters alone (region, entry period, executive, rubro)."""
    where = []
    if f.region:
        where.append(table.region == f.region)
    if f.date_from:
        where.append(table.created_at >= local_day_start(f.date_from))
    if f.date_to:
        where.append(table.created_at < local_day_start(f.date_to + timedelta(days=1)))
    if f.ejecutivo:
        where.append(table.ejecutivo == f.ejecutivo)
    if f.rubro:
        where.append(table.rubro == f.rubro)
    return where


def month_sql(s, column):
    """The month of a stored time (UTC) in SQL, computed on every row, so the cheapest exact
    form: a time on its first day on PostgreSQL (date_trunc, not to_char), and on SQLite the
    first 7 characters of the text SQLAlchemy stores ('YYYY-MM-DD HH:MM:SS.ffffff', in UTC, no
    offset: what strftime('%Y-%m') would give). `month_text` reads either."""
    if s.bind.dialect.name == "postgresql":
        return func.date_trunc("month", func.timezone("UTC", column))
    return func.substr(column, 1, 7)


def month_text(value) -> str:
    """'YYYY-MM' from what `month_sql` gives (pure)."""
    return value if isinstance(value, str) else f"{value.year:04d}-{value.month:02d}"


SHARED_CHUNK = 1000  # company ids per IN (…) of the shared rows


def entries(s, f: Filters) -> tuple[list[tuple], dict]:
    """The selection's entries read once and made into companies by `tally`: the cases per
    (region, segmento, resultado, month), a grouped COUNT(*) over a covering index with no
    COUNT(DISTINCT), plus one row per case of the few companies with several cases (a scan of
    the index on company_id finds them; their cases are index probes). `read_session` reads
    all of it in one snapshot."""
    where = conditions(f)
    month = month_sql(s, Case.created_at)
    several = list(s.scalars(select(Case.company_id).where(Case.company_id.is_not(None))
                             .group_by(Case.company_id).having(func.count() > 1)))
    groups = [(region, segment, result, month_text(m), n) for region, segment, result, m, n in s.execute(
        select(Case.region, Case.segmento, Case.resultado, month, func.count())
        .where(*where).group_by(month, Case.region, Case.segmento, Case.resultado))]
    shared = []
    for i in range(0, len(several), SHARED_CHUNK):
        shared += [(company, region, segment, result, month_text(m)) for company, region, segment, result, m in
                   s.execute(select(Case.company_id, Case.region, Case.segmento, Case.resultado, month)
                             .where(*where, Case.company_id.in_(several[i:i + SHARED_CHUNK])))]
    return tally(groups, shared)


def _registered_exporters(f: Filters):
    """The companies of the selection with an export registered after they entered and no entry
    closed as exportadora (those are counted by `tally`): driven by the exports, one probe of the
    company's cases each, not a scan of the cases."""
    entered, closed = aliased(Case), aliased(Case)
    before = exists(select(entered.id).where(entered.company_id == CompanyExport.company_id,
                                             entered.created_at <= CompanyExport.created_at,
                                             *conditions(f, entered)))
    exporter = exists(select(closed.id).where(closed.company_id == CompanyExport.company_id,
                                              closed.resultado == "exportadora", *conditions(f, closed)))
    return select(func.count(distinct(CompanyExport.company_id))).where(
        CompanyExport.company_id.is_not(None), before, ~exporter)


def counts(s, f: Filters, found=None) -> dict:
    """The counts of the selection; `found` is `entries(s, f)` when the caller already has it."""
    _groups, numbers = found or entries(s, f)
    exported = numbers["cerraron_exportadoras"] + s.scalar(_registered_exporters(f))
    up = or_(*[and_(SegmentChange.desde == a, SegmentChange.hacia == b) for a, b in upward_pairs()])
    evolved = s.scalar(select(func.count(distinct(Case.company_id)))
                       .join(SegmentChange, SegmentChange.case_id == Case.id).where(*conditions(f), up))
    return {"ingresadas": numbers["ingresadas"], "exportadoras": exported, "evolucionaron": evolved or 0,
            "desertaron": numbers["desertaron"], "derivadas": numbers["derivadas"],
            "salidas": {"desercion": numbers["desercion"], "abandono": numbers["abandono"]}}


def attendance(s, f: Filters, entered: int) -> dict:
    """Asistencia X = entered companies that attended a session of workshop X / entered."""
    # driven by the attendances, one probe of the company's cases each (not a scan of the cases)
    member = aliased(Case)
    attended = dict(s.execute(
        select(Workshop.key, func.count(distinct(WorkshopRegistration.company_id))).select_from(WorkshopRegistration)
        .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .where(WorkshopRegistration.attended.is_(True), WorkshopSession.cancelled.is_(False),
               exists(select(member.id).where(member.company_id == WorkshopRegistration.company_id,
                                               *conditions(f, member))))
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
    entered = aliased(Case)
    registered = select(CompanyExport.company_id.label("company_id"), CompanyExport.created_at.label("at")) \
        .where(exists(select(entered.id).where(entered.company_id == CompanyExport.company_id,
                                                entered.created_at <= CompanyExport.created_at,
                                                *conditions(f, entered))))
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
    """A session for the aggregate reads of the dashboard, all in one snapshot: the counts of
    several statements add up (engine/programme/indicators.py `entries`). On PostgreSQL its transaction is
    REPEATABLE READ (on SQLite the read transaction already is one snapshot), and JIT compilation
    is off: these queries are costed high (whole-table aggregates) but run in tens of
    milliseconds, and compiling them took longer than running them."""
    session = engine.Session()
    if engine.db.dialect.name == "postgresql":
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        session.execute(text("SET LOCAL jit = off"))
    return session


def check_pymes(pymes_registradas) -> None:
    if isinstance(pymes_registradas, bool) or not isinstance(pymes_registradas, int) or pymes_registradas < 0:
        raise ValueError("El total de PYMEs registradas debe ser un número entero no negativo.")


def indicators(engine, filters: Filters | None = None, pymes_registradas: int = PYMES_REGISTRADAS) -> dict:
    """The indicators of SPEC §6 for the filters: the keys of `KEYS` plus detail keys."""
    f = filters or Filters()
    check_pymes(pymes_registradas)
    with read_session(engine) as s:
        return indicators_in(s, f, pymes_registradas)


def indicators_in(s, f: Filters, pymes_registradas: int, found=None) -> dict:
    """`indicators` in the session `s`; `found` is `entries(s, f)` when the caller already has it."""
    result = counts(s, f, found)
    values, reasons = ratios(result, pymes_registradas)
    result.update(values)
    result["asistencia"] = attendance(s, f, result["ingresadas"])
    result.update(tools(s, f))
    result["motivos"] = reasons
    result["pymes_registradas"] = pymes_registradas
    result["filtros"] = f.as_dict()
    return {**{k: result[k] for k in KEYS}, **{k: v for k, v in result.items() if k not in KEYS}}
