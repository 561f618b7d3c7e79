"""The proposed model (processes/cpe_propuesto.bpmn, SPEC §2): same engine, same
operators and forms, no Python of its own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.store.schema import Derivation

from . import profiles as P
from .driver import Driver

PLAN = {"brechas_priorizadas": "Formalizar la producción y obtener resolución sanitaria.",
        "acciones": ["Asesoría de Centro de Negocios", "Curso de costos"], "fecha_revision": "2026-09-01"}


@pytest.fixture
def cpe(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    deployed.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    return Driver(deployed, clock, "cpe_propuesto")


def _motivos(engine, case_id):
    with engine.Session() as s:
        return [d.motivo for d in s.scalars(select(Derivation).where(Derivation.case_id == case_id)
                                            .order_by(Derivation.id))]


def test_both_models_are_deployed_side_by_side(deployed):
    processes = {m["key"] for m in deployed.models() if m["kind"] == "process"}
    assert {"cpe_actual", "cpe_propuesto"} <= processes


def test_rojo_stays_in_the_programme_and_moves_up_after_strengthening(cpe):
    case_id = cpe.start(ventas_uf=6000, rubro="agroindustria")
    case = cpe.through_interview(case_id, P.IDEA_ONLY, P.ENTREVISTA_MEDIA)
    assert case["segmento"] == "rojo" and case["status"] == "active"  # not dropped
    assert _motivos(cpe.engine, case_id) == ["sercotec"]  # strengthening programme, not an exit
    cpe.do(case_id, "Task_PlanFortalecimiento", PLAN)
    assert cpe.ready(case_id) == {}  # waiting period before a new TPE
    cpe.clock.advance(days=150)
    assert cpe.engine.fire_due_timers() == 0
    cpe.clock.advance(days=40)
    assert cpe.engine.fire_due_timers() == 1
    case = cpe.do(case_id, "Task_Nuevo_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    assert case["segmento"] == "amarillo" and case["data"]["segmento_anterior"] == "rojo"
    assert list(cpe.ready(case_id)) == ["Task_Capacitacion"]


def test_rojo_is_derived_after_two_strengthening_attempts(cpe):
    case_id = cpe.start(ventas_uf=30000)
    cpe.through_interview(case_id, P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    for _ in range(2):
        cpe.do(case_id, "Task_PlanFortalecimiento", PLAN)
        cpe.clock.advance(days=200)
        cpe.engine.fire_due_timers()
        case = cpe.do(case_id, "Task_Nuevo_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    assert case["status"] == "active" and "Task_ElegirInstitucion" in cpe.ready(case_id)
    case = cpe.choose_institution(case_id, "camara_comercio")  # the executive picks another than suggested
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    assert _motivos(cpe.engine, case_id) == ["corfo", "corfo", "rojo"]
    assert case["data"]["derivacion"]["institucion"] == "Cámara de Comercio de Santiago"


def test_export_is_followed_for_twelve_months(cpe):
    case_id = cpe.start(ventas_uf=60000, rubro="alimentos_procesados")
    cpe.through_interview(case_id, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    cpe.train(case_id, "Task_CapacitacionObligatoria", talleres=("ecommerce",))
    cpe.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    cpe.do(case_id, "Task_Promocion", {"instrumento": "plan_sectorial", "nombre_actividad": "Plan Alimentos",
                                       "fecha_actividad": "2026-05-01"})
    export = {"resultado_seguimiento": "exporto",
              "exportacion": {"pais": "Perú", "fecha": "2026-07-01", "monto_usd": 20000, "producto": "Conservas"}}
    cpe.wait_months()
    case = cpe.do(case_id, "Task_Seguimiento", export)
    assert case["status"] == "active" and case["data"]["exportaciones"] == 1  # not closed at the first export
    for quarter, result in enumerate(["exporto", "sin_actividad", "exporto", "exporto"], start=1):
        cpe.wait_months()
        data = export if result == "exporto" else {"resultado_seguimiento": result}
        case = cpe.do(case_id, "Task_SeguimientoSostenido", data)
        assert case["data"]["trimestres_sostenidos"] == quarter
    assert case["status"] == "completed" and case["resultado"] == "exportadora"
    assert case["data"]["exportaciones"] == 4
