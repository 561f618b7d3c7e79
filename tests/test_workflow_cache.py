"""The in-process cache of deserialized workflows (spiff.WorkflowCache): a cached workflow is
only used while it is the stored state of its case, and a rolled-back step never enters it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.assembly import build_engine
from engine.basics.errors import FormError
from engine.models import spiff
from engine.store.schema import CaseEvent, CaseState
from tooling.bench.suite import COMPANY, Lifecycle, _compiled


@pytest.fixture
def life(deployed):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")  # the cases' executive
    return Lifecycle({k: f.schema for k, f in _compiled(deployed).forms.items()})


def _next(engine, case_id):
    [task] = engine.ready_tasks(case_id=case_id)
    return task


def _stored(engine, case_id):
    with engine.Session() as s:
        return s.scalar(select(CaseState.workflow).where(CaseState.case_id == case_id))


def test_the_cached_workflow_is_the_stored_state(deployed, life):
    case_id = deployed.start("cpe_actual", COMPANY)
    task = _next(deployed, case_id)
    deployed.complete(task["id"], life.answers[task["form_id"]])
    assert len(deployed.workflows) == 1
    (_stamp, workflow, _tasks) = deployed.workflows._items[case_id]
    assert spiff.dump(workflow) == _stored(deployed, case_id)


def test_a_step_taken_by_another_process_is_never_hidden_by_the_cache(deployed, life, database_url, clock):
    other = build_engine(url=database_url, clock=clock)  # another web or worker process on the same database
    try:
        case_id = deployed.start("cpe_actual", COMPANY)
        first = _next(deployed, case_id)
        deployed.complete(first["id"], life.answers[first["form_id"]])  # now cached here
        second = _next(other, case_id)
        other.complete(second["id"], life.answers[second["form_id"]])  # the case moves elsewhere
        third = _next(deployed, case_id)
        assert third["id"] != second["id"]
        deployed.complete(third["id"], life.answers[third["form_id"]])  # must start from the stored state
        fourth = _next(deployed, case_id)  # rojo: the executive chooses the institution
        deployed.complete(fourth["id"], life.answers[fourth["form_id"]])
        case = deployed.case(case_id)
        assert case["status"] == "completed"
        done = [e["name"] for e in case["history"] if e["kind"] == "task_completed"]
        assert done == [first["name"], second["name"], third["name"], fourth["name"]]
    finally:
        other.db.dispose()


def test_a_refused_form_keeps_the_cached_workflow(deployed, life):
    case_id = deployed.start("cpe_actual", COMPANY)
    task = _next(deployed, case_id)
    with pytest.raises(FormError):
        deployed.complete(task["id"], {"respuestas": {}})
    assert case_id in deployed.workflows._items
    deployed.complete(task["id"], life.answers[task["form_id"]])
    assert _next(deployed, case_id)["form_id"] == "agendar_entrevista"


def test_a_rolled_back_step_is_forgotten(deployed, life):
    case_id = deployed.start("cpe_actual", COMPANY)
    task = _next(deployed, case_id)
    with pytest.raises(RuntimeError), deployed.transaction() as s:
        case, compiled, workflow = deployed._load(s, case_id, for_update=True)
        deployed._advance(s, case, compiled, workflow, "prueba")  # stored and flushed, then …
        raise RuntimeError("… the transaction fails")
    assert case_id not in deployed.workflows._items  # taken out and not put back
    deployed.complete(task["id"], life.answers[task["form_id"]])
    with deployed.Session() as s:
        kinds = list(s.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
    assert kinds.count("task_completed") == 1 and kinds[0] == "case_started"


class _Workflow:
    """Stands for a workflow where only its size matters: `tasks` tasks, and subprocesses."""

    def __init__(self, tasks, *subprocesses):
        self.tasks = dict.fromkeys(range(tasks))
        self.subprocesses = {n: _Workflow(size) for n, size in enumerate(subprocesses)}


def test_the_cache_is_bounded():
    cache = spiff.WorkflowCache(2)
    for case_id in (1, 2, 3):
        cache.put(case_id, 1, None, 7, _Workflow(3))
    assert len(cache) == 2 and cache.take(1, 1, None, 7) is None
    assert cache.take(3, 2, None, 7) is None  # another lock_version: stale, and dropped
    assert len(cache) == 1


@pytest.mark.parametrize("sizes, budget, kept, held", [
    ([10, 10, 10], None, [1, 2, 3], 30),  # no bound on tasks: only the entries bound
    ([10, 10, 10], 30, [1, 2, 3], 30),  # exactly at the bound
    ([10, 10, 10], 25, [2, 3], 20),  # the least recently used goes first
    ([10, 30, 5], 35, [2, 3], 35),
    ([10, 40, 5], 35, [1, 3], 15),  # a workflow larger than the whole bound is not kept
    ([(4, 3, 3), 5], 15, [1, 2], 15),  # subprocess tasks count too
    ([(4, 3, 3), 5], 14, [2], 5),
])
def test_the_cache_is_bounded_by_the_tasks_it_holds(sizes, budget, kept, held):
    cache = spiff.WorkflowCache(10, tasks=budget)
    for case_id, size in enumerate(sizes, start=1):
        cache.put(case_id, 1, None, 7, _Workflow(*size) if isinstance(size, tuple) else _Workflow(size))
    assert list(cache._items) == kept and cache.held_tasks == held


def test_taking_and_putting_back_keeps_the_count_of_tasks():
    cache = spiff.WorkflowCache(10, tasks=100)
    cache.put(1, 1, None, 7, _Workflow(20))
    cache.put(2, 1, None, 7, _Workflow(30))
    grown = cache.take(1, 1, None, 7)
    assert grown is not None and cache.held_tasks == 30
    grown.tasks.update(dict.fromkeys(range(20, 60)))  # the step added tasks
    cache.put(1, 2, None, 7, grown)
    assert cache.held_tasks == 90
    cache.put(2, 2, None, 7, _Workflow(35))  # replaces the entry of case 2: 60 + 35
    assert cache.held_tasks == 95 and list(cache._items) == [1, 2]
    assert cache.take(2, 1, None, 7) is None and cache.held_tasks == 60  # stale: dropped all the same
    cache.clear()
    assert cache.held_tasks == 0 and len(cache) == 0
