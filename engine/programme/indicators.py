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
- the selection is the cases with a company whose filters match (the case's region, executive,
  rubro, and the period on the day the case was created: the company registered); a company is
  counted once however many cases it has in the selection (*registradas*);
- an *entry* (SPEC §6, manual §3.1): a company enters the programme when it is classified after
  its TPE and interview, i.e. when its case's `segmento` is first set (the first SegmentChange
  row of the case, `desde` NULL; `Case.segmento` is then never empty again). Size-gate
  derivations (micro, grande), companies still without a TPE and those whose TPE awaits the
  interview are not entries: they are counted apart (`antes_del_ingreso`, `entry_stage`);
- *exportadoras*: entered companies whose classified case ended as `exportadora`, or with an
  export registered (CompanyExport) after their classification;
- *evolucionaron*: companies with a segment change upwards in `EVOLUTION_ORDER`
  (rojo < amarillo < verde); the first classification is not a move, and neither is a move to
  rojo_oscuro: thesis §3.1.3 and manual §10 put rojo oscuro outside the CPE ("Empresas
  exportadoras sobre el nivel de los Centros pyme exporta, por lo que no se califica como tal"),
  a company reclassified there is derived, not promoted; the programme's ladder is the one §5.2
  counts ("cuántas suben de categoría de 'amarillo' a 'verde'");
- *desertaron*: entered companies whose classified case ended as `desercion` (6 months without
  activity) or `abandono` (the company stopped answering): both mean it left (SPEC §9);
- Eficacia, Evolución, Deserción and Asistencia divide by the entered companies;
- *exported with CPE tools*: an exporter that, at or before its export (the case closing as
  exportadora or the first registered export), attended a workshop session (attendance taken),
  received advice (a completed task whose form is `asesoria`, or an SRA activity `asesoria…`)
  or took part in a promotion instrument (SRA activity `promocion`: ferias, ruedas de negocio,
  planes sectoriales); *without tools*: none of those before the export, so it exported with
  the information available alone (thesis §3.4.3);
- *workshop effectiveness* (§3.1.3 "fuerte monitoreo"): per workshop, the entered companies
  that attended a session and, of them, those whose export came after that session.
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
    Derivation,
    SegmentChange,
    TaskRow,
    Tpe,
    Workshop,
    WorkshopRegistration,
    WorkshopSession,
)

SEGMENT_ORDER = ("rojo", "amarillo", "verde", "rojo_oscuro")  # every segment, for display
EVOLUTION_ORDER = ("rojo", "amarillo", "verde")  # the programme's ladder: what "moved up" means
LEFT = ("desercion", "abandono")
PYMES_REGISTRADAS = 206_773  # thesis §1.1: PYMEs registered by the SII (denominator of Promoción)
PROMOTION_ACTIVITY = "promocion"
ADVICE_FORM = "asesoria"  # the form of the advice tasks (Asesoría, Asesoría especializada)
ADVICE_ACTIVITY = "asesoria"  # SRA activities whose tipo starts so (asesoria, asesoria_especializada)
SIZE_GATE = ("micro", "grande")  # derivation motivos of the size gate (engine/domain/derivation.py)
# before the entry, one stage per company, the first that applies in this order
PRE_ENTRY = ("micro", "grande", "en_evaluacion", "sin_tpe", "cerrada_sin_ingresar")
# the counts `tally` makes from the entries: companies with a case in the selection that is
# (entered: classified, or any) and ended as one of the outcomes (None: ended or not)
COUNTED = {"registradas": (False, None), "ingresadas": (True, None), "desertaron": (True, LEFT),
           "desercion": (True, ("desercion",)), "abandono": (True, ("abandono",)),
           "derivadas": (True, ("derivada",)), "cerraron_exportadoras": (True, ("exportadora",))}
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


def rose_above_first(segments, order=EVOLUTION_ORDER) -> bool:
    """Whether a case's segments, in time order, reach one above its first classification (pure: the
    rule `evolved_companies` asks in SQL; thesis §3.4.3 "Nº de pyme que subió de estado")."""
    if not segments or segments[0] not in order:
        return False
    return any(moved_up(segments[0], later, order) for later in segments[1:])


def evolved_companies(*where):
    """The companies (distinct `Case.company_id`) of the cases matching `where` that reached a segment above
    their case's first classification (thesis §3.4.3 "Nº de pyme que subió de estado"): a company that fell
    and came back to where it entered (amarillo → rojo → amarillo) did not rise."""
    first, later = aliased(SegmentChange), aliased(SegmentChange)
    up = or_(*[and_(first.hacia == a, later.hacia == b) for a, b in upward_pairs()])
    return (select(Case.company_id).distinct()
            .join(first, and_(first.case_id == Case.id, first.desde.is_(None)))
            .join(later, later.case_id == Case.id).where(*where, up))


def ratio(part: int, whole: int, reason: str, digits: int = 4) -> tuple[float | None, str | None]:
    """part / whole, or (None, reason) when there is nothing to divide by."""
    if not whole:
        return None, reason
    return round(part / whole, digits), None


def counts_in(rule: tuple, key: tuple) -> bool:
    """Whether an entry group (region, segmento, resultado, month) counts for a rule of COUNTED (pure)."""
    entered, outcomes = rule
    return (not entered or bool(key[1])) and (outcomes is None or key[2] in outcomes)


def entry_stage(segmento: str | None, size_gate: str | None, has_tpe: bool, open_case: bool) -> str:
    """Where a case stands with respect to the entry (pure, SPEC §6, manual §3.1): `ingresada` once
    classified; before that `micro`/`grande` (derived at the size gate), `sin_tpe` (open, the
    company has no TPE yet), `en_evaluacion` (open, TPE answered, not classified yet), or
    `cerrada_sin_ingresar` (ended, or failed, without classification nor size gate)."""
    if segmento:
        return "ingresada"
    if size_gate in SIZE_GATE:
        return size_gate
    if not open_case:
        return "cerrada_sin_ingresar"
    return "en_evaluacion" if has_tpe else "sin_tpe"


def company_stage(stages) -> str:
    """A company's stage from its cases' (`entry_stage`) (pure): entered if any case entered,
    else the first of PRE_ENTRY that one of its cases is in."""
    stages = set(stages)
    if "ingresada" in stages:
        return "ingresada"
    return next(s for s in PRE_ENTRY if s in stages)


def pre_entry(stages_by_company: dict) -> dict:
    """{stage: companies} over PRE_ENTRY for {company: [stage of each case]} (pure); entered
    companies are not counted."""
    result = dict.fromkeys(PRE_ENTRY, 0)
    for stages in stages_by_company.values():
        stage = company_stage(stages)
        if stage != "ingresada":
            result[stage] += 1
    return result


def tally(groups, shared, counted=COUNTED) -> tuple[list[tuple], dict]:
    """Companies from counts of cases (pure). A company with a single case is that case, so
    counting its cases counts it exactly; only the cases of companies with several cases need
    telling apart, and there are few of them.

    - `groups`: (region, segmento, resultado, month, cases) over every entry of the selection;
    - `shared`: (company_id, region, segmento, resultado, month), one row per entry of the
      selection whose company may have other cases (any superset of those companies is right).

    Returns the groups with `companies` in place of `cases` (a company counted once in each
    group, as COUNT(DISTINCT) per group would) and, for each key of `counted`, the companies
    with an entry that counts for its rule (`counts_in`), each counted once."""
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
    for name, rule in counted.items():
        chosen = [key for key in cases if counts_in(rule, key)]
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


def entered_conditions(f: Filters, table=Case) -> list:
    """`conditions` and classified: the selection's entries that entered the programme (a segment
    set; an empty text is none: the engine records no segment change for it)."""
    return [*conditions(f, table), table.segmento.is_not(None), table.segmento != ""]


def _classified_before(f: Filters, company, moment):
    """SQL: the company has a case of the selection classified at or before `moment`."""
    entered = aliased(Case)
    return exists(select(entered.id).join(SegmentChange, SegmentChange.case_id == entered.id)
                  .where(entered.company_id == company, SegmentChange.at <= moment, *conditions(f, entered)))


def _registered_exporters(f: Filters):
    """The companies of the selection with an export registered after they entered (were
    classified) and no entered case closed as exportadora (those are counted by `tally`): driven
    by the exports, one probe of the company's cases each, not a scan of the cases."""
    closed = aliased(Case)
    exporter = exists(select(closed.id).where(closed.company_id == CompanyExport.company_id,
                                              closed.resultado == "exportadora", *entered_conditions(f, closed)))
    return select(func.count(distinct(CompanyExport.company_id))).where(
        CompanyExport.company_id.is_not(None),
        _classified_before(f, CompanyExport.company_id, CompanyExport.created_at), ~exporter)


def exporters(f: Filters):
    """Subquery (company_id, at): each exporter of the selection and the moment of its export
    (its entered case closing as exportadora, or its first export registered after its entry)."""
    closed = select(Case.company_id.label("company_id"), Case.ended_at.label("at")) \
        .where(*entered_conditions(f), Case.resultado == "exportadora")
    registered = select(CompanyExport.company_id.label("company_id"), CompanyExport.created_at.label("at")) \
        .where(CompanyExport.company_id.is_not(None),
               _classified_before(f, CompanyExport.company_id, CompanyExport.created_at))
    moments = union_all(closed, registered).subquery()
    return select(moments.c.company_id, func.min(moments.c.at).label("at")) \
        .group_by(moments.c.company_id).subquery()


def counts(s, f: Filters, found=None) -> dict:
    """The counts of the selection; `found` is `entries(s, f)` when the caller already has it."""
    _groups, numbers = found or entries(s, f)
    exported = numbers["cerraron_exportadoras"] + s.scalar(_registered_exporters(f))
    evolved = s.scalar(select(func.count()).select_from(evolved_companies(*conditions(f)).subquery()))
    return {"ingresadas": numbers["ingresadas"], "exportadoras": exported, "evolucionaron": evolved or 0,
            "desertaron": numbers["desertaron"], "derivadas": numbers["derivadas"],
            "salidas": {"desercion": numbers["desercion"], "abandono": numbers["abandono"]},
            "registradas": numbers["registradas"]}


def before_entry(s, f: Filters) -> dict:
    """The companies of the selection that have not entered, by stage (`pre_entry`): read from
    their unclassified cases only (a size-gate derivation, a TPE on record, the case's status)."""
    entered = aliased(Case)
    size_gate = select(Derivation.motivo).where(Derivation.case_id == Case.id, Derivation.motivo.in_(SIZE_GATE)) \
        .order_by(Derivation.id).limit(1).scalar_subquery()
    has_tpe = exists(select(Tpe.id).where(Tpe.company_id == Case.company_id))
    rows = s.execute(select(Case.company_id, Case.status, size_gate, has_tpe).where(
        *conditions(f), or_(Case.segmento.is_(None), Case.segmento == ""),
        ~exists(select(entered.id).where(entered.company_id == Case.company_id, *entered_conditions(f, entered)))))
    stages: dict = {}
    for company, status, gate, tpe in rows:
        stages.setdefault(company, []).append(entry_stage(None, gate, bool(tpe), status == "active"))
    return pre_entry(stages)


def attendance(s, f: Filters, entered: int) -> dict:
    """Asistencia X = entered companies that attended a session of workshop X / entered; and the
    workshop's effectiveness: of those attendees, the companies that exported after the session."""
    # driven by the attendances, one probe of the company's cases each (not a scan of the cases)
    member = aliased(Case)
    done = exporters(f)
    later = func.count(distinct(case((done.c.at >= WorkshopSession.starts_at, WorkshopRegistration.company_id))))
    attended = {key: (n, m) for key, n, m in s.execute(
        select(Workshop.key, func.count(distinct(WorkshopRegistration.company_id)), later)
        .select_from(WorkshopRegistration)
        .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
        .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
        .outerjoin(done, done.c.company_id == WorkshopRegistration.company_id)
        .where(WorkshopRegistration.attended.is_(True), WorkshopSession.cancelled.is_(False),
               exists(select(member.id).where(member.company_id == WorkshopRegistration.company_id,
                                               *entered_conditions(f, member))))
        .group_by(Workshop.key))}
    result = {}
    for key, name in s.execute(select(Workshop.key, Workshop.name).where(Workshop.active.is_(True))
                               .order_by(Workshop.position, Workshop.id)):
        came, exported = attended.get(key, (0, 0))
        value, reason = ratio(came, entered, NO_ENTRIES)
        effect, why = ratio(exported, came, "ninguna empresa ingresada asistió")
        result[key] = {"taller": name, "asistieron": came, "valor": value, "motivo": reason,
                       "exportaron_despues": exported, "efectividad": effect, "motivo_efectividad": why}
    return result


def tools_used(company, moment):
    """SQL: the company used a CPE tool at or before `moment` (see the module's definitions)."""
    promoted = exists(select(Activity.id).where(
        Activity.company_id == company, Activity.created_at <= moment,
        or_(Activity.tipo == PROMOTION_ACTIVITY, Activity.tipo.startswith(ADVICE_ACTIVITY, autoescape=True))))
    of_company = aliased(Case)
    advised = exists(select(TaskRow.id).join(of_company, of_company.id == TaskRow.case_id).where(
        of_company.company_id == company, TaskRow.form_key == ADVICE_FORM, TaskRow.state == "completed",
        TaskRow.completed_at <= moment))
    trained = exists(select(WorkshopRegistration.id)
                     .join(WorkshopSession, WorkshopSession.id == WorkshopRegistration.session_id)
                     .where(WorkshopRegistration.company_id == company,
                            WorkshopRegistration.attended.is_(True), WorkshopSession.cancelled.is_(False),
                            WorkshopSession.starts_at <= moment))
    return or_(promoted, advised, trained)


def tools(s, f: Filters) -> dict:
    """Exporters with and without CPE tools before their export (see the module's definitions)."""
    done = exporters(f)
    total, with_tools = s.execute(select(func.count(), func.count(case((tools_used(done.c.company_id, done.c.at), 1))))
                                  .select_from(done)).one()
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
    result["antes_del_ingreso"] = before_entry(s, f)
    result.update(tools(s, f))
    result["motivos"] = reasons
    result["pymes_registradas"] = pymes_registradas
    result["filtros"] = f.as_dict()
    return {**{k: result[k] for k in KEYS}, **{k: v for k, v in result.items() if k not in KEYS}}
