"""HTTP figures for `cpe bench`: task completions through gunicorn, as browsers send them.

`measure(engine, url, …)` starts cases of cpe_actual in the bench's throwaway database, starts
gunicorn on a free local port against that same database, and drives it with `clients`
threads, each a client of its own (http.client, its own cookies): it logs in through
`/ingresar` with the login form's CSRF token, then for each of its tasks opens the form
(`GET /tareas/<id>`) and sends it (`POST /tareas/<id>` with the CSRF token, answered by a
redirect to the case page, which is not followed). The TPE form is posted with the same
answers as `completions_per_s`, encoded as the browser encodes the rendered form.

Figures: `http_complete_p95_ms` (the POST), `http_task_form_p95_ms` (the GET), and
`http_complete_per_s`: completed tasks per second of wall time over the whole run (every
client opens and sends forms back to back). Every answer must be the expected one (302 to the
case page, 200 for the form), or the run fails: an error page is no timing.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from tooling.bench.suite import COMPANY, _p95

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def form_fields(data: dict, prefix: str = "") -> list[tuple[str, str]]:
    """`data` as the fields of the rendered form (webapp/shared/formrender.py names nested fields
    `a.b`; a list is one field per chosen value; a boolean checkbox sends "1" when checked)."""
    fields = []
    for name, value in data.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            fields.extend(form_fields(value, f"{path}."))
        elif isinstance(value, list):
            fields.extend((path, str(v)) for v in value)
        elif isinstance(value, bool):
            fields.append((path + "__present", "1"))
            if value:
                fields.append((path, "1"))
        elif value is not None:
            fields.append((path, str(value)))
    return fields


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """One browser: its own connection and cookies."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, fields=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, text

    def token(self, path) -> str:
        status, _, text = self.request("GET", path)
        match = TOKEN.search(text)
        if status != 200 or match is None:
            raise RuntimeError(f"GET {path}: {status}, sin token CSRF")
        return match.group(1) or match.group(2)

    def login(self, username, password) -> None:
        token = self.token("/ingresar")
        status, headers, _ = self.request("POST", "/ingresar", [("csrf_token", token), ("username", username),
                                                                ("password", password)])
        if status != 302 or "/ingresar" in (headers.get("Location") or ""):
            raise RuntimeError(f"no se pudo ingresar como {username} (estado {status})")


def _wait_until_up(port, process, seconds=60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn terminó al partir (código {process.returncode})")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ingresar")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn no respondió a tiempo")


def measure(engine, url: str, username: str, password: str, answers: dict, clients: int = 8,
            per_client: int = 30, workers: int = 4, threads: int = 2) -> dict:
    """Start `clients * per_client` cases, serve the database with gunicorn (`workers` processes
    of `threads` threads) and complete each case's first task (the TPE) over HTTP."""
    from stdnum.cl import rut

    tasks = []
    for n in range(clients * per_client):  # one company per case, as in an office (and no two
        number = str(70_000_000 + n)        # concurrent TPE answers of one company)
        company = dict(COMPANY, rut=rut.format(number + rut.calc_check_digit(number)),
                       razon_social=f"Empresa HTTP {n} SpA")
        case_id = engine.start("cpe_actual", company, actor="bench")
        tasks.append(engine.ready_tasks(case_id=case_id)[0]["id"])
    port = _free_port()
    env = dict(os.environ, CPE_DATABASE_URL=url, CPE_SECRET_KEY="bench-http", CPE_SECURE_COOKIES="0")
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "webapp.wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    posts, gets, failures = [], [], []
    lock = threading.Lock()
    fields = form_fields(answers)

    def client(mine):
        try:
            browser = Client(port)
            browser.login(username, password)
            for task_id in mine:
                begin = time.perf_counter()
                token = browser.token(f"/tareas/{task_id}")
                middle = time.perf_counter()
                status, headers, _ = browser.request("POST", f"/tareas/{task_id}", [("csrf_token", token), *fields])
                end = time.perf_counter()
                if status != 302 or "/casos/" not in (headers.get("Location") or ""):
                    raise RuntimeError(f"POST /tareas/{task_id}: estado {status}, {headers.get('Location')}")
                with lock:
                    gets.append((middle - begin) * 1000)
                    posts.append((end - middle) * 1000)
        except Exception as exc:  # noqa: BLE001 - reported below, the run fails
            with lock:
                failures.append(str(exc))

    try:
        _wait_until_up(port, process)
        threads_ = [threading.Thread(target=client, args=(tasks[i::clients],)) for i in range(clients)]
        begin = time.perf_counter()
        for thread in threads_:
            thread.start()
        for thread in threads_:
            thread.join()
        wall = time.perf_counter() - begin
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if failures:
        raise RuntimeError(f"{len(failures)} clientes fallaron; el primero: {failures[0]}")
    return {"http_complete_p95_ms": _p95(posts), "http_task_form_p95_ms": _p95(gets),
            "http_complete_per_s": round(len(posts) / wall, 1),
            "http_settings": {"clients": clients, "tasks": len(posts), "server": "gunicorn",
                              "workers": workers, "threads": threads}}
