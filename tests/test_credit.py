"""Issue 16 item 9: credit for exports and the executives' performance.

Thesis §3.4.2 block 4 (each executive handles at most 50 companies; the executives are monitored)
and §3.4.3 (an incentive per company that exports): an export is credited to every executive who
worked the case, not only to the ProChile executive in charge after the verde hand-off.
"""

from __future__ import annotations

import pytest

from engine.programme.credit import NOT_ENTERED, executive_performance, performance_rows, totals
from engine.programme.indicators import Filters

from . import profiles as P
from .driver import AGENDA, Driver

EXPORT = {"resultado_seguimiento": "exporto",
          "exportacion": {"pais": "Perú", "fecha": "2026-07-01", "monto_usd": 15000, "producto": "Vino"}}
NOTHING = {"resultado_seguimiento": "sin_actividad"}

EXECS = [("ana", "Ana", "ejecutivo_cpe", "CL-RM"), ("pedro", "", "ejecutivo_prochile", "CL-RM"),
         ("zoe", "Zoe", "ejecutivo_cpe", "CL-RM")]


@pytest.mark.parametrize("in_charge,worked,exported,evolved,left,entered,expected", [
    # nobody worked anything: zeros, rates undefined with the reason
    ({}, {}, set(), set(), set(), set(),
     {"ana": (0, 0, 0, 0, 0, None, None), "pedro": (0, 0, 0, 0, 0, None, None), "zoe": (0, 0, 0, 0, 0, None, None)}),
    # company 1 handed off from ana (CPE) to pedro (ProChile), then exported: both credited
    ({"pedro": 1}, {"ana": {1, 2}, "pedro": {1}}, {1}, {1}, set(), {1, 2},
     {"ana": (2, 2, 1, 1, 0, 0.5, 0.0), "pedro": (1, 1, 1, 1, 0, 1.0, 0.0), "zoe": (0, 0, 0, 0, 0, None, None)}),
    # a worked company that never entered (size gate) counts as worked, not in the rates
    ({"zoe": 2}, {"zoe": {3, 4}}, set(), set(), {4}, {4},
     {"ana": (0, 0, 0, 0, 0, None, None), "pedro": (0, 0, 0, 0, 0, None, None), "zoe": (2, 1, 0, 0, 1, 0.0, 1.0)}),
    # the function counts what it is given (the queries give exporters that entered only)
    ({}, {"ana": {5}}, {5}, set(), set(), set(),
     {"ana": (1, 0, 1, 0, 0, None, None), "pedro": (0, 0, 0, 0, 0, None, None), "zoe": (0, 0, 0, 0, 0, None, None)}),
], ids=["nothing", "hand-off", "not-entered", "given"])
def test_performance_rows(in_charge, worked, exported, evolved, left, entered, expected):
    rows = {r["ejecutivo"]: r for r in performance_rows(EXECS, in_charge, worked, exported, evolved, left, entered)}
    for name, (trabajadas, ingresadas, exportaciones, evolucionaron, desertaron, eficacia, desercion) in \
            expected.items():
        row = rows[name]
        assert (row["trabajadas"], row["ingresadas"], row["exportaciones"], row["evolucionaron"],
                row["desertaron"]) == (trabajadas, ingresadas, exportaciones, evolucionaron, desertaron), name
        assert row["eficacia"] == eficacia and row["desercion"] == desercion, name
        assert (row["motivo_eficacia"] is None) == (ingresadas > 0), name
        assert row["a_cargo"] == in_charge.get(name, 0) and row["tope"] == 50
    assert rows["pedro"]["nombre"] == "pedro"  # no full name: the username


@pytest.mark.parametrize("load,over,carga", [(0, False, 0.0), (50, False, 1.0), (51, True, 1.02)])
def test_load_against_the_cap(load, over, carga):
    [row] = performance_rows(EXECS[:1], {"ana": load}, {}, set(), set(), set(), set())
    assert (row["sobre_tope"], row["carga"]) == (over, carga)
    assert row["motivo_eficacia"] == NOT_ENTERED


def test_rows_are_sorted_by_exports_then_worked_and_totals_add_up():
    rows = performance_rows(EXECS, {"zoe": 60, "ana": 3}, {"ana": {1}, "zoe": {1, 2}, "pedro": {2}}, {2}, set(),
                            set(), {1, 2})
    assert [r["ejecutivo"] for r in rows] == ["zoe", "pedro", "ana"]
    assert totals(rows) == {"ejecutivos": 3, "sobre_tope": 1, "a_cargo": 63, "creditos": 2}


# -- through the engine -------------------------------------------------------------------------

STAFF = {"ejecutivo_cpe": "eje.rm", "ejecutivo_prochile": "pro.rm"}


def work(d, case_id, bpmn_id, data, log):
    """Complete a task as the people would: the company's own steps as the company (no user),
    the others by the executive it is assigned to, or the region's executive of its lane."""
    task = d.ready(case_id)[bpmn_id]
    user = None if task["lane"] == "pyme" else task["assignee"] or STAFF[task["lane"]]
    d.do(case_id, bpmn_id, data, user=user)
    if user:
        log.setdefault(user, set()).add(case_id)


def interview(d, case_id, tpe, entrevista, log):
    work(d, case_id, "Task_TPE_Bienes", {"respuestas": tpe}, log)
    work(d, case_id, "Task_AgendarEntrevista", AGENDA, log)
    work(d, case_id, "Task_Entrevista", {"respuestas": entrevista, "brechas": "Requisitos de mercado."}, log)


@pytest.fixture
def worked(deployed, clock):
    """RM: X amarillo → verde, handed off to pro.rm, exports; Y amarillo deserts; W rojo; V amarillo
    open; M micro. BI: U amarillo open (eje.bi)."""
    e = deployed
    for user, role, region in (("eje.rm", "ejecutivo_cpe", "CL-RM"), ("pro.rm", "ejecutivo_prochile", "CL-RM"),
                               ("eje.bi", "ejecutivo_cpe", "CL-BI"), ("jefe.rm", "jefe_regional", "CL-RM")):
        e.create_user(user, "secreto-123", role, region=region)
    d = Driver(e, clock, "cpe_actual")
    log: dict = {}
    c = {"X": d.start(rut="76.111.111-6"), "Y": d.start(rut="76.222.222-1"), "W": d.start(rut="76.333.333-7"),
         "V": d.start(rut="76.444.444-2"), "M": d.start(rut="76.555.555-8", ventas_uf=1500),
         "U": d.start(rut="76.666.666-3", region="CL-BI")}
    for key in ("X", "Y", "V"):
        interview(d, c[key], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA, log)
    interview(d, c["W"], P.IDEA_ONLY, P.ENTREVISTA_BAJA, log)
    work(d, c["W"], "Task_ElegirInstitucion", {"institucion_derivacion": "fosis"}, log)
    STAFF["ejecutivo_cpe"] = "eje.bi"
    try:
        interview(d, c["U"], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA, log)
    finally:
        STAFF["ejecutivo_cpe"] = "eje.rm"
    for key in ("X", "Y"):
        task = d.ready(c[key])["Task_Capacitacion"]
        user = task["assignee"] or STAFF[task["lane"]]
        d.train(c[key], user=user)
        log.setdefault(user, set()).add(c[key])
        work(d, c[key], "Task_Asesoria", {"plan_negocios": "completo"}, log)
    for key, tpe in (("X", P.ALIMENTOS_VERDE), ("Y", P.VINA_AMARILLO)):  # the executive re-evaluates (§3.4.2)
        work(d, c[key], "Task_Actualizar_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": "Mercados."}, log)
        work(d, c[key], "Task_Actualizar_TPE_Bienes", {"respuestas": tpe}, log)
    work(d, c["X"], "Task_AsesoriaEspecializada", {"plan_negocios": "completo"}, log)
    work(d, c["X"], "Task_Promocion", {"instrumento": "feria_internacional", "nombre_actividad": "Prowein",
                                       "fecha_actividad": "2026-05-01", "pais_destino": "Alemania"}, log)
    d.wait_months()
    work(d, c["X"], "Task_Seguimiento", EXPORT, log)
    work(d, c["Y"], "Task_Seguimiento", NOTHING, log)
    d.wait_months()
    work(d, c["Y"], "Task_Seguimiento", NOTHING, log)
    assert (e.case(c["X"])["resultado"], e.case(c["X"])["ejecutivo"]) == ("exportadora", "pro.rm")
    assert e.case(c["Y"])["resultado"] == "desercion" and e.case(c["V"])["ejecutivo"] == "eje.rm"
    return e, c, log


def test_an_export_is_credited_to_every_executive_who_worked_the_case(worked):
    """§3.4.2 block 4, §3.4.3: the CPE executive who brought X is credited with its export, as
    is the ProChile executive who followed it after the verde hand-off."""
    engine, c, log = worked
    assert {c["X"]} <= log["eje.rm"] and {c["X"]} <= log["pro.rm"]  # both worked X
    rows = {r["ejecutivo"]: r for r in executive_performance(engine, Filters(region="CL-RM"))["ejecutivos"]}
    assert set(rows) == {"eje.rm", "pro.rm"}  # executives of the region only; not the regional head
    worked_by_hand = {user: len(cases) for user, cases in log.items()}
    assert {u: r["trabajadas"] for u, r in rows.items()} == {u: worked_by_hand[u] for u in rows}
    eje, pro = rows["eje.rm"], rows["pro.rm"]
    assert (eje["trabajadas"], eje["ingresadas"], eje["exportaciones"], eje["evolucionaron"], eje["desertaron"],
            eje["a_cargo"]) == (4, 4, 1, 1, 1, 1)  # X Y W V; M (micro) never reached an executive
    assert (eje["eficacia"], eje["evolucion"], eje["desercion"]) == (0.25, 0.25, 0.25)
    assert (pro["trabajadas"], pro["exportaciones"], pro["evolucionaron"], pro["desertaron"], pro["a_cargo"]) == (
        1, 1, 1, 0, 0)
    everyone = {r["ejecutivo"]: r for r in executive_performance(engine)["ejecutivos"]}
    assert (everyone["eje.bi"]["trabajadas"], everyone["eje.bi"]["a_cargo"], everyone["eje.bi"]["exportaciones"]) \
        == (1, 1, 0)
    only = executive_performance(engine, Filters(ejecutivo="pro.rm"))["ejecutivos"]
    assert [r["ejecutivo"] for r in only] == ["pro.rm"] and only[0]["exportaciones"] == 1
    assert executive_performance(engine, Filters(region="CL-AN"))["ejecutivos"] == []
