"""The regional head redistributes an executive's companies (issue 16, item 8: "The regional head gets
a task to assign or redistribute"), through the shipped process redistribuir_cartera.

Thesis §3.4.2 (block 4, "Recursos clave"): "Se propone que cada ejecutivo esté a cargo de un grupo de
pymes (50 como máximo), ordenados por rubro, para así asegurar una atención más especializada y
personalizada." When an executive leaves or is overloaded, the head moves open cases to another
executive of the region without taking anyone over 50; each moved case, its open tasks and the tasks
still to come go to the new executive, and its history says who moved it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from stdnum.cl import rut as chilean_rut

from engine.basics.errors import Forbidden, FormError
from engine.store.schema import Case, User

from . import profiles as P
from .driver import AGENDA, Driver

PROCESS = "redistribuir_cartera"


def _rut(n: int) -> str:
    body = str(77_200_000 + n)
    return f"{body}-{chilean_rut.calc_check_digit(body)}"


def _company(cpe, n, region, rubro="alimentos_procesados"):
    """A company of `region` whose TPE is in: an executive of the region is in charge of it."""
    case_id = cpe.start(rut=_rut(n), razon_social=f"Empresa {n} SpA", region=region, rubro=rubro)
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    return case_id


def _load(engine, username):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(Case).where(Case.ejecutivo == username,
                                                                     Case.status == "active"))


def _start(engine, region, user, motivo="salida"):
    case_id = engine.start(PROCESS, {"region": region, "motivo_redistribucion": motivo}, actor=user)
    return case_id, Driver(engine, None, PROCESS)


def _choose(head, case_id, user, **choice):
    return head.do(case_id, "Task_Redistribuir", {"redistribucion_jefe": choice}, user=user)


def test_the_head_moves_chosen_cases_within_the_cap_and_their_tasks_follow(deployed, clock):
    """§3.4.2 block 4: eje.b has 47 companies, eje.a 4. Moving all of eje.a's to eje.b would take eje.b
    to 51: refused with the room left, nothing moves, the head is asked again. Two chosen cases move:
    their executive in charge, their open task and the next executive task go to eje.b; the history of
    each says the head moved it; the other two stay with eje.a."""
    engine = deployed
    engine.create_user("jefe.at", "secreto-123", "jefe_regional", region="CL-AT")
    engine.create_user("eje.b", "secreto-123", "ejecutivo_cpe", region="CL-AT")
    cpe = Driver(engine, clock, "cpe_actual")
    for n in range(47):
        _company(cpe, n, "CL-AT")
    engine.create_user("eje.a", "secreto-123", "ejecutivo_cpe", region="CL-AT")
    first, second, third, fourth = (_company(cpe, 100 + n, "CL-AT") for n in range(4))
    assert (_load(engine, "eje.a"), _load(engine, "eje.b")) == (4, 47)
    cpe.do(first, "Task_AgendarEntrevista", AGENDA, user="eje.a")  # the interview now waits for eje.a
    assert cpe.ready(first)["Task_Entrevista"]["assignee"] == "eje.a"

    case_id, head = _start(engine, "CL-AT", "jefe.at")
    [task] = engine.ready_tasks(case_id=case_id)
    assert (task["bpmn_id"], task["lane"], task["region"], task["assignee"]) == (
        "Task_Redistribuir", "jefe_regional", "CL-AT", None)
    assert [t["bpmn_id"] for t in engine.ready_tasks(user="jefe.at")] == ["Task_Redistribuir"]
    assert engine.case(case_id)["data"]["cargas_region"]["resumen"] == (
        "eje.a: 4 de 50 empresas; eje.b: 47 de 50 empresas")
    with pytest.raises(Forbidden):  # the head's task, not an executive's
        _choose(head, case_id, "eje.a", modo_redistribucion="todas", ejecutivo_desde="eje.a",
                ejecutivo_hacia="eje.b")
    with pytest.raises(FormError) as info:  # "Los casos que indico" without case numbers
        _choose(head, case_id, "jefe.at", modo_redistribucion="indicadas", ejecutivo_desde="eje.a",
                ejecutivo_hacia="eje.b")
    assert "redistribucion_jefe.numeros_casos" in info.value.errors

    case = _choose(head, case_id, "jefe.at", modo_redistribucion="todas", ejecutivo_desde="eje.a",
                   ejecutivo_hacia="eje.b")
    assert case["data"]["redistribucion"]["motivo"] == (
        "«eje.b» tiene 47 de 50 empresas a cargo: puede recibir 3 más, no 4. Elija menos empresas u otro ejecutivo.")
    assert case["status"] == "active" and list(head.ready(case_id)) == ["Task_Redistribuir"]
    assert (_load(engine, "eje.a"), _load(engine, "eje.b")) == (4, 47)  # nothing moved
    case = _choose(head, case_id, "jefe.at", modo_redistribucion="indicadas", ejecutivo_desde="eje.a",
                   ejecutivo_hacia="eje.b", numeros_casos=[str(first), f"#{third}"])
    assert case["status"] == "completed" and case["data"]["redistribucion"]["movidos"] == [first, third]
    assert case["data"]["redistribucion"]["motivo"] is None
    assert (_load(engine, "eje.a"), _load(engine, "eje.b")) == (2, 49)

    for moved, open_task in ((first, "Task_Entrevista"), (third, "Task_AgendarEntrevista")):
        assert engine.case(moved)["ejecutivo"] == "eje.b"
        assert cpe.ready(moved)[open_task]["assignee"] == "eje.b"
        [event] = [e for e in engine.case(moved)["history"] if e["kind"] == "executive_reassigned"]
        assert event["actor"] == "jefe.at" and event["name"] == "Ejecutivo a cargo: eje.b (antes eje.a)"
        assert event["detail"]["motivo"] == f"Redistribución de cartera (caso #{case_id})"
    for kept in (second, fourth):
        assert engine.case(kept)["ejecutivo"] == "eje.a"
        assert cpe.ready(kept)["Task_AgendarEntrevista"]["assignee"] == "eje.a"
    assert {t["case_id"] for t in engine.ready_tasks(user="eje.a") if t["assignee"] == "eje.a"} == {second, fourth}
    with pytest.raises(Forbidden):  # eje.a no longer works the moved case
        cpe.do(third, "Task_AgendarEntrevista", AGENDA, user="eje.a")

    # the tasks still to come follow the case variable the diagram assigns them by (responsable)
    cpe.do(third, "Task_AgendarEntrevista", AGENDA, user="eje.b")
    assert cpe.ready(third)["Task_Entrevista"]["assignee"] == "eje.b"
    cpe.do(first, "Task_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": "Requisitos de mercado."},
           user="eje.b")
    assert engine.case(first)["segmento"] == "amarillo"
    assert cpe.ready(first)["Task_Capacitacion"]["assignee"] == "eje.b"


def test_an_executive_who_left_hands_over_every_case(deployed, clock):
    """§3.4.2 block 4: eje.x left (deactivated) with two companies in progress; the head still sees them
    and moves all of them to eje.y; a case of another region is never touched."""
    engine = deployed
    engine.create_user("jefe.ai", "secreto-123", "jefe_regional", region="CL-AI")
    engine.create_user("eje.x", "secreto-123", "ejecutivo_cpe", region="CL-AI", full_name="Ximena Soto")
    cpe = Driver(engine, clock, "cpe_propuesto")
    cases = [_company(cpe, n, "CL-AI") for n in range(2)]
    with engine.Session() as s:  # a case of eje.x elsewhere (moved region): not the head's to move
        s.execute(update(Case).where(Case.id == cases[1]).values(region="CL-MA"))
        s.execute(update(User).where(User.username == "eje.x").values(active=False))
        s.commit()
    engine.create_user("eje.y", "secreto-123", "ejecutivo_cpe", region="CL-AI")
    case_id, head = _start(engine, "CL-AI", "jefe.ai")
    assert engine.case(case_id)["data"]["cargas_region"]["resumen"] == (
        "eje.y: 0 de 50 empresas; eje.x (Ximena Soto) [desactivado]: 2 de 50 empresas")
    case = _choose(head, case_id, "jefe.ai", modo_redistribucion="todas", ejecutivo_desde="eje.x",
                   ejecutivo_hacia="eje.y")
    assert case["status"] == "completed" and case["data"]["redistribucion"]["movidos"] == [cases[0]]
    assert engine.case(cases[0])["ejecutivo"] == "eje.y" and engine.case(cases[1])["ejecutivo"] == "eje.x"
    assert cpe.ready(cases[0])["Task_AgendarEntrevista"]["assignee"] == "eje.y"


@pytest.mark.parametrize("choice, reason", [
    ({"modo_redistribucion": "todas", "ejecutivo_desde": "eje.a", "ejecutivo_hacia": "eje.rm"},
     "El usuario «eje.rm» no pertenece a Región de Atacama."),
    ({"modo_redistribucion": "todas", "ejecutivo_desde": "eje.a", "ejecutivo_hacia": "jefe.at"},
     "El usuario «jefe.at» no tiene el rol Ejecutivo(a) CPE."),
    ({"modo_redistribucion": "cantidad", "ejecutivo_desde": "eje.a", "ejecutivo_hacia": "eje.b", "cantidad_casos": 3},
     "«eje.a» tiene 1 empresas en curso a su cargo: no puede traspasar 3."),
    ({"modo_redistribucion": "indicadas", "ejecutivo_desde": "eje.a", "ejecutivo_hacia": "eje.b",
      "numeros_casos": ["999"]}, "No están en curso a cargo de «eje.a» en Región de Atacama: #999."),
])
def test_a_choice_that_does_not_fit_changes_nothing_and_asks_again(deployed, clock, choice, reason):
    engine = deployed
    engine.create_user("jefe.at", "secreto-123", "jefe_regional", region="CL-AT")
    engine.create_user("eje.a", "secreto-123", "ejecutivo_cpe", region="CL-AT")
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    company = _company(Driver(engine, clock, "cpe_actual"), 1, "CL-AT")
    engine.create_user("eje.b", "secreto-123", "ejecutivo_cpe", region="CL-AT")
    case_id, head = _start(engine, "CL-AT", "jefe.at", motivo="sobrecarga")
    case = _choose(head, case_id, "jefe.at", **choice)
    assert case["data"]["redistribucion"]["motivo"] == reason and case["data"]["redistribucion"]["movidos"] == []
    assert list(head.ready(case_id)) == ["Task_Redistribuir"] and engine.case(company)["ejecutivo"] == "eje.a"
    case = _choose(head, case_id, "jefe.at", modo_redistribucion="sin_cambios")  # the head gives up: no change
    assert case["status"] == "completed" and engine.case(company)["ejecutivo"] == "eje.a"
    ended = [e["bpmn_id"] for e in case["history"] if e["kind"] == "step_completed" and e["bpmn_id"].startswith("End_")]
    assert ended == ["End_SinTraspaso"]


def test_another_regions_head_cannot_redistribute(deployed, clock):
    engine = deployed
    engine.create_user("jefe.at", "secreto-123", "jefe_regional", region="CL-AT")
    engine.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM")
    case_id, head = _start(engine, "CL-AT", "jefe.at")
    with pytest.raises(Forbidden):
        _choose(head, case_id, "jefe.rm", modo_redistribucion="sin_cambios")
    assert list(head.ready(case_id)) == ["Task_Redistribuir"]
