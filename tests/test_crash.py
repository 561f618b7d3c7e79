"""Crash safety (issue 8 §2): the web process and the worker are killed with SIGKILL in the
middle of a 500-case run and restarted; every case is left before or after each step (never in
between) and the restarted worker fires the timers it missed.

People use the JSON API the way a careful client does: when a request dies with the server, it
does not know whether the step happened, so it looks (the case for that RUT, the task's state)
and only retries what did not. Runs on SQLite (one writer at a time) and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests
from sqlalchemy import select

from engine.accounts.apitokens import create_token
from engine.assembly import build_engine
from engine.basics.clock import FileClock
from engine.domain.rut import normalize_rut
from engine.models.validation import collect_files
from engine.store.schema import Case, CaseEvent, Company, TaskRow

from .multiproc import (
    MODEL,
    PROCESS,
    check_case,
    due_cases,
    environment,
    rut,
    timer_events,
    wait_for,
    wait_http,
    web,
    worker,
)

CASES = 500
THREADS = 4
PASSWORD = "clave-de-prueba-crash-2026"


def _start_data(i):
    return {"rut": rut(10_000 + i), "razon_social": f"Conservera Crash {i:03d} Ltda.", "region": "CL-RM",
            "monto_usd": 500 + i}


def _revision(i):
    return {"aprobada": i % 2 == 0, "puntaje": i % 97, "prioridad": ("alta", "media", "baja")[i % 3]}


def _closing(i):
    return {"conforme": True, "nota_cierre": f"cerrada {i}"}


class Client:
    """An API client that survives the server's death: a request that dies is 'lost' (its
    outcome unknown to the client) and the caller decides from the database what to do."""

    def __init__(self, token, server, statuses, lost):
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.server, self.statuses, self.lost = server, statuses, lost

    def call(self, method, path, **kwargs):
        self.server["up"].wait(60)
        try:
            answer = self.http.request(method, self.server["web"].url + path, timeout=60, **kwargs)
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):  # died mid-answer
            self.lost[path.split("/")[1]] += 1
            time.sleep(0.2)
            return None
        self.statuses[answer.status_code] += 1
        return answer


def test_sigkill_of_web_and_worker_leaves_every_case_before_or_after_each_step(tmp_path, database_url):
    began = time.monotonic()
    clock = FileClock.create(tmp_path / "reloj.txt")
    engine = build_engine(url=database_url, clock=clock)
    engine.upgrade()
    engine.deploy(collect_files([MODEL]), author="test", message="crash")
    tokens = []
    for name in ("eje.a", "eje.b"):
        engine.create_user(name, PASSWORD, "ejecutivo_cpe", region="CL-RM", email=f"{name}@cpe.cl")
        tokens.append(create_token(engine, name, name="crash")[1])
    env = environment(database_url, clock.path)
    server = {"web": web("web", env, tmp_path), "up": threading.Event()}
    the_worker = worker("worker", env, tmp_path, interval=0.2)
    statuses, lost, progress = Counter(), Counter(), Counter()
    case_ids: dict[int, int] = {}
    failures: list[str] = []
    kills = Counter()

    def restart_web(delay=0.5):
        server["up"].clear()
        server["web"].kill()
        kills["web"] += 1
        time.sleep(delay)
        server["web"].start()
        wait_http(server["web"].url)
        server["up"].set()

    def case_of(i):
        with engine.Session() as s:
            return s.scalar(select(Case.id).join(Company, Company.id == Case.company_id)
                            .where(Company.rut == normalize_rut(_start_data(i)["rut"])))

    def start(client, i):
        while True:
            answer = client.call("POST", "/api/v1/cases", json={"process_id": PROCESS, "data": _start_data(i)})
            if answer is not None:
                assert answer.status_code == 201, answer.text
                case_ids[i] = answer.json()["id"]
                return
            found = case_of(i)  # the server died: did the case get started?
            if found:
                case_ids[i] = found
                return

    def complete(client, i, bpmn_id, values):
        task_id = wait_for(lambda: _ready(engine, case_ids[i], bpmn_id), 90, f"{bpmn_id} of case {i}")
        retried = False
        while True:
            answer = client.call("POST", f"/api/v1/tasks/{task_id}/complete", json=values)
            if answer is not None:
                # 409 only after a lost answer whose step did happen (then it must be completed)
                assert answer.status_code == 200 or (retried and answer.status_code == 409), answer.text
                break
            with engine.Session() as s:
                if s.scalar(select(TaskRow.state).where(TaskRow.id == task_id)) == "completed":
                    break
            retried = True
        progress[bpmn_id] += 1

    def run(phase):
        def each(t):
            client = Client(tokens[t % 2], server, statuses, lost)
            try:
                for i in range(t, CASES, THREADS):
                    phase(client, i)
            except Exception as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(f"{type(exc).__name__}: {exc}")
        threads = [threading.Thread(target=each, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        return threads

    def join(threads):
        for thread in threads:
            thread.join()
        assert not failures, failures[:5]

    def fired(timer):
        return sum(1 for (_, bpmn_id) in timer_events(engine) if bpmn_id == timer)

    def kill_worker_midway(timer, total):
        """SIGKILL the worker once it has fired some of `total` due timers but not all; while it
        is down nothing fires; the restarted worker fires the rest."""
        wait_for(lambda: fired(timer) >= total // 10, 60, f"the worker to start firing {timer}", pause=0.05)
        the_worker.kill()
        kills["worker"] += 1
        at_kill = fired(timer)
        missed = due_cases(engine, clock.now())
        time.sleep(1.0)
        assert fired(timer) == at_kill  # nobody else fires timers
        the_worker.start()
        return at_kill, missed

    try:
        server["web"].start()
        the_worker.start()
        wait_http(server["web"].url)
        server["up"].set()

        # 1: start 500 cases and review 4 of 5; the web process is killed mid-run
        def start_and_review(client, i):
            start(client, i)
            progress["started"] += 1
            if i % 5:
                complete(client, i, "Task_Revisar", _revision(i))
        threads = run(start_and_review)
        wait_for(lambda: progress["started"] + progress["Task_Revisar"] >= 300, 120, "300 steps")
        restart_web()
        join(threads)

        # 2: a day later the reviewed cases' timers are due: the worker is killed while firing
        # them; meanwhile group 1 is closed as its tasks appear and the web process dies again
        clock.advance(hours=25)
        reviewed = CASES * 4 // 5
        threads = run(lambda client, i: complete(client, i, "Task_Cerrar", _closing(i)) if i % 5 == 1 else None)
        at_kill, missed = kill_worker_midway("Timer_Espera", reviewed)
        assert 0 < at_kill < reviewed and missed > 0, (at_kill, missed)
        wait_for(lambda: progress["Task_Cerrar"] >= CASES // 10, 120, "half of group 1 closed")
        restart_web()
        join(threads)
        wait_for(lambda: due_cases(engine, clock.now()) == 0, 120, "the restarted worker to fire every due timer")

        # 3: past the review deadline (group 0) and the reminders (groups 2-4); group 2 is
        # closed meanwhile; both processes are killed once more along the way
        clock.advance(days=2, hours=1)
        threads = run(lambda client, i: complete(client, i, "Task_Cerrar", _closing(i)) if i % 5 == 2 else None)
        kill_worker_midway("Boundary_Recordatorio", CASES * 3 // 5)
        restart_web()
        join(threads)
        wait_for(lambda: due_cases(engine, clock.now()) == 0, 120, "every due timer after the last restart")
        elapsed = time.monotonic() - began
    finally:
        server["web"].stop()
        the_worker.stop()

    assert len(case_ids) == CASES and len(set(case_ids.values())) == CASES  # no case lost or doubled
    assert lost["api"] >= 1, "no request was in flight when the web process died"
    assert not [code for code in statuses if code >= 500], statuses
    events = timer_events(engine)
    with engine.Session() as s:
        completions = Counter(s.execute(select(CaseEvent.case_id, CaseEvent.bpmn_id)
                                        .where(CaseEvent.kind == "task_completed")).all())
    problems = {}
    for i, case_id in case_ids.items():
        found = check_case(engine, case_id)
        if found:
            problems[i] = found
            continue
        group = i % 5
        expected = {"Timer_Espera": int(group != 0), "Boundary_Plazo": int(group == 0),
                    "Boundary_Recordatorio": int(group in (3, 4))}
        for timer, count in expected.items():
            if not (timer == "Boundary_Recordatorio" and group == 2):  # closed while it came due
                assert events[(case_id, timer)] == count, (i, timer, events[(case_id, timer)])
        assert completions[(case_id, "Task_Revisar")] == int(group != 0), i
        assert completions[(case_id, "Task_Cerrar")] == int(group in (1, 2)), i
        data = engine.case(case_id)["data"]
        submitted = {**_start_data(i), **(_revision(i) if group else {}), **(_closing(i) if group in (1, 2) else {})}
        submitted["rut"] = data["rut"]
        assert {k: data.get(k) for k in submitted} == submitted, i
    assert problems == {}, dict(list(problems.items())[:5])
    assert max(events.values()) == 1
    print(f"\ncrash ({engine.db.dialect.name}): {CASES} cases, kills {dict(kills)}, lost requests {dict(lost)}, "
          f"answers {dict(statuses)}, {sum(events.values())} timers, {elapsed:.1f} s")
    engine.db.dispose()


def _ready(engine, case_id, bpmn_id):
    with engine.Session() as s:
        return s.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id,
                                                 TaskRow.state == "ready"))
