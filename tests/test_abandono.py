"""Companies that stop answering (issue 16, item 4): the company tasks of both diagrams carry a
reminder timer and an abandonment timer, so a silent company gets a reminder and its case later
ends as `abandono` (SPEC §9), driven by the real diagrams and the worker's timer round.

The deadlines are written in the diagrams as timer expressions: a reminder after 10 working days
(supuesto del equipo: the thesis and its manual set no deadline for answering the TPE) and
abandonment after 6 months without an answer, the same inactivity the manual's follow-up
(§3.3, "seguimiento empresa"; SPEC §1 step 9) treats as having left the programme.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from engine.cases.worker import Worker
from engine.programme.company_records import company_record
from engine.store.schema import Case, OutboxMessage, TaskRow

from . import profiles as P
from .driver import Driver

ANALYST = SimpleNamespace(role="analista", region=None)
STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday: the test clock's start


def _driver(engine, clock, process_id):
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", email="eje@prochile.cl")
    engine.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    return Driver(engine, clock, process_id)


def _to_company(engine, case_id):
    """The reminders sent to the company (not its milestone messages: interview date, segment, derivation)."""
    with engine.Session() as s:
        return s.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                     OutboxMessage.destinatario == "pyme",
                                                     OutboxMessage.asunto.startswith("Recordatorio"))
                         .order_by(OutboxMessage.id)).all()


def _task_states(engine, case_id, bpmn_id):
    with engine.Session() as s:
        return s.scalars(select(TaskRow.state).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id)).all()


def _fire_at(driver, moment):
    driver.clock.set(moment)
    return Worker(driver.engine).round()["temporizadores"]


@pytest.mark.parametrize("process_id", ["cpe_actual", "cpe_propuesto"])
@pytest.mark.parametrize("offer,task", [("bienes", "Task_TPE_Bienes"), ("servicios", "Task_TPE_Servicios")])
def test_a_company_that_never_answers_the_tpe_is_reminded_then_ends_as_abandono(deployed, clock, process_id,
                                                                                   offer, task):
    """Manual §3.1: a company enters only after its TPE; one that never answers it is reminded
    after 10 working days (supuesto del equipo) and, after 6 months without an answer (the
    inactivity of manual §3.3), its case ends as `abandono` (SPEC §9)."""
    cpe = _driver(deployed, clock, process_id)
    case_id = cpe.start(tipo_oferta=offer, rubro="tecnologia_software" if offer == "servicios" else "vitivinicola")
    assert list(cpe.ready(case_id)) == [task]
    assert cpe.engine.case(case_id)["next_timer_at"].startswith("2026-03-16T09:00")  # 10 working days

    assert _fire_at(cpe, datetime(2026, 3, 16, 8, 59, tzinfo=UTC)) == 0
    assert _to_company(cpe.engine, case_id) == []
    assert _fire_at(cpe, datetime(2026, 3, 16, 9, 1, tzinfo=UTC)) == 1
    [reminder] = _to_company(cpe.engine, case_id)
    assert reminder.to_address == "contacto@empresa.cl" and reminder.asunto.startswith("Recordatorio")
    assert "Viña Los Aromos SpA" in reminder.mensaje and "abandono" in reminder.mensaje
    case = cpe.engine.case(case_id)
    assert case["status"] == "active" and list(cpe.ready(case_id)) == [task]  # the TPE can still be answered

    assert _fire_at(cpe, datetime(2026, 9, 2, 8, 59, tzinfo=UTC)) == 0  # 6 months after the task was offered
    assert _fire_at(cpe, datetime(2026, 9, 2, 9, 1, tzinfo=UTC)) == 1
    case = cpe.engine.case(case_id)
    assert case["status"] == "completed" and case["resultado"] == "abandono"
    assert cpe.ready(case_id) == {} and _task_states(cpe.engine, case_id, task) == ["cancelled"]
    assert len(_to_company(cpe.engine, case_id)) == 1  # one reminder, not one per timer round
    with cpe.engine.Session() as s:
        company_id = s.scalar(select(Case.company_id).where(Case.id == case_id))
    record = company_record(cpe.engine, ANALYST, company_id)
    assert record["estado"] == "egresada" and record["motivo_egreso"] == "abandono"


def test_answering_in_time_cancels_both_timers(deployed, clock):
    cpe = _driver(deployed, clock, "cpe_actual")
    case_id = cpe.start()
    cpe.clock.advance(days=3)
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    assert _fire_at(cpe, datetime(2026, 9, 3, 9, 0, tzinfo=UTC)) == 1  # only the interview escalation
    case = cpe.engine.case(case_id)
    assert case["status"] == "active" and case["resultado"] is None
    assert _to_company(cpe.engine, case_id) == []
    assert set(cpe.ready(case_id)) == {"Task_AgendarEntrevista", "Task_AtenderEscalamiento"}


def test_the_re_evaluation_asks_nothing_of_the_company(deployed, clock):
    """Thesis §3.4.2: one TPE per company, "actualizados en el TPE guardado por el ejecutivo". The
    re-evaluation is the executive's work (the interview again, then the stored TPE updated): no
    reminder goes to the company and the case does not close as abandono while it waits."""
    cpe = _driver(deployed, clock, "cpe_actual")
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    cpe.train(case_id)
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"})
    ready = cpe.ready(case_id)
    assert list(ready) == ["Task_Actualizar_Entrevista"]
    assert ready["Task_Actualizar_Entrevista"]["lane"] == "ejecutivo_cpe"
    before = len(_to_company(cpe.engine, case_id))
    cpe.clock.advance(days=200)
    Worker(cpe.engine).round()
    case = cpe.engine.case(case_id)
    assert case["status"] == "active" and case["resultado"] is None
    assert len(_to_company(cpe.engine, case_id)) == before
    assert list(cpe.ready(case_id)) == ["Task_Actualizar_Entrevista"]
