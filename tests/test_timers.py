"""Timers fire exactly once when the clock passes them, also with several workers."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import func, select

from engine.assembly import build_engine
from engine.models.validation import collect_files
from engine.store.schema import CaseEvent, TaskRow

MODEL = Path(__file__).parent / "models" / "diagnostico"


def _cases_waiting_on_timer(engine, n):
    engine.deploy(collect_files([MODEL]))
    ids = []
    for i in range(n):
        case_id = engine.start("diagnostico_rapido", {"rut": "76086428-5", "razon_social": f"Empresa {i}",
                                                      "region": "CL-RM", "ventas_uf": 5000 + i})
        [task] = engine.ready_tasks(case_id=case_id)
        engine.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "varios"}})
        ids.append(case_id)
    return ids


def _timer_events(engine, case_id):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.bpmn_id == "Timer_Espera"))


def test_timer_waits_for_working_days(engine, clock):
    [case_id] = _cases_waiting_on_timer(engine, 1)  # started Monday 2026-03-02 09:00
    due = engine.case(case_id)["next_timer_at"]
    assert due.startswith("2026-03-04T09:00")  # two working days later
    clock.advance(days=1, hours=23)
    assert engine.fire_due_timers() == 0
    clock.advance(hours=2)
    assert engine.fire_due_timers() == 1
    assert _timer_events(engine, case_id) == 1
    assert engine.case(case_id)["next_timer_at"] is None


def test_fire_due_timers_with_an_explicit_moment(engine, clock):
    [case_id] = _cases_waiting_on_timer(engine, 1)
    from datetime import timedelta

    assert engine.fire_due_timers(now=clock.now() + timedelta(days=1)) == 0
    assert engine.fire_due_timers(now=clock.now() + timedelta(days=3)) == 1
    assert [t["bpmn_id"] for t in engine.ready_tasks(case_id=case_id)] == ["Task_Llamada"]


def test_two_workers_fire_each_timer_exactly_once(engine, clock, database_url):
    ids = _cases_waiting_on_timer(engine, 12)
    clock.advance(days=5)
    workers = [build_engine(url=database_url, clock=clock) for _ in range(2)]
    fired = []
    barrier = threading.Barrier(len(workers))

    def run(worker):
        barrier.wait()
        fired.append(worker.fire_due_timers(limit=5) + worker.fire_due_timers() + worker.fire_due_timers())

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(fired) == len(ids)
    for case_id in ids:
        assert _timer_events(engine, case_id) == 1
    with engine.Session() as s:
        calls = s.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.bpmn_id == "Task_Llamada"))
    assert calls == len(ids)
    for worker in workers:
        worker.db.dispose()


def test_a_timer_is_due_once_its_time_has_passed(engine, clock):
    from datetime import datetime, timedelta
    from pathlib import Path

    from engine.models.validation import collect_files

    engine.deploy(collect_files([Path(__file__).parent / "models" / "diagnostico"]))
    case_id = engine.start("diagnostico_rapido", {"rut": "76086428-5", "razon_social": "Conservas SpA",
                                                  "region": "CL-RM", "ventas_uf": 9000})
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}})
    due = datetime.fromisoformat(engine.case(case_id)["next_timer_at"])
    assert engine.fire_due_timers(now=due) == 0  # exactly at the due time nothing has passed yet
    assert engine.ready_tasks(case_id=case_id) == []
    assert engine.fire_due_timers(now=due + timedelta(seconds=1)) == 1
    assert [t["bpmn_id"] for t in engine.ready_tasks(case_id=case_id)] == ["Task_Llamada"]
