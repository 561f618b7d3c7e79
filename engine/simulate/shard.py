"""One shard of a simulation: its companies run through the real engine, on its own throwaway
database and virtual clock, driven by an event queue in simulated time.

The engine's verbs (`start`, `complete`, `fire_due_timers`) do all the process work; the shard
only reads back, after each step, what the simulated people need (the case's status, next timer
and segment, and its ready tasks) with one short read of the throwaway database.
"""

from __future__ import annotations

import heapq
import random
import resource
import tempfile
import time
from collections import Counter
from datetime import timedelta

from sqlalchemy import bindparam, event, select

from engine.assembly import build_engine
from engine.basics.clock import VirtualClock, as_utc
from engine.basics.errors import EngineError, FormError
from engine.domain.regions import REGIONS
from engine.domain.roles import PYME
from engine.models.forms import load_form
from engine.simulate import workshop_attendance
from engine.simulate.cohort import shard_items
from engine.simulate.config import MEMORY_LIMIT, TIMER_MARGIN, WORKFLOW_CACHE, WORKFLOW_CACHE_TASKS, _clamp
from engine.simulate.figures import shard_summary
from engine.simulate.people import _triangular, answer
from engine.store.schema import Case, TaskRow, User

START, TASK, TIMER, WORKSHOP, SESSION = 0, 1, 2, 3, 4  # event kinds (ints: cheap to keep and compare)
_CASES, _TASKS = Case.__table__.c, TaskRow.__table__.c
CASE_NOW = select(_CASES.status, _CASES.next_timer_at, _CASES.segmento).where(_CASES.id == bindparam("case_id"))
READY_TASKS = select(_TASKS.id, _TASKS.bpmn_id, _TASKS.lane, _TASKS.region, _TASKS.assignee, _TASKS.form_key) \
    .where(_TASKS.case_id == bindparam("case_id"), _TASKS.state == "ready")


def run_shard(files, process_id, cases, indices, seed, cfg, start, end, database_url=None, catalogue=(),
              lanes=None, progress=None) -> dict:
    """Simulate the companies `indices` of the cohort of `cases` (drawn here: cohort.shard_items);
    returns the shard's summary (figures.shard_summary), which `figures.figures` merges with the
    other shards'. `catalogue`: the workshops companies may take (workshops.py); `lanes`: the lane -> role
    mapping the versions pin (run.model_lanes)."""
    items = shard_items(cases, seed, cfg, start, indices)
    with tempfile.TemporaryDirectory(prefix="cpe-sim-") as folder:
        # in memory while it fits comfortably (faster); a temporary file for large cohorts, which
        # keeps the workflows of all the cases on disk instead of in RAM
        memory = database_url is None and len(items) <= MEMORY_LIMIT
        url = database_url or ("sqlite://" if memory else f"sqlite:///{folder}/simulacion.sqlite3")
        clock = VirtualClock(start)
        # keep the workflows of the cases in flight deserialized between their steps (bounded by
        # entries and by tasks: the memory of a workflow grows with its tasks)
        sim = build_engine(url=url, clock=clock, workflow_cache=min(len(items), WORKFLOW_CACHE),
                           workflow_cache_tasks=WORKFLOW_CACHE_TASKS)
        if database_url is None and not memory:
            _throwaway_pragmas(sim.db)
        try:
            sim.upgrade()
            sim.deploy(files, author="simulacion", message=f"simulación de {process_id}", lanes=lanes)
            trained = workshop_attendance.enabled(cfg, sim.operators(process_id))
            if trained:
                workshop_attendance.seed_catalogue(sim, list(catalogue))
            return _Run(sim, clock, process_id, items, seed, cfg, start, end, progress, trained).execute()
        finally:
            sim.db.dispose()


def peak_memory_mb() -> int:
    """This process's peak resident memory so far, in MB (Linux reports it in kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _throwaway_pragmas(db) -> None:
    """A throwaway database needs no durability: no fsync and the rollback journal in memory
    (registered after the engine's own connect listener, so these settings win)."""

    @event.listens_for(db, "connect")
    def _connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=MEMORY")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MB of pages
        cursor.close()


class _Company:
    """A simulated company. Its generator exists from its arrival until its case ends; after
    that only what the figures need is kept (`done`)."""

    __slots__ = ("index", "data", "potential", "rng", "case_id", "dropped", "segments", "failed", "scheduled",
                 "timers", "done")

    def __init__(self, index, data):
        self.index, self.data, self.potential = index, data, data["potencial"]
        self.rng = None
        self.case_id, self.dropped, self.segments, self.failed, self.done = None, False, [], None, False
        self.scheduled, self.timers = set(), set()

    def finish(self):
        """The case is over: it takes no more steps, so drop what only steps use."""
        self.done, self.data, self.rng, self.scheduled, self.timers = True, None, None, None, None


class Cast:
    """Who acts in a simulation's history. A throwaway simulation writes «simulacion» everywhere;
    a backfill into a real database (engine/simulate/backfill.py) names people instead."""

    def start(self, company) -> str:
        return "simulacion"

    def task(self, task, company) -> str:
        return "simulacion"

    def workshops(self, region) -> tuple[str, str]:
        """(who organises a session of `region`, where it takes place)"""
        return "simulacion", f"CPE {region}"


class _Run:
    def __init__(self, sim, clock, process_id, items, seed, cfg, start, end, progress, with_workshops=False,
                 cast=None, timer_regions=None):
        self.sim, self.clock, self.process_id, self.cfg, self.seed = sim, clock, process_id, cfg, seed
        self.cast = cast or Cast()
        # on a database shared with other runs, fire only the timers of this run's regions
        self.timer_regions = timer_regions
        self.start, self.end, self.progress = start, end, progress or (lambda _msg: None)
        self.companies = {i: _Company(i, c) for i, c, _ in items}
        self.arrivals = [(moment, i) for i, _, moment in items]
        self.events: list = []
        self.seq = 0
        self.people = cfg["personas"]
        self.counts = Counter()
        self.work = Counter()
        self.forms: dict = {}
        self.start_schema = None
        self.began = time.process_time()
        self.workshops = (workshop_attendance.Workshops(sim, seed, cfg, self._push_session, self.cast.workshops)
                          if with_workshops else None)

    def push(self, moment, kind, company, payload=None):
        self.push_at(moment, kind, company.index, payload)

    def push_at(self, moment, kind, index, payload=None):
        self.seq += 1
        heapq.heappush(self.events, (moment, self.seq, kind, index, payload))

    def _push_session(self, moment, session_id):
        self.push_at(moment, SESSION, -1, session_id)

    def execute(self, staff=True, summarize=True) -> dict:
        """Run the events up to the end; the shard's summary (`summarize`) or its counts. `staff`:
        create the simulated people (a backfill brings its own)."""
        if staff:
            self._staff()
        self._load_forms()
        for moment, index in self.arrivals:
            self.push(moment, START, self.companies[index])
        self.arrivals = None
        handled = 0
        while self.events:
            moment, _, kind, index, payload = heapq.heappop(self.events)
            if moment > self.end:
                break
            self.clock.set(moment)
            if kind == SESSION:
                self.workshops.session(payload)
                continue
            company = self.companies[index]
            if company.failed:
                continue
            if kind == START:
                self._start(company)
            elif kind == TASK:
                self._complete(company, payload)
            elif kind == WORKSHOP:
                following = self.workshops.month(company, moment)
                if following is not None:
                    self.push(following, WORKSHOP, company)
            else:
                while self.sim.fire_due_timers(limit=500, regions=self.timer_regions) == 500:
                    pass
                if not company.done:
                    self._refresh(company)
            handled += 1
            if handled % 5000 == 0:
                self.progress(f"{handled} pasos, {moment.date().isoformat()}")
        self.events = None
        self.progress(f"{handled} pasos, terminado ({time.process_time() - self.began:.1f} s de CPU, "
                      f"memoria máxima {peak_memory_mb()} MB)")
        if not summarize:
            return {"counts": dict(self.counts), "workshops": self.workshops.summary() if self.workshops else None,
                    "errors": sorted({c.failed for c in self.companies.values() if c.failed})}
        summary = shard_summary(self.sim, self.companies, self.cfg, self.end, self.work, self.counts)
        summary["workshops"] = self.workshops.summary() if self.workshops else None
        return summary

    def _staff(self):
        """Simulated executives, ProChile executives and regional heads in every region of the cohort
        (inserted directly into the throwaway database: they never log in)."""
        staff = self.cfg["personal"]
        regions = sorted({c.data["region"] for c in self.companies.values()} & set(REGIONS))
        with self.sim.transaction() as s:
            for region in regions:
                counts = {**staff["por_region"], **staff.get("regiones", {}).get(region, {})}
                for role, count in counts.items():
                    for n in range(1, count + 1):
                        name = f"sim.{role.split('_')[-1]}.{region[3:].lower()}.{n}"
                        s.add(User(username=name, full_name=name, password_hash="!", role=role, region=region,
                                   rubros=[], created_at=self.start))

    def _load_forms(self):
        """The start form and the task forms (by key) of the deployed version, read once: the
        same JSON Schemas the engine validates with."""
        self.start_schema = self.sim.start_form(self.process_id)
        process = self.sim.model_version("process", self.process_id)
        for key, version in ((process.get("dependencies") or {}).get("forms") or {}).items():
            self.forms[key] = load_form(self.sim.model_version("form", key, version)["content"])

    def _answer(self, schema, profile, rng):
        return answer(schema, profile, rng, self.clock.now(), self.people["reglas"], self.people["opcionales"],
                      self.people["ruido"])

    def _start(self, company):
        company.rng = random.Random(f"caso:{self.seed}:{company.index}")
        form = self.start_schema
        data = self._answer(form, company.data, company.rng) if form else dict(company.data)
        try:
            company.case_id = self.sim.start(self.process_id, data, actor=self.cast.start(company))
        except (FormError, EngineError) as exc:
            company.failed = str(exc)
            company.finish()
            return
        if self.workshops is not None:
            self.push(self.workshops.first_month(company.index, self.clock.now()), WORKSHOP, company)
        self._refresh(company)

    def _complete(self, company, task):
        if company.done:  # the case ended meanwhile: the engine would refuse the task
            self.counts["tareas_canceladas"] += 1
            return
        profile = {**company.data, "potencial": 0.0 if company.dropped else company.potential}
        last = None
        for _ in range(3):
            data = self._answer(task["form"] or {}, profile, company.rng)
            if self.workshops is not None:  # the region holds the sessions a Capacitación task asks for
                self.workshops.offer(company, data, self.clock.now())
            try:
                self.sim.complete(task["id"], data, actor=self.cast.task(task, company))
                break
            except FormError as exc:
                last = exc
            except EngineError:  # the task went away (cancelled by the model meanwhile)
                last = None
                self.counts["tareas_canceladas"] += 1
                return self._refresh(company)
        else:
            company.failed = f"{task['bpmn_id']}: {last}"
            company.finish()
            return
        self.counts["tareas_completadas"] += 1
        self.work[task["assignee"] or f"pool:{task['lane']}:{task['region']}"] += 1
        company.potential = _clamp(company.potential + self.people["mejora_por_tarea"])
        self._refresh(company)

    def _refresh(self, company):
        """The case after a step: its segment, its next timer and its new ready tasks (one read)."""
        with self.sim.db.connect() as connection:  # plain reads: no ORM session needed
            status, timer, segment = connection.execute(CASE_NOW, {"case_id": company.case_id}).one()
            ready = connection.execute(READY_TASKS, {"case_id": company.case_id}).all() if status == "active" else ()
        if segment and (not company.segments or company.segments[-1] != segment):
            company.segments.append(segment)
        if status != "active":
            company.finish()
            return
        timer = as_utc(timer)
        if timer is not None and timer not in company.timers:
            company.timers.add(timer)
            self.push(timer + TIMER_MARGIN, TIMER, company)  # stored times may lose precision
        for row in sorted(ready, key=lambda r: (r.bpmn_id, r.id)):
            if row.id in company.scheduled:
                continue
            company.scheduled.add(row.id)
            if not company.dropped and company.rng.random() < self.people["abandono_por_tarea"]:
                company.dropped = True
                self.counts["abandonos"] += 1
            if company.dropped and row.lane == PYME:
                continue  # the company no longer answers
            task = {"id": row.id, "bpmn_id": row.bpmn_id, "lane": row.lane, "region": row.region,
                    "assignee": row.assignee, "form": self.forms.get(row.form_key) if row.form_key else None}
            days = _triangular(company.rng, self._duration(task))
            self.push(self.clock.now() + timedelta(days=days * 7 / 5), TASK, company, task)

    def _duration(self, task):
        spec = self.cfg["duraciones"]
        return spec["tareas"].get(task["bpmn_id"]) or spec["carriles"].get(task["lane"]) or spec["por_defecto"]
