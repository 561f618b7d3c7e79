"""Over the 50-company cap somebody owns the company (issue 16, item 8): when no executive of the
region can take a company, the regional head gets a task to put one in charge, in both diagrams.

Thesis §3.4.2 (block 4, "Recursos clave"): "Se propone que cada ejecutivo esté a cargo de un grupo
de pymes (50 como máximo), ordenados por rubro"; the regional head decides who takes the company
that does not fit, and may knowingly go over the cap.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from stdnum.cl import rut as chilean_rut

from engine.basics.errors import FormError
from engine.programme.company_records import company_record
from engine.store.schema import Case, OutboxMessage

from . import profiles as P
from .driver import AGENDA, Driver

ANALYST = SimpleNamespace(role="analista", region=None)


def _rut(n: int) -> str:
    body = str(77_100_000 + n)
    return f"{body}-{chilean_rut.calc_check_digit(body)}"


def _through_tpe(cpe, n, region):
    case_id = cpe.start(rut=_rut(n), razon_social=f"Empresa {n} SpA", region=region)
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    return case_id


def _assign(cpe, case_id, choice, user="jefe.at"):
    return cpe.do(case_id, "Task_AsignarEjecutivo", {"asignacion_jefe": choice}, user=user)


def _company(engine, case_id):
    with engine.Session() as s:
        return s.scalar(select(Case.company_id).where(Case.id == case_id))


@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
def test_the_51st_company_goes_to_the_regional_head_who_assigns_it(deployed, clock, process_id):
    """§3.4.2 block 4: the only executive of Atacama has 50 open cases; the 51st company is not
    left in a pool: the regional head is alerted, sees the executives with their load, and puts
    one in charge (a wrong user is refused with the reason and asked again); the case then goes
    on to the interview scheduling (SPEC §1 step 5) with its "ejecutivo a cargo"."""
    engine = deployed
    engine.create_user("eje.at", "secreto-123", "ejecutivo_cpe", region="CL-AT", email="eje.at@prochile.cl")
    engine.create_user("jefe.at", "secreto-123", "jefe_regional", region="CL-AT", email="jefe.at@prochile.cl")
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    engine.create_user("pro.at", "secreto-123", "ejecutivo_prochile", region="CL-AT")
    cpe = Driver(engine, clock, process_id)
    for n in range(50):
        case_id = _through_tpe(cpe, n, "CL-AT")
        assert cpe.ready(case_id)["Task_AgendarEntrevista"]["assignee"] == "eje.at"
    with engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.ejecutivo == "eje.at",
                                                                     Case.status == "active")) == 50

    case_id = _through_tpe(cpe, 50, "CL-AT")
    ready = cpe.ready(case_id)
    assert list(ready) == ["Task_AsignarEjecutivo"]
    task = ready["Task_AsignarEjecutivo"]
    assert task["lane"] == "jefe_regional" and task["region"] == "CL-AT" and task["assignee"] is None
    assert [t["bpmn_id"] for t in engine.ready_tasks(user="jefe.at")] == ["Task_AsignarEjecutivo"]
    case = engine.case(case_id)
    assert case["ejecutivo"] is None
    loads = case["data"]["cargas_region"]  # what the head's form shows
    assert loads["resumen"] == "eje.at: 50 de 50 empresas" and loads["disponibles"] == 0
    with engine.Session() as s:
        [alert] = s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
    assert alert.destinatario == "jefe_regional" and alert.to_address == "jefe.at@prochile.cl"
    assert "Empresa 50 SpA" in alert.asunto

    # "Al ejecutivo que indico" needs a username: refused by the form, nothing changes
    with pytest.raises(FormError) as info:
        _assign(cpe, case_id, {"decision_asignacion": "ejecutivo_indicado"})
    assert "asignacion_jefe.ejecutivo_elegido" in info.value.errors
    # a user that cannot take it: the reason is shown and the head is asked again
    for username, reason in (("eje.rm", "no pertenece a Región de Atacama"), ("nadie.at", "No existe el usuario"),
                             ("pro.at", "no tiene el rol Ejecutivo(a) CPE")):
        case = _assign(cpe, case_id, {"decision_asignacion": "ejecutivo_indicado", "ejecutivo_elegido": username})
        assert reason in case["data"]["asignacion"]["motivo"] and case["ejecutivo"] is None
        assert list(cpe.ready(case_id)) == ["Task_AsignarEjecutivo"]
    with engine.Session() as s:  # the head was alerted once, not at every attempt
        assert s.scalar(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.case_id == case_id)) == 1

    case = _assign(cpe, case_id, {"decision_asignacion": "ejecutivo_indicado", "ejecutivo_elegido": "eje.at"})
    assert case["ejecutivo"] == "eje.at" and case["data"]["asignacion"]["sobre_tope"] is True
    assert company_record(engine, ANALYST, _company(engine, case_id))["ejecutivo"] == "eje.at"
    scheduling = cpe.ready(case_id)["Task_AgendarEntrevista"]
    assert scheduling["assignee"] == "eje.at"
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA, user="eje.at")
    assert list(cpe.ready(case_id)) == ["Task_Entrevista"]


@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
def test_a_region_without_executives_asks_its_head_until_one_exists(deployed, clock, process_id):
    """§3.4.2 block 4: Aysén has no executive yet; the head cannot give the company to "the least
    loaded" of nobody (told why), and once an executive exists the company is theirs."""
    engine = deployed
    engine.create_user("jefe.ai", "secreto-123", "jefe_regional", region="CL-AI")
    cpe = Driver(engine, clock, process_id)
    case_id = _through_tpe(cpe, 1, "CL-AI")
    assert list(cpe.ready(case_id)) == ["Task_AsignarEjecutivo"]
    case = _assign(cpe, case_id, {"decision_asignacion": "menor_carga"}, user="jefe.ai")
    assert "no tiene usuarios activos con el rol Ejecutivo(a) CPE" in case["data"]["asignacion"]["motivo"]
    engine.create_user("eje.ai", "secreto-123", "ejecutivo_cpe", region="CL-AI")
    engine.create_user("eje2.ai", "secreto-123", "ejecutivo_cpe", region="CL-AI", rubros=["vitivinicola"])
    case = _assign(cpe, case_id, {"decision_asignacion": "menor_carga"}, user="jefe.ai")
    assert case["ejecutivo"] == "eje2.ai"  # the rubro's specialist first, as the automatic assignment
    assert case["data"]["asignacion"]["sobre_tope"] is False
    assert cpe.ready(case_id)["Task_AgendarEntrevista"]["assignee"] == "eje2.ai"


def test_another_regions_head_cannot_assign(deployed, clock):
    from engine.basics.errors import Forbidden

    engine = deployed
    engine.create_user("jefe.ai", "secreto-123", "jefe_regional", region="CL-AI")
    engine.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM")
    cpe = Driver(engine, clock, "cpe_actual")
    case_id = _through_tpe(cpe, 2, "CL-AI")
    with pytest.raises(Forbidden):
        _assign(cpe, case_id, {"decision_asignacion": "menor_carga"}, user="jefe.rm")
    assert list(cpe.ready(case_id)) == ["Task_AsignarEjecutivo"]
