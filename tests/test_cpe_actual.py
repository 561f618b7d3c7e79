"""The current CPE process (processes/cpe_actual.bpmn) driven end to end through the engine."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.domain.scoring import score_questionnaire
from engine.store.schema import Activity, Derivation, OutboxMessage, Tpe, TpeHistory

from . import profiles as P
from .driver import AGENDA, Driver


@pytest.fixture
def cpe(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", email="eje@prochile.cl")
    deployed.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    deployed.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM", email="jefe@prochile.cl")
    return Driver(deployed, clock, "cpe_actual")


def _derivations(engine, case_id):
    with engine.Session() as s:
        return s.scalars(select(Derivation).where(Derivation.case_id == case_id).order_by(Derivation.id)).all()


def _activities(engine, case_id):
    with engine.Session() as s:
        return [a.tipo for a in s.scalars(select(Activity).where(Activity.case_id == case_id).order_by(Activity.id))]


# -- acceptance profiles (SPEC §3) ----------------------------------------------------------

PROFILES = [
    ("idea only", {"tipo_persona": "natural", "ventas_uf": 3000, "razon_social": "Juana Soto"}, P.IDEA_ONLY,
     P.ENTREVISTA_BAJA, "rojo", "completed", "FOSIS"),
    ("winery", {"ventas_uf": 20000}, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA, "amarillo", "active", None),
    ("food company", {"ventas_uf": 60000, "rubro": "alimentos_procesados", "razon_social": "Alimentos del Sur SpA"},
     P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA, "verde", "active", None),
    ("regular exporter", {"ventas_uf": 80000}, P.EXPORTADORA_REGULAR, P.ENTREVISTA_ALTA, "rojo_oscuro", "completed",
     "ProChile"),
]


@pytest.mark.parametrize("label,company,tpe,interview,segment,status,institution", PROFILES,
                         ids=[p[0] for p in PROFILES])
def test_acceptance_profiles(cpe, label, company, tpe, interview, segment, status, institution):
    case_id = cpe.start(**company)
    case = cpe.through_interview(case_id, tpe, interview)
    assert case["segmento"] == segment and case["status"] == status
    assert _activities(cpe.engine, case_id)[:2] == ["tpe", "entrevista"]  # manual §9
    derivations = _derivations(cpe.engine, case_id)
    if institution:
        assert case["resultado"] == "derivada"
        [derivation] = derivations
        assert derivation.motivo == segment and derivation.institucion.startswith(institution)
        assert derivation.contacto and "Región Metropolitana" in derivation.direccion
    else:
        assert derivations == [] and case["resultado"] is None


@pytest.mark.parametrize("ventas,tramo,institution", [(1500, "micro", "SERCOTEC — Centro de Negocios Santiago"),
                                                     (150000, "grande", "ProChile — Dirección Regional")])
def test_micro_and_large_companies_are_derived(cpe, ventas, tramo, institution):
    case_id = cpe.start(ventas_uf=ventas)
    case = cpe.engine.case(case_id)
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    assert case["data"]["tamano"]["tramo"] == tramo
    [derivation] = _derivations(cpe.engine, case_id)
    assert derivation.motivo == tramo and derivation.institucion.startswith(institution)
    assert cpe.ready(case_id) == {}


def test_scores_follow_the_questionnaires(cpe):
    case_id = cpe.start()
    case = cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    forms = cpe.engine.ready_tasks(case_id=case_id)[0]["form"]  # any form of the version
    assert forms is not None
    data = case["data"]
    assert data["puntaje_final"] == round(0.6 * data["puntaje_tpe"] + 0.4 * data["puntaje_entrevista"], 1)
    assert set(data["resultado_tpe"]["dimensiones"]) == {
        "gestion", "mercado", "comercio_exterior", "capacidad_productiva", "calidad", "innovacion", "finanzas",
        "promocion"}


def test_services_variant_uses_its_own_questionnaire(cpe):
    case_id = cpe.start(tipo_oferta="servicios", rubro="tecnologia_software")
    ready = cpe.ready(case_id)
    assert list(ready) == ["Task_TPE_Servicios"] and ready["Task_TPE_Servicios"]["form_id"] == "tpe_servicios"
    schema = ready["Task_TPE_Servicios"]["form"]
    answers = {q: sorted(o["oneOf"], key=lambda x: x["x-points"])[-1]["const"]
               for q, o in schema["properties"]["respuestas"]["properties"].items()}
    answers["experiencia_exportadora"] = "esporadica"
    case = cpe.do(case_id, "Task_TPE_Servicios", {"respuestas": answers})
    assert case["data"]["puntaje_tpe"] == score_questionnaire(schema, answers)["puntaje"]


def test_one_tpe_per_company_with_history(cpe):
    first = cpe.start()
    cpe.do(first, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.clock.advance(days=400)  # no longer valid (12 months): the new case asks for it again
    second = cpe.start(rut="76086428-5")
    cpe.do(second, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    with cpe.engine.Session() as s:
        [tpe] = s.scalars(select(Tpe)).all()
        history = s.scalars(select(TpeHistory).order_by(TpeHistory.revision)).all()
    assert tpe.revision == 2 and tpe.respuestas == P.VINA_AMARILLO
    assert [h.case_id for h in history] == [first, second]
    assert (tpe.valid_until - tpe.submitted_at).days == 365


def test_tasks_are_assigned_to_the_least_loaded_executive(cpe):
    cpe.engine.create_user("eje2.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    owners = []
    for i in range(4):
        case_id = cpe.start(rut=["76086428-5", "77123456-9", "76543210-3", "79345678-6"][i])
        cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
        owners.append(cpe.ready(case_id)["Task_AgendarEntrevista"]["assignee"])
    assert sorted(owners) == ["eje.rm", "eje.rm", "eje2.rm", "eje2.rm"]


def test_without_executives_the_regional_head_assigns_the_company(cpe):
    # issue 16 item 8: no longer a regional pool nobody owns (tests/test_asignacion_jefe.py)
    case_id = cpe.start(region="CL-AI")
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    task = cpe.ready(case_id)["Task_AsignarEjecutivo"]
    assert task["assignee"] is None and task["lane"] == "jefe_regional" and task["region"] == "CL-AI"


# -- routes after classification --------------------------------------------------------------

def test_amarillo_training_advice_reevaluation_then_desertion(cpe):
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    cpe.train(case_id, talleres=("taller_123_exporta", "mujer_exporta"), programa="corfo")
    assert [d.motivo for d in _derivations(cpe.engine, case_id)] == ["corfo"]  # parallel programme
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo", "mercados_objetivo": ["Perú", "Brasil"]})
    case = cpe.reevaluate(case_id, P.VINA_AMARILLO)
    assert case["segmento"] == "amarillo" and cpe.ready(case_id) == {}
    cpe.wait_months()
    case = cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": "sin_actividad"})
    assert case["status"] == "active" and case["data"]["meses_sin_actividad"] == 3
    cpe.wait_months()
    case = cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": "sin_actividad"})
    assert case["status"] == "completed" and case["resultado"] == "desercion"
    assert _activities(cpe.engine, case_id) == ["tpe", "entrevista", "capacitacion", "asesoria", "reevaluacion",
                                                "seguimiento", "seguimiento"]


def test_activity_resets_the_desertion_count(cpe):
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    cpe.train(case_id, talleres=("ecommerce",))
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"})
    cpe.reevaluate(case_id, P.VINA_AMARILLO)
    for result in ("sin_actividad", "solicitud_cotizacion", "sin_actividad"):
        cpe.wait_months()
        case = cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": result})
    assert case["status"] == "active" and case["data"]["meses_sin_actividad"] == 3


def test_amarillo_moves_up_to_verde_and_exports(cpe):
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_ALTA)
    cpe.train(case_id, talleres=("ciclo_plan_negocios",))
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "completo"})
    case = cpe.reevaluate(case_id, P.ALIMENTOS_VERDE)
    assert case["segmento"] == "verde" and case["data"]["segmento_anterior"] == "amarillo"
    ready = cpe.ready(case_id)
    assert list(ready) == ["Task_AsesoriaEspecializada"]  # already trained: no second training
    assert ready["Task_AsesoriaEspecializada"]["assignee"] == "pro.rm"
    cpe.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"}, user="pro.rm")
    cpe.do(case_id, "Task_Promocion", {"instrumento": "feria_internacional", "nombre_actividad": "Prowein",
                                       "fecha_actividad": "2026-06-01", "pais_destino": "Alemania"}, user="pro.rm")
    cpe.wait_months()
    task = cpe.ready(case_id)["Task_Seguimiento"]
    assert task["assignee"] == "pro.rm"  # the ProChile executive is now in charge
    case = cpe.do(case_id, "Task_Seguimiento", {
        "resultado_seguimiento": "exporto",
        "exportacion": {"pais": "Alemania", "fecha": "2026-08-01", "monto_usd": 48000, "producto": "Vino"}},
        user="pro.rm")
    assert case["status"] == "completed" and case["resultado"] == "exportadora"


def test_verde_must_be_trained_before_promotion(cpe):
    case_id = cpe.start(ventas_uf=60000, rubro="alimentos_procesados")
    case = cpe.through_interview(case_id, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    assert case["segmento"] == "verde"
    cpe.train(case_id, "Task_CapacitacionObligatoria", talleres=("coaching_exportador",), attend=False)
    assert list(cpe.ready(case_id)) == ["Task_CapacitacionObligatoria"]  # not trained yet: training again
    cpe.train(case_id, "Task_CapacitacionObligatoria", talleres=("coaching_exportador",))
    assert list(cpe.ready(case_id)) == ["Task_AsesoriaEspecializada"]


def test_export_record_is_required_when_exported(cpe):
    from engine.basics.errors import FormError

    case_id = cpe.start(ventas_uf=60000)
    cpe.through_interview(case_id, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    cpe.train(case_id, "Task_CapacitacionObligatoria", talleres=("ecommerce",))
    cpe.do(case_id, "Task_AsesoriaEspecializada", {"plan_negocios": "completo"})
    cpe.do(case_id, "Task_Promocion", {"instrumento": "rueda_negocios", "nombre_actividad": "Rueda Andina",
                                       "fecha_actividad": "2026-05-01"})
    cpe.wait_months()
    with pytest.raises(FormError) as info:
        cpe.do(case_id, "Task_Seguimiento", {"resultado_seguimiento": "exporto"})
    assert "exportacion" in info.value.errors
    assert "Task_Seguimiento" in cpe.ready(case_id)


# -- escalation timer --------------------------------------------------------------------------

def test_interview_not_scheduled_in_five_working_days_escalates(cpe):
    case_id = cpe.start()  # Monday 09:00 on the virtual clock
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.clock.advance(days=6)  # Sunday: 4 working days have passed
    assert cpe.engine.fire_due_timers() == 0
    cpe.clock.advance(days=1, hours=1)  # Monday 10:00: 5 working days
    assert cpe.engine.fire_due_timers() == 1
    ready = cpe.ready(case_id)
    assert set(ready) == {"Task_AgendarEntrevista", "Task_AtenderEscalamiento"}  # non-interrupting
    assert ready["Task_AtenderEscalamiento"]["lane"] == "jefe_regional"
    assert [t["bpmn_id"] for t in cpe.engine.ready_tasks(user="jefe.rm")] == ["Task_AtenderEscalamiento"]
    with cpe.engine.Session() as s:
        [message] = s.scalars(select(OutboxMessage)).all()
    assert message.destinatario == "jefe_regional" and message.to_address == "jefe@prochile.cl"
    assert "Viña Los Aromos SpA" in message.asunto
    # the case ends (rojo, derived): the pending escalation task is cancelled with it
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_BAJA, "brechas": "Solo una idea."})
    case = cpe.choose_institution(case_id)
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    assert cpe.engine.ready_tasks(case_id=case_id) == []


def test_scheduling_in_time_cancels_the_escalation_timer(cpe):
    case_id = cpe.start()
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    cpe.clock.advance(days=30)
    assert cpe.engine.fire_due_timers() == 0
    assert list(cpe.ready(case_id)) == ["Task_Entrevista"]


def test_a_cancelled_task_takes_its_drafts_with_it(cpe):
    from engine.cases.drafts import load_draft, save_draft

    case_id = cpe.start()
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.clock.advance(days=7, hours=1)
    cpe.engine.fire_due_timers()
    escalation = cpe.ready(case_id)["Task_AtenderEscalamiento"]["id"]
    save_draft(cpe.engine, escalation, "jefe.rm", {"acciones": "Llamar al ejecutivo"})
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_BAJA, "brechas": "Solo una idea."})
    cpe.choose_institution(case_id)
    assert cpe.engine.task(escalation)["state"] == "cancelled"
    assert load_draft(cpe.engine, escalation, "jefe.rm") is None
