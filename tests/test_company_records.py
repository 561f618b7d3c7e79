"""The programme registry (engine/programme/company_records.py) and the operator `registrar_exportacion`, with
companies built through the engine: cases started and their tasks completed as the lanes would."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engine.basics.errors import Forbidden, NotFound
from engine.operators.dispatch import ServiceContext, ServiceError
from engine.programme.company_records import RegistryFilters, company_record, export_rows, options, search
from engine.programme.operators import OPERATORS, call
from engine.store.schema import CompanyExport, SegmentChange

from . import profiles as P
from .driver import Driver

ANALYST = SimpleNamespace(role="analista", region=None)
EJE_RM = SimpleNamespace(role="ejecutivo_cpe", region="CL-RM")
JEFE_VS = SimpleNamespace(role="jefe_regional", region="CL-VS")
EXPORT = {"pais": "Alemania", "fecha": "2026-08-01", "monto_usd": 48000, "producto": "Vino"}


# -- the operator's parameter checks (table-driven) -------------------------------------------

BAD_PARAMS = [
    ("missing country", {"fecha": "2026-08-01", "monto_usd": 10, "producto": "Vino"}, "falta el parámetro 'pais'"),
    ("empty country", {**EXPORT, "pais": "  "}, "parámetro 'pais' debe ser un texto no vacío"),
    ("country too long", {**EXPORT, "pais": "x" * 81}, "parámetro 'pais' no puede superar 80 caracteres"),
    ("date not ISO", {**EXPORT, "fecha": "01-08-2026"}, "parámetro 'fecha' debe ser una fecha ISO válida"),
    ("impossible date", {**EXPORT, "fecha": "2026-02-30"}, "parámetro 'fecha' debe ser una fecha ISO válida"),
    ("date with time", {**EXPORT, "fecha": "2026-08-01T10:00"}, "parámetro 'fecha' debe ser una fecha ISO"),
    ("date not text", {**EXPORT, "fecha": 20260801}, "parámetro 'fecha' debe ser una fecha ISO"),
    ("zero amount", {**EXPORT, "monto_usd": 0}, "parámetro 'monto_usd' debe ser mayor que 0"),
    ("negative amount", {**EXPORT, "monto_usd": -5}, "parámetro 'monto_usd' debe ser mayor que 0"),
    ("amount as text", {**EXPORT, "monto_usd": "48000"}, "parámetro 'monto_usd' debe ser un número"),
    ("amount boolean", {**EXPORT, "monto_usd": True}, "parámetro 'monto_usd' debe ser un número"),
    ("amount infinite", {**EXPORT, "monto_usd": float("inf")}, "parámetro 'monto_usd' debe ser un número"),
    ("no product", {**EXPORT, "producto": ""}, "parámetro 'producto' debe ser un texto no vacío"),
    ("product too long", {**EXPORT, "producto": "p" * 201}, "parámetro 'producto' no puede superar 200 caracteres"),
    ("unknown parameter", {**EXPORT, "moneda": "EUR"}, "parámetros desconocidos: moneda"),
]


@pytest.mark.parametrize("label,params,message", BAD_PARAMS, ids=[b[0] for b in BAD_PARAMS])
def test_registrar_exportacion_refuses_bad_parameters(label, params, message):
    ctx = ServiceContext(session=None, case=None, now=None, form=None)  # refused before touching them
    with pytest.raises(ServiceError) as info:
        call(ctx, "registrar_exportacion", params)
    assert message in str(info.value)
    assert str(info.value).startswith("registrar_exportacion: ")


GOOD_PARAMS = [
    ({**EXPORT}, {"pais": "Alemania", "fecha": "2026-08-01", "monto_usd": 48000.0, "producto": "Vino"}),
    ({**EXPORT, "pais": " Perú ", "monto_usd": 0.5, "fecha": " 2026-01-31 "},
     {"pais": "Perú", "fecha": "2026-01-31", "monto_usd": 0.5, "producto": "Vino"}),
]


@pytest.mark.parametrize("params,stored", GOOD_PARAMS)
def test_registrar_exportacion_stores_the_export(deployed, params, stored):
    case_id = deployed.start("cpe_actual", P.empresa(), actor="test")
    with deployed.transaction() as s:
        from engine.store.schema import Case

        case = s.get(Case, case_id)
        result = call(ServiceContext(session=s, case=case, now=deployed.now(), form=None),
                      "registrar_exportacion", params)
    with deployed.Session() as s:
        row = s.get(CompanyExport, result["exportacion_id"])
        assert {k: getattr(row, k) for k in stored} == stored
        assert row.case_id == case_id and row.company_id == case.company_id


def test_operator_is_documented():
    op = OPERATORS["registrar_exportacion"]
    assert set(op.params) == {"pais", "fecha", "monto_usd", "producto"} and not op.optional
    assert op.description


# -- companies built through the engine ----------------------------------------------------------

def _cid(engine, case: dict) -> int:
    from engine.store.schema import Case

    with engine.Session() as s:
        return s.scalar(select(Case.company_id).where(Case.id == case["id"]))


@pytest.fixture
def cpe(deployed, clock):
    for name, role, region in (("eje.rm", "ejecutivo_cpe", "CL-RM"), ("pro.rm", "ejecutivo_prochile", "CL-RM"),
                               ("jefe.rm", "jefe_regional", "CL-RM"), ("eje.vs", "ejecutivo_cpe", "CL-VS")):
        deployed.create_user(name, "secreto-123", role, region=region)
    return Driver(deployed, clock, "cpe_actual")


def _exporter(cpe):
    """A winery that enters amarillo, moves up to verde, exports and leaves as exportadora."""
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_ALTA)
    cpe.train(case_id, talleres=("ciclo_plan_negocios",))
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "completo"})
    cpe.clock.advance(days=40)  # the TPE is updated weeks after the first classification
    cpe.reevaluate(case_id, P.ALIMENTOS_VERDE)
    cpe.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"}, user="pro.rm")
    cpe.do(case_id, "Task_Promocion", {"instrumento": "feria_internacional", "nombre_actividad": "Prowein",
                                       "fecha_actividad": "2026-06-01", "pais_destino": "Alemania"}, user="pro.rm")
    cpe.wait_months()
    cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": "sin_actividad"}, user="pro.rm")
    cpe.wait_months()
    case = cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": "exporto", "exportacion": EXPORT},
                  user="pro.rm")
    assert case["status"] == "completed" and case["resultado"] == "exportadora"
    return case


@pytest.fixture
def mix(cpe):
    """Three companies: an exporter (CL-RM), a derived idea (CL-RM), a verde in the programme (CL-VS)."""
    exporter = _exporter(cpe)
    derived_id = cpe.start(rut="77.777.777-7", razon_social="Idea Nueva Ltda", ventas_uf=3000, rubro="agroindustria")
    derived = cpe.through_interview(derived_id, P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    assert derived["resultado"] == "derivada"
    verde_id = cpe.start(rut="76.543.210-3", razon_social="Conservas del Pacífico SpA", ventas_uf=60000,
                         rubro="alimentos_procesados", region="CL-VS")
    verde = cpe.through_interview(verde_id, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    assert verde["segmento"] == "verde" and verde["status"] == "active"
    return {"exporter": exporter, "derived": derived, "verde": verde}


def test_record_of_an_exporter(cpe, mix):
    case = mix["exporter"]
    record = company_record(cpe.engine, ANALYST, _cid(cpe.engine, case))
    assert (record["rut"], record["razon_social"], record["region"]) == ("76.086.428-5", "Viña Los Aromos SpA",
                                                                        "CL-RM")
    assert record["rubro"] == "vitivinicola" and record["productos"] == "Vino"
    assert [(s["desde"], s["hacia"]) for s in record["segmentos"]] == [(None, "amarillo"), ("amarillo", "verde")]
    assert record["segmento"] == "verde" and record["ejecutivo"] == "pro.rm"
    assert [{k: e[k] for k in EXPORT} for e in record["exportaciones"]] == [{**EXPORT, "monto_usd": 48000.0}]
    assert record["total_exportado_usd"] == 48000.0
    assert record["estado"] == "egresada" and record["motivo_egreso"] == "exportadora"
    assert record["ingreso"] is not None and record["ingreso"] < record["egreso"]
    assert record["tpe"]["puntaje"] == case["data"]["resultado_tpe"]["puntaje"] and record["tpe"]["revision"] == 2
    assert [a["tipo"] for a in record["actividades"]].count("seguimiento") == 2
    assert {"capacitacion", "asesoria", "asesoria_especializada", "promocion"} <= {a["tipo"] for a in
                                                                               record["actividades"]}
    assert [(w["session"]["workshop_key"], w["status"]) for w in record["talleres"]] == [
        ("ciclo_plan_negocios", "attended")]
    assert [c["id"] for c in record["casos"]] == [case["id"]] and record["derivaciones"] == []
    kinds = [e["kind"] for e in record["timeline"]]
    assert kinds[0] == "ingreso" and kinds[-1] == "egreso"
    assert kinds.index("exportacion") > kinds.index("segmento") and kinds.count("segmento") == 2


def test_segment_changes_are_written_by_the_engine(cpe, mix):
    with cpe.engine.Session() as s:
        rows = s.scalars(select(SegmentChange).where(SegmentChange.case_id == mix["exporter"]["id"])
                         .order_by(SegmentChange.id)).all()
    assert [r.hacia for r in rows] == ["amarillo", "verde"]
    assert rows[0].at < rows[1].at


def test_record_of_a_derived_company(cpe, mix):
    record = company_record(cpe.engine, EJE_RM, _cid(cpe.engine, mix["derived"]))
    assert record["estado"] == "egresada" and record["motivo_egreso"] == "derivada"
    assert [d["institucion"] for d in record["derivaciones"]] and record["derivaciones"][0]["motivo"] == "rojo"
    assert record["exportaciones"] == [] and record["segmento"] == "rojo"


def test_search_filters_and_paging(cpe, mix):
    engine = cpe.engine
    every = search(engine, ANALYST)
    assert every.total == 3 and [c["razon_social"] for c in every.items] == [
        "Conservas del Pacífico SpA", "Idea Nueva Ltda", "Viña Los Aromos SpA"]
    assert search(engine, ANALYST, RegistryFilters(q="aromos")).total == 1
    assert search(engine, ANALYST, RegistryFilters(q="77.777")).items[0]["razon_social"] == "Idea Nueva Ltda"
    assert search(engine, ANALYST, RegistryFilters(region="CL-VS")).items[0]["segmento"] == "verde"
    assert {c["razon_social"] for c in search(engine, ANALYST, RegistryFilters(estado="egresada")).items} == {
        "Idea Nueva Ltda", "Viña Los Aromos SpA"}
    assert [c["razon_social"] for c in search(engine, ANALYST, RegistryFilters(estado="en_programa")).items] == [
        "Conservas del Pacífico SpA"]
    assert search(engine, ANALYST, RegistryFilters(segmento="verde")).total == 2
    assert search(engine, ANALYST, RegistryFilters(segmento="verde", region="CL-RM")).total == 1
    beyond = search(engine, ANALYST, RegistryFilters(segmento="verde"), page=5)
    assert (beyond.total, beyond.items) == (2, [])  # past the last page: the total still counted
    assert search(engine, ANALYST, RegistryFilters(ejecutivo="pro.rm")).items[0]["rut"] == "76.086.428-5"
    assert search(engine, ANALYST, RegistryFilters(rubro="agroindustria")).total == 1
    assert search(engine, ANALYST, RegistryFilters(q="no existe")).total == 0
    first, second = search(engine, ANALYST, per_page=2), search(engine, ANALYST, page=2, per_page=2)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (3, 2, 2, 1)
    exporter = next(c for c in every.items if c["razon_social"] == "Viña Los Aromos SpA")
    assert exporter["motivo_egreso"] == "exportadora" and exporter["ingreso"] is not None


def test_scope_by_region_and_role(cpe, mix):
    engine = cpe.engine
    assert {c["region"] for c in search(engine, EJE_RM).items} == {"CL-RM"} and search(engine, EJE_RM).total == 2
    # a regional user asking for another region gets nothing from it
    assert search(engine, EJE_RM, RegistryFilters(region="CL-VS")).total == 0
    assert search(engine, JEFE_VS).total == 1
    with pytest.raises(NotFound):
        company_record(engine, EJE_RM, _cid(engine, mix["verde"]))
    assert company_record(engine, JEFE_VS, _cid(engine, mix["verde"]))["segmento"] == "verde"
    with pytest.raises(NotFound):
        company_record(engine, ANALYST, 999_999)
    for refused in (SimpleNamespace(role="pyme", region="CL-RM"), SimpleNamespace(role="ejecutivo_cpe", region=None)):
        with pytest.raises(Forbidden):
            search(engine, refused)
        with pytest.raises(Forbidden):
            company_record(engine, refused, _cid(engine, mix["exporter"]))
    assert options(engine, EJE_RM)["regiones"] == ["CL-RM"]
    assert "pro.rm" in options(engine, ANALYST)["ejecutivos"] and "eje.vs" not in options(engine, EJE_RM)["ejecutivos"]


def test_export_rows_follow_the_filters(cpe, mix):
    rows = export_rows(cpe.engine, EJE_RM, RegistryFilters(estado="egresada"))
    assert {r["rut"]: r["motivo_egreso"] for r in rows} == {"76.086.428-5": "exportadora",
                                                            "77.777.777-7": "derivada"}


def test_proposed_model_registers_every_export(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    deployed.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    cpe = Driver(deployed, clock, "cpe_propuesto")
    case_id = cpe.start(ventas_uf=60000, rubro="alimentos_procesados")
    cpe.through_interview(case_id, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    cpe.train(case_id, "Task_CapacitacionObligatoria", talleres=("ecommerce",))
    cpe.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    cpe.do(case_id, "Task_Promocion", {"instrumento": "plan_sectorial", "nombre_actividad": "Plan Alimentos",
                                       "fecha_actividad": "2026-05-01"})
    cpe.wait_months()
    cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": "exporto",
                                         "exportacion": {**EXPORT, "pais": "Perú", "monto_usd": 20000}})
    for n, result in enumerate(["exporto", "sin_actividad", "firmo_contrato", "exporto"], start=1):
        cpe.wait_months()
        data = {"resultado_seguimiento": result}
        if result == "exporto":
            data["exportacion"] = {**EXPORT, "pais": "Japón", "fecha": f"2026-10-{n:02d}", "monto_usd": 1000 * n}
        case = cpe.do(case_id, "Task_SeguimientoSostenido", data)
    assert case["resultado"] == "exportadora"
    record = company_record(deployed, ANALYST, _cid(deployed, case))
    assert [(e["pais"], e["monto_usd"]) for e in record["exportaciones"]] == [
        ("Perú", 20000.0), ("Japón", 1000.0), ("Japón", 4000.0)]
    assert record["total_exportado_usd"] == 25000.0
