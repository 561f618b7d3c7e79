"""Acceptance tests of issue 16, items 1 and 10: the thesis's rules on the paths after a
re-evaluation and after the first export, driven through the shipped diagrams
(processes/cpe_actual.bpmn, processes/cpe_propuesto.bpmn) by the engine."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.programme.indicators import indicators
from engine.store.schema import Activity, Derivation, SegmentChange

from . import profiles as P
from .driver import Driver

EXPORT = {"resultado_seguimiento": "exporto",
          "exportacion": {"pais": "Perú", "fecha": "2026-07-01", "monto_usd": 20000, "producto": "Conservas"}}


def _driver(engine, clock, process_id):
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    engine.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    return Driver(engine, clock, process_id)


def _derivations(engine, case_id):
    with engine.Session() as s:
        return s.scalars(select(Derivation).where(Derivation.case_id == case_id).order_by(Derivation.id)).all()


def _segment_changes(engine, case_id):
    with engine.Session() as s:
        return [(c.desde, c.hacia) for c in s.scalars(select(SegmentChange).where(SegmentChange.case_id == case_id)
                                                      .order_by(SegmentChange.id))]


def _activities(engine, case_id):
    with engine.Session() as s:
        return [(a.tipo, a.detalle) for a in s.scalars(select(Activity).where(Activity.case_id == case_id)
                                                       .order_by(Activity.id))]


def _reevaluate_amarillo(d, tpe_after):
    """An amarillo winery through training and advice, then its TPE updated with `tpe_after`."""
    case_id = d.start()
    case = d.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    assert case["segmento"] == "amarillo"
    d.train(case_id)
    d.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"})
    case = d.reevaluate(case_id, tpe_after)
    if "Task_ElegirInstitucion" in d.ready(case_id):  # rojo: the executive derives it to the suggested institution
        case = d.choose_institution(case_id)
    return case_id, case


# -- item 1: every classification takes its segment's route ----------------------------------------

@pytest.mark.parametrize("tpe_after,segment,institution", [
    (P.IDEA_ONLY, "rojo", "SERCOTEC"),  # a 20 000 UF jurídica: the table suggests SERCOTEC
    (P.EXPORTADORA_REGULAR, "rojo_oscuro", "ProChile"),
], ids=["falls to rojo", "moves to rojo oscuro"])
def test_actual_reclassification_takes_the_segments_route(deployed, clock, tpe_after, segment, institution):
    """Thesis §3.1.3 and manual §10 (classification by the TPE): "Rojo: [...] se deriva a otros
    organismos complementarios [...] El procedimiento de derivación será inmediato, utilizando la red
    de contactos"; "Rojo oscuro - Empresas exportadoras sobre el nivel de los Centros pyme exporta, por
    lo que no se califica como tal. No así, podrá ser derivado al ejecutivo a cargo de empresas
    exportadoras". A re-evaluation is a classification too: the company leaves the follow-up, derived
    at once, and neither move counts as evolution (§3.4.3 "Evolución: Nº de pyme que subió de estado",
    §5.2 "cuántas suben de categoría de 'amarillo' a 'verde'")."""
    d = _driver(deployed, clock, "cpe_actual")
    case_id, case = _reevaluate_amarillo(d, tpe_after)
    assert case["segmento"] == segment and case["data"]["segmento_anterior"] == "amarillo"
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    assert d.ready(case_id) == {}  # no follow-up left behind
    [derivation] = _derivations(deployed, case_id)
    assert derivation.motivo == segment and derivation.institucion.startswith(institution)
    assert "Región Metropolitana" in derivation.direccion
    assert ("reevaluacion", f"Reevaluación: de amarillo a {segment}") in _activities(deployed, case_id)
    assert ("amarillo", segment) in _segment_changes(deployed, case_id)
    result = indicators(deployed)
    assert (result["ingresadas"], result["derivadas"], result["evolucionaron"]) == (1, 1, 0)


def test_actual_amarillo_that_stays_is_still_followed(deployed, clock):
    """Thesis §3.1.3, amarillo: "La empresa requiere del apoyo de PYME EXPORTA e inicia el proceso del
    centro": a re-evaluation that keeps it amarillo leaves it in the programme's follow-up."""
    d = _driver(deployed, clock, "cpe_actual")
    case_id, case = _reevaluate_amarillo(d, P.VINA_AMARILLO)
    assert case["segmento"] == "amarillo" and case["status"] == "active"
    assert _derivations(deployed, case_id) == []
    d.wait_months()
    assert list(d.ready(case_id)) == ["Task_Seguimiento"]


def test_propuesto_reclassification_to_rojo_gets_a_strengthening_plan(deployed, clock):
    """Thesis §3.4.2 (proposed model, segments): the CPE must include "las pymes que actualmente no
    tienen potencial exportador [...] pues ahí está el verdadero valor agregado de los Centros Pyme
    Exporta". In the proposal a company that falls to rojo at a re-evaluation takes the same route
    as a first rojo classification: a strengthening plan with CORFO/SERCOTEC and a new TPE later,
    not the follow-up of the programme."""
    d = _driver(deployed, clock, "cpe_propuesto")
    case_id, case = _reevaluate_amarillo(d, P.IDEA_ONLY)
    assert case["segmento"] == "rojo" and case["status"] == "active"
    assert [x.motivo for x in _derivations(deployed, case_id)] == ["sercotec"]  # 20 000 UF: SERCOTEC
    assert list(d.ready(case_id)) == ["Task_PlanFortalecimiento"]
    assert case["data"]["intentos_fortalecimiento"] == 0
    d.do(case_id, "Task_PlanFortalecimiento", {"brechas_priorizadas": "Formalizar la producción.",
                                              "acciones": ["Curso de costos"], "fecha_revision": "2026-09-01"})
    d.wait_months(6)
    case = d.do(case_id, "Task_Nuevo_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    assert case["segmento"] == "amarillo" and list(d.ready(case_id)) == ["Task_Capacitacion"]
    # back where it entered (amarillo → rojo → amarillo): neither the fall nor the recovery is evolution
    # (§3.4.3 "Nº de pyme que subió de estado": above its first classification)
    assert indicators(deployed)["evolucionaron"] == 0


def test_propuesto_reclassification_to_rojo_oscuro_is_derived(deployed, clock):
    """Thesis manual §10: "Rojo oscuro - Empresas exportadoras sobre el nivel de los Centros pyme
    exporta [...] podrá ser derivado al ejecutivo a cargo de empresas exportadoras para iniciar el
    trabajo con ProChile": after a re-evaluation too, and it is not an evolution."""
    d = _driver(deployed, clock, "cpe_propuesto")
    case_id, case = _reevaluate_amarillo(d, P.EXPORTADORA_REGULAR)
    assert case["segmento"] == "rojo_oscuro"
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    [derivation] = _derivations(deployed, case_id)
    assert derivation.motivo == "rojo_oscuro" and derivation.institucion.startswith("ProChile")
    assert indicators(deployed)["evolucionaron"] == 0


# -- item 10: sustained export means exports in the follow-up window -------------------------------

def _first_export(d):
    """A verde food company trained, advised and promoted, whose first follow-up records an export."""
    case_id = d.start(ventas_uf=60000, rubro="alimentos_procesados")
    d.through_interview(case_id, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    d.train(case_id, "Task_CapacitacionObligatoria")
    d.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    d.do(case_id, "Task_Promocion", {"instrumento": "plan_sectorial", "nombre_actividad": "Plan Alimentos",
                                     "fecha_actividad": "2026-05-01"})
    d.wait_months()
    case = d.do(case_id, "Task_Seguimiento", EXPORT)
    assert case["status"] == "active" and case["data"]["exportaciones"] == 1
    return case_id


def _quarters(d, case_id, results):
    case = None
    for result in results:
        d.wait_months()
        case = d.do(case_id, "Task_SeguimientoSostenido", EXPORT if result == "exporto"
                    else {"resultado_seguimiento": result})
    return case


def test_propuesto_one_export_then_a_silent_year_returns_to_advice(deployed, clock):
    """Thesis §3.4.2, value proposition: "transformarlas en Pymes exportadoras de manera sostenida en
    el tiempo [...] que una vez que logren exportar sigan exportando siempre" (and §5.2, "exportar de
    forma sostenida en el tiempo"). One export followed by twelve months without another one is not a
    sustained exporter: the company goes back to advice instead of closing as exportadora."""
    d = _driver(deployed, clock, "cpe_propuesto")
    case_id = _first_export(d)
    case = _quarters(d, case_id, ["sin_actividad", "solicitud_cotizacion", "firmo_contrato", "sin_actividad"])
    assert case["data"]["trimestres_sostenidos"] == 4 and case["data"]["exportaciones"] == 1
    assert case["status"] == "active" and case["resultado"] is None
    ready = d.ready(case_id)
    # a verde company goes back to the ProChile executive's specialised advice (SPEC §1 step 7, verde route)
    assert list(ready) == ["Task_AsesoriaEspecializada"] and ready["Task_AsesoriaEspecializada"]["assignee"] == "pro.rm"
    assert ("exportacion_sostenida", "Sin nuevas exportaciones en 12 meses de seguimiento: vuelve a asesoría") \
        in _activities(deployed, case_id)
    # back on the verde route: specialised advice, then promotion instruments
    d.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    assert list(d.ready(case_id)) == ["Task_Promocion"]


def test_propuesto_another_export_in_the_window_closes_as_exportadora(deployed, clock):
    """Thesis §3.4.2: "que una vez que logren exportar sigan exportando siempre". The rule in
    Gateway_DoceMeses: at least one more export recorded in the 12 months after the first one
    (here only in the last quarter) closes the case as exportadora."""
    d = _driver(deployed, clock, "cpe_propuesto")
    case_id = _first_export(d)
    case = _quarters(d, case_id, ["sin_actividad", "sin_actividad", "sin_actividad"])
    assert case["status"] == "active"
    case = _quarters(d, case_id, ["exporto"])
    assert case["data"]["exportaciones"] == 2
    assert case["status"] == "completed" and case["resultado"] == "exportadora"
