"""`simulate`: the cohort split by region into shards, each shard drawn and run in its own process
(engine/simulate/shard.py) and the shards' summaries merged into the figures."""

from __future__ import annotations

import multiprocessing
import queue
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

from engine.cases.engine import Engine
from engine.programme import workshops as engine_workshops
from engine.simulate import history
from engine.simulate.cohort import split
from engine.simulate.config import merged_config
from engine.simulate.figures import figures
from engine.simulate.shard import run_shard


def model_files(source: Engine, process_id: str, version: int | None = None):
    """The process version, the process versions it calls, and the exact form and decision versions they
    pin, as deployable files (a file holding several of them, once; the process's own file first)."""
    process = source.model_version("process", process_id, version)
    files, seen = {}, set()

    def add(row):
        for kind, group in (("form", "forms"), ("decision", "decisions"), ("process", "processes")):
            for key, v in sorted((row.get("dependencies") or {}).get(group, {}).items()):
                if (kind, key) not in seen:
                    seen.add((kind, key))
                    pinned = source.model_version(kind, key, v)
                    if kind == "process":
                        add(pinned)
                    files.setdefault((pinned["filename"], pinned["content"]), None)
        files.setdefault((row["filename"], row["content"]), None)
    files[(process["filename"], process["content"])] = None  # first: its diagram is the design's (compare_designs)
    seen.add(("process", process_id))
    add(process)
    return process, [(name, content.encode("utf-8")) for name, content in files]


def model_lanes(source: Engine, process_id: str, version: int | None = None) -> dict:
    """The lane -> role mapping the process version and the process versions it calls pin (the process's
    own wins): what deploying `model_files` elsewhere needs for lanes not named after a role."""
    lanes, seen = {}, set()
    stack = [source.model_version("process", process_id, version)]
    while stack:
        row = stack.pop()
        deps = row.get("dependencies") or {}
        for key, value in (deps.get("lanes") or {}).items():
            lanes.setdefault(key, value)
        for key, v in sorted((deps.get("processes") or {}).items()):
            if (key, v) not in seen:
                seen.add((key, v))
                stack.append(source.model_version("process", key, v))
    return lanes


def simulate(source: Engine, process_id: str, cases: int, version: int | None = None, seed=0,
             horizon_months: int | None = None, config: dict | None = None, database_url: str | None = None,
             workers: int | None = None, progress=None) -> dict:
    """Run `cases` synthetic companies through a process version; returns the figures (see the
    package's doc). Task durations the configuration does not give come from the history of the
    process in `source` where it has enough completed tasks (`duraciones.desde_historial`).

    Regions never share executives, pools or companies, so the cohort is split by region over
    `workers` processes (each with its own throwaway database): the result does not depend on
    `workers`. With `database_url` (one worker) the throwaway database is kept there.
    """
    if cases < 1:
        raise ValueError("--cases debe ser al menos 1")
    cfg = merged_config(config)
    if horizon_months is not None:
        cfg["horizonte_meses"] = horizon_months
    cfg.setdefault("horizonte_meses", 24)
    if cfg["horizonte_meses"] < 1:
        raise ValueError("--horizon-months debe ser al menos 1")
    process, files = model_files(source, process_id, version)
    lanes = model_lanes(source, process_id, version)
    if cfg["duraciones"].get("desde_historial", True):
        history.apply(cfg, history.task_durations(source, [process_id], source.human_tasks(process_id, version)))
    start = datetime.fromisoformat(cfg["inicio"]).astimezone(UTC)
    end = start + timedelta(days=round(30.44 * cfg["horizonte_meses"]))
    catalogue = engine_workshops.catalogue(source)  # for a process that asks verificar_capacitacion
    # each worker draws its own part of the cohort: this process never holds the companies
    jobs = [(files, process_id, cases, part, seed, cfg, start, end, database_url, catalogue, lanes)
            for part in split(cases, seed, cfg, 1 if database_url else workers)]
    parts = [run_shard(*jobs[0], progress=progress)] if len(jobs) == 1 else _in_processes(jobs, progress)
    return {"casos": cases, "proceso": process_id, "version": process["version"], "semilla": seed,
            **figures(parts, cases, cfg), "configuracion": cfg}


def _in_processes(jobs, progress) -> list[dict]:
    """Each shard in its own (spawned) process; their progress messages are relayed to `progress`
    from this process. The summaries come back in the order of `jobs`."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue() if progress else None
    with ProcessPoolExecutor(len(jobs), mp_context=context, initializer=_worker_setup,
                             initargs=(messages,)) as pool:
        futures = [pool.submit(run_shard, *job, progress=partial(_relay, n + 1) if progress else None)
                   for n, job in enumerate(jobs)]
        while progress is not None:
            done = all(f.done() for f in futures)
            try:
                while True:  # once every shard is done, what is still in the pipe arrives at once
                    progress(messages.get(timeout=0.2 if done else 0.5))
            except queue.Empty:
                if done:
                    break
        return [f.result() for f in futures]


_messages = None  # a worker's queue to the parent (set by _worker_setup)


def _worker_setup(messages) -> None:
    global _messages
    _messages = messages


def _relay(shard: int, message: str) -> None:
    if _messages is not None:
        _messages.put(f"proceso {shard}: {message}")
