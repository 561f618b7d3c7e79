"""Process heatmap: for each element of a process version, how many cases passed it and the
median time it took (like an analytics overlay in Camunda Optimize).

- user tasks: from the task index, created_at → completed_at of completed tasks;
- other steps (service and script tasks, events, gateways with a name): from the case history,
  the time from the case's previous event to the step's `step_completed` event: a timer's wait
  when the worker ran the step, 0 for steps run in the same transaction as the event before.

`element_stats(rows)` is the pure computation over (bpmn_id, case_id, seconds) rows, so an
in-memory run (the simulator) can feed it; `heatmap()` computes the same per element with
aggregate SQL (window functions for the median) on the database.
"""

from __future__ import annotations

import statistics

from sqlalchemy import Float, and_, cast, func, literal, select, union_all
from sqlalchemy.orm import aliased

from engine.programme.indicators import Filters, case_conditions, read_session
from engine.store.schema import Case, CaseEvent, ModelVersion, TaskRow

LEVELS = 5
WAITING_TAGS = ("intermediateCatchEvent", "boundaryEvent", "receiveTask")


def element_stats(rows) -> dict:
    """{bpmn_id: {"casos": distinct cases, "pasos": rows, "mediana_s": median seconds or None}}."""
    cases, durations, steps = {}, {}, {}
    for bpmn_id, case_id, seconds in rows:
        cases.setdefault(bpmn_id, set()).add(case_id)
        steps[bpmn_id] = steps.get(bpmn_id, 0) + 1
        if seconds is not None:
            durations.setdefault(bpmn_id, []).append(float(seconds))
    return {k: {"casos": len(v), "pasos": steps[k],
                "mediana_s": round(statistics.median(durations[k]), 1) if durations.get(k) else None}
            for k, v in cases.items()}


def level(value: float | None, highest: float | None, levels: int = LEVELS) -> int:
    """The colour step (0 = none … levels-1 = the highest) of a value against the highest one."""
    if not value or not highest or value <= 0:
        return 0
    return max(1, min(levels - 1, round((levels - 1) * value / highest)))


def with_levels(stats: dict) -> dict:
    """Adds `nivel_casos` and `nivel_duracion` (colour steps) to each element's stats."""
    most = max((v["casos"] for v in stats.values()), default=0)
    slowest = max((v["mediana_s"] or 0 for v in stats.values()), default=0)
    return {k: {**v, "nivel_casos": level(v["casos"], most), "nivel_duracion": level(v["mediana_s"], slowest)}
            for k, v in stats.items()}


def format_duration(seconds: float | None) -> str:
    """A median duration for people: "0 s", "45 min", "3 h 20 min", "12 d 4 h" (— if unknown)."""
    if seconds is None:
        return "—"
    seconds = max(0, round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def diagram_elements(bpmn: str) -> tuple[dict, set]:
    """bpmn_id -> name of a diagram's elements, and the ids of the steps that wait (WAITING_TAGS)."""
    from engine.basics.xmlsafe import parse_xml

    names, waiting = {}, set()
    for node in parse_xml(bpmn).iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.startswith(BPMN_NS) and node.get("id"):
            names[node.get("id")] = (node.get("name") or "").strip() or node.get("id")
            if tag[len(BPMN_NS):] in WAITING_TAGS:
                waiting.add(node.get("id"))
    return names, waiting


def _seconds(s, start, end):
    if s.bind.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _parts(s, version_id: int, f: Filters | None, waiting_ids=()):
    """The passages through the elements as two SQL selects of (bpmn_id, case_id, seconds): the
    ones with a duration to measure (completed user tasks, steps that wait) and the steps that
    took 0 by construction (see below). The cases of the version are a semi-join (an IN of their
    ids), not a join that reads the wide cases row of every passage."""
    cases = select(Case.id).where(Case.model_version_id == version_id,
                                  *(case_conditions(f) if f is not None else []))
    tasks = select(TaskRow.bpmn_id.label("bpmn_id"), TaskRow.case_id.label("case_id"),
                   cast(_seconds(s, TaskRow.created_at, TaskRow.completed_at), Float).label("seconds")) \
        .where(TaskRow.case_id.in_(cases), TaskRow.state == "completed")
    # A step run in the same transaction as the case's previous event (a start, a completed task,
    # another step) took 0; only a step that waits (a catch or boundary event: a timer, a message)
    # can begin a transaction of its own, so only those look up the case's previous event.
    earlier = aliased(CaseEvent)
    previous = select(func.max(earlier.at)).where(earlier.case_id == CaseEvent.case_id, earlier.id < CaseEvent.id) \
        .scalar_subquery()
    waiting = sorted(waiting_ids or ()) or ["-"]
    steps = [CaseEvent.kind == "step_completed", CaseEvent.bpmn_id.is_not(None), CaseEvent.case_id.in_(cases)]
    waited = select(CaseEvent.bpmn_id, CaseEvent.case_id,
                    cast(_seconds(s, previous, CaseEvent.at), Float).label("seconds")) \
        .where(*steps, CaseEvent.bpmn_id.in_(waiting))
    instant = select(CaseEvent.bpmn_id, CaseEvent.case_id, cast(literal(0.0), Float).label("seconds")) \
        .where(*steps, CaseEvent.bpmn_id.not_in(waiting))
    return [tasks, waited], instant


def _rows(s, version_id: int, f: Filters | None, waiting_ids=()):
    """(bpmn_id, case_id, seconds) of every passage through an element, as a SQL subquery."""
    timed, instant = _parts(s, version_id, f, waiting_ids)
    return union_all(*timed, instant).subquery()


def duration_rows(engine, version_id: int, f: Filters | None = None) -> list[tuple]:
    """The raw passages (for checks and exports; the page uses the aggregate)."""
    with engine.Session() as s:
        row = s.get(ModelVersion, version_id)
        rows = _rows(s, version_id, f, diagram_elements(row.content)[1])
        return [tuple(r) for r in s.execute(select(rows.c.bpmn_id, rows.c.case_id, rows.c.seconds))]


def _medians(s, rows, only=None) -> dict:
    """bpmn_id -> median of the non-null seconds of a (bpmn_id, case_id, seconds) subquery."""
    ranked = select(rows.c.bpmn_id, rows.c.seconds,
                    func.row_number().over(partition_by=rows.c.bpmn_id, order_by=rows.c.seconds).label("n"),
                    func.count().over(partition_by=rows.c.bpmn_id).label("total")) \
        .where(rows.c.seconds.is_not(None), *([rows.c.bpmn_id.in_(only)] if only is not None else [])).subquery()
    # the middle one, or the two middle ones, of each element's sorted durations
    middle = and_(ranked.c.n >= (ranked.c.total + 1) // 2, ranked.c.n <= ranked.c.total // 2 + literal(1))
    return dict(s.execute(select(ranked.c.bpmn_id, func.avg(ranked.c.seconds)).where(middle)
                          .group_by(ranked.c.bpmn_id)).all())


def _aggregate(s, parts) -> dict:
    """Per element: distinct cases, passages and the median duration. The median sorts only the
    passages with a duration to measure: an element whose passages all took 0 (most steps, most
    of the rows) has the median 0 with nothing to sort; an element with both kinds (none in the
    models so far) is sorted whole."""
    timed, instant = parts
    rows = union_all(*(part.add_columns(literal(0).label("instant")) for part in timed),
                     instant.add_columns(literal(1).label("instant"))).subquery()
    counted = s.execute(select(rows.c.bpmn_id, func.count(rows.c.case_id.distinct()), func.count(),
                               func.sum(rows.c.instant)).group_by(rows.c.bpmn_id)).all()
    medians = _medians(s, union_all(*timed).subquery())
    zeros = {bpmn_id for bpmn_id, _cases, _steps, instants in counted if instants}
    both = sorted(set(medians) & zeros)
    if both:
        medians.update(_medians(s, union_all(*timed, instant).subquery(), both))
    medians.update({k: 0.0 for k in zeros if k not in medians})
    return {bpmn_id: {"casos": n_cases, "pasos": n_steps,
                      "mediana_s": round(float(medians[bpmn_id]), 1) if medians.get(bpmn_id) is not None else None}
            for bpmn_id, n_cases, n_steps, _instants in counted}


def heatmap(engine, process_key: str, version: int | None = None, f: Filters | None = None) -> dict:
    """Per-element stats of one version of a process, with the version's diagram."""
    from engine.models.versions import version_row

    with read_session(engine) as s:
        row = version_row(s, "process", process_key, version)
        names, waiting_ids = diagram_elements(row.content)
        stats = _aggregate(s, _parts(s, row.id, f, waiting_ids))
        waiting = dict(s.execute(select(TaskRow.bpmn_id, func.count()).join(Case, Case.id == TaskRow.case_id)
                                 .where(Case.model_version_id == row.id, TaskRow.state == "ready")
                                 .group_by(TaskRow.bpmn_id)).all())
        total = s.scalar(select(func.count()).select_from(Case).where(Case.model_version_id == row.id))
        elements = {k: {**v, "nombre": names.get(k, k), "mediana_texto": format_duration(v["mediana_s"])}
                    for k, v in with_levels(stats).items()}
        return {"process_id": row.key, "version": row.version, "name": row.name, "bpmn": row.content,
                "casos_version": total or 0, "elementos": elements, "en_espera": waiting}


def versions_of_processes(engine) -> list[dict]:
    """Every deployed process with its versions (newest first), for the heatmap's chooser."""
    with engine.Session() as s:
        rows = s.execute(select(ModelVersion.key, ModelVersion.version, ModelVersion.name)
                         .where(ModelVersion.kind == "process")
                         .order_by(ModelVersion.key, ModelVersion.version.desc())).all()
    result: dict = {}
    for key, version, name in rows:
        result.setdefault(key, {"process_id": key, "name": name, "versions": []})["versions"].append(version)
    return list(result.values())
