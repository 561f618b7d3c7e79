"""Helpers for the multi-process tests (test_soak.py, test_crash.py): real `cpe worker` and
gunicorn processes on one database and one shared virtual clock (CPE_CLOCK_FILE), an HTTP
client that logs in like a browser (CSRF token included), and the consistency check that every
case must pass whatever happened to the processes that moved it."""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import requests
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from stdnum.cl import rut as chilean_rut

from engine.basics.clock import as_utc
from engine.models import spiff
from engine.store.schema import Activity, Case, CaseEvent, Derivation, OutboxMessage, TaskRow

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
if not BIN.exists():  # a git worktree running the shared virtualenv of the main checkout
    BIN = Path(sys.executable).parent
MODEL = Path(__file__).parent / "models" / "confiabilidad"
PROCESS = "prueba_confiabilidad"
TIMERS = ("Timer_Espera", "Boundary_Plazo", "Boundary_Recordatorio")
# service tasks of the model and the table each one writes, in the step's own transaction
WRITES = {"Service_Registrar": Activity, "Service_Derivar": Derivation,
          "Service_Notificar": OutboxMessage, "Service_Recordar": OutboxMessage}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def rut(n: int) -> str:
    body = str(76_000_000 + n)
    return f"{body}-{chilean_rut.calc_check_digit(body)}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """A child process in its own process group (so SIGKILL reaches gunicorn's workers too)."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.popen = None
        self.starts = 0

    def start(self) -> Proc:
        self.starts += 1
        log = open(self.log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed in stop/kill
        log.write(f"--- start {self.starts}\n")
        log.flush()
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        self._log = log
        return self

    def kill(self) -> None:
        """SIGKILL to the whole group: no cleanup, no rollback by the process itself."""
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        if self.popen:
            self.popen.wait(timeout=10)
            self._log.close()

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.popen and not self._log.closed:
            self._log.close()

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""


def environment(database_url: str, clock_file: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPE_")}
    env.update(CPE_DATABASE_URL=database_url, CPE_SECRET_KEY="multiproc-test-secret", CPE_CLOCK_FILE=str(clock_file),
               PYTHONUNBUFFERED="1")
    return env


def web(name: str, env: dict, log_dir: Path, port: int | None = None, threads: int = 4) -> Proc:
    port = port or free_port()
    proc = Proc(name, [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads",
                       str(threads), "--graceful-timeout", "5", "--timeout", "120", "webapp.wsgi:app"], env, log_dir)
    proc.url = f"http://127.0.0.1:{port}"
    return proc


def worker(name: str, env: dict, log_dir: Path, interval: float = 0.3) -> Proc:
    return Proc(name, [str(BIN / "cpe"), "worker", "--interval", str(interval)], env, log_dir)


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/ingresar", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Browser:
    """A person's browser session: logs in through the login form (CSRF token from the page),
    then posts task forms with the token from the form page, like the real pages do. One
    cookie jar serves every web process (they share CPE_SECRET_KEY)."""

    def __init__(self, username: str, password: str, statuses: Counter):
        self.username, self.password, self.statuses = username, password, statuses
        self.http = requests.Session()

    def request(self, method, url, **kwargs):
        response = self.http.request(method, url, allow_redirects=False, timeout=60, **kwargs)
        self.statuses[response.status_code] += 1
        return response

    def login(self, base: str) -> None:
        page = self.request("GET", base + "/ingresar")
        token = CSRF.search(page.text).group(1)
        answer = self.request("POST", base + "/ingresar",
                              data={"username": self.username, "password": self.password, "csrf_token": token})
        assert answer.status_code == 302, (answer.status_code, answer.text[:500])

    def complete(self, read_from: str, post_to: str, task_id: str, form: dict) -> str:
        """GET the task's form on one web process, POST it to another. Returns where the
        answer redirects: the case page on success, the inbox when the task was gone."""
        page = self.request("GET", f"{read_from}/tareas/{task_id}")
        if page.status_code == 302:
            return page.headers["Location"]
        assert page.status_code == 200, (page.status_code, page.text[:500])
        hidden = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}  # csrf_token too
        answer = self.request("POST", f"{post_to}/tareas/{task_id}", data={**hidden, **form})
        assert answer.status_code == 302, (answer.status_code, answer.text[:800])
        return answer.headers["Location"]


def form_fields(values: dict) -> dict:
    """Task form values as a browser posts them (checkbox: "1" when ticked, absent otherwise)."""
    posted = {}
    for key, value in values.items():
        if value is True:
            posted[key] = "1"
        elif value is not False:
            posted[key] = str(value)
    return posted


def ready_task(engine, case_id: int, bpmn_id: str) -> str | None:
    with engine.Session() as s:
        return s.scalar(select(TaskRow.id).where(TaskRow.case_id == case_id, TaskRow.bpmn_id == bpmn_id,
                                                 TaskRow.state == "ready"))


def due_cases(engine, now) -> int:
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(Case).where(Case.status == "active",
                                                                     Case.next_timer_at < now))


def timer_events(engine) -> Counter:
    """(case id, timer id) -> how many times the history says it fired."""
    with engine.Session() as s:
        rows = s.execute(select(CaseEvent.case_id, CaseEvent.bpmn_id).where(
            CaseEvent.kind == "step_completed", CaseEvent.bpmn_id.in_(TIMERS))).all()
    return Counter((case_id, bpmn_id) for case_id, bpmn_id in rows)


def wait_for(predicate, timeout: float, what: str, pause: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(pause)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def check_case(engine, case_id: int) -> list[str]:
    """What is inconsistent in one case: the stored workflow, the task index, the history, the
    summary columns and the rows the service tasks write must all tell the same story."""
    problems = []
    with engine.Session() as s:
        case, _compiled, workflow = engine._load(s, case_id)
        events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()
        rows = s.scalars(select(TaskRow).where(TaskRow.case_id == case_id)).all()
        written = {table: s.scalar(select(func.count()).select_from(table).where(table.case_id == case_id))
                   for table in set(WRITES.values())}
    say = problems.append
    ready = {str(t.id) for t in spiff.ready_user_tasks(workflow)}
    ready_rows = {r.id for r in rows if r.state == "ready"}
    if ready != ready_rows:
        say(f"ready tasks {sorted(ready)} but ready rows {sorted(ready_rows)}")
    completed_events = Counter(e.task_id for e in events if e.kind == "task_completed")
    for row in rows:
        task = workflow.get_task_from_id(UUID(row.id))
        if row.state == "completed":
            if completed_events[row.id] != 1:
                say(f"task row {row.bpmn_id} completed with {completed_events[row.id]} task_completed events")
            if task is None or task.state != TaskState.COMPLETED:
                say(f"task row {row.bpmn_id} completed but the workflow task is {task and task.state}")
        elif row.state == "cancelled" and task is not None and task.state == TaskState.READY:
            say(f"task row {row.bpmn_id} cancelled but the workflow task is ready")
    for task_id in completed_events:
        if not any(r.id == task_id and r.state == "completed" for r in rows):
            say(f"task_completed event for {task_id} without a completed task row")
    steps = Counter(e.bpmn_id for e in events if e.kind == "step_completed")
    done = Counter(t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED)
                   if getattr(t.task_spec, "bpmn_name", None) and not t.task_spec.manual)
    if steps != done:
        say(f"history steps {dict(steps)} but workflow completed {dict(done)}")
    for table in set(WRITES.values()):
        expected = sum(steps[bpmn_id] for bpmn_id, t in WRITES.items() if t is table)
        if written[table] != expected:
            say(f"{table.__tablename__}: {written[table]} rows for {expected} steps")
    kinds = Counter(e.kind for e in events)
    if kinds["case_started"] != 1:
        say(f"{kinds['case_started']} case_started events")
    finished = workflow.is_completed()
    expected_status = "completed" if finished else "active"
    if case.status != expected_status or kinds["case_completed"] != (1 if finished else 0):
        say(f"status {case.status} with {kinds['case_completed']} case_completed events; workflow finished={finished}")
    if (case.ended_at is not None) != finished:
        say(f"ended_at {case.ended_at} for finished={finished}")
    if case.error is not None or kinds["error"]:
        say(f"error {case.error}")
    due = spiff.next_timer(workflow) if not finished else None
    stored = as_utc(case.next_timer_at)
    if (due is None) != (stored is None) or (due is not None and abs((due - stored).total_seconds()) > 1):
        say(f"next_timer_at {stored} but the workflow waits until {due}")
    source = spiff.ready_user_tasks(workflow)[:1] or [workflow.last_task]  # what the engine stores
    if case.data != spiff.json_safe(dict(source[0].data)):
        say("case.data differs from the workflow's data")
    return problems
