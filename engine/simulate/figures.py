"""The figures of a simulation: each shard reduces its cases to counts and lists of days
(`shard_summary`), and `figures` merges the shards' summaries.

The indicators follow the live ones (engine/programme/indicators.py, SPEC §6): a company enters
when its case is classified (its `segmento` first set); size-gate derivations (micro, grande),
companies still without a TPE, those awaiting their interview and those that ended before
classification are counted apart (`entry_stage`); Eficacia, Evolución and Deserción divide by
the entered companies, and their numerators count entered companies only (every simulated
company has one case)."""

from __future__ import annotations

import math
import statistics
from collections import Counter

from sqlalchemy import func, select

from engine.basics.clock import as_utc
from engine.programme.indicators import LEFT, PRE_ENTRY, SIZE_GATE, entry_stage, rose_above_first
from engine.simulate.config import RESULTS
from engine.store.schema import Case, CaseEvent, Derivation, Tpe


def shard_summary(sim, companies, cfg, end, work, counts) -> dict:
    """What the figures need from one shard, reduced case by case while the rows of its throwaway
    database stream past (the memory it takes does not grow with the cases' data)."""
    by_case = {c.case_id: c for c in companies.values() if c.case_id is not None}
    summary = {"results": Counter(), "segments": Counter(), "first_segments": Counter(), "executives": Counter(),
               "durations": [], "stay": [], "exported": 0, "evolved": 0, "stages": Counter(), "left": 0,
               "derived": 0,
               "errors": sorted({c.failed for c in companies.values() if c.failed}),
               "work": dict(work), "counts": dict(counts)}
    order = tuple(cfg["orden_segmentos"])
    seen = set()
    with sim.Session() as s:
        gates = dict(s.execute(select(Derivation.case_id, Derivation.motivo)
                               .where(Derivation.motivo.in_(SIZE_GATE))).all())
        tested = set(s.scalars(select(Tpe.company_id)))
        query = select(Case.id, Case.status, Case.resultado, Case.segmento, Case.ejecutivo, Case.data,
                       Case.created_at, Case.ended_at, Case.company_id) \
            .order_by(Case.id).execution_options(yield_per=2000)
        for row in s.execute(query):
            company = by_case.get(row.id)
            if company is None:
                continue
            seen.add(row.id)
            stage = entry_stage(row.segmento, gates.get(row.id), row.company_id in tested,
                                row.status == "active")
            _count(summary, company, row, order, end, stage)
        summary["steps"] = dict(s.execute(select(CaseEvent.bpmn_id, func.count())
                                          .where(CaseEvent.kind.in_(("task_completed", "step_completed")),
                                                 CaseEvent.bpmn_id.is_not(None))
                                          .group_by(CaseEvent.bpmn_id)).all())
    for company in companies.values():
        if company.case_id not in seen:  # never started (its start failed)
            _count(summary, company, None, order, end, entry_stage(None, None, False, False))
    return summary


def _count(summary, company, row, order, end, stage) -> None:
    status = row.status if row is not None else None
    segments = company.segments
    if status is None or company.failed or status in ("error", "cancelled"):
        summary["results"]["error"] += 1
    elif status == "completed":
        summary["results"][row.resultado or "sin_resultado"] += 1
    else:
        summary["results"]["activa"] += 1
    summary["segments"][(row.segmento if row is not None else None) or "sin_segmento"] += 1
    summary["first_segments"][segments[0] if segments else "sin_segmento"] += 1
    summary["stages"][stage] += 1
    if row is None:
        return
    if row.ejecutivo:
        summary["executives"][row.ejecutivo] += 1
    began, ended = as_utc(row.created_at), as_utc(row.ended_at)
    if ended is not None:
        summary["durations"].append((ended - began).total_seconds() / 86400)
    summary["stay"].append(((ended or end) - began).total_seconds() / 86400)
    if stage != "ingresada":
        return  # the indicators below count entered companies only
    if row.resultado == "exportadora" or _positive((row.data or {}).get("exportaciones")):
        summary["exported"] += 1
    if row.resultado in LEFT:
        summary["left"] += 1
    elif row.resultado == "derivada":
        summary["derived"] += 1
    if rose_above_first(segments, order):  # as the live count
        summary["evolved"] += 1


def figures(parts, n, cfg) -> dict:
    """The figures of the whole cohort from the shards' summaries (independent of their order)."""
    results, segments, first_segments, executives = Counter(), Counter(), Counter(), Counter()
    steps, work, counts, stages = Counter(), Counter(), Counter(), Counter()
    durations, stay, exported, evolved, left, derived, errors = [], [], 0, 0, 0, 0, set()
    for part in parts:
        for total, key in ((results, "results"), (segments, "segments"), (first_segments, "first_segments"),
                           (executives, "executives"), (steps, "steps"), (work, "work"), (counts, "counts"),
                           (stages, "stages")):
            total.update(part[key])
        durations += part["durations"]
        stay += part["stay"]
        exported += part["exported"]
        evolved += part["evolved"]
        left += part["left"]
        derived += part["derived"]
        errors.update(part["errors"])
    errors = sorted(errors)
    entered = stages.get("ingresada", 0)
    results = {**{k: results.get(k, 0) for k in RESULTS},
               **{k: v for k, v in sorted(results.items()) if k not in RESULTS}}
    assigned = {k: v for k, v in work.items() if not k.startswith("pool:")}
    pool = sum(v for k, v in work.items() if k.startswith("pool:"))
    loads = list(assigned.values())
    return {
        "resultados": results,
        "segmentos": dict(sorted(segments.items())),
        "segmentos_iniciales": dict(sorted(first_segments.items())),
        "duracion_dias": {"casos_terminados": len(durations), "mediana": _round(_median(durations)),
                          "p90": _round(_quantile(durations, 0.9)),
                          "permanencia_media": _round(statistics.fmean(stay) if stay else None)},
        "carga_ejecutivos": {
            "ejecutivos_con_tareas": len(assigned), "tareas_asignadas": sum(loads), "tareas_en_pool": pool,
            "tareas_por_ejecutivo_media": _round(statistics.fmean(loads) if loads else None),
            "tareas_por_ejecutivo_max": max(loads, default=0),
            "casos_por_ejecutivo_max": max(executives.values(), default=0),
            "tareas_por_ejecutivo": dict(sorted(assigned.items())),
        },
        "pasos": dict(sorted(steps.items())),
        "indicadores": {
            "registradas": n, "ingresadas": entered, **{k: stages.get(k, 0) for k in PRE_ENTRY},
            "exportaron": exported, "evolucionaron": evolved, "desertaron": left, "derivadas": derived,
            "eficacia": _ratio(exported, entered), "evolucion": _ratio(evolved, entered),
            "desercion": _ratio(left, entered),
            "promocion": _ratio(entered, cfg["pymes_registradas"], 6),
        },
        "talleres": _workshops(parts),
        "personas": {"tareas_completadas": counts["tareas_completadas"],
                     "tareas_canceladas": counts["tareas_canceladas"],
                     "empresas_que_dejaron_de_responder": counts["abandonos"],
                     "errores": len(errors), "primeros_errores": errors[:5]},
    }


def _workshops(parts) -> dict:
    """Sessions, registrations and attendance of the simulated workshops (workshops.py), summed
    over the shards; when the run simulated none, `simulados` is false and the figures None."""
    shards = [p["workshops"] for p in parts if p.get("workshops") is not None]
    keys = ("sesiones", "inscripciones", "asistencias", "sin_cupo")
    if not shards:
        return {"simulados": False, **dict.fromkeys(keys), "asistencia": None}
    total = Counter()
    for counts in shards:
        total.update(counts)
    return {"simulados": True, **{k: total.get(k, 0) for k in keys},
            "asistencia": _ratio(total.get("asistencias", 0), total.get("inscripciones", 0))}


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _ratio(part, whole, digits=4):
    return round(part / whole, digits) if whole else None


def _round(value):
    return round(value, 1) if value is not None else None


def _median(values):
    return statistics.median(values) if values else None


def _quantile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]
