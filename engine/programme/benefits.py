"""Benefit extracts: the lists of companies entitled to a partner's benefit, per region and
month (manual §8: the Correos de Chile discount of 15 % on postal shipments up to 30 kg for
the programme's MiPyme clients; each region's list is extracted monthly from the registry and
consolidated centrally before it is sent to Correos).

Who is entitled (`entitled`, a pure rule): a company in the CPE programme — its latest
classified case put it in an entry segment (`amarillo`, `verde`) and it has not left the
programme (derived, deserted, abandoned) nor been cancelled — and, for a persona natural, only
with the signed authorisation to hand its data to the partner (`consentimiento_datos`). A
company whose kind of person is unknown is treated like a persona natural.

The rows are kept as extracted, so a later download gives exactly what the process produced;
one extract per benefit, period and region (a re-run of the same month changes nothing).
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from engine.basics.clock import as_utc
from engine.domain.regions import REGIONS
from engine.store.schema import BenefitExtract, Case, Company, DataAccess

PROGRAMME_SEGMENTS = ("amarillo", "verde")
LEFT_PROGRAMME = ("derivada", "desercion", "abandono")
BENEFITS = {"correos_chile": "Correos de Chile: 15 % de descuento en envíos postales"}
ROW_FIELDS = ("rut", "razon_social", "tipo_persona", "region", "comuna", "rubro", "contacto_nombre",
              "contacto_email", "contacto_telefono", "segmento", "ejecutivo", "consentimiento_datos")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def check_period(value) -> str:
    if not isinstance(value, str) or not _PERIOD.match(value.strip()):
        raise ValueError("debe ser un mes AAAA-MM (p. ej. 2026-04)")
    return value.strip()


def check_benefit(value) -> str:
    if value not in BENEFITS:
        raise ValueError(f"debe ser uno de: {', '.join(BENEFITS)}")
    return value


def entitled(tipo_persona, consentimiento_datos, segmento, resultado, status) -> bool:
    """Whether a company with these facts (of its latest classified case) gets the benefit."""
    in_programme = (segmento in PROGRAMME_SEGMENTS and resultado not in LEFT_PROGRAMME
                    and status != "cancelled")
    may_share = tipo_persona == "juridica" or consentimiento_datos is True
    return in_programme and may_share


def beneficiaries(session) -> dict[str, list[dict]]:
    """The entitled companies now, by region (every region present, possibly empty)."""
    latest = (select(Case.company_id, func.max(Case.id).label("case_id"))
              .where(Case.company_id.is_not(None), Case.segmento.is_not(None))
              .group_by(Case.company_id).subquery())
    rows = session.execute(
        select(Company, Case.segmento, Case.resultado, Case.status, Case.ejecutivo, Case.region)
        .join(latest, latest.c.company_id == Company.id).join(Case, Case.id == latest.c.case_id)
        .order_by(Company.razon_social, Company.rut)).all()
    by_region: dict[str, list[dict]] = {code: [] for code in REGIONS}
    for company, segmento, resultado, status, ejecutivo, case_region in rows:
        region = company.region or case_region
        if region not in by_region:
            continue
        if not entitled(company.tipo_persona, company.consentimiento_datos, segmento, resultado, status):
            continue
        row = {name: getattr(company, name, None) for name in ROW_FIELDS}
        row.update(region=region, segmento=segmento, ejecutivo=ejecutivo)
        by_region[region].append(row)
    return by_region


def extract(session, beneficio: str, periodo: str, case_id, now) -> dict:
    """Store the extract of `periodo` for every region that has none yet; returns one entry per
    region with its count and whether it was created now (False: it already existed)."""
    existing = {row.region: row for row in session.scalars(
        select(BenefitExtract).where(BenefitExtract.beneficio == beneficio, BenefitExtract.periodo == periodo))}
    lists = beneficiaries(session) if len(existing) < len(REGIONS) else {}
    regions = []
    for code in REGIONS:
        row = existing.get(code)
        created = row is None
        if created:
            row = BenefitExtract(beneficio=beneficio, periodo=periodo, region=code, case_id=case_id,
                                 filas=lists[code], created_at=now)
            session.add(row)
            session.flush()
        regions.append({"region": code, "empresas": len(row.filas or []), "extracto_id": row.id, "nuevo": created})
    return {"beneficio": beneficio, "periodo": periodo, "total": sum(r["empresas"] for r in regions),
            "nuevos": sum(1 for r in regions if r["nuevo"]), "regiones": regions}


# -- reading (the web page) ---------------------------------------------------------------

def _summary(row: BenefitExtract, downloads: list[dict]) -> dict:
    filas = row.filas or []
    return {"id": row.id, "beneficio": row.beneficio, "periodo": row.periodo, "region": row.region,
            "case_id": row.case_id, "created_at": as_utc(row.created_at), "empresas": len(filas),
            "naturales": sum(1 for f in filas if f.get("tipo_persona") != "juridica"), "descargas": downloads}


def _downloads(session, ids) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    if not ids:
        return found
    rows = session.scalars(select(DataAccess).where(
        DataAccess.subject == "benefit_extract", DataAccess.action == "download",
        DataAccess.subject_id.in_([str(i) for i in ids])).order_by(DataAccess.at.desc(), DataAccess.id.desc()))
    for row in rows:
        found.setdefault(row.subject_id, []).append({"actor": row.actor, "at": as_utc(row.at),
                                                     "formato": (row.detail or {}).get("formato")})
    return found


def listing(engine, region: str | None = None, beneficio: str | None = None, limit_periods: int = 24) -> list[dict]:
    """Extracts by period, newest first: [{"periodo", "total", "extractos": [...]}]; `region`
    limits them to one region (a regional head's view)."""
    with engine.Session() as s:
        periods_query = select(BenefitExtract.periodo).distinct().order_by(BenefitExtract.periodo.desc())
        if beneficio:
            periods_query = periods_query.where(BenefitExtract.beneficio == beneficio)
        periods = list(s.scalars(periods_query.limit(limit_periods)))
        if not periods:
            return []
        query = select(BenefitExtract).where(BenefitExtract.periodo.in_(periods))
        if region:
            query = query.where(BenefitExtract.region == region)
        if beneficio:
            query = query.where(BenefitExtract.beneficio == beneficio)
        rows = s.scalars(query).all()
        downloads = _downloads(s, [r.id for r in rows])
        order = list(REGIONS)
        result = []
        for periodo in periods:
            items = sorted((r for r in rows if r.periodo == periodo),
                           key=lambda r: (r.beneficio, order.index(r.region) if r.region in order else 99))
            extracts = [_summary(r, downloads.get(str(r.id), [])) for r in items]
            if extracts:
                result.append({"periodo": periodo, "total": sum(e["empresas"] for e in extracts),
                               "extractos": extracts})
        return result


def get(engine, extract_id: int) -> dict | None:
    """One extract with its rows (None if there is no such extract)."""
    with engine.Session() as s:
        row = s.get(BenefitExtract, extract_id)
        if row is None:
            return None
        item = _summary(row, _downloads(s, [row.id]).get(str(row.id), []))
        item["filas"] = list(row.filas or [])
        return item
