"""`simulate`: the cohort drawn, split by region into shards, each shard run in its own process
(engine/simulate/shard.py) and the shards' summaries merged into the figures."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial

from ..core import Engine
from .cohort import cohort
from .config import merged_config
from .figures import figures
from .shard import run_shard


def model_files(source: Engine, process_id: str, version: int | None = None):
    """The process version and the exact form and decision versions it pins, as deployable files."""
    process = source.model_version("process", process_id, version)
    deps = process.get("dependencies") or {}
    files = []
    for kind, group in (("form", "forms"), ("decision", "decisions")):
        for key, v in sorted(deps.get(group, {}).items()):
            row = source.model_version(kind, key, v)
            files.append((row["filename"], row["content"].encode("utf-8")))
    files.append((process["filename"], process["content"].encode("utf-8")))
    return process, files


def simulate(source: Engine, process_id: str, cases: int, version: int | None = None, seed=0,
             horizon_months: int | None = None, config: dict | None = None, database_url: str | None = None,
             workers: int | None = None, progress=None) -> dict:
    """Run `cases` synthetic companies through a process version; returns the figures (see the
    package's doc).

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
    start = datetime.fromisoformat(cfg["inicio"]).astimezone(UTC)
    end = start + timedelta(days=round(30.44 * cfg["horizonte_meses"]))
    jobs = [(files, process_id, items, seed, cfg, start, end, database_url)
            for items in shards(cases, seed, cfg, start, 1 if database_url else workers)]
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


def shards(cases: int, seed, cfg: dict, start: datetime, workers: int | None = None) -> list[list]:
    """The cohort with its arrival times, split by region into at most `workers` shards of similar
    size: lists of (index, company, arrival), by index. The companies and their arrivals do not
    depend on the split."""
    companies = cohort(cases, seed, cfg)
    entry = random.Random(f"ingreso:{seed}")
    window = min(cfg["meses_ingreso"], cfg["horizonte_meses"]) * 30.44 * 86400
    arrivals = [start + timedelta(seconds=round(entry.random() * window)) for _ in companies]
    groups: dict[str, list] = {}
    for index, company in enumerate(companies):
        groups.setdefault(company["region"], []).append(index)
    workers = max(1, min(workers or os.cpu_count() or 1, len(groups)))
    split: list[list] = [[] for _ in range(workers)]
    for region in sorted(groups, key=lambda r: (-len(groups[r]), r)):  # largest regions first, to the lightest
        min(split, key=len).extend(groups[region])
    return [[(i, companies[i], arrivals[i]) for i in sorted(part)] for part in split if part]
