"""The series behind the indicators dashboard's charts, with aggregate SQL (GROUP BY) over the
same selection of entries as engine/programme/indicators.py. The page asks `dashboard()` for the
indicators and the series at once: the cases are read once (`entries`) for both."""

from __future__ import annotations

from sqlalchemy import distinct, func, select

from engine.domain.assignment import EXECUTIVE_CAP
from engine.programme.indicators import (
    PYMES_REGISTRADAS,
    SEGMENT_ORDER,
    Filters,
    check_pymes,
    conditions,
    entries,
    indicators_in,
    read_session,
)
from engine.store.schema import Case, SegmentChange

UNCLASSIFIED = "sin_clasificar"
ONGOING = "en_curso"


def funnel(rows: dict, registered: int, entered: int, exported: int) -> list[dict]:
    """Registered companies, those that entered (were classified), the current segment of each,
    then exporters (pure). The registered that did not enter are figures of their own
    (engine/programme/indicators.py `before_entry`)."""
    stages = [{"etapa": "registradas", "empresas": registered}, {"etapa": "ingresadas", "empresas": entered}]
    stages += [{"etapa": seg, "empresas": rows.get(seg, 0)} for seg in SEGMENT_ORDER]
    stages.append({"etapa": "exportadoras", "empresas": exported})
    return stages


def fill_months(rows: list[dict]) -> list[dict]:
    """Monthly entries with the months in between that had none (pure): the chart's axis is time."""
    if not rows:
        return []
    counts = {r["mes"]: r["empresas"] for r in rows}
    year, month = map(int, rows[0]["mes"].split("-"))
    last = rows[-1]["mes"]
    result = []
    while True:
        key = f"{year:04d}-{month:02d}"
        result.append({"mes": key, "empresas": counts.get(key, 0)})
        if key >= last:
            return result
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def split(groups) -> tuple[dict, list[dict], dict]:
    """Entries by segment, by month and by region and outcome, from one grouped query's rows
    (region, segmento, resultado, month, companies) (pure). A company is counted once in each
    group; one with several cases in the selection may count in more than one group."""
    segments: dict = {}
    months: dict = {}
    outcomes: dict = {}
    for region, segment, result, month, n in groups:
        key = segment or UNCLASSIFIED
        segments[key] = segments.get(key, 0) + n
        months[month] = months.get(month, 0) + n
        by_region = outcomes.setdefault(region or "—", {})
        by_region[result or ONGOING] = by_region.get(result or ONGOING, 0) + n
    return (segments, [{"mes": m, "empresas": n} for m, n in sorted(months.items())],
            {r: dict(sorted(v.items())) for r, v in sorted(outcomes.items())})


def charts(engine, f: Filters, entered: int, exported: int) -> dict:
    with read_session(engine) as s:
        return charts_in(s, f, entered, exported)


def dashboard(engine, f: Filters, pymes_registradas: int = PYMES_REGISTRADAS) -> tuple[dict, dict]:
    """The indicators (engine/programme/indicators.py `indicators`) and the chart series of the filters, in
    one read session that reads the cases once."""
    check_pymes(pymes_registradas)
    with read_session(engine) as s:
        found = entries(s, f)
        result = indicators_in(s, f, pymes_registradas, found)
        return result, charts_in(s, f, result["ingresadas"], result["exportadoras"], found)


def charts_in(s, f: Filters, entered: int, exported: int, found=None) -> dict:
    """`charts` in the session `s`; `found` is `entries(s, f)` when the caller already has it."""
    where = conditions(f)
    company = func.count(distinct(Case.company_id))
    groups, numbers = found or entries(s, f)
    segments, months, outcomes = split(groups)
    transitions = [{"desde": a, "hacia": b, "empresas": n} for a, b, n in s.execute(
        select(SegmentChange.desde, SegmentChange.hacia, company)
        .join(SegmentChange, SegmentChange.case_id == Case.id).where(*where)
        .group_by(SegmentChange.desde, SegmentChange.hacia))]
    transitions.sort(key=lambda t: (-t["empresas"], t["desde"] or "", t["hacia"]))
    # the open cases of each executive: the index ix_cases_executive_load (status, ejecutivo,
    # region, rubro) gives them already grouped, with no read of the table
    load_where = [Case.status == "active", Case.ejecutivo.is_not(None)]
    if f.region:
        load_where.append(Case.region == f.region)
    if f.ejecutivo:
        load_where.append(Case.ejecutivo == f.ejecutivo)
    if f.rubro:
        load_where.append(Case.rubro == f.rubro)
    load = [{"ejecutivo": e, "casos": n} for e, n in s.execute(
        select(Case.ejecutivo, func.count()).where(*load_where).group_by(Case.ejecutivo)
        .order_by(func.count().desc(), Case.ejecutivo).limit(40))]
    return {"embudo": funnel(segments, numbers["registradas"], entered, exported),
            "ingresos_por_mes": fill_months(months),
            "transiciones": transitions, "carga_ejecutivos": {"tope": EXECUTIVE_CAP, "ejecutivos": load},
            "resultados_por_region": outcomes}
