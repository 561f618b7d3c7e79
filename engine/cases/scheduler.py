"""Processes started by a timer start event (e.g. the monthly Correos de Chile extract).

SpiffWorkflow 3.2 parses a start event with a `timerEventDefinition` as a plain StartEvent
whose event definition is a timer: a workflow created from that spec waits on its start
event, and with a `timeCycle` the *same* instance grows one more branch each cycle. That is
not what a process that "starts every month" means, so the engine schedules these starts
itself:

- `sync` keeps one `TimerStart` row per timer start event of the latest version of every
  deployed process, with the next occurrence computed from the engine's clock (cycles from
  the deploy onwards: past occurrences are not back-filled);
- `run_due` (called by `cpe worker`) starts one case per due occurrence, with the start
  event already fired, and moves the row to the following occurrence. The row is locked
  (FOR UPDATE SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite) and each occurrence is
  unique in `TimerStartRun`, so two workers never start the same occurrence twice.

Expressions are the diagram's (evaluated in the sandbox, like every timer of the engine) and
give ISO 8601 values: a date-time (`timeDate`), a duration from the deploy (`timeDuration`) or
a repeating interval `R[n]/start/duration`, `R[n]/duration/end`, `R[n]/duration`
(`timeCycle`). Months and years are calendar months (the 31st becomes the last day of a
shorter month); date-times without an offset are Chile's wall-clock time (America/Santiago).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from engine.basics import clock as clockmod
from engine.basics.clock import as_utc, iso_utc
from engine.basics.xmlsafe import parse_xml
from engine.domain.validity import add_months
from engine.models import spiff
from engine.models.validation import NS
from engine.store.schema import ModelVersion, TimerStart, TimerStartRun

LOCAL_TZ = ZoneInfo("America/Santiago")
KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}
ACTOR = "temporizador"
log = logging.getLogger(__name__)


class ScheduleError(ValueError):
    """A timer start expression that does not give a usable ISO 8601 value."""


# -- reading a diagram ----------------------------------------------------------------

@dataclass(frozen=True)
class StartTimer:
    bpmn_id: str
    kind: str  # date | duration | cycle
    expression: str  # the diagram's expression (evaluated in the sandbox)


def start_timers(bpmn: str, process_id: str) -> list[StartTimer]:
    """The timer start events of a process (not those of its subprocesses)."""
    process = parse_xml(bpmn).getroot().find(f"bpmn:process[@id='{process_id}']", NS)
    found = []
    for event in process.findall("bpmn:startEvent", NS) if process is not None else ():
        definition = event.find("bpmn:timerEventDefinition", NS)
        if definition is None:
            continue
        for tag, kind in KINDS.items():
            node = definition.find(f"bpmn:{tag}", NS)
            if node is not None and (node.text or "").strip():
                found.append(StartTimer(event.get("id"), kind, node.text.strip()))
                break
    return found


def evaluate(expression: str) -> str:
    """The value of a timer expression: a Python expression in the sandbox (a quoted literal
    such as `"R/2026-01-01T09:00:00/P1M"`, or `dias_habiles(5)`), or the bare literal."""
    try:
        value = spiff.SCRIPT_ENGINE.environment.evaluate(expression, {})
    except Exception:  # noqa: BLE001 - a bare ISO literal is not Python
        value = expression
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise ScheduleError(f"la expresión del temporizador «{expression}» no da un texto ISO 8601")
    return value.strip()


# -- occurrences (pure) ----------------------------------------------------------------

def _moment(text: str) -> datetime:
    """An ISO 8601 date-time; without an offset it is Chile's wall-clock time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ScheduleError(f"fecha y hora ISO 8601 no válida: «{text}»") from None
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def _text(moment: datetime) -> str:
    """ISO text of a moment; Chile's wall-clock times stay without an offset."""
    return moment.replace(tzinfo=None).isoformat() if moment.tzinfo is LOCAL_TZ else moment.isoformat()


def _duration(text: str) -> dict:
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        raise ScheduleError(f"duración ISO 8601 no válida: «{text}»") from None
    if not any(parsed.values()):
        raise ScheduleError(f"la duración «{text}» es nula")
    if any(isinstance(v, float) for k, v in parsed.items() if k in ("years", "months")):
        raise ScheduleError(f"la duración «{text}» tiene años o meses fraccionarios")
    return parsed


def shift(moment: datetime, duration: dict, times: int = 1) -> datetime:
    """`moment` plus `times` × `duration`, months and years as calendar months, on the wall
    clock of the moment's zone (09:00 in Santiago stays 09:00 across a DST change)."""
    months = (duration.get("years", 0) * 12 + duration.get("months", 0)) * times
    rest = timedelta(weeks=duration.get("weeks", 0), days=duration.get("days", 0), hours=duration.get("hours", 0),
                     minutes=duration.get("minutes", 0), seconds=duration.get("seconds", 0)) * times
    wall = add_months(moment.replace(tzinfo=None), months) + rest
    return wall.replace(tzinfo=moment.tzinfo)


@dataclass(frozen=True)
class Schedule:
    """A resolved timer start: occurrence k is `first` shifted k times by `every`."""

    first: datetime
    every: dict | None  # None: a single occurrence
    cycles: int | None  # occurrences in all (None: unbounded)

    def occurrence(self, k: int) -> datetime:
        return as_utc(self.first if k == 0 else shift(self.first, self.every, k))

    def next_index(self, after: datetime) -> int | None:
        """The index of the first occurrence at or after `after` (None when there is none)."""
        if self.every is None:
            return 0 if self.first >= after else None
        months = self.every.get("years", 0) * 12 + self.every.get("months", 0)
        if months:
            k = max(0, ((after.year - self.first.year) * 12 + after.month - self.first.month) // months - 1)
        else:
            step = shift(self.first, self.every) - self.first
            k = max(0, math.floor((after - self.first) / step) - 1)
        while self.occurrence(k) < after:
            k += 1
        return k if self.cycles is None or k < self.cycles else None


def resolve(kind: str, value: str, anchor: datetime) -> tuple[Schedule, str]:
    """The schedule of an evaluated timer value and its canonical text (a duration or a cycle
    without a start gets the anchor, the moment it was scheduled, written in)."""
    if kind == "date":
        if value.upper().startswith("P"):
            raise ScheduleError(f"se esperaba una fecha y hora, no una duración: «{value}»")
        first = _moment(value)
        return Schedule(first, None, 1), _text(first)
    if kind == "duration":
        first = shift(anchor, _duration(value))
        return Schedule(first, None, 1), _text(first)
    parts = value.upper().replace("--", "/").split("/")
    if not parts[0].startswith("R") or len(parts) not in (2, 3):
        raise ScheduleError(f"ciclo ISO 8601 no válido: «{value}» (p. ej. R/2026-01-01T09:00:00/P1M)")
    count = parts[0][1:]
    if count and not count.isdigit():
        raise ScheduleError(f"número de repeticiones no válido en «{value}»")
    cycles = int(count) if count else None  # Rn: n occurrences in all (as SpiffWorkflow counts them)
    if len(parts) == 2:
        every = _duration(parts[1])
        first = shift(anchor, every)
    elif parts[1].startswith("P"):
        every = _duration(parts[1])
        end = _moment(value.split("/")[2])
        first = shift(end, every, -max(cycles or 1, 1))
    else:
        first, every = _moment(value.split("/")[1]), _duration(parts[2])
    period = parts[2] if len(parts) == 3 and not parts[1].startswith("P") else parts[1]
    canonical = f"R{count}/{_text(first)}/{period}"
    return Schedule(first, every, cycles), canonical


# -- the table ---------------------------------------------------------------------------

_timers_by_content: dict[tuple[str, str], list[StartTimer]] = {}
_reported: set[str] = set()


def _timers_of(s, row) -> list[StartTimer]:
    """The timer starts of a process version (parsed once per content; `row` has id, key and
    checksum, the XML is read only when it was not parsed yet)."""
    key = (row.key, row.checksum)  # not the row id: several databases may share this process
    if key not in _timers_by_content:
        _timers_by_content[key] = start_timers(s.get(ModelVersion, row.id).content, row.key)
    return _timers_by_content[key]


def sync(engine, now: datetime | None = None) -> list[str]:
    """Bring the `TimerStart` rows up to date with the latest deployed processes; returns
    the problems found (an expression that gives no schedule), one line each."""
    moment = now or engine.now()
    problems = []
    with engine.Session() as s:
        latest = select(ModelVersion.key, func.max(ModelVersion.version).label("version")) \
            .where(ModelVersion.kind == "process").group_by(ModelVersion.key).subquery()
        rows = s.execute(select(ModelVersion.id, ModelVersion.key, ModelVersion.version, ModelVersion.checksum,
                                ModelVersion.created_at)
                         .join(latest, (ModelVersion.key == latest.c.key)
                               & (ModelVersion.version == latest.c.version))).all()
        wanted = {(row.key, timer.bpmn_id): (row, timer) for row in rows for timer in _timers_of(s, row)}
        current = {(t.process_key, t.bpmn_id): t for t in s.scalars(select(TimerStart))}
    changes = [key for key, (row, timer) in wanted.items()
               if key not in current or current[key].model_version_id != row.id]
    retired = [key for key, t in current.items() if key not in wanted and t.next_at is not None]
    for key in changes + retired:
        try:
            with engine.transaction(clockmod.VirtualClock(moment)) as s:
                problem = _sync_one(engine, s, key, wanted.get(key), moment)
        except IntegrityError:
            continue  # another worker scheduled it at the same time
        if problem:
            problems.append(problem)
            if problem not in _reported:  # once per process, not every round of the worker
                _reported.add(problem)
                log.warning("temporizador de inicio: %s", problem)
    return problems


def _sync_one(engine, s, key, wanted, moment) -> str | None:
    row = s.scalar(engine.locked(select(TimerStart).where(TimerStart.process_key == key[0],
                                                          TimerStart.bpmn_id == key[1])))
    if wanted is None:  # the latest version has no such timer start any more
        row.next_at, row.updated_at = None, moment
        return None
    version, timer = wanted
    if row is not None and row.model_version_id == version.id:
        return None
    try:
        value = evaluate(timer.expression)
        deployed_at = min(as_utc(version.created_at), moment)  # occurrences count from the deploy
        schedule, canonical = resolve(timer.kind, value, deployed_at)
    except ScheduleError as exc:
        return f"{version.key} v{version.version}, {timer.bpmn_id}: {exc}"
    if row is None:
        row = TimerStart(process_key=key[0], bpmn_id=key[1], fired=0)
        s.add(row)
    elif row.kind == timer.kind and row.expression == canonical and row.next_at is not None:
        row.model_version_id, row.updated_at = version.id, moment  # same schedule: keep its place
        return None
    row.model_version_id, row.kind, row.expression, row.updated_at = version.id, timer.kind, canonical, moment
    after = deployed_at if timer.kind == "cycle" else schedule.first  # a past date still starts once
    index = schedule.next_index(after)
    row.next_at = schedule.occurrence(index) if index is not None else None
    row.remaining = None if schedule.cycles is None else (schedule.cycles - index if index is not None else 0)
    s.flush()
    return None


def _following(row: TimerStart) -> tuple[datetime | None, int | None]:
    remaining = None if row.remaining is None else row.remaining - 1
    if row.kind != "cycle" or remaining == 0:
        return None, remaining
    schedule, _ = resolve(row.kind, row.expression, as_utc(row.updated_at))
    index = schedule.next_index(as_utc(row.next_at) + timedelta(microseconds=1))
    return (schedule.occurrence(index) if index is not None else None), remaining


def _fire_start_event(bpmn_id: str):
    """`prepare` for Engine.start_in: the timer start event `bpmn_id` counts as fired, and any
    other timer start event of the process is cancelled (it starts cases of its own)."""
    def prepare(workflow):
        for task in workflow.get_tasks():
            spec = task.task_spec
            if not isinstance(getattr(spec, "event_definition", None), TimerEventDefinition):
                continue
            if spec.bpmn_id == bpmn_id:
                task._set_internal_data(event_fired=True)
                if not task.children:  # a cycle start event only grows its branch when a cycle passes
                    for output in spec.outputs:
                        child = task._add_child(output, TaskState.FUTURE)
                        child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
            elif task.parent is not None and task.parent.task_spec.name == "Start":
                task.cancel()
    return prepare


def start_by_hand(workflow) -> None:
    """`prepare` of an explicit start (`cpe start`, the API): a process that only has timer
    start events runs now, as one more occurrence (`inicio_programado` is now unless the data
    gives it); a timer start event beside a plain one is cancelled, the plain one starts.
    Without this SpiffWorkflow would leave the case waiting on its start timer, and a cycle
    would grow a branch in that same case every period. A message start event beside a plain one is
    cancelled too (messages start cases of their own, engine/cases/messages.py); a process that only
    has message start events waits for its message."""
    starts = [t for t in workflow.get_tasks() if t.parent is not None and t.parent.task_spec.name == "Start"
              and getattr(t.task_spec, "event_definition", None) is not None]
    timers = [t for t in starts if isinstance(t.task_spec.event_definition, TimerEventDefinition)]
    waiting = [t for t in starts if isinstance(t.task_spec.event_definition, MessageEventDefinition)]
    if waiting and len(waiting) + len(timers) < len(starts):  # a message start beside a plain one: the plain one
        for task in waiting:
            task.cancel()
        starts = [t for t in starts if t not in waiting]
    if not timers:
        return
    if len(timers) < len(starts):
        for task in timers:
            task.cancel()
        return
    _fire_start_event(timers[0].task_spec.bpmn_id)(workflow)
    first = workflow.get_next_task(state=TaskState.READY)
    if first is not None:
        first.data.setdefault("inicio_programado", iso_utc(clockmod.now()))


def run_due(engine, now: datetime | None = None, limit: int = 100) -> int:
    """Start one case for every due occurrence of a timer start (at most `limit`); returns how
    many were started. Each start is its own transaction."""
    moment = now or engine.now()
    frozen = clockmod.VirtualClock(moment)
    sync(engine, moment)
    with engine.Session() as s:
        ids = s.scalars(select(TimerStart.id).where(TimerStart.next_at < moment)
                        .order_by(TimerStart.next_at)).all()
    started = 0
    for timer_id in ids:
        while started < limit:
            try:
                with engine.transaction(frozen) as s:
                    query = select(TimerStart).where(TimerStart.id == timer_id, TimerStart.next_at < moment)
                    row = s.scalar(engine.locked(query, skip_locked=True))
                    if row is None:
                        break
                    _start_occurrence(engine, s, row, moment)
            except IntegrityError:
                break  # another worker started this occurrence
            except Exception as exc:  # noqa: BLE001 - one bad process must not stop the others
                log.error("no se pudo iniciar %s por temporizador: %s", timer_id, exc)
                break
            started += 1
    return started


def _start_occurrence(engine, s, row: TimerStart, moment: datetime) -> int:
    occurrence = as_utc(row.next_at)
    version = s.get(ModelVersion, row.model_version_id)
    case_id = engine.start_in(s, row.process_key, {"inicio_programado": iso_utc(occurrence)},
                              version=version.version, actor=ACTOR, prepare=_fire_start_event(row.bpmn_id))
    s.add(TimerStartRun(timer_start_id=row.id, occurrence=occurrence, case_id=case_id, started_at=moment))
    row.next_at, row.remaining = _following(row)
    row.fired, row.last_at, row.last_case_id = (row.fired or 0) + 1, occurrence, case_id
    s.flush()
    return case_id


def listing(engine) -> list[dict]:
    """The timer starts and their next occurrence (for the CLI and the models page)."""
    with engine.Session() as s:
        return [{"process_id": t.process_key, "bpmn_id": t.bpmn_id, "kind": t.kind, "expression": t.expression,
                 "next_at": iso_utc(t.next_at), "remaining": t.remaining, "fired": t.fired,
                 "last_at": iso_utc(t.last_at), "last_case_id": t.last_case_id}
                for t in s.scalars(select(TimerStart).order_by(TimerStart.process_key, TimerStart.bpmn_id))]


__all__ = ["sync", "run_due", "listing", "resolve", "shift", "start_timers", "ScheduleError"]
