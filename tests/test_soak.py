"""Scale-out soak (issue 7 §3): 2 `cpe worker` and 2 gunicorn processes on one PostgreSQL
database drive 200 cases with timers at once; every due timer fires exactly once, no case
loses data, no request fails.

All processes share one virtual clock (CPE_CLOCK_FILE), which the test moves forward so the
intermediate timer, the interrupting boundary timer and the non-interrupting one become due
while people keep completing tasks over HTTP (real login, CSRF token from the form page; each
form is read from one web process and posted to the other).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from engine.accounts.apitokens import create_token
from engine.assembly import build_engine
from engine.basics.clock import FileClock
from engine.models.validation import collect_files
from engine.store.schema import CaseEvent, TaskRow

from .multiproc import (
    MODEL,
    PROCESS,
    Browser,
    check_case,
    due_cases,
    environment,
    form_fields,
    rut,
    timer_events,
    wait_for,
    wait_http,
    web,
    worker,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("CPE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="prueba de escalamiento: varios procesos sobre PostgreSQL (defina CPE_TEST_DATABASE_URL); "
           "SQLite admite un solo escritor a la vez y no es la configuración de producción con varios procesos")

CASES = 200
THREADS = 8
PASSWORD = "clave-de-prueba-soak-2026"


def _start_data(i):
    return {"rut": rut(i), "razon_social": f"Exportadora Soak {i:03d} SpA", "region": "CL-RM",
            "monto_usd": 1000 + 7 * i}


def _revision(i):
    return {"aprobada": i % 3 != 0, "puntaje": i % 101, "prioridad": ("alta", "media", "baja")[i % 3],
            "observacion": f"Revisión «{i}» — ñandú & <b>"}


def _closing(i):
    return {"conforme": i % 2 == 0, "nota_cierre": f"Cierre {i}"}


def test_two_workers_and_two_web_processes_drive_200_cases_with_timers(tmp_path, database_url):
    began = time.monotonic()
    clock = FileClock.create(tmp_path / "reloj.txt")
    engine = build_engine(url=database_url, clock=clock)
    engine.upgrade()
    engine.deploy(collect_files([MODEL]), author="test", message="soak")
    people = [f"eje{n}" for n in range(4)]
    tokens = {}
    for name in people:
        engine.create_user(name, PASSWORD, "ejecutivo_cpe", region="CL-RM", email=f"{name}@cpe.cl")
        tokens[name] = create_token(engine, name, name="soak")[1]
    env = environment(database_url, clock.path)
    webs = [web(f"web{n}", env, tmp_path) for n in (1, 2)]
    workers = [worker(f"worker{n}", env, tmp_path, interval=0.3) for n in (1, 2)]
    statuses: Counter = Counter()
    case_ids: dict[int, int] = {}
    failures: list[str] = []
    lock = threading.Lock()
    try:
        for proc in (*webs, *workers):
            proc.start()
        for proc in webs:
            wait_http(proc.url)
        browsers = []
        for t in range(THREADS):
            browser = Browser(people[t % len(people)], PASSWORD, statuses)
            browser.login(webs[t % 2].url)
            browser.token = tokens[browser.username]
            browsers.append(browser)

        def run(phase):
            def each(t):
                try:
                    for i in range(t, CASES, THREADS):
                        phase(browsers[t], i, webs[i % 2].url, webs[(i + 1) % 2].url)
                except Exception as exc:  # noqa: BLE001 - reported by the main thread
                    with lock:
                        failures.append(f"{type(exc).__name__}: {exc}")
            threads = [threading.Thread(target=each, args=(t,)) for t in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not failures, failures[:5]

        def task_of(browser, base, i, bpmn_id):
            answer = browser.request("GET", f"{base}/api/v1/tasks", params={"case_id": case_ids[i]},
                                     headers={"Authorization": f"Bearer {browser.token}"})
            assert answer.status_code == 200, answer.text
            found = [t["id"] for t in answer.json()["items"] if t["bpmn_id"] == bpmn_id]
            return found[0] if found else None

        def complete(browser, i, read_from, post_to, bpmn_id, values):
            task_id = wait_for(lambda: task_of(browser, read_from, i, bpmn_id), 90, f"{bpmn_id} of case {i}")
            where = browser.complete(read_from, post_to, task_id, form_fields(values))
            assert where.endswith(f"/casos/{case_ids[i]}"), f"case {i}: {bpmn_id} answered {where}"

        # A: start every case through the API, alternating web processes; review 3 of 4 cases.
        def start_and_review(browser, i, one, other):
            answer = browser.request("POST", f"{one}/api/v1/cases",
                                     json={"process_id": PROCESS, "data": _start_data(i)},
                                     headers={"Authorization": f"Bearer {browser.token}"})
            assert answer.status_code == 201, answer.text
            case_ids[i] = answer.json()["id"]
            if i % 4:
                complete(browser, i, other, one, "Task_Revisar", _revision(i))
        run(start_and_review)
        phase_a = time.monotonic() - began

        # B: one day later the reviewed cases' timer is due; the workers fire it while people
        # close group 1 as soon as its task appears, and read the other cases' pages.
        clock.advance(hours=25)

        def close_group_1(browser, i, one, other):
            if i % 4 == 1:
                complete(browser, i, one, other, "Task_Cerrar", _closing(i))
            else:
                page = browser.request("GET", f"{one}/casos/{case_ids[i]}")
                assert page.status_code == 200, page.status_code
        run(close_group_1)
        wait_for(lambda: sum(1 for (_, b) in timer_events(engine) if b == "Timer_Espera") == CASES * 3 // 4,
                 90, "every reviewed case's timer")

        # C: past the review deadline (interrupting boundary, group 0) and the closing reminder
        # (non-interrupting, groups 2 and 3): group 2 is closed while its reminder may be firing.
        clock.advance(days=2, hours=1)

        def close_group_2(browser, i, one, other):
            if i % 4 == 2:
                complete(browser, i, other, one, "Task_Cerrar", _closing(i))
        run(close_group_2)
        wait_for(lambda: due_cases(engine, clock.now()) == 0, 90, "the workers to fire every due timer")
        elapsed = time.monotonic() - began
    finally:
        for proc in (*webs, *workers):
            proc.stop()

    # every due timer fired exactly once, and only those
    fired = timer_events(engine)
    assert max(fired.values()) == 1, [k for k, v in fired.items() if v > 1]
    for i, case_id in case_ids.items():
        group = i % 4
        expected = {"Timer_Espera": group != 0, "Boundary_Plazo": group == 0, "Boundary_Recordatorio": group == 3}
        for timer, must in expected.items():
            if timer == "Boundary_Recordatorio" and group == 2:
                continue  # closed while it came due: either order is right (checked once above)
            assert fired[(case_id, timer)] == int(must), (i, timer, fired[(case_id, timer)])
    # the workers' own reports add up to the history: each advance fired one timer
    reported = sum(int(n) for proc in workers for n in re.findall(r"(\d+) caso\(s\) avanzados", proc.output()))
    assert reported == sum(fired.values())

    # no case lost data; workflow, task index, history and summary agree
    with engine.Session() as s:
        completions = Counter(s.execute(select(CaseEvent.case_id, CaseEvent.bpmn_id)
                                        .where(CaseEvent.kind == "task_completed")).all())
        rows = Counter(s.execute(select(TaskRow.bpmn_id, TaskRow.state)).all())
    for i, case_id in case_ids.items():
        assert check_case(engine, case_id) == [], i
        case = engine.case(case_id)
        submitted = {**_start_data(i), **(_revision(i) if i % 4 else {}), **(_closing(i) if i % 4 in (1, 2) else {})}
        submitted["rut"] = case["data"]["rut"]  # stored formatted (76.000.123-4)
        assert {k: case["data"].get(k) for k in submitted} == submitted, i
        assert completions[(case_id, "Task_Revisar")] == (1 if i % 4 else 0)
        assert completions[(case_id, "Task_Cerrar")] == (1 if i % 4 in (1, 2) else 0)
        assert case["status"] == ("active" if i % 4 == 3 else "completed"), (i, case["status"])
    quarter = CASES // 4
    assert rows == {("Task_Revisar", "completed"): 3 * quarter, ("Task_Revisar", "cancelled"): quarter,
                    ("Task_Cerrar", "completed"): 2 * quarter, ("Task_Cerrar", "ready"): quarter}

    # no server error, nothing in the logs
    assert not [code for code in statuses if code >= 500], statuses
    for proc in (*webs, *workers):
        assert "Traceback" not in proc.output(), proc.output()[-3000:]
    print(f"\nsoak: {CASES} cases, {sum(statuses.values())} requests {dict(statuses)}, "
          f"{sum(fired.values())} timers; phase A {phase_a:.1f} s, total {elapsed:.1f} s")
    engine.db.dispose()
