"""Two OS processes acting on the same task at once (issue 8, point 1): exactly one wins, the
others get a clear Spanish message, and the history holds one event. The threads version is in
test_engine.py; this one uses separate processes with their own connection pools, on SQLite and
on PostgreSQL (CPE_TEST_DATABASE_URL)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.assembly import build_engine
from engine.models.validation import collect_files
from engine.store.schema import CaseEvent

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76.086.428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}
PROCESSES = 4


def _act(url, verb, task_id, user, answer, barrier, results):
    engine = build_engine(url=url)
    try:
        barrier.wait(timeout=60)
        if verb == "complete":
            engine.complete(task_id, {"respuestas": {"web": answer, "idiomas": "ingles"}})
        else:
            engine.claim(task_id, user)
        results.put(("ok", user))
    except Exception as exc:  # noqa: BLE001 - the loser's message is what the test checks
        results.put((type(exc).__name__, str(exc)))
    finally:
        engine.db.dispose()


def _race(url, verb, task_id, users):
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(users)), ctx.Queue()
    procs = [ctx.Process(target=_act, args=(url, verb, task_id, user, ("si", "no")[i % 2], barrier, results))
             for i, user in enumerate(users)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return outcomes


@pytest.fixture
def model(engine):
    engine.deploy(collect_files([MODEL]))
    return engine


def _events(engine, case_id, kind):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(CaseEvent)
                        .where(CaseEvent.case_id == case_id, CaseEvent.kind == kind))


def test_processes_completing_one_task_exactly_one_wins(model, database_url):
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    outcomes = _race(database_url, "complete", task["id"], [f"p{i}" for i in range(PROCESSES)])
    winners = [o for o in outcomes if o[0] == "ok"]
    losers = [o for o in outcomes if o[0] != "ok"]
    assert len(winners) == 1, outcomes
    # the loser is told the task is gone, or, if the winner's step ended the case, that the case is over
    assert all(kind == "Conflict" and ("ya no está disponible" in message or "no está activo" in message)
               for kind, message in losers), losers
    assert _events(model, case_id, "task_completed") == 1
    assert model.case(case_id)["data"]["respuestas"]["web"] in ("si", "no")


def test_processes_claiming_one_task_exactly_one_wins(model, database_url):
    for i in range(PROCESSES):
        model.create_user(f"eje{i}", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    outcomes = _race(database_url, "claim", task["id"], [f"eje{i}" for i in range(PROCESSES)])
    winners = [o for o in outcomes if o[0] == "ok"]
    losers = [o for o in outcomes if o[0] != "ok"]
    assert len(winners) == 1, outcomes
    assert all(kind == "Conflict" and "ya fue tomada por" in message for kind, message in losers), losers
    assert _events(model, case_id, "task_claimed") == 1
    [row] = model.ready_tasks(case_id=case_id)
    assert row["assignee"] == winners[0][1]
