"""Task durations of a simulation from the case history (engine/simulate/history.py): the fit of a
triangular distribution, the read of the configured database, and their use by `simulate`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.simulate import history, simulate
from engine.simulate.cohort import _rut
from engine.store.schema import Case
from tooling.bench.suite import COMPANY, Lifecycle, _compiled

TASKS = ["Task_TPE_Bienes", "Task_TPE_Servicios", "Task_AgendarEntrevista", "Task_Entrevista"]


@pytest.mark.parametrize("days, expected", [
    ([5.0] * 20, [5.0, 5.0, 5.0]),  # every task took the same: a point
    ([float(d) for d in range(101)], [5.0, 50.0, 95.0]),  # uniform 0..100: symmetric, mode = mean
    # right-skewed: p5 = 1, p95 = 10 + 0.05·90 = 14.5 (the outlier of 100 does not stretch it), clipped
    # mean (18·1 + 10 + 14.5) / 20 = 2.125 → 3·2.125 − 1 − 14.5 < 1: the mode stays at the minimum
    ([1.0] * 18 + [10.0, 100.0], [1.0, 1.0, 14.5]),
    # p5 = 1.45, p95 = 9.55, clipped mean 5.5 → mode 3·5.5 − 1.45 − 9.55 = 5.5
    ([float(d) for d in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)], [1.45, 5.5, 9.55]),
    ([0.0, 0.0], [0.0, 0.0, 0.0]),
])
def test_fit_triangular(days, expected):
    assert history.fit_triangular(days) == expected


def test_the_fitted_mean_is_the_clipped_mean_of_the_history():
    days = [2, 3, 3, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 7, 7, 8, 9, 4, 5, 6]
    low, mode, high = history.fit_triangular(days)
    clipped = [min(high, max(low, d)) for d in days]
    assert low < mode < high  # not clamped: the mean can be matched
    assert (low + mode + high) / 3 == pytest.approx(sum(clipped) / len(clipped), abs=0.01)


def test_fit_needs_two_durations():
    with pytest.raises(ValueError):
        history.fit_triangular([3.0])


def _first_tasks(engine, clock, waits_in_days, process_id="cpe_actual", offset=0):
    """Start one case per wait and complete its first task that many days after it was created."""
    life = Lifecycle({k: f.schema for k, f in _compiled(engine).forms.items()})
    for n, wait in enumerate(waits_in_days):
        case_id = engine.start(process_id, {**COMPANY, "rut": _rut(70_000_000 + offset + n)})
        [task] = engine.ready_tasks(case_id=case_id)
        clock.advance(timedelta(days=wait))
        engine.complete(task["id"], life.answers[task["form_id"]])
    return task["bpmn_id"]


def test_durations_come_from_the_completed_tasks_of_the_process(deployed, clock):
    waits = [1.4 * (n % 7 + 1) for n in range(history.MIN_TASKS)]  # calendar days: 1.4 … 9.8
    bpmn_id = _first_tasks(deployed, clock, waits)
    found = history.task_durations(deployed, ["cpe_actual"], TASKS)
    working = [w * 5 / 7 for w in waits]  # 1 … 7 working days
    assert found[bpmn_id] == {"dias": history.fit_triangular(working), "tareas": history.MIN_TASKS}
    assert found[bpmn_id]["dias"][0] == pytest.approx(1.0) and found[bpmn_id]["dias"][2] == pytest.approx(7.0)
    assert history.task_durations(deployed, ["cpe_propuesto"], TASKS) == {}  # another process: its own history
    # the tasks still in the inbox (the second task of each case) are not counted
    assert set(found) == {bpmn_id}


def test_too_little_history_is_not_used(deployed, clock):
    _first_tasks(deployed, clock, [2.0] * (history.MIN_TASKS - 1))
    assert history.task_durations(deployed, ["cpe_actual"], TASKS) == {}


def test_processes_that_share_a_step_pool_their_history(deployed, clock):
    half = history.MIN_TASKS // 2
    first = _first_tasks(deployed, clock, [2.0] * half)
    second = _first_tasks(deployed, clock, [4.0] * (history.MIN_TASKS - half), "cpe_propuesto", offset=500)
    assert first == second == "Task_TPE_Bienes"  # both designs start with the TPE
    assert history.task_durations(deployed, ["cpe_actual"], TASKS) == {}  # too short alone
    pooled = history.task_durations(deployed, ["cpe_actual", "cpe_propuesto"], TASKS)
    assert pooled[first]["tareas"] == history.MIN_TASKS
    assert pooled[first]["dias"][0] < pooled[first]["dias"][2]  # both designs' waits are in it


@pytest.mark.parametrize("given, durations, tasks, counts", [
    ({}, {}, {}, {}),
    ({}, {"T1": {"dias": [1, 2, 3], "tareas": 40}}, {"T1": [1, 2, 3]}, {"T1": 40}),
    # a duration the configuration gives wins over the history
    ({"T1": [5, 6, 7]}, {"T1": {"dias": [1, 2, 3], "tareas": 40}, "T2": {"dias": [2, 2, 2], "tareas": 25}},
     {"T1": [5, 6, 7], "T2": [2, 2, 2]}, {"T2": 25}),
])
def test_apply_keeps_what_the_configuration_gives(given, durations, tasks, counts):
    cfg = {"duraciones": {"tareas": dict(given)}}
    history.apply(cfg, durations)
    assert cfg["duraciones"]["tareas"] == tasks and cfg["duraciones"]["historial"] == counts


def test_simulate_takes_the_history_of_the_configured_database(deployed, clock):
    bpmn_id = _first_tasks(deployed, clock, [7.0 * (n % 5 + 1) for n in range(history.MIN_TASKS)])
    with deployed.Session() as s:
        cases = s.scalar(select(func.count()).select_from(Case))
    fitted = history.task_durations(deployed, ["cpe_actual"], TASKS)[bpmn_id]["dias"]

    def run(**kwargs):
        return simulate(deployed, "cpe_actual", 12, seed=4, horizon_months=4, workers=1, **kwargs)

    taken = run()
    spec = taken["configuracion"]["duraciones"]
    assert spec["tareas"][bpmn_id] == fitted and spec["historial"] == {bpmn_id: history.MIN_TASKS}
    ignored = run(config={"duraciones": {"desde_historial": False}})
    assert bpmn_id not in ignored["configuracion"]["duraciones"]["tareas"]
    assert not ignored["configuracion"]["duraciones"].get("historial")
    given = run(config={"duraciones": {"tareas": {bpmn_id: [20, 25, 30]}}})
    assert given["configuracion"]["duraciones"]["tareas"][bpmn_id] == [20, 25, 30]
    assert not given["configuracion"]["duraciones"].get("historial")
    # the first task took 5 to 25 working days in the history instead of the default 1 to 15: the
    # cases move more slowly, so fewer of them reach the end within the same horizon
    assert taken["duracion_dias"]["casos_terminados"] <= ignored["duracion_dias"]["casos_terminados"]
    assert taken["pasos"] != ignored["pasos"]
    with deployed.Session() as s:  # only read
        assert s.scalar(select(func.count()).select_from(Case)) == cases


def test_only_the_most_recently_completed_tasks_are_read(deployed, clock, monkeypatch):
    monkeypatch.setattr(history, "MAX_TASKS", history.MIN_TASKS)
    bpmn_id = _first_tasks(deployed, clock, [35.0] * 10 + [2.8] * history.MIN_TASKS)  # the practice got faster
    found = history.task_durations(deployed, ["cpe_actual"], TASKS)
    assert found[bpmn_id] == {"dias": [2.0, 2.0, 2.0], "tareas": history.MIN_TASKS}


def test_the_human_tasks_of_a_version(deployed):
    tasks = deployed.human_tasks("cpe_actual")
    assert {"Task_TPE_Bienes", "Task_Entrevista", "Task_Seguimiento"} <= tasks
    assert not any(t.startswith(("Service_", "Gateway_", "Timer_", "StartEvent_")) for t in tasks)
    assert "Task_PlanFortalecimiento" in deployed.human_tasks("cpe_propuesto") - tasks


def test_the_history_is_read_through_its_index(deployed):
    """One element's newest completed tasks come from ix_tasks_history (SQLite's plan), not from a
    scan and sort of every task: what keeps the read short at a million tasks."""
    if deployed.db.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's (PostgreSQL chooses by its statistics)")
    query = history.newest_tasks(["cpe_actual", "cpe_propuesto"]).params(bpmn_id="Task_TPE_Bienes")
    sql = str(query.compile(deployed.db, compile_kwargs={"literal_binds": True}))
    with deployed.db.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_tasks_history" in plan and "TEMP B-TREE" not in plan, plan
