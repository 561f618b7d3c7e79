"""A test driver for the CPE models."""

from __future__ import annotations

from datetime import timedelta

from engine.programme import workshops
from engine.store.schema import Case

from . import profiles as P

AGENDA = {"fecha_entrevista": "2026-03-05", "hora_entrevista": "10:30", "lugar_entrevista": "empresa"}


class Driver:
    """Drives cases of a CPE model through the engine, as the people of each lane would."""

    def __init__(self, engine, clock, process_id):
        self.engine, self.clock, self.process_id = engine, clock, process_id

    def start(self, **company):
        return self.engine.start(self.process_id, P.empresa(**company), actor="test")

    def ready(self, case_id):
        return {t["bpmn_id"]: t for t in self.engine.ready_tasks(case_id=case_id)}

    def do(self, case_id, bpmn_id, data, user=None):
        tasks = self.ready(case_id)
        assert bpmn_id in tasks, f"{bpmn_id} not ready; ready: {sorted(tasks)}"
        self.engine.complete(tasks[bpmn_id]["id"], data, user=user)
        return self.engine.case(case_id)

    def through_interview(self, case_id, tpe, entrevista, tpe_task="Task_TPE_Bienes"):
        self.do(case_id, tpe_task, {"respuestas": tpe})
        self.do(case_id, "Task_AgendarEntrevista", AGENDA)
        case = self.do(case_id, "Task_Entrevista", {"respuestas": entrevista, "brechas": "Requisitos de mercado."})
        return self.choose_institution(case_id) if "Task_ElegirInstitucion" in self.ready(case_id) else case

    def reevaluate(self, case_id, tpe, entrevista=None, kind="Bienes", user=None):
        """The executive's re-evaluation (thesis §3.4.2): the interview again (by default answered as
        its form shows it, with the previous interview's answers), then the stored TPE updated with
        `tpe`. Returns the case."""
        data = self.engine.case(case_id)["data"]
        if entrevista is None:
            entrevista = data["resultado_entrevista"]["respuestas"]
        self.do(case_id, "Task_Actualizar_Entrevista",
                {"respuestas": entrevista, "brechas": data.get("brechas") or "Requisitos de mercado."}, user=user)
        return self.do(case_id, f"Task_Actualizar_TPE_{kind}", {"respuestas": tpe}, user=user)

    def choose_institution(self, case_id, institucion=None):
        """A rojo company: the executive derives it to `institucion` of the regional network, by default
        the one the decision table suggested."""
        suggested = self.engine.case(case_id)["data"]["institucion_sugerida"]
        return self.do(case_id, "Task_ElegirInstitucion", {"institucion_derivacion": institucion or suggested})

    def wait_months(self, months=3):
        self.clock.advance(days=31 * months)
        self.engine.fire_due_timers()

    # -- training (manual §4.1): the Capacitación tasks enrol the company in real workshop sessions ---
    def schedule_session(self, taller, region="CL-RM", days=5, capacity=20):
        """A session of catalogue workshop `taller` in `region`, `days` from now (catalogue seeded)."""
        workshops.seed_catalogue(self.engine)
        starts_at = self.clock.now() + timedelta(days=days)
        return workshops.create_session(self.engine, taller, starts_at, "Oficina ProChile", capacity, region=region,
                                        created_by="eje.rm")

    def train(self, case_id, bpmn_id="Task_Capacitacion", talleres=("taller_123_exporta",), attend=True,
              programa="ninguno", user=None):
        """Schedule a session of each workshop, complete the training task (it enrols the company),
        take attendance on the day through the workshops module, and let the case's timers fire (the
        session's start, then a day for the attendance). Returns the case."""
        region = self.engine.case(case_id)["region"]
        sessions = [self.schedule_session(taller, region=region) for taller in talleres]
        self.do(case_id, bpmn_id, {"talleres": list(talleres), "programa_complementario": programa}, user=user)
        company_id = self.company_id(case_id)
        self.clock.advance(days=5, hours=1)
        self.engine.fire_due_timers()  # the session starts: the case waits a day for the attendance
        for session in sessions:
            workshops.mark_attendance(self.engine, session["id"], [company_id] if attend else [], by="eje.rm")
        self.clock.advance(days=1, hours=1)
        self.engine.fire_due_timers()
        return self.engine.case(case_id)

    def company_id(self, case_id):
        with self.engine.Session() as s:
            return s.get(Case, case_id).company_id
