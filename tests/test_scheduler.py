"""Timer start events (engine/cases/scheduler.py): occurrences from ISO 8601 values, one case per
occurrence exactly once (also with two workers), the next occurrence scheduled."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.assembly import build_engine
from engine.basics.errors import DeployError
from engine.cases import scheduler
from engine.cases.scheduler import ScheduleError, resolve
from engine.store.schema import Case, TimerStartRun

ANCHOR = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("kind,value,after,expected", [
    # every month at 09:00 in Chile: 12:00 UTC in summer (-03), 13:00 UTC in winter (-04)
    ("cycle", "R/2026-01-01T09:00:00/P1M", ANCHOR, [utc(2026, 4, 1, 12), utc(2026, 5, 1, 13), utc(2026, 6, 1, 13)]),
    # an explicit offset stays fixed
    ("cycle", "R/2026-01-01T09:00:00-03:00/P1M", ANCHOR, [utc(2026, 4, 1, 12), utc(2026, 5, 1, 12)]),
    # the 31st becomes the last day of shorter months, without drifting
    ("cycle", "R/2026-01-31T00:00:00Z/P1M", utc(2026, 2, 1), [utc(2026, 2, 28), utc(2026, 3, 31), utc(2026, 4, 30)]),
    # a bounded cycle: three occurrences in all, the first one already past
    ("cycle", "R3/2026-02-01T00:00:00Z/P1M", ANCHOR, [utc(2026, 4, 1), None]),
    ("cycle", "R/PT6H", ANCHOR, [utc(2026, 3, 2, 18), utc(2026, 3, 3, 0)]),
    ("cycle", "R/2026-03-01T08:00:00Z/P1W", ANCHOR, [utc(2026, 3, 8, 8), utc(2026, 3, 15, 8)]),
    ("date", "2026-05-01T10:00:00Z", ANCHOR, [utc(2026, 5, 1, 10), None]),
    ("duration", "P2D", ANCHOR, [utc(2026, 3, 4, 12), None]),
])
def test_occurrences(kind, value, after, expected):
    schedule, canonical = resolve(kind, value, ANCHOR)
    stored_kind = "date" if kind == "duration" else kind  # a duration is stored as the date it gives
    again, _ = resolve(stored_kind, canonical, ANCHOR + timedelta(days=400))  # the stored text: same schedule
    got, index, moment = [], schedule.next_index(after), after
    for _ in expected:
        got.append(schedule.occurrence(index) if index is not None else None)
        if index is None:
            break
        assert again.occurrence(index) == schedule.occurrence(index)
        moment = schedule.occurrence(index) + timedelta(microseconds=1)
        index = schedule.next_index(moment)
    assert got == expected[:len(got)]


@pytest.mark.parametrize("kind,value", [
    ("cycle", "R/2026-01-01/P0D"), ("cycle", "cada mes"), ("cycle", "Rx/2026-01-01/P1M"), ("cycle", "R/P1.5M"),
    ("date", "P1M"), ("date", "mañana"), ("duration", "2026-01-01"),
])
def test_bad_values_are_refused_with_a_message(kind, value):
    with pytest.raises(ScheduleError):
        resolve(kind, value, ANCHOR)


BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="{pid}" name="Programado" isExecutable="true">
    <bpmn:startEvent id="Inicio" name="Programado">
      <bpmn:outgoing>F1</bpmn:outgoing>
      <bpmn:timerEventDefinition id="T"><bpmn:{tag}>{expr}</bpmn:{tag}></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:scriptTask id="Anotar" name="Anotar"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>anotado = inicio_programado</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="Fin"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Inicio" targetRef="Anotar" />
    <bpmn:sequenceFlow id="F2" sourceRef="Anotar" targetRef="Fin" />
  </bpmn:process>
</bpmn:definitions>"""


def deploy(engine, expr, tag="timeCycle", pid="programado"):
    engine.deploy([(f"{pid}.bpmn", BPMN.format(pid=pid, tag=tag, expr=expr).encode())])


def cases(engine, pid="programado"):
    with engine.Session() as s:
        return s.scalars(select(Case).where(Case.process_key == pid).order_by(Case.id)).all()


def test_a_cycle_starts_one_case_per_occurrence_and_schedules_the_next(engine, clock):
    deploy(engine, '"R/2026-03-02T10:00:00Z/P1D"')
    assert scheduler.run_due(engine) == 0  # 09:00: scheduled for 10:00
    [row] = scheduler.listing(engine)
    assert row["next_at"] == "2026-03-02T10:00:00+00:00" and row["fired"] == 0
    clock.advance(hours=1)
    assert scheduler.run_due(engine) == 0  # due once its time has passed, as every timer
    clock.advance(seconds=1)
    assert scheduler.run_due(engine) == 1
    assert scheduler.run_due(engine) == 0
    [case] = cases(engine)
    assert case.status == "completed" and case.created_by == "temporizador" and case.next_timer_at is None
    assert case.data["anotado"] == "2026-03-02T10:00:00+00:00"
    [row] = scheduler.listing(engine)
    assert row["next_at"] == "2026-03-03T10:00:00+00:00" and row["last_case_id"] == case.id
    clock.advance(days=3)  # three occurrences missed by a stopped worker: each gets its case
    assert scheduler.run_due(engine) == 3
    assert [c.data["anotado"][:10] for c in cases(engine)] == ["2026-03-02", "2026-03-03", "2026-03-04",
                                                               "2026-03-05"]


def test_a_date_starts_once_and_a_new_version_keeps_its_place(engine, clock):
    deploy(engine, '"2026-03-10T00:00:00Z"', tag="timeDate")
    clock.advance(days=10)
    assert scheduler.run_due(engine) == 1 and scheduler.run_due(engine) == 0
    assert scheduler.listing(engine)[0]["next_at"] is None
    deploy(engine, '"R/2026-03-01T00:00:00Z/P1D"')  # version 2: a cycle, from its deploy onwards
    clock.advance(days=2)  # the worker runs later: the occurrences since the deploy still start
    assert scheduler.run_due(engine) == 2  # the 13th and the 14th (deployed on the 12th at 09:00)
    assert scheduler.run_due(engine) == 0
    deploy(engine, '"R/2026-03-01T00:00:00Z/P1D"', pid="otro")  # same content, another process
    scheduler.sync(engine)
    other = next(t for t in scheduler.listing(engine) if t["process_id"] == "otro")
    assert other["next_at"] == "2026-03-15T00:00:00+00:00"
    first, *later = cases(engine)
    assert {c.model_version_id for c in later} == {first.model_version_id + 1}


def test_a_bad_literal_cycle_is_refused_at_deploy(engine):
    with pytest.raises(DeployError) as refused:
        deploy(engine, '"todos los meses"')
    assert "Inicio (Programado)" in str(refused.value) and "intervalo repetido ISO 8601" in str(refused.value)
    assert cases(engine) == []


def test_bad_expression_is_reported_and_starts_nothing(engine, clock):
    deploy(engine, '"todos " + "los meses"')  # only its value is wrong: deploy cannot tell, the scheduler does
    problems = scheduler.sync(engine)
    assert problems and "ciclo ISO 8601 no válido" in problems[0]
    clock.advance(days=60)
    assert scheduler.run_due(engine) == 0 and cases(engine) == []


def test_two_workers_start_each_occurrence_exactly_once(engine, clock, database_url):
    deploy(engine, '"R/2026-03-02T09:30:00Z/PT1H"')
    scheduler.sync(engine)
    clock.advance(hours=10)  # ten occurrences due: 09:30 … 18:30
    workers = [build_engine(url=database_url, clock=clock) for _ in range(2)]
    started, barrier = [], threading.Barrier(2)

    def run(worker):
        barrier.wait()
        started.append(sum(scheduler.run_due(worker, limit=3) for _ in range(6)))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # a worker skips a schedule the other holds locked (SKIP LOCKED), so the two may leave some
    # occurrences for a later round: drain them, then every occurrence must have started once
    leftover = sum(scheduler.run_due(engine) for _ in range(10))
    assert sum(started) + leftover == 10 and sum(started) > 0
    with engine.Session() as s:
        runs = s.scalars(select(TimerStartRun.occurrence)).all()
        assert s.scalar(select(func.count()).select_from(Case)) == 10
    assert len(set(runs)) == 10
    for worker in workers:
        worker.db.dispose()


def test_an_explicit_start_runs_now_instead_of_waiting_on_the_timer(engine, clock):
    deploy(engine, '"R/2026-01-01T09:00:00/P1M"')
    case_id = engine.start("programado")
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["next_timer_at"] is None
    assert case["data"]["anotado"] == "2026-03-02T09:00:00+00:00"  # now, from the engine's clock
    given = engine.case(engine.start("programado", {"inicio_programado": "2026-02-01T12:00:00+00:00"}))
    assert given["data"]["anotado"] == "2026-02-01T12:00:00+00:00"
    clock.advance(days=40)
    assert engine.fire_due_timers() == 0  # no case keeps a cycle of its own
