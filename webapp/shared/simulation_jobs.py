"""Background simulation runs for the comparison page: one folder per run under the instance
folder (instance/simulaciones/<id>/), a separate OS process per run (`python -m engine.simulate.compare_designs`),
and the few rules around them (unguessable ids, a cap on runs at once, only the last N kept).

The results live on this web host's disk: with several web hosts, the folder must be shared
storage (or the runs moved to a job queue and the results to the database).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app

from engine.programme.workshops import catalogue
from engine.simulate import history, model_files, model_lanes
from engine.simulate.compare_designs import DONE, FAILED, REQUEST, RESULT, RUNNING, STATUS, read_json, write_json

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
START_GRACE = 120  # seconds a new run may take to write its own status before it counts as failed


def folder() -> Path:
    path = Path(current_app.config.get("SIMULATIONS_DIR") or Path(current_app.instance_path) / "simulaciones")
    path.mkdir(parents=True, exist_ok=True)
    return path


def keep() -> int:
    return int(current_app.config.get("SIMULATIONS_KEEP", 20))


def max_running() -> int:
    return int(current_app.config.get("SIMULATIONS_MAX_RUNNING", 2))


def run_folder(run_id: str) -> Path | None:
    if not RUN_ID.match(run_id or ""):
        return None
    path = folder() / run_id
    return path if (path / STATUS).is_file() else None


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def status(run_id: str) -> dict | None:
    """The run's status; a run whose process is gone without a result is reported failed."""
    path = run_folder(run_id)
    if path is None:
        return None
    state = read_json(path / STATUS) or {"estado": FAILED, "error": "estado ilegible"}
    if state.get("estado") == RUNNING:
        age = time.time() - (path / STATUS).stat().st_ctime
        pid = state.get("pid")
        if (pid is None and age > START_GRACE) or (pid is not None and not _alive(pid)):
            state.update(estado=FAILED, error="el proceso de simulación terminó sin dejar resultado")
            write_json(path / STATUS, state)
    state["id"] = run_id
    return state


def result(run_id: str) -> dict | None:
    path = run_folder(run_id)
    return read_json(path / RESULT) if path else None


def recent() -> list[dict]:
    """The stored runs, newest first."""
    runs = [status(p.name) for p in folder().iterdir() if p.is_dir() and RUN_ID.match(p.name)]
    runs = [r for r in runs if r]
    return sorted(runs, key=lambda r: r.get("creada") or "", reverse=True)


def running() -> int:
    return sum(1 for r in recent() if r.get("estado") == RUNNING)


def _design(source, value: dict) -> dict:
    process, files = model_files(source, value["proceso"], value["version"])
    return {"proceso": process["key"], "version": process["version"], "nombre": process["name"] or process["key"],
            "archivos": [{"filename": name, "content": content.decode("utf-8")} for name, content in files],
            "carriles": model_lanes(source, process["key"], process["version"])}


def start(source, values: dict, author: str) -> str:
    """Write the request (with the exact files of both designs) and start the worker process."""
    run_id = secrets.token_urlsafe(16)
    path = folder() / run_id
    path.mkdir()
    a, b = _design(source, values["a"]), _design(source, values["b"])
    config = {"cohorte": {"cuota_exportadora": values["cuota_exportadora"]},
              "personas": {"abandono_por_tarea": values["abandono_por_tarea"],
                           "mejora_por_tarea": values["mejora_por_tarea"]},
              "duraciones": {"tareas": {}, "desde_historial": values["historial"]}}
    if values["historial"]:  # read here: the worker never reads the configured database
        tasks = source.human_tasks(a["proceso"], a["version"]) | source.human_tasks(b["proceso"], b["version"])
        history.apply(config, history.task_durations(source, {a["proceso"], b["proceso"]}, tasks))
    params = {k: values[k] for k in ("casos", "semilla", "horizonte_meses", "cuota_exportadora",
                                     "abandono_por_tarea", "mejora_por_tarea", "historial")}
    params["duraciones_historial"] = config["duraciones"].get("historial") or {}
    write_json(path / REQUEST, {"a": a, "b": b, "casos": values["casos"], "semilla": values["semilla"],
                                "horizonte_meses": values["horizonte_meses"], "configuracion": config,
                                "talleres": catalogue(source),
                                "procesos": current_app.config.get("SIMULATIONS_WORKERS", 2)})
    write_json(path / STATUS, {"estado": RUNNING, "pid": None, "creada": datetime.now(UTC).isoformat(),
                               "autor": author, "parametros": params,
                               "a": {k: a[k] for k in ("proceso", "version", "nombre")},
                               "b": {k: b[k] for k in ("proceso", "version", "nombre")}})
    log = open(path / "registro.txt", "wb")  # noqa: SIM115 (the child writes to it; closed below)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "engine.simulate.compare_designs", str(path)], cwd=ROOT,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True, env=_worker_env())
    except OSError as exc:
        write_json(path / STATUS, {**read_json(path / STATUS), "estado": FAILED, "error": str(exc)})
        return run_id
    finally:
        log.close()
    threading.Thread(target=proc.wait, daemon=True).start()  # reap it when it ends (no zombies)
    cleanup()
    return run_id


def _worker_env() -> dict:
    """The worker reads only its folder: it gets no database credentials and no app secret."""
    return {k: v for k, v in os.environ.items() if k not in ("CPE_DATABASE_URL", "CPE_SECRET_KEY")}


def cleanup() -> None:
    """Keep the newest `SIMULATIONS_KEEP` finished runs; running ones are never removed."""
    finished = [r for r in recent() if r.get("estado") in (DONE, FAILED)]
    for old in finished[keep():]:
        shutil.rmtree(folder() / old["id"], ignore_errors=True)
