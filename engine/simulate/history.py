"""Task durations from the case history: what the simulated people take for each task, when the
configured database has enough completed tasks of it.

A task's duration is the time from its creation (ready in the inbox) to its completion, as the
`tasks` index records it, so it includes the time it waited in a pool. The simulation draws
durations in working days from a triangular distribution [min, moda, max] (config.py); the
history is fitted to one by its 5th and 95th percentiles and its mean, and converted from
calendar to working days (× 5/7: the simulation schedules `working days × 7/5` ahead).
"""

from __future__ import annotations

import statistics

from sqlalchemy import bindparam, select

from engine.basics.clock import as_utc
from engine.store.schema import Case, TaskRow

MIN_TASKS = 20  # fewer completed tasks of an element than this: its history is not used
MAX_TASKS = 2_000  # the most recently completed tasks of an element that are read (the current practice)
WORKING_DAYS_PER_DAY = 5 / 7


def fit_triangular(days: list[float]) -> list[float]:
    """[min, moda, max] of a triangular distribution for the observed `days` (at least two):
    min and max are the 5th and 95th percentiles (a few outliers do not stretch it), and the mode
    is chosen so the distribution's mean, (min + moda + max) / 3, is the mean of the observations
    clipped to [min, max] (within [min, max])."""
    if len(days) < 2:
        raise ValueError("se necesitan al menos dos duraciones")
    cuts = statistics.quantiles(days, n=20, method="inclusive")
    low, high = cuts[0], cuts[-1]
    mean = statistics.fmean(min(high, max(low, d)) for d in days)
    mode = min(high, max(low, 3 * mean - low - high))
    return [round(low, 2), round(mode, 2), round(high, 2)]


def task_durations(source, process_ids, task_ids) -> dict[str, dict]:
    """{bpmn id: {"dias": [min, moda, max] in working days, "tareas": n}} for each of `task_ids`
    with at least MIN_TASKS completed tasks in cases of `process_ids` (any version) in the
    database of `source` (an Engine: only read), from its MAX_TASKS most recently completed ones
    (the current practice; one short read of index ix_tasks_history per element, however long
    the history). Processes that share an element id (two designs of the same step) are pooled."""
    query = newest_tasks(process_ids)
    found = {}
    with source.Session() as s:
        for bpmn_id in sorted(set(task_ids)):
            days = [max(0.0, (as_utc(completed) - as_utc(created)).total_seconds() / 86400) * WORKING_DAYS_PER_DAY
                    for created, completed in s.execute(query, {"bpmn_id": bpmn_id})]
            if len(days) >= MIN_TASKS:
                found[bpmn_id] = {"dias": fit_triangular(days), "tareas": len(days)}
    return found


def newest_tasks(process_ids):
    """(created_at, completed_at) of the MAX_TASKS most recently completed tasks of one element
    (bound parameter `bpmn_id`) in cases of `process_ids`: ix_tasks_history in index order."""
    return (select(TaskRow.created_at, TaskRow.completed_at)
            .join(Case, Case.id == TaskRow.case_id)
            .where(TaskRow.bpmn_id == bindparam("bpmn_id"), TaskRow.state == "completed",
                   TaskRow.completed_at.is_not(None), Case.process_key.in_(sorted(set(process_ids))))
            .order_by(TaskRow.completed_at.desc(), TaskRow.created_at.desc())
            .limit(MAX_TASKS))


def apply(cfg: dict, durations: dict[str, dict]) -> None:
    """Put the history's durations into the configuration: a duration the configuration gives
    for a task wins over its history; `duraciones.historial` tells how many completed tasks each
    duration taken from the history rests on."""
    spec = cfg["duraciones"]
    taken = {bpmn_id: d for bpmn_id, d in durations.items() if bpmn_id not in spec["tareas"]}
    spec["tareas"] = {**{bpmn_id: d["dias"] for bpmn_id, d in taken.items()}, **spec["tareas"]}
    spec["historial"] = {**spec.get("historial", {}), **{bpmn_id: d["tareas"] for bpmn_id, d in taken.items()}}
