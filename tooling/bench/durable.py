"""Two figures of `cpe bench` about what a step costs (issue 20):

- the **durable floor**: the least a persisted engine must do for a lifecycle of `cpe_actual` —
  bare SpiffWorkflow, its JSON serializer and, at each wait state, one committed transaction that
  writes the workflow's state and the task rows an inbox needs. Our lifecycle measured against it
  (`durable_overhead_ratio`) names everything the engine adds above the unavoidable.
- the **age slowdown**: how much more `Engine.complete` costs on an old case than on a young one,
  measured on cases of `cpe_actual` going round the quarterly follow-up loop (Timer_TresMeses →
  Task_Seguimiento → … → back to the timer), the loop a case of the programme lives in for years.

Both run on the bench's own database (SQLite, or PostgreSQL through `cpe bench --database-url`);
the floor's two tables are created for the measurement and dropped after it.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)

from engine.basics.clock import VirtualClock
from engine.domain import roles
from engine.models import spiff
from engine.programme import workshops
from engine.store.schema import Case, CaseState, ModelVersion
from tooling.demo import answers_for_level

# -- the durable floor ------------------------------------------------------------------------------

FLOOR = MetaData()
# the serialized workflow of a case: what `case_states` holds for the engine (same column type)
FLOOR_STATES = Table("bench_floor_states", FLOOR,
                     Column("case_id", Integer, primary_key=True, autoincrement=True),
                     Column("workflow", JSON))
# the user tasks as an inbox reads them: ready ones by lane, oldest first
FLOOR_TASKS = Table("bench_floor_tasks", FLOOR,
                    Column("id", String(36), primary_key=True),
                    Column("case_id", Integer, nullable=False),
                    Column("bpmn_id", String(120)),
                    Column("name", String(300)),
                    Column("lane", String(40)),
                    Column("form_key", String(120)),
                    Column("state", String(20), nullable=False),
                    Column("created_at", DateTime(timezone=True)),
                    Column("completed_at", DateTime(timezone=True)),
                    Index("ix_bench_floor_inbox", "state", "lane", "created_at"))

_INSERT_STATE = insert(FLOOR_STATES)
_UPDATE_STATE = update(FLOOR_STATES).where(FLOOR_STATES.c.case_id == bindparam("b_case"))
_INSERT_TASKS = insert(FLOOR_TASKS)
_FINISH_TASK = update(FLOOR_TASKS).where(FLOOR_TASKS.c.id == bindparam("b_id")) \
    .values(state=bindparam("b_state"), completed_at=bindparam("b_at"))


class DurableFloor:
    """Bare SpiffWorkflow made durable and nothing more, on the connection pool `db` (the bench
    engine's: same database, same SQLite pragmas).

    A case is written at each wait state in one transaction: its state (SpiffWorkflow's
    serializer, without the spec, as the engine stores it), its new ready user tasks as rows, the
    completed (or no longer ready) ones marked. Between steps the workflow stays in memory, as the
    engine's workflow cache keeps it in the lifecycle it is compared with. No validation, no
    history, no locks, no case summary: everything else the engine does is above this floor."""

    def __init__(self, db, script_engine, compiled):
        self.db, self.script_engine, self.compiled = db, script_engine, compiled
        self.commits = 0

    def create(self) -> None:
        FLOOR.drop_all(self.db)
        FLOOR.create_all(self.db)

    def drop(self) -> None:
        FLOOR.drop_all(self.db)

    def start(self, data: dict):
        """A new case: run it to its first wait state and write it. Returns (case id, workflow,
        ids of its ready user tasks)."""
        from SpiffWorkflow.bpmn import BpmnWorkflow

        workflow = BpmnWorkflow(self.compiled.spec, self.compiled.subprocess_specs, script_engine=self.script_engine)
        workflow.get_next_task(state=spiff.TaskState.READY).data.update(data)
        spiff.run_steps(workflow)
        ready = spiff.ready_user_tasks(workflow)
        with self.db.begin() as connection:
            case_id = connection.execute(_INSERT_STATE, {"workflow": spiff.dump(workflow)}).inserted_primary_key[0]
            self._insert(connection, case_id, ready)
        self.commits += 1
        return case_id, workflow, {t.id for t in ready}

    def complete(self, case_id, workflow, known: set, task, answers: dict) -> set:
        """Complete the ready user task `task` with `answers`, run to the next wait state and write
        it. `known`: the ids of the case's task rows still ready; returns the new set."""
        task.data.update(answers)
        task.run()
        spiff.run_steps(workflow)
        ready = spiff.ready_user_tasks(workflow)
        now_ready = {t.id for t in ready}
        now = datetime.now(UTC)
        with self.db.begin() as connection:
            finished = [{"b_id": str(task.id), "b_state": "completed", "b_at": now}]
            finished += [{"b_id": str(i), "b_state": "cancelled", "b_at": now} for i in known - now_ready - {task.id}]
            connection.execute(_FINISH_TASK, finished)
            self._insert(connection, case_id, [t for t in ready if t.id not in known])
            connection.execute(_UPDATE_STATE, {"b_case": case_id, "workflow": spiff.dump(workflow)})
        self.commits += 1
        return now_ready

    @staticmethod
    def _insert(connection, case_id, tasks) -> None:
        if not tasks:
            return
        now = datetime.now(UTC)
        connection.execute(_INSERT_TASKS, [{
            "id": str(t.id), "case_id": case_id, "bpmn_id": t.task_spec.bpmn_id, "name": t.task_spec.bpmn_name,
            "lane": spiff.lane_of(t), "form_key": spiff.form_key(spiff.task_properties(t)), "state": "ready",
            "created_at": now, "completed_at": None} for t in tasks])

    def lifecycle(self, data: dict, answers: dict) -> int:
        """A case from its start to its end, each ready user task answered by its form's entry of
        `answers` (as the bench's lifecycle does). Returns the user tasks completed."""
        case_id, workflow, known = self.start(data)
        completions = 0
        while not workflow.is_completed():
            task = spiff.ready_user_tasks(workflow)[0]
            known = self.complete(case_id, workflow, known, task,
                                  answers[spiff.form_key(spiff.task_properties(task))])
            completions += 1
        return completions


def durable_lifecycles(floor: DurableFloor, data: dict, answers: dict, count: int) -> tuple[float, int]:
    """Seconds per lifecycle on the durable floor (mean of `count`) and user tasks completed per lifecycle."""
    floor.create()
    try:
        per_case = set()
        begin = time.perf_counter()
        for _ in range(count):
            per_case.add(floor.lifecycle(data, answers))
        seconds = (time.perf_counter() - begin) / count
    finally:
        floor.drop()
    if len(per_case) != 1:
        raise RuntimeError(f"los ciclos de vida del piso durable no completaron las mismas tareas: {sorted(per_case)}")
    return seconds, per_case.pop()


# -- the age of a case ---------------------------------------------------------------------------------

AGE_REGION = "CL-AP"  # a region no other bench case uses: its timers are fired alone
AGE_USER = "bench.eje.ap"  # its CPE executive
AGE_WORKSHOP = "taller_123_exporta"  # the training the aged cases take
FOLLOW_UP = "Task_Seguimiento"
FOLLOW_UP_ANSWER = {"resultado_seguimiento": "solicitud_cotizacion"}  # activity: the loop goes on (no desertion)
QUARTER = timedelta(days=93)  # past the P3M of Timer_TresMeses whatever the month


def follow_up_answers(forms: dict, agenda: dict) -> dict:
    """Answers (by form) that take a case of cpe_actual to the quarterly follow-up loop: amarillo
    (a middling TPE, a weak interview), trained and advised, the TPE updated to the same level."""
    tpe = {"respuestas": answers_for_level(forms["tpe_bienes"], 0.5)}
    return {
        "tpe_bienes": tpe, "agendar_entrevista": agenda,
        "entrevista": {"respuestas": answers_for_level(forms["entrevista"], 0.3), "brechas": "Sin plan de negocios."},
        "capacitacion": {"talleres": [AGE_WORKSHOP], "programa_complementario": "ninguno"},
        "asesoria": {"plan_negocios": "en_desarrollo"},
    }


def age_slowdown(engine, company: dict, answers: dict, follow_ups: int, cases: int = 3, window: int = 3) -> dict:
    """`Engine.complete` of Task_Seguimiento timed on `cases` old cases of cpe_actual at their
    follow-ups `follow_ups`-`window`+1 … `follow_ups`, and on as many young cases at their
    follow-ups 1 … `window`, in the same rounds (old and young one after the other), so both
    medians are taken under the same load of the machine. A round moves the cases' own clock a
    quarter on and fires their timers (`fire_due_timers` for their region only); the engine's
    clock is put back afterwards.

    `age_slowdown` = median of the old ÷ median of the young. Also given: both medians in ms,
    the serialized size of an old case and the time to deserialize it (what a step pays when the
    workflow is not in the process's cache)."""
    if follow_ups < window:
        raise ValueError("follow_ups must be at least the window")
    workshops.seed_catalogue(engine)
    if engine.get_user(AGE_USER) is None:  # the region's executive (else the regional head assigns each case)
        engine.create_user(AGE_USER, secrets.token_urlsafe(16), roles.EJECUTIVO_CPE, region=AGE_REGION)
    main_clock = engine.clock
    engine.clock = VirtualClock(main_clock.now())
    old, young = [], []
    try:
        region = dict(company, region=AGE_REGION)
        aged = [_to_follow_up(engine, region, answers) for _ in range(cases)]
        fresh = []
        for n in range(1, follow_ups + 1):
            if n == follow_ups - window + 1:
                fresh = [_to_follow_up(engine, region, answers) for _ in range(cases)]
            engine.clock.advance(QUARTER)
            engine.fire_due_timers(regions={AGE_REGION})
            for i, case_id in enumerate(aged):
                ms = _timed_follow_up(engine, case_id, n)
                if n > follow_ups - window:
                    old.append(ms)
                    young.append(_timed_follow_up(engine, fresh[i], n - (follow_ups - window)))
    finally:
        engine.clock = main_clock
    first, last = statistics.median(young), statistics.median(old)
    restore_ms, size = _restore_cost(engine, aged)
    return {"age_slowdown": round(last / first, 2), "age_slowdown_at": follow_ups,
            "age_complete_ms_first": round(first, 2), "age_complete_ms_last": round(last, 2),
            "age_restore_ms": restore_ms, "age_serialized_bytes": size,
            "age_settings": {"cases": cases, "window": window, "follow_ups": follow_ups}}


def _timed_follow_up(engine, case_id, n) -> float:
    """Milliseconds of `Engine.complete` of the case's ready Task_Seguimiento (its `n`-th)."""
    ready = engine.ready_tasks(case_id=case_id)
    if [t["bpmn_id"] for t in ready] != [FOLLOW_UP]:
        raise RuntimeError(f"caso {case_id}, seguimiento {n}: se esperaba {FOLLOW_UP}, "
                           f"hay {[t['bpmn_id'] for t in ready]}")
    begin = time.perf_counter()
    engine.complete(ready[0]["id"], FOLLOW_UP_ANSWER, actor="bench")
    return (time.perf_counter() - begin) * 1000


def _to_follow_up(engine, company, answers) -> int:
    """A case of cpe_actual taken to its quarterly follow-up: the Capacitación task enrols the company in
    a session of the region, whose attendance is taken on the day (the case waits for it)."""
    case_id = engine.start("cpe_actual", company, actor="bench")
    for _ in range(20):
        ready = engine.ready_tasks(case_id=case_id)
        if not ready:
            break
        task = ready[0]
        if task["form_id"] != "capacitacion":
            engine.complete(task["id"], answers[task["form_id"]], actor="bench")
            continue
        starts_at = engine.clock.now() + timedelta(days=2)
        session = workshops.create_session(engine, AGE_WORKSHOP, starts_at, "Oficina CPE", 500,
                                           region=company["region"], created_by=AGE_USER)
        engine.complete(task["id"], answers["capacitacion"], actor="bench")
        engine.clock.advance(timedelta(days=2, hours=1))
        engine.fire_due_timers(regions={company["region"]})
        with engine.Session() as s:
            company_id = s.scalar(select(Case.company_id).where(Case.id == case_id))
        workshops.mark_attendance(engine, session["id"], [company_id], by=AGE_USER)
        engine.clock.advance(timedelta(days=1, hours=1))
        engine.fire_due_timers(regions={company["region"]})
    case = engine.case(case_id)
    if case["status"] != "active" or case["next_timer_at"] is None:
        raise RuntimeError(f"el caso {case_id} no llegó al seguimiento trimestral ({case['status']}, "
                           f"segmento {case['segmento']})")
    return case_id


def _restore_cost(engine, ids) -> tuple[float, int]:
    """Median ms to deserialize the cases' stored workflows, and their mean JSON size."""
    with engine.Session() as s:
        version = s.scalar(select(ModelVersion.version).join(Case, Case.model_version_id == ModelVersion.id)
                           .where(Case.id == ids[0]))
        states = list(s.scalars(select(CaseState.workflow).where(CaseState.case_id.in_(ids))))
    compiled = engine.compiled_process("cpe_actual", version)
    times = []
    for state in states:
        begin = time.perf_counter()
        compiled.restore(state)
        times.append((time.perf_counter() - begin) * 1000)
    return round(statistics.median(times), 2), round(statistics.mean(len(json.dumps(s)) for s in states))
