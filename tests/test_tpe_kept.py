"""Acceptance tests of issue 16, item 5: one TPE per company, kept by the executive, driven through the
shipped diagrams (processes/cpe_actual.bpmn, processes/cpe_propuesto.bpmn) by the engine.

Thesis §3.4.2 (bloque 2, "Test de Potencialidad Exportadora (TPE) y Entrevista"): "Quiénes harán un solo
TPE por empresa (esto con objeto de evitar condicionar las respuestas en pro de mejores resultados), el
que podrá ser utilizado para todas las actividades que se realicen en la institución; en caso de que las
condiciones y/o datos de la empresa cambien con el paso del tiempo, éstos podrán ser actualizados en el
TPE guardado por el ejecutivo y en el sistema de registro de clientes."
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.basics.clock import as_utc
from engine.cases.queries import case_record
from engine.domain.scoring import score_questionnaire
from engine.models.rules import process_rules
from engine.programme.portal import PORTAL_ACTOR
from engine.store.schema import OutboxMessage, Tpe, TpeHistory
from webapp.shared.formrender import fields

from . import profiles as P
from .conftest import ROOT
from .driver import AGENDA, Driver

BOTH = pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])


def _driver(engine, clock, process_id):
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", full_name="Ejecutiva RM")
    engine.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    return Driver(engine, clock, process_id)


def _shown(task, case_data) -> dict:
    """What the form of `task` shows when first opened (webapp.shared.formrender, as the task page):
    the group `respuestas` with the value of each question."""
    [group] = [f for f in fields(task["form"], None, context=case_data, defaults=True) if f.name == "respuestas"]
    return {child.name.split(".", 1)[1]: child.value for child in group.children}


def _history(engine):
    with engine.Session() as s:
        return [(h.revision, h.submitted_by, as_utc(h.submitted_at), h.puntaje)
                for h in s.scalars(select(TpeHistory).order_by(TpeHistory.revision))]


def _stored(engine):
    with engine.Session() as s:
        return s.scalars(select(Tpe)).all()


def _answer_tpe_as_the_company(d, case_id, answers, bpmn_id="Task_TPE_Bienes"):
    """The company answers its TPE in the portal (the portal completes the task as PORTAL_ACTOR)."""
    task = d.ready(case_id)[bpmn_id]
    assert task["lane"] == "pyme"
    d.engine.complete(task["id"], {"respuestas": answers}, actor=PORTAL_ACTOR)


def _amarillo_until_reevaluation(d, entrevista=P.ENTREVISTA_MEDIA):
    """An amarillo winery (TPE answered by the company in the portal) through interview, training and
    advice: the re-evaluation comes next."""
    case_id = d.start()
    _answer_tpe_as_the_company(d, case_id, P.VINA_AMARILLO)
    d.do(case_id, "Task_AgendarEntrevista", AGENDA, user="eje.rm")
    case = d.do(case_id, "Task_Entrevista", {"respuestas": entrevista, "brechas": "Requisitos de mercado."},
                user="eje.rm")
    assert case["segmento"] == "amarillo"
    d.train(case_id, user="eje.rm")
    d.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"}, user="eje.rm")
    return case_id


# -- re-evaluation: the executive, with the stored answers ------------------------------------------

@BOTH
def test_the_reevaluation_is_the_executives_with_the_stored_answers_shown(deployed, clock, process_id):
    """Thesis §3.4.2: the TPE is "actualizados en el TPE guardado por el ejecutivo". At a re-evaluation
    the company is not asked to answer again: the interview and the TPE update wait in the executive's
    inbox (lane ejecutivo_cpe, assigned to the executive in charge), each form showing the answers kept
    (the previous interview; the stored TPE), and no reminder goes to the company."""
    d = _driver(deployed, clock, process_id)
    case_id = _amarillo_until_reevaluation(d)
    to_company = _to_company(deployed, case_id)

    interview = d.ready(case_id)["Task_Actualizar_Entrevista"]
    assert (interview["lane"], interview["assignee"]) == ("ejecutivo_cpe", "eje.rm")
    assert [t["bpmn_id"] for t in deployed.ready_tasks(user="eje.rm")] == ["Task_Actualizar_Entrevista"]
    assert _shown(interview, deployed.case(case_id)["data"]) == P.ENTREVISTA_MEDIA
    d.do(case_id, "Task_Actualizar_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": "Idem."},
         user="eje.rm")

    update = d.ready(case_id)["Task_Actualizar_TPE_Bienes"]
    assert (update["lane"], update["assignee"]) == ("ejecutivo_cpe", "eje.rm")
    [stored] = _stored(deployed)
    assert _shown(update, deployed.case(case_id)["data"]) == stored.respuestas == P.VINA_AMARILLO
    d.clock.advance(days=30)  # no reminder and no abandono while the executive has it
    deployed.fire_due_timers()
    assert _to_company(deployed, case_id) == to_company and deployed.case(case_id)["status"] == "active"
    assert list(d.ready(case_id)) == ["Task_Actualizar_TPE_Bienes"]


def _to_company(engine, case_id):
    with engine.Session() as s:
        return s.scalars(select(OutboxMessage.id).where(OutboxMessage.case_id == case_id,
                                                        OutboxMessage.destinatario == "pyme")).all()


def test_every_tpe_change_is_recorded_with_who_and_when(deployed, clock):
    """Thesis §3.4.2: one TPE per company, updated by the executive "en el TPE guardado por el
    ejecutivo y en el sistema de registro de clientes": the company keeps one TPE (revision 2 after the
    update) and every version is in its history with who gave it (the company in its portal, then the
    executive) and when; the case page's record shows it."""
    d = _driver(deployed, clock, "cpe_actual")
    case_id = _amarillo_until_reevaluation(d)
    [(_, who, first_at, _)] = _history(deployed)
    assert who == PORTAL_ACTOR
    d.clock.advance(days=20)
    updated_at = d.clock.now()
    d.reevaluate(case_id, P.ALIMENTOS_VERDE, user="eje.rm")

    [stored] = _stored(deployed)
    assert stored.revision == 2 and stored.respuestas == P.ALIMENTOS_VERDE
    assert as_utc(stored.submitted_at) >= updated_at
    history = _history(deployed)
    assert [(rev, who) for rev, who, _, _ in history] == [(1, PORTAL_ACTOR), (2, "eje.rm")]
    assert history[0][2] == first_at and updated_at <= history[1][2] < updated_at + timedelta(minutes=1)
    assert history[1][3] == stored.puntaje != history[0][3]
    shown = case_record(deployed, case_id)["tpe_history"]
    assert [(h["revision"], h["submitted_by"], h["submitted_by_name"]) for h in shown] == [
        (1, PORTAL_ACTOR, None), (2, "eje.rm", "Ejecutiva RM")]
    assert [as_utc(h["submitted_at"]) for h in shown] == [at for _, _, at, _ in history]


@BOTH
def test_the_interview_is_scored_again_at_the_reevaluation(deployed, clock, process_id):
    """Thesis §3.4.2: the interview's points "se sumarán al TPE original y reflejará un puntaje final".
    At a re-evaluation the executive goes through the interview again: the final score adds the new
    interview's points, not the first interview's."""
    d = _driver(deployed, clock, process_id)
    case_id = _amarillo_until_reevaluation(d, entrevista=P.ENTREVISTA_MEDIA)
    before = deployed.case(case_id)["data"]
    schema = d.ready(case_id)["Task_Actualizar_Entrevista"]["form"]
    case = d.reevaluate(case_id, P.VINA_AMARILLO, entrevista=P.ENTREVISTA_ALTA, user="eje.rm")
    data = case["data"]
    new_interview = score_questionnaire(schema, P.ENTREVISTA_ALTA)["puntaje"]
    assert data["puntaje_entrevista"] == new_interview != before["puntaje_entrevista"]
    assert data["puntaje_tpe"] == before["puntaje_tpe"]  # same TPE answers
    assert data["puntaje_final"] == round(0.6 * data["puntaje_tpe"] + 0.4 * new_interview, 1)
    assert data["puntaje_final"] > before["puntaje_final"]


# -- a new case of the company: its valid TPE is reused ----------------------------------------------

def _first_case_derived(d):
    """A regular exporter: TPE in the portal, interview, classified rojo oscuro and derived to ProChile
    (the case ends)."""
    case_id = d.start()
    _answer_tpe_as_the_company(d, case_id, P.EXPORTADORA_REGULAR)
    d.do(case_id, "Task_AgendarEntrevista", AGENDA, user="eje.rm")
    case = d.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_ALTA, "brechas": "Ninguna."},
                user="eje.rm")
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    return case


@BOTH
def test_a_new_case_within_12_months_reuses_the_stored_tpe(deployed, clock, process_id):
    """Thesis §3.4.2: "un solo TPE por empresa [...] el que podrá ser utilizado para todas las
    actividades que se realicen en la institución". A new case of the same RUT whose TPE was answered
    less than 12 months ago (the rule Service_TpeVigente of the diagram) does not ask the company again:
    the stored answers are scored and, with the interview, give the segment. The TPE stays as it was
    (no new revision, its date unchanged: the reuse does not extend it)."""
    d = _driver(deployed, clock, process_id)
    first = _first_case_derived(d)
    [stored] = _stored(deployed)
    d.clock.advance(days=300)
    case_id = d.start()
    ready = d.ready(case_id)
    assert "Task_TPE_Bienes" not in ready and list(ready) == ["Task_AgendarEntrevista"]
    data = deployed.case(case_id)["data"]
    assert data["tpe_vigente"]["vigente"] is True and data["puntaje_tpe"] == stored.puntaje
    d.do(case_id, "Task_AgendarEntrevista", AGENDA, user="eje.rm")
    case = d.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_ALTA, "brechas": "Ninguna."}, user="eje.rm")
    assert case["segmento"] == first["segmento"] and case["data"]["puntaje_final"] == first["data"]["puntaje_final"]
    [again] = _stored(deployed)
    assert (again.revision, as_utc(again.submitted_at)) == (1, as_utc(stored.submitted_at))
    assert len(_history(deployed)) == 1


@BOTH
def test_after_12_months_the_company_answers_the_tpe_again(deployed, clock, process_id):
    """Thesis §3.4.2 "en caso de que las condiciones y/o datos de la empresa cambien con el paso del
    tiempo": the stored TPE is valid 12 months (supuesto del equipo); after that a new case asks the
    company again, and its answer becomes revision 2 of the same TPE."""
    d = _driver(deployed, clock, process_id)
    _first_case_derived(d)
    d.clock.advance(days=366)
    case_id = d.start()
    assert list(d.ready(case_id)) == ["Task_TPE_Bienes"]
    assert deployed.case(case_id)["data"]["tpe_vigente"]["vigente"] is False
    _answer_tpe_as_the_company(d, case_id, P.ALIMENTOS_VERDE)
    [stored] = _stored(deployed)
    assert stored.revision == 2 and stored.respuestas == P.ALIMENTOS_VERDE
    assert [(rev, who) for rev, who, _, _ in _history(deployed)] == [(1, PORTAL_ACTOR), (2, PORTAL_ACTOR)]


def test_a_tpe_of_the_other_offer_is_not_reused(deployed, clock):
    """Thesis §3.4.2: "Se espera tener diferenciado un test para el área bienes y posteriormente para el
    área servicios": a company that answered the goods TPE and now comes as a services company answers
    the services TPE."""
    d = _driver(deployed, clock, "cpe_actual")
    _first_case_derived(d)
    case_id = d.start(tipo_oferta="servicios")
    assert list(d.ready(case_id)) == ["Task_TPE_Servicios"]


@BOTH
def test_the_12_months_are_a_rule_of_the_diagram(process_id):
    """Issue 16 item 12: the TPE's validity lives in the diagram and is listed with its source; the
    thesis fixes one TPE per company but no validity, so it is the team's assumption."""
    rules = process_rules((ROOT / "processes" / f"{process_id}.bpmn").read_bytes())
    [rule] = [r for r in rules if r.element_id == "Service_TpeVigente"]
    assert "12 meses" in rule.regla and rule.origen == "supuesto" and "§3.4.2" in rule.fuente
    assert rule.valor == 'tpe_guardado(formulario = "tpe_" + tipo_oferta, vigencia_meses = 12)'


# -- the proposal's new TPE after the strengthening plan: the executive's, with the stored answers ----

PLAN = {"brechas_priorizadas": "Formalizar la producción.", "acciones": ["Curso de costos"],
        "fecha_revision": "2026-09-01"}


def test_the_new_tpe_after_the_strengthening_plan_is_the_executives(deployed, clock):
    """Thesis §3.4.2 (proposed model): one TPE per company, "actualizados en el TPE guardado por el
    ejecutivo". After the strengthening plan (rojo) the new TPE is not asked of the company: the
    executive in charge updates the stored TPE, its form showing the stored answers; the company gets no
    reminder and the case is not closed as abandono while the executive has it; the update is revision 2
    of the same TPE, given by the executive."""
    d = _driver(deployed, clock, "cpe_propuesto")
    case_id = d.start(ventas_uf=6000, rubro="agroindustria")
    _answer_tpe_as_the_company(d, case_id, P.IDEA_ONLY)
    d.do(case_id, "Task_AgendarEntrevista", AGENDA, user="eje.rm")
    case = d.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": "Solo una idea."},
                user="eje.rm")
    assert case["segmento"] == "rojo"
    d.do(case_id, "Task_PlanFortalecimiento", PLAN, user="eje.rm")
    d.clock.advance(days=190)
    deployed.fire_due_timers()

    update = d.ready(case_id)["Task_Nuevo_TPE_Bienes"]
    assert (update["lane"], update["assignee"]) == ("ejecutivo_cpe", "eje.rm")
    assert [t["bpmn_id"] for t in deployed.ready_tasks(user="eje.rm")] == ["Task_Nuevo_TPE_Bienes"]
    [stored] = _stored(deployed)
    assert _shown(update, deployed.case(case_id)["data"]) == stored.respuestas == P.IDEA_ONLY
    to_company = _to_company(deployed, case_id)
    d.clock.advance(days=200)  # past the company's reminder (10 working days) and abandono (6 months)
    deployed.fire_due_timers()
    assert _to_company(deployed, case_id) == to_company and deployed.case(case_id)["status"] == "active"
    assert list(d.ready(case_id)) == ["Task_Nuevo_TPE_Bienes"]

    case = d.do(case_id, "Task_Nuevo_TPE_Bienes", {"respuestas": P.VINA_AMARILLO}, user="eje.rm")
    assert case["segmento"] == "amarillo" and case["data"]["segmento_anterior"] == "rojo"
    [stored] = _stored(deployed)
    assert stored.revision == 2 and stored.respuestas == P.VINA_AMARILLO
    assert [(rev, who) for rev, who, _, _ in _history(deployed)] == [(1, PORTAL_ACTOR), (2, "eje.rm")]


def test_no_company_timer_is_left_on_the_new_tpe():
    """The proposal's new TPE after the plan is the executive's task: no reminder or abandono timer of
    the company is attached to it, and it sits in the executive's lane."""
    from xml.etree import ElementTree as ET
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    root = ET.parse(ROOT / "processes" / "cpe_propuesto.bpmn").getroot()
    attached = {b.get("attachedToRef") for b in root.iter(f"{{{ns['bpmn']}}}boundaryEvent")}
    assert not attached & {"Task_Nuevo_TPE_Bienes", "Task_Nuevo_TPE_Servicios"}
    lanes = {lane.get("id"): {r.text for r in lane.findall("bpmn:flowNodeRef", ns)}
             for lane in root.iter(f"{{{ns['bpmn']}}}lane")}
    assert {"Task_Nuevo_TPE_Bienes", "Task_Nuevo_TPE_Servicios", "Service_TpeGuardadoNuevo"} <= lanes["ejecutivo_cpe"]
    assert not lanes["pyme"] & {"Task_Nuevo_TPE_Bienes", "Task_Nuevo_TPE_Servicios"}
