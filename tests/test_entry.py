"""Issue 16 item 3: who entered the programme.

SPEC §6 and the thesis's manual §3.1: a company enters the CPE programme when it is classified
after its TPE and interview; micro and grande companies are not target users (note to §3.1.3,
manual §10) and a company still waiting for its TPE has not entered. Eficacia, Evolución,
Deserción and Asistencia (§3.4.3) divide by the entered companies.
"""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import func, select

from engine.assembly import build_engine
from engine.programme import workshops as W
from engine.programme.indicators import (
    LEFT,
    PRE_ENTRY,
    company_stage,
    entry_stage,
    indicators,
    pre_entry,
)
from engine.simulate import simulate
from engine.store.schema import Case, CompanyExport, Derivation, SegmentChange, Tpe

from . import profiles as P
from .driver import Driver

EXPORT = {"resultado_seguimiento": "exporto",
          "exportacion": {"pais": "Perú", "fecha": "2026-07-01", "monto_usd": 15000, "producto": "Vino"}}
NOTHING = {"resultado_seguimiento": "sin_actividad"}


# -- pure rules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("segmento,gate,tpe,open_case,stage", [
    ("amarillo", None, True, True, "ingresada"),
    ("rojo", None, True, False, "ingresada"),  # derived after classification: it entered
    ("rojo_oscuro", None, True, False, "ingresada"),
    (None, "micro", False, False, "micro"),
    (None, "grande", True, False, "grande"),  # a TPE on record from before does not make it enter
    (None, "rojo", True, False, "cerrada_sin_ingresar"),  # not a size-gate motivo
    (None, None, False, True, "sin_tpe"),
    (None, None, True, True, "en_evaluacion"),
    (None, None, False, False, "cerrada_sin_ingresar"),  # e.g. abandono before its TPE
    (None, None, True, False, "cerrada_sin_ingresar"),
    ("", None, True, True, "en_evaluacion"),
])
def test_entry_stage(segmento, gate, tpe, open_case, stage):
    assert entry_stage(segmento, gate, tpe, open_case) == stage


@pytest.mark.parametrize("stages,expected", [
    (["ingresada", "micro"], "ingresada"),
    (["sin_tpe", "micro"], "micro"),
    (["sin_tpe", "en_evaluacion"], "en_evaluacion"),
    (["cerrada_sin_ingresar", "sin_tpe"], "sin_tpe"),
    (["cerrada_sin_ingresar"], "cerrada_sin_ingresar"),
    (["grande", "micro"], "micro"),
])
def test_a_company_with_several_cases_has_one_stage(stages, expected):
    assert company_stage(stages) == expected


def test_pre_entry_counts_companies_not_entered():
    assert pre_entry({}) == dict.fromkeys(PRE_ENTRY, 0)
    assert pre_entry({1: ["ingresada"], 2: ["micro"], 3: ["sin_tpe", "ingresada"], 4: ["sin_tpe"],
                      5: ["grande", "sin_tpe"]}) == {"micro": 1, "grande": 1, "en_evaluacion": 0, "sin_tpe": 1,
                                                     "cerrada_sin_ingresar": 0}


# -- every stage through the engine ---------------------------------------------------------------

# company: (stage, exported, deserted, derived after entering)
STAGES = {
    "sin_tpe": ("sin_tpe", False, False, False),
    "en_evaluacion": ("en_evaluacion", False, False, False),
    "micro": ("micro", False, False, False),
    "grande": ("grande", False, False, False),
    "rojo": ("ingresada", False, False, True),
    "amarillo": ("ingresada", False, False, False),
    "verde": ("ingresada", False, False, False),
    "rojo_oscuro": ("ingresada", False, False, True),
    "exportada": ("ingresada", True, False, False),
    "desertada": ("ingresada", False, True, False),
}


@pytest.fixture
def every_stage(deployed, clock):
    """One company in each stage of the entry (cpe_actual, Región Metropolitana)."""
    e = deployed
    e.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    e.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    W.seed_catalogue(e)
    d = Driver(e, clock, "cpe_actual")
    c = {"en_evaluacion": d.start(rut="76.222.222-1"),
         "micro": d.start(rut="76.333.333-7", ventas_uf=1500), "grande": d.start(rut="76.444.444-2", ventas_uf=150000),
         "rojo": d.start(rut="76.555.555-8"), "amarillo": d.start(rut="76.666.666-3"),
         "verde": d.start(rut="76.777.777-9"), "rojo_oscuro": d.start(rut="76.888.888-4", ventas_uf=80000),
         "exportada": d.start(rut="76.999.999-K"), "desertada": d.start(rut="77.111.111-4")}
    d.do(c["en_evaluacion"], "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    d.through_interview(c["rojo"], P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    d.through_interview(c["amarillo"], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    d.through_interview(c["verde"], P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    d.through_interview(c["rojo_oscuro"], P.EXPORTADORA_REGULAR, P.ENTREVISTA_ALTA)
    for key in ("exportada", "desertada"):
        d.through_interview(c[key], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
        d.train(c[key])
        d.do(c[key], "Task_Asesoria", {"plan_negocios": "completo"})
        d.reevaluate(c[key], P.VINA_AMARILLO)
    d.wait_months()
    d.do(c["exportada"], "Task_Seguimiento", EXPORT)
    d.do(c["desertada"], "Task_Seguimiento", NOTHING)
    d.wait_months()
    d.do(c["desertada"], "Task_Seguimiento", NOTHING)
    c["sin_tpe"] = d.start(rut="76.111.111-6")  # registered last: a company silent for 6 months leaves (abandono)
    segments = {k: e.case(v)["segmento"] for k, v in c.items()}
    assert {k: segments[k] for k in ("rojo", "amarillo", "verde", "rojo_oscuro")} == {
        "rojo": "rojo", "amarillo": "amarillo", "verde": "verde", "rojo_oscuro": "rojo_oscuro"}
    results = {k: e.case(v)["resultado"] for k, v in c.items()}
    assert (results["micro"], results["grande"], results["exportada"], results["desertada"]) == (
        "derivada", "derivada", "exportadora", "desercion")
    return e, c


def test_every_stage_is_counted_once_in_its_figure(every_stage):
    """SPEC §6 / manual §3.1: only classified companies are entries; the size gate and the
    companies still without a TPE (or awaiting the interview) are their own figures."""
    engine, c = every_stage
    with engine.Session() as s:  # the stage of each case, from its rows
        for key, case_id in c.items():
            row = s.get(Case, case_id)
            gate = s.scalar(select(Derivation.motivo).where(Derivation.case_id == case_id,
                                                            Derivation.motivo.in_(("micro", "grande"))))
            tpe = s.scalar(select(func.count()).select_from(Tpe).where(Tpe.company_id == row.company_id)) > 0
            assert entry_stage(row.segmento, gate, tpe, row.status == "active") == STAGES[key][0], key
    entered = [k for k, v in STAGES.items() if v[0] == "ingresada"]
    exported = sum(v[1] for v in STAGES.values())
    deserted = sum(v[2] for v in STAGES.values())
    result = indicators(engine)
    assert result["registradas"] == len(STAGES)
    assert result["ingresadas"] == len(entered) == 6
    assert result["antes_del_ingreso"] == {stage: sum(v[0] == stage for v in STAGES.values()) for stage in PRE_ENTRY}
    assert (result["exportadoras"], result["desertaron"], result["derivadas"]) == (
        exported, deserted, sum(v[3] for v in STAGES.values()))
    assert result["eficacia"] == round(exported / 6, 4) and result["desercion"] == round(deserted / 6, 4)
    assert result["evolucionaron"] == 0 and result["evolucion"] == 0.0
    assert result["promocion"] == round(6 / 206773, 6)
    # the two trained companies attended Taller 1, 2, 3 Exporta: divided by the 6 entered, not the 10 registered
    assert {k: item["valor"] for k, item in result["asistencia"].items() if item["valor"]} == {
        "taller_123_exporta": round(2 / 6, 4)}


# -- a simulated cohort, counted by hand ----------------------------------------------------------

def by_hand(url) -> dict:
    """The indicators of a kept simulation database, counted case by case in Python from the
    rows (segment history, derivations, TPEs, exports), with the entry definition of SPEC §6."""
    run = build_engine(url=url)
    try:
        with run.Session() as s:
            first_segment = {case_id: at for case_id, at in s.execute(
                select(SegmentChange.case_id, func.min(SegmentChange.at)).group_by(SegmentChange.case_id))}
            ups = {case_id for case_id, a, b in s.execute(select(SegmentChange.case_id, SegmentChange.desde,
                                                                  SegmentChange.hacia))
                   if a in P_ORDER and b in P_ORDER and P_ORDER.index(b) > P_ORDER.index(a)}
            gates = dict(s.execute(select(Derivation.case_id, Derivation.motivo)
                                   .where(Derivation.motivo.in_(("micro", "grande")))).all())
            tested = set(s.scalars(select(Tpe.company_id)))
            exports = {}
            for case_id, at in s.execute(select(CompanyExport.case_id, CompanyExport.created_at)):
                exports.setdefault(case_id, []).append(at)
            counts = dict.fromkeys(("registradas", "ingresadas", "exportaron", "evolucionaron", "desertaron",
                                    "derivadas", *PRE_ENTRY), 0)
            for case in s.scalars(select(Case)):
                counts["registradas"] += 1
                if case.id not in first_segment:
                    if gates.get(case.id) in ("micro", "grande"):
                        counts[gates[case.id]] += 1
                    elif case.status != "active":
                        counts["cerrada_sin_ingresar"] += 1
                    else:
                        counts["en_evaluacion" if case.company_id in tested else "sin_tpe"] += 1
                    continue
                counts["ingresadas"] += 1
                entered_at = first_segment[case.id]
                counts["exportaron"] += case.resultado == "exportadora" or any(
                    at >= entered_at for at in exports.get(case.id, []))
                counts["evolucionaron"] += case.id in ups
                counts["desertaron"] += case.resultado in LEFT
                counts["derivadas"] += case.resultado == "derivada"
        return counts
    finally:
        run.db.dispose()


P_ORDER = ("rojo", "amarillo", "verde", "rojo_oscuro")
COHORT = 150  # the unit test; the 2 000-case check is `test_simulated_cohort_2000` (marked slow)


def check_cohort(deployed, tmp_path, cases, process_id="cpe_actual", seed=16):
    url = f"sqlite:///{tmp_path}/sim-{process_id}.sqlite3"
    result = simulate(deployed, process_id, cases, seed=seed, workers=1, horizon_months=18, database_url=url)
    figures = result["indicadores"]
    hand = by_hand(url)
    assert hand["registradas"] == cases
    assert {k: figures[k] for k in hand} == hand
    entered = hand["ingresadas"]
    assert figures["eficacia"] == round(hand["exportaron"] / entered, 4)
    assert figures["evolucion"] == round(hand["evolucionaron"] / entered, 4)
    assert figures["desercion"] == round(hand["desertaron"] / entered, 4)
    # the live indicators on the simulation's database agree with the simulation's figures
    run = build_engine(url=url)
    try:
        live = indicators(run)
    finally:
        run.db.dispose()
    assert (live["registradas"], live["ingresadas"], live["exportadoras"], live["evolucionaron"],
            live["desertaron"], live["derivadas"]) == (cases, entered, hand["exportaron"], hand["evolucionaron"],
                                                       hand["desertaron"], hand["derivadas"])
    assert live["antes_del_ingreso"] == {k: hand[k] for k in PRE_ENTRY}
    return hand


@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
def test_simulated_cohort_agrees_with_a_count_by_hand(deployed, tmp_path, process_id):
    """Issue 16 "Done when": indicators recomputed on a simulated cohort agree with a by-hand
    count of the new entry definition (a smaller cohort here; see `test_simulated_cohort_2000`)."""
    hand = check_cohort(deployed, tmp_path, COHORT, process_id)
    # the cohort has companies on both sides of the entry, so the check is not vacuous
    assert 0 < hand["ingresadas"] < COHORT and hand["micro"] + hand["grande"] > 0


@pytest.mark.skipif(not os.environ.get("CPE_SLOW"), reason="2 000 casos: CPE_SLOW=1 para correrla")
@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
def test_simulated_cohort_2000(deployed, tmp_path, process_id):
    """The issue's 2 000-case check (run by hand: `CPE_SLOW=1 pytest tests/test_entry.py -k 2000 -s`)."""
    began = time.monotonic()
    hand = check_cohort(deployed, tmp_path, 2000, process_id)
    print(f"{process_id}, 2 000 casos: {time.monotonic() - began:.1f} s; {hand}")
