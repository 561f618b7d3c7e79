"""`cpe bench`'s durable floor and case-age figures (issue 20; tooling/bench/durable.py).

The floor is checked for what makes it a floor and not a guess: it really stores, at each wait
state, a state that restores to the workflow and the inbox rows of its ready user tasks, and it
completes as many user tasks per lifecycle as the engine's lifecycle it is compared with. The age
figure is checked on a short loop (no thresholds here: figures are in bench/RESULTS.md)."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import func, select

from engine.store.schema import TaskRow
from tooling.bench import durable, suite


@pytest.fixture
def bench(deployed):
    deployed.create_user(suite.BENCH_USER, suite.BENCH_PASSWORD, "ejecutivo_cpe", region="CL-RM")
    forms = {k: f.schema for k, f in suite._compiled(deployed).forms.items()}
    return deployed, forms, suite.Lifecycle(forms)


def _floor(engine):
    compiled = suite._compiled(engine)
    return durable.DurableFloor(engine.db, suite._BareEngine({k: f.schema for k, f in compiled.forms.items()}),
                                compiled), compiled


def _rows(engine, case_id):
    with engine.db.connect() as connection:
        return connection.execute(select(durable.FLOOR_TASKS).where(durable.FLOOR_TASKS.c.case_id == case_id)
                                  .order_by(durable.FLOOR_TASKS.c.created_at)).all()


def _state(engine, case_id):
    with engine.db.connect() as connection:
        return connection.scalar(select(durable.FLOOR_STATES.c.workflow)
                                 .where(durable.FLOOR_STATES.c.case_id == case_id))


def test_the_floor_commits_state_and_inbox_rows_at_each_wait_state(bench):
    engine, _forms, life = bench
    floor, compiled = _floor(engine)
    floor.create()
    try:
        case_id, workflow, known = floor.start(suite.COMPANY)
        [row] = _rows(engine, case_id)
        assert (row.bpmn_id, row.form_key, row.state, row.lane) == ("Task_TPE_Bienes", "tpe_bienes", "ready",
                                                                    "PYME")  # the diagram's lane
        assert known == {task.id for task in durable.spiff.ready_user_tasks(workflow)}
        stored = compiled.restore(_state(engine, case_id))  # what another process would load
        assert [str(t.id) for t in durable.spiff.ready_user_tasks(stored)] == [row.id]

        task = durable.spiff.ready_user_tasks(workflow)[0]
        known = floor.complete(case_id, workflow, known, task, life.answers["tpe_bienes"])
        first, second = _rows(engine, case_id)
        assert (first.state, second.state, second.bpmn_id) == ("completed", "ready", "Task_AgendarEntrevista")
        assert first.completed_at is not None and known == {task.id for task in
                                                            durable.spiff.ready_user_tasks(workflow)}
        assert [str(t.id) for t in durable.spiff.ready_user_tasks(compiled.restore(_state(engine, case_id)))] \
            == [second.id]
        assert floor.commits == 2

        other = floor.lifecycle(suite.COMPANY, life.answers)
        ended = compiled.restore(_state(engine, case_id + 1))
        assert ended.is_completed() and ended.last_task.data["resultado"] == "derivada"
        assert [r.state for r in _rows(engine, case_id + 1)] == ["completed"] * other
        assert floor.commits == 2 + other + 1  # one commit per wait state: the start's and each completion's
    finally:
        floor.drop()


def test_durable_figures_compare_like_with_like(bench):
    engine, _forms, life = bench
    last = suite._lifecycle(engine, life)
    completions = suite._completions(engine, last)
    history = engine.case(last)["history"]
    assert completions >= 3 and completions == sum(e["kind"] == "task_completed" for e in history)
    figures = suite._durable(engine, life, 3, ours=0.05, completions=completions)
    assert figures["durable_completions_per_lifecycle"] == completions
    assert figures["durable_commits_per_lifecycle"] == completions + 1
    for key in ("durable_lifecycle_per_s", "durable_overhead_ratio"):
        assert math.isfinite(figures[key]) and figures[key] > 0, key
    assert figures["durable_overhead_ratio"] == pytest.approx(0.05 * figures["durable_lifecycle_per_s"], rel=0.05)
    with engine.db.connect() as connection:  # the floor's tables are gone
        assert not engine.db.dialect.has_table(connection, "bench_floor_states")
    with pytest.raises(RuntimeError, match="piso durable"):
        suite._durable(engine, life, 1, ours=0.05, completions=completions + 1)


def test_age_slowdown_goes_round_the_follow_up_loop(bench):
    engine, forms, _life = bench
    before = engine.now()
    figures = durable.age_slowdown(engine, suite.COMPANY, durable.follow_up_answers(forms, suite.AGENDA),
                                   follow_ups=6, cases=2, window=3)
    assert engine.now() == before  # the cases' own clock was put back
    assert figures["age_slowdown_at"] == 6 and figures["age_settings"] == {"cases": 2, "window": 3, "follow_ups": 6}
    for key in ("age_slowdown", "age_complete_ms_first", "age_complete_ms_last", "age_restore_ms",
                "age_serialized_bytes"):
        assert math.isfinite(figures[key]) and figures[key] > 0, key
    with engine.Session() as s:
        done = s.scalar(select(func.count()).select_from(TaskRow).where(
            TaskRow.bpmn_id == durable.FOLLOW_UP, TaskRow.state == "completed", TaskRow.region == durable.AGE_REGION))
    assert done == 2 * 6 + 2 * 3  # the old cases' six follow-ups, the young ones' three
    with pytest.raises(ValueError):
        durable.age_slowdown(engine, suite.COMPANY, {}, follow_ups=2, window=3)
