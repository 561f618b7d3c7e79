"""Programme indicators (engine/programme/: indicators, dashboard, heatmap) on a known
mix of cases driven through the engine, checked against hand-counted expectations."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.programme import workshops as W
from engine.programme.dashboard import charts
from engine.programme.heatmap import duration_rows, element_stats, heatmap, level, with_levels
from engine.programme.indicators import (
    KEYS,
    NO_ENTRIES,
    Filters,
    indicators,
    moved_up,
    parse_filters,
    ratio,
    ratios,
    upward_pairs,
)
from engine.store.schema import Case, ModelVersion

from . import profiles as P
from .driver import Driver

EXPORT = {"resultado_seguimiento": "exporto",
          "exportacion": {"pais": "Perú", "fecha": "2026-07-01", "monto_usd": 15000, "producto": "Vino"}}


# -- pure rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("desde,hacia,expected", [
    ("rojo", "amarillo", True), ("amarillo", "verde", True), ("rojo", "verde", True),
    # rojo oscuro is outside the CPE's ladder (thesis §3.1.3, manual §10): derived, not promoted
    ("verde", "rojo_oscuro", False), ("amarillo", "rojo_oscuro", False), ("rojo", "rojo_oscuro", False),
    ("verde", "amarillo", False), ("amarillo", "rojo", False), ("amarillo", "amarillo", False),
    (None, "verde", False), ("amarillo", None, False), ("azul", "verde", False),
])
def test_moving_up_follows_the_segment_order(desde, hacia, expected):
    assert moved_up(desde, hacia) is expected


def test_upward_pairs_are_every_move_up():
    assert upward_pairs() == [("rojo", "amarillo"), ("rojo", "verde"), ("amarillo", "verde")]


@pytest.mark.parametrize("part,whole,expected", [
    (1, 4, (0.25, None)), (0, 4, (0.0, None)), (2, 3, (0.6667, None)), (0, 0, (None, "r")), (5, 0, (None, "r")),
])
def test_a_ratio_with_nothing_to_divide_by_is_none_with_the_reason(part, whole, expected):
    assert ratio(part, whole, "r") == expected


@pytest.mark.parametrize("counts,pymes,values,reasons", [
    ({"ingresadas": 4, "exportadoras": 1, "evolucionaron": 2, "desertaron": 0}, 206773,
     {"eficacia": 0.25, "evolucion": 0.5, "desercion": 0.0, "promocion": 1.9e-05}, {}),
    ({"ingresadas": 0, "exportadoras": 0, "evolucionaron": 0, "desertaron": 0}, 206773,
     {"eficacia": None, "evolucion": None, "desercion": None, "promocion": 0.0},
     {"eficacia": NO_ENTRIES, "evolucion": NO_ENTRIES, "desercion": NO_ENTRIES}),
    ({"ingresadas": 3, "exportadoras": 3, "evolucionaron": 0, "desertaron": 0}, 0,
     {"eficacia": 1.0, "evolucion": 0.0, "desercion": 0.0, "promocion": None},
     {"promocion": "el total de PYMEs registradas en Chile es 0"}),
])
def test_ratios(counts, pymes, values, reasons):
    assert ratios(counts, pymes) == (values, reasons)


@pytest.mark.parametrize("args,message", [
    ({"region": "CL-XX"}, "Región desconocida"), ({"date_from": "01-03-2026"}, "AAAA-MM-DD"),
    ({"date_from": "2026-04-01", "date_to": "2026-03-01"}, "posterior"), ({"rubro": "x" * 81}, "80 caracteres"),
])
def test_bad_filters_are_refused_with_a_message(args, message):
    with pytest.raises(ValueError, match=message):
        parse_filters(**args)


def test_filters_are_parsed():
    f = parse_filters(region="CL-RM", date_from="2026-03-01", date_to=" ", ejecutivo=" eje.rm ", rubro="")
    assert f.as_dict() == {"region": "CL-RM", "date_from": "2026-03-01", "date_to": None, "ejecutivo": "eje.rm",
                           "rubro": None}


@pytest.mark.parametrize("value,highest,expected", [(None, 10, 0), (0, 10, 0), (10, 10, 4), (5, 10, 2),
                                                    (0.1, 10, 1), (3, None, 0)])
def test_colour_levels(value, highest, expected):
    assert level(value, highest) == expected


def test_element_stats_count_cases_and_take_the_median():
    rows = [("A", 1, 10.0), ("A", 2, 30.0), ("A", 2, 20.0), ("B", 1, None), ("C", 3, 4.0), ("C", 4, 8.0)]
    assert element_stats(rows) == {"A": {"casos": 2, "pasos": 3, "mediana_s": 20.0},
                                   "B": {"casos": 1, "pasos": 1, "mediana_s": None},
                                   "C": {"casos": 2, "pasos": 2, "mediana_s": 6.0}}
    levels = with_levels(element_stats(rows))
    assert levels["A"]["nivel_casos"] == 4 and levels["A"]["nivel_duracion"] == 4 and levels["B"]["nivel_duracion"] == 0


# -- a known mix through the engine ---------------------------------------------------------------

@pytest.fixture
def mix(deployed, clock):
    """Seven companies (clock starts Monday 2026-03-02):

    March: A RM micro → derivada; B RM idea → rojo → derivada; C RM amarillo → verde → promoción →
    exportadora; D BI amarillo → desercion (registered in a workshop, absent).
    April: E BI regular exporter → rojo_oscuro → derivada; F RM amarillo, active, attended
    Taller 123 (as did C); G BI amarillo → exportadora without promotion, attends e-Commerce after.
    C, D and G went through the Capacitación task: enrolled in a Ciclo Plan de Negocios session of
    their region, which they attended (training comes before any promotion, manual §4.1).
    """
    e = deployed
    for user, role, region in (("eje.rm", "ejecutivo_cpe", "CL-RM"), ("pro.rm", "ejecutivo_prochile", "CL-RM"),
                               ("eje.bi", "ejecutivo_cpe", "CL-BI"), ("pro.bi", "ejecutivo_prochile", "CL-BI")):
        e.create_user(user, "secreto-123", role, region=region)
    W.seed_catalogue(e)
    d = Driver(e, clock, "cpe_actual")
    c = {}
    c["A"] = d.start(rut="76.111.111-6", ventas_uf=1500)
    c["B"] = d.start(rut="76.222.222-1")
    d.through_interview(c["B"], P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    c["C"] = d.start(rut="76.333.333-7")
    d.through_interview(c["C"], P.VINA_AMARILLO, P.ENTREVISTA_ALTA)
    c["D"] = d.start(rut="76.444.444-2", region="CL-BI", rubro="alimentos_procesados")
    d.through_interview(c["D"], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    clock.advance(days=39)  # 2026-04-10
    c["E"] = d.start(rut="76.555.555-8", region="CL-BI", rubro="alimentos_procesados", ventas_uf=80000)
    d.through_interview(c["E"], P.EXPORTADORA_REGULAR, P.ENTREVISTA_ALTA)
    c["F"] = d.start(rut="76.666.666-3", rubro="alimentos_procesados")
    d.through_interview(c["F"], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    c["G"] = d.start(rut="76.777.777-9", region="CL-BI")
    d.through_interview(c["G"], P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    for key in ("C", "D", "G"):
        d.train(c[key], talleres=("ciclo_plan_negocios",))  # enrolled and attended (manual §4.1)
        d.do(c[key], "Task_Asesoria", {"plan_negocios": "completo"})
    d.reevaluate(c["C"], P.ALIMENTOS_VERDE)
    d.reevaluate(c["D"], P.VINA_AMARILLO)
    d.reevaluate(c["G"], P.VINA_AMARILLO)
    d.do(c["C"], "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    d.do(c["C"], "Task_Promocion", {"instrumento": "feria_internacional", "nombre_actividad": "Prowein",
                                    "fecha_actividad": "2026-05-01", "pais_destino": "Alemania"})
    company = {k: _company_id(e, v) for k, v in c.items()}
    taller = W.create_session(e, "taller_123_exporta", clock.now() + timedelta(days=1), "Oficina CPE", 20,
                              region="CL-RM")
    ausente = W.create_session(e, "mujer_exporta", clock.now() + timedelta(days=1), "Oficina CPE", 20,
                               region="CL-BI")
    for key in ("C", "F"):
        W.register(e, taller["id"], company[key], "eje.rm")
    W.register(e, ausente["id"], company["D"], "eje.bi")
    clock.advance(days=1)
    W.mark_attendance(e, taller["id"], [company["C"], company["F"]], "eje.rm")
    W.mark_attendance(e, ausente["id"], [], "eje.bi")
    d.wait_months()  # July: first follow-up
    d.do(c["C"], "Task_Seguimiento", EXPORT)
    d.do(c["G"], "Task_Seguimiento", EXPORT)
    d.do(c["D"], "Task_Seguimiento", {"resultado_seguimiento": "sin_actividad"})
    later = W.create_session(e, "ecommerce", clock.now() + timedelta(days=2), "En línea", 50, online=True)
    W.register(e, later["id"], company["G"], "eje.bi")
    clock.advance(days=2)
    W.mark_attendance(e, later["id"], [company["G"]], "eje.bi")
    d.wait_months()
    d.do(c["D"], "Task_Seguimiento", {"resultado_seguimiento": "sin_actividad"})
    states = {k: (e.case(v)["status"], e.case(v)["resultado"], e.case(v)["ejecutivo"]) for k, v in c.items()}
    assert states == {
        "A": ("completed", "derivada", None), "B": ("completed", "derivada", "eje.rm"),
        "C": ("completed", "exportadora", "pro.rm"), "D": ("completed", "desercion", "eje.bi"),
        "E": ("completed", "derivada", "eje.bi"), "F": ("active", None, "eje.rm"),
        "G": ("completed", "exportadora", "eje.bi")}
    return e, c


def _company_id(engine, case_id):
    with engine.Session() as s:
        return s.scalar(select(Case.company_id).where(Case.id == case_id))


def _core(result):
    return {k: result[k] for k in ("ingresadas", "exportadoras", "evolucionaron", "desertaron", "derivadas",
                                   "eficacia", "evolucion", "desercion")}


def test_every_indicator_on_the_mix(mix):
    engine, _ = mix
    result = indicators(engine)
    assert list(result)[:len(KEYS)] == list(KEYS)
    # A (micro) was derived at the size gate: it never entered (SPEC §6, manual §3.1)
    assert _core(result) == {"ingresadas": 6, "exportadoras": 2, "evolucionaron": 1, "desertaron": 1,
                             "derivadas": 2, "eficacia": round(2 / 6, 4), "evolucion": round(1 / 6, 4),
                             "desercion": round(1 / 6, 4)}
    assert result["registradas"] == 7
    assert result["antes_del_ingreso"] == {"micro": 1, "grande": 0, "en_evaluacion": 0, "sin_tpe": 0,
                                           "cerrada_sin_ingresar": 0}
    assert result["promocion"] == round(6 / 206773, 6) and result["motivos"] == {}
    assert result["salidas"] == {"desercion": 1, "abandono": 0}
    attendance = result["asistencia"]
    assert len(attendance) == 10  # the whole catalogue, zeros included
    # C and F attended Taller 123 before C's export; G's e-Commerce came after its export
    assert attendance["taller_123_exporta"] == {"taller": "Taller 123 Exporta", "asistieron": 2,
                                                "valor": round(2 / 6, 4), "motivo": None,
                                                "exportaron_despues": 1, "efectividad": 0.5,
                                                "motivo_efectividad": None}
    assert (attendance["ecommerce"]["exportaron_despues"], attendance["ecommerce"]["efectividad"]) == (0, 0.0)
    assert attendance["mujer_exporta"]["efectividad"] is None
    assert attendance["ecommerce"]["asistieron"] == 1
    assert attendance["ciclo_plan_negocios"]["asistieron"] == 3  # the Capacitación task of C, D and G
    assert attendance["mujer_exporta"]["asistieron"] == 0 and attendance["mujer_exporta"]["valor"] == 0.0
    # C went to a fair before exporting; G went through the mandatory training (and its advice) before
    # its export: both used a CPE tool
    assert (result["exportaron_con_herramientas"], result["exportaron_sin_herramientas"]) == (2, 0)


@pytest.mark.parametrize("filters,expected", [
    (Filters(region="CL-RM"), {"ingresadas": 3, "exportadoras": 1, "evolucionaron": 1, "desertaron": 0,
                               "derivadas": 1, "eficacia": 0.3333, "evolucion": 0.3333, "desercion": 0.0}),
    (Filters(region="CL-BI"), {"ingresadas": 3, "exportadoras": 1, "evolucionaron": 0, "desertaron": 1,
                               "derivadas": 1, "eficacia": 0.3333, "evolucion": 0.0, "desercion": 0.3333}),
    (parse_filters(date_from="2026-03-01", date_to="2026-03-31"),
     {"ingresadas": 3, "exportadoras": 1, "evolucionaron": 1, "desertaron": 1, "derivadas": 1,
      "eficacia": 0.3333, "evolucion": 0.3333, "desercion": 0.3333}),
    (parse_filters(date_from="2026-04-01"), {"ingresadas": 3, "exportadoras": 1, "evolucionaron": 0,
                                             "desertaron": 0, "derivadas": 1, "eficacia": 0.3333,
                                             "evolucion": 0.0, "desercion": 0.0}),
    (Filters(ejecutivo="pro.rm"), {"ingresadas": 1, "exportadoras": 1, "evolucionaron": 1, "desertaron": 0,
                                   "derivadas": 0, "eficacia": 1.0, "evolucion": 1.0, "desercion": 0.0}),
    (Filters(ejecutivo="eje.rm"), {"ingresadas": 2, "exportadoras": 0, "evolucionaron": 0, "desertaron": 0,
                                   "derivadas": 1, "eficacia": 0.0, "evolucion": 0.0, "desercion": 0.0}),
    (Filters(rubro="alimentos_procesados"), {"ingresadas": 3, "exportadoras": 0, "evolucionaron": 0,
                                             "desertaron": 1, "derivadas": 1, "eficacia": 0.0, "evolucion": 0.0,
                                             "desercion": 0.3333}),
    (Filters(region="CL-BI", rubro="vitivinicola"), {"ingresadas": 1, "exportadoras": 1, "evolucionaron": 0,
                                                     "desertaron": 0, "derivadas": 0, "eficacia": 1.0,
                                                     "evolucion": 0.0, "desercion": 0.0}),
], ids=["rm", "bi", "march", "april-on", "pro.rm", "eje.rm", "alimentos", "bi-vitivinicola"])
def test_filters(mix, filters, expected):
    engine, _ = mix
    assert _core(indicators(engine, filters)) == expected


def test_an_empty_period_divides_by_nothing(mix):
    engine, _ = mix
    result = indicators(engine, parse_filters(date_from="2025-01-01", date_to="2025-12-31"))
    assert _core(result) == {"ingresadas": 0, "exportadoras": 0, "evolucionaron": 0, "desertaron": 0,
                             "derivadas": 0, "eficacia": None, "evolucion": None, "desercion": None}
    assert result["motivos"] == {"eficacia": NO_ENTRIES, "evolucion": NO_ENTRIES, "desercion": NO_ENTRIES}
    assert result["promocion"] == 0.0
    assert all(v["valor"] is None and v["motivo"] == NO_ENTRIES for v in result["asistencia"].values())
    assert indicators(engine, pymes_registradas=0)["motivos"] == {
        "promocion": "el total de PYMEs registradas en Chile es 0"}
    with pytest.raises(ValueError):
        indicators(engine, pymes_registradas=-1)


def test_chart_series(mix):
    engine, _ = mix
    result = charts(engine, Filters(), 6, 2)
    assert result["embudo"] == [
        {"etapa": "registradas", "empresas": 7}, {"etapa": "ingresadas", "empresas": 6},
        {"etapa": "rojo", "empresas": 1}, {"etapa": "amarillo", "empresas": 3}, {"etapa": "verde", "empresas": 1},
        {"etapa": "rojo_oscuro", "empresas": 1}, {"etapa": "exportadoras", "empresas": 2}]
    assert result["ingresos_por_mes"] == [{"mes": "2026-03", "empresas": 4}, {"mes": "2026-04", "empresas": 3}]
    assert result["transiciones"] == [
        {"desde": None, "hacia": "amarillo", "empresas": 4}, {"desde": None, "hacia": "rojo", "empresas": 1},
        {"desde": None, "hacia": "rojo_oscuro", "empresas": 1}, {"desde": "amarillo", "hacia": "verde", "empresas": 1}]
    assert result["carga_ejecutivos"] == {"tope": 50, "ejecutivos": [{"ejecutivo": "eje.rm", "casos": 1}]}
    assert result["resultados_por_region"] == {"CL-BI": {"derivada": 1, "desercion": 1, "exportadora": 1},
                                               "CL-RM": {"derivada": 2, "en_curso": 1, "exportadora": 1}}
    assert charts(engine, Filters(region="CL-BI"), 3, 1)["carga_ejecutivos"]["ejecutivos"] == []


# -- heatmap ------------------------------------------------------------------------------------

def test_heatmap_counts_cases_per_element_and_agrees_with_the_pure_function(mix):
    engine, c = mix
    result = heatmap(engine, "cpe_actual")
    stats = result["elementos"]
    assert result["version"] == 1 and result["casos_version"] == 7 and "<bpmn:definitions" in result["bpmn"]
    assert stats["Task_TPE_Bienes"]["casos"] == 6  # all but the micro company
    assert stats["Task_Seguimiento"]["casos"] == 3 and stats["Task_Seguimiento"]["pasos"] == 4
    assert stats["Task_Promocion"]["casos"] == 1
    assert result["en_espera"] == {"Task_Capacitacion": 1}  # F
    with engine.Session() as s:
        version_id = s.scalar(select(ModelVersion.id).where(ModelVersion.key == "cpe_actual"))
    pure = element_stats(duration_rows(engine, version_id))
    assert {k: {x: v[x] for x in ("casos", "pasos", "mediana_s")} for k, v in stats.items()} == pure
    assert stats["Task_Promocion"]["nombre"] and stats["Task_Promocion"]["nombre"] != "Task_Promocion"
    # the follow-up timer waits three months before the first follow-up task
    timers = [k for k, v in pure.items() if (v["mediana_s"] or 0) > 80 * 86400]
    assert timers, pure
    assert heatmap(engine, "cpe_actual", f=Filters(region="CL-RM"))["elementos"]["Task_TPE_Bienes"]["casos"] == 3


def test_heatmap_median_duration_of_a_user_task(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    d = Driver(deployed, clock, "cpe_actual")
    ids = [d.start(rut=r) for r in ("76.111.111-6", "76.222.222-1", "76.333.333-7")]
    for hours, case_id in zip((1, 1, 2), ids, strict=True):  # waits of 1 h, 2 h and 4 h
        clock.advance(hours=hours)
        d.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    stats = heatmap(deployed, "cpe_actual")["elementos"]["Task_TPE_Bienes"]
    assert stats["casos"] == 3 and stats["mediana_s"] == 7200.0
    d.do(ids[0], "Task_AgendarEntrevista", {"fecha_entrevista": "2026-03-05", "hora_entrevista": "10:30",
                                            "lugar_entrevista": "empresa"})
    clock.advance(hours=3)  # even count: the mean of the two middle values
    d.do(ids[1], "Task_AgendarEntrevista", {"fecha_entrevista": "2026-03-05", "hora_entrevista": "10:30",
                                            "lugar_entrevista": "empresa"})
    agenda = heatmap(deployed, "cpe_actual")["elementos"]["Task_AgendarEntrevista"]
    assert agenda["casos"] == 2 and agenda["mediana_s"] == 4 * 3600.0  # 3 h and 5 h
    assert heatmap(deployed, "cpe_actual", version=1)["version"] == 1


@pytest.mark.parametrize("seconds,text", [(None, "—"), (0, "0 s"), (42, "42 s"), (60, "1 min"), (3600, "1 h"),
                                          (3660, "1 h 1 min"), (86400, "1 d"), (93 * 86400 + 7200, "93 d 2 h")])
def test_durations_for_people(seconds, text):
    from engine.programme.heatmap import format_duration

    assert format_duration(seconds) == text


@pytest.mark.parametrize("rows,expected", [
    ([], []),
    ([{"mes": "2026-03", "empresas": 4}], [{"mes": "2026-03", "empresas": 4}]),
    ([{"mes": "2025-11", "empresas": 1}, {"mes": "2026-02", "empresas": 2}],
     [{"mes": "2025-11", "empresas": 1}, {"mes": "2025-12", "empresas": 0}, {"mes": "2026-01", "empresas": 0},
      {"mes": "2026-02", "empresas": 2}]),
])
def test_months_without_entries_are_on_the_axis(rows, expected):
    from engine.programme.dashboard import fill_months

    assert fill_months(rows) == expected


def test_chart_series_are_split_from_one_grouped_query():
    from engine.programme.dashboard import split

    groups = [("CL-RM", "amarillo", None, "2026-03", 2), ("CL-RM", None, "derivada", "2026-03", 1),
              ("CL-BI", "amarillo", "desercion", "2026-05", 1), ("CL-BI", "verde", None, "2026-03", 3)]
    assert split(groups) == (
        {"amarillo": 3, "sin_clasificar": 1, "verde": 3},
        [{"mes": "2026-03", "empresas": 6}, {"mes": "2026-05", "empresas": 1}],
        {"CL-BI": {"desercion": 1, "en_curso": 3}, "CL-RM": {"derivada": 1, "en_curso": 2}})
    assert split([]) == ({}, [], {})


# -- cases to companies (engine/programme/indicators.py `tally`) -------------------------------------------

RM_MAR, RM_APR = ("CL-RM", "amarillo", None, "2026-03"), ("CL-RM", "amarillo", None, "2026-04")
RM_DER, BI_EXP = ("CL-RM", "rojo", "derivada", "2026-03"), ("CL-BI", "verde", "exportadora", "2026-04")


def _distinct_by_hand(cases, pick):
    return len({company for company, key in cases if pick(key)})


@pytest.mark.parametrize("cases", [
    [],
    [(1, RM_MAR), (2, RM_MAR), (3, RM_DER)],  # one case each: the case counts are the companies
    [(1, RM_MAR), (1, RM_APR), (2, RM_MAR)],  # company 1 in two groups: once in each, once overall
    [(1, RM_MAR), (1, RM_MAR), (2, RM_MAR)],  # company 1 twice in one group: once there
    [(1, RM_DER), (1, RM_MAR), (2, BI_EXP), (2, RM_DER), (3, ("CL-RM", None, "desercion", "2026-03")),
     (4, ("CL-BI", None, "abandono", "2026-05")), (4, ("CL-BI", None, "desercion", "2026-05")), (5, RM_DER)],
], ids=["empty", "single-cases", "two-groups", "same-group", "outcomes"])
@pytest.mark.parametrize("shared_all", [False, True], ids=["only-repeated", "superset"])
def test_tally_counts_each_company_once_like_count_distinct(cases, shared_all):
    from engine.programme.indicators import COUNTED, counts_in, tally

    per_company: dict = {}
    for company, _key in cases:
        per_company[company] = per_company.get(company, 0) + 1
    groups: dict = {}
    for _company, key in cases:
        groups[key] = groups.get(key, 0) + 1
    shared = [(company, *key) for company, key in cases if shared_all or per_company[company] > 1]
    found, numbers = tally([(*k, n) for k, n in groups.items()], shared)
    assert sorted(found, key=str) == sorted(
        [(*key, _distinct_by_hand(cases, lambda k, key=key: k == key)) for key in groups], key=str)
    for name, (entered, outcomes) in COUNTED.items():
        assert numbers[name] == _distinct_by_hand(
            cases, lambda k, e=entered, o=outcomes: (not e or k[1]) and (o is None or k[2] in o)), name
        assert numbers[name] == _distinct_by_hand(cases, lambda k, r=COUNTED[name]: counts_in(r, k)), name


def test_tally_by_hand():
    from engine.programme.indicators import tally

    groups = [(*RM_MAR, 3), (*RM_APR, 1), (*RM_DER, 2), (*BI_EXP, 1)]
    shared = [(7, *RM_MAR), (7, *RM_MAR), (7, *RM_APR), (7, *RM_DER)]  # company 7: four cases
    found, numbers = tally(groups, shared)
    assert sorted(found, key=str) == sorted([(*RM_MAR, 2), (*RM_APR, 1), (*RM_DER, 2), (*BI_EXP, 1)], key=str)
    assert numbers == {"registradas": 4, "ingresadas": 4, "desertaron": 0, "desercion": 0, "abandono": 0,
                       "derivadas": 2, "cerraron_exportadoras": 1}


def test_a_company_with_several_cases_counts_once(mix, clock):
    """A company that enters again (a second case for the same RUT) is one company in every count."""
    engine, c = mix
    before = indicators(engine)
    d = Driver(engine, clock, "cpe_actual")
    d.start(rut="76.111.111-6", ventas_uf=1500)  # A again: micro, derived at once
    d.start(rut="76.666.666-3", rubro="alimentos_procesados")  # F again, still open
    after = indicators(engine)
    assert _core(after) == _core(before)
    assert after["registradas"] == before["registradas"] == 7
    assert after["salidas"] == before["salidas"] and after["asistencia"] == before["asistencia"]
    series = charts(engine, Filters(), after["ingresadas"], after["exportadoras"])
    assert series["embudo"][:2] == [{"etapa": "registradas", "empresas": 7}, {"etapa": "ingresadas", "empresas": 6}]
    months = {m["mes"]: m["empresas"] for m in series["ingresos_por_mes"]}
    assert months[clock.now().strftime("%Y-%m")] == 2  # the two new entries, in the month they entered


@pytest.mark.parametrize("value,text", [("2026-03", "2026-03"), (datetime(2026, 3, 1), "2026-03"),
                                        (datetime(987, 12, 1), "0987-12")])
def test_month_text_reads_what_either_database_gives(value, text):
    from engine.programme.indicators import month_text

    assert month_text(value) == text


def test_evolution_is_rising_above_the_first_classification(deployed, clock):
    """Thesis §3.4.3 ("Nº de pyme que subió de estado"): a company counts as evolved when it reaches a
    segment above its case's first classification; falling and coming back is not evolution."""
    from engine.store.schema import SegmentChange

    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    d = Driver(deployed, clock, "cpe_actual")
    paths = {"76.111.111-6": ["amarillo", "rojo", "amarillo"], "76.222.222-1": ["amarillo", "verde"],
             "76.333.333-7": ["rojo", "amarillo"], "76.444.444-2": ["verde", "amarillo"],
             "76.555.555-8": ["amarillo", "rojo_oscuro"]}
    started = {rut: d.start(rut=rut) for rut in paths}
    with deployed.Session() as s:
        for rut, path in paths.items():
            case = s.get(Case, started[rut])
            for desde, hacia in zip([None, *path], path, strict=False):
                s.add(SegmentChange(case_id=case.id, company_id=case.company_id, desde=desde, hacia=hacia,
                                    at=clock.now()))
            case.segmento = path[-1]
        s.commit()
    assert indicators(deployed)["evolucionaron"] == 2  # amarillo → verde, rojo → amarillo


@pytest.mark.parametrize("segments, rose", [
    ([], False), (["amarillo"], False), (["amarillo", "verde"], True), (["rojo", "amarillo"], True),
    (["amarillo", "rojo", "amarillo"], False), (["amarillo", "rojo", "verde"], True), (["verde", "amarillo"], False),
    (["amarillo", "rojo_oscuro"], False), (["rojo_oscuro", "verde"], False),
])
def test_rose_above_first(segments, rose):
    from engine.programme.indicators import rose_above_first

    assert rose_above_first(segments) is rose
