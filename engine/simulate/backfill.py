"""Backfill: a programme's past run through the engine into a real database, on a backdated clock
(`cpe demo` builds its two years of a CPE this way, tooling/demo.py).

It is the simulation's machinery (shard.py) with three differences:
- the database is the given one, not a throwaway, and nothing is summarised from it afterwards;
- the people are accounts of that database: a `Cast` (shard.Cast) names who started each case,
  who completed each task and who organised each workshop session, so every history reads like
  the work of the programme's staff;
- the regions run in parallel processes on that one database, each on its own virtual clock
  from `start` to `end`. Regions share no executives, pools, workshop sessions or companies
  (cohort.split), so a process fires only its own regions' timers
  (Engine.fire_due_timers(regions=…)) and what each case does does not depend on the others.

Same seed and items → the same companies, answers, outcomes and histories, whatever the number
of processes (case numbers may interleave differently between runs with several processes).
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from engine.assembly import build_engine
from engine.basics.clock import VirtualClock
from engine.simulate import workshop_attendance
from engine.simulate.cohort import by_region
from engine.simulate.config import WORKFLOW_CACHE, WORKFLOW_CACHE_TASKS
from engine.simulate.shard import _Run


def parts_by_region(items, workers: int) -> list[list[tuple]]:
    """`items` ((index, company, arrival) tuples) in at most `workers` parts of whole regions
    (cohort.by_region, as cohort.split splits a simulation's cohort)."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item[1]["region"], []).append(item)
    return [sorted(part, key=lambda item: item[0]) for part in by_region(groups, workers)]


def backfill(database_url: str, process_id: str, items, seed, cfg: dict, start, end, cast, workers: int = 1,
             progress=None) -> dict:
    """Run `items` (companies with their arrival, cohort.shard_items) through the deployed
    `process_id` of the database at `database_url`, from `start` to `end`, in up to `workers`
    processes. The staff must exist already (the cast names them). Returns what happened:
    counts of completed and cancelled tasks, companies that stopped answering, workshops, and
    the distinct errors of companies whose case could not go on."""
    parts = parts_by_region(items, workers)
    jobs = [(database_url, process_id, part, seed, cfg, start, end, cast) for part in parts]
    if len(jobs) == 1:
        results = [run_part(*jobs[0], progress=progress)]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(jobs), mp_context=context) as pool:
            results = [f.result() for f in [pool.submit(run_part, *job) for job in jobs]]
    counts, workshops, errors = Counter(), Counter(), set()
    for result in results:
        counts.update(result["counts"])
        workshops.update(result["workshops"] or {})
        errors.update(result["errors"])
    return {"counts": dict(counts), "workshops": dict(workshops), "errors": sorted(errors)}


def run_part(database_url, process_id, items, seed, cfg, start, end, cast, progress=None) -> dict:
    """One process's regions (see the module's doc)."""
    clock = VirtualClock(start)
    engine = build_engine(url=database_url, clock=clock, workflow_cache=min(len(items), WORKFLOW_CACHE),
                          workflow_cache_tasks=WORKFLOW_CACHE_TASKS)
    try:
        trained = workshop_attendance.enabled(cfg, engine.operators(process_id))
        regions = {company["region"] for _, company, _ in items}
        run = _Run(engine, clock, process_id, items, seed, cfg, start, end, progress, trained, cast=cast,
                   timer_regions=regions)
        return run.execute(staff=False, summarize=False)
    finally:
        engine.db.dispose()
