"""Simulated workshop attendance: companies register in sessions of the workshop catalogue and
attend them, through the engine's own workshop functions (engine/programme/workshops/), so a diagram
that asks `verificar_capacitacion` whether its company was trained gets the answer it would get
in production.

Every month while its case is active (and it still collaborates), a company decides whether to
take a workshop: with probability base + pendiente × potencial (`talleres.asistencia_mensual`).
It takes one of the earliest catalogue stage it has not attended yet, in the next session of its
region (a Tuesday about a week ahead; one session per region, workshop and day, created when
the first company asks for it, with `cupo` seats), and turns up with probability `presentes`.
Attendance is marked for the whole session when it starts. Each decision draws from its own
generator (seed, company, month), so the rest of the simulation draws the same either way.

A diagram may also enrol its company itself (operator `inscribir_taller`, the Capacitación task of
the shipped models): before a simulated executive completes a task whose answers name catalogue
workshops in `talleres`, the region schedules the next session of each (`offer`), as above, so the
operator finds one; when the session starts, each company the process enrolled turns up with
probability `presentes` (never one that stopped collaborating), drawn from its own generator
(seed, company, workshop, day). The case then learns from `verificar_capacitacion` whether it attended.

By default (`talleres.simular` "auto") workshops are simulated only when the process version
uses `verificar_capacitacion` or `inscribir_taller`: nothing else in the process reads them. A process
that enrols companies (`inscribir_taller`) cannot run without sessions, so for it they are always
simulated.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.basics.errors import Conflict
from engine.programme import workshops as engine_workshops
from engine.simulate.config import _clamp
from engine.store.schema import Case, Workshop

OPERATOR = "verificar_capacitacion"
ENROLS = "inscribir_taller"
SESSION_HOUR = 14  # UTC: 10:00 or 11:00 in Santiago
SESSION_LENGTH = timedelta(hours=2)


def enabled(cfg: dict, operators: set[str]) -> bool:
    setting = cfg["talleres"]["simular"]
    if ENROLS in operators:
        return True
    return OPERATOR in operators if setting == "auto" else setting is True


def next_session_day(now: datetime, monthly: bool = False) -> datetime:
    """The first Tuesday on or after the day a week after `now`, at SESSION_HOUR (UTC): a company
    registers six days or more before its session. `monthly`: the first such Tuesday that is the
    first Tuesday of its month (a region holds each workshop once a month)."""
    day = (now + timedelta(days=7)).replace(hour=SESSION_HOUR, minute=0, second=0, microsecond=0)
    day += timedelta(days=(1 - day.weekday()) % 7)
    while monthly and day.day > 7:
        day += timedelta(days=7)
    return day


def seed_catalogue(sim, catalogue: list[dict]) -> None:
    """The workshops of `catalogue` (the configured database's, as workshops.catalogue gives it)
    in the throwaway database; the shipped catalogue file when it is empty."""
    engine_workshops.seed_catalogue(sim, items=list(catalogue) or None)


class Workshops:
    def __init__(self, sim, seed, cfg, push_session, hosts):
        self.sim, self.seed, self.cfg = sim, seed, cfg["talleres"]
        # region -> (who organises and takes attendance, place): shard.Cast.workshops
        self.hosts = hosts
        self.push_session = push_session  # (moment, session id) -> None: a SESSION event
        with sim.Session() as s:
            rows = s.execute(select(Workshop.key, Workshop.stage).where(Workshop.active.is_(True))
                             .order_by(Workshop.position, Workshop.id)).all()
        rank = {stage: n for n, stage in enumerate(engine_workshops.STAGES)}
        self.catalogue = [(rank.get(stage, len(rank)), key) for key, stage in rows]
        self.sessions: dict[tuple, int] = {}  # (region, workshop key, day) -> session id
        self.session_keys: dict[int, tuple] = {}  # session id -> (region, workshop key, day)
        self.turning_up: dict[int, set] = {}  # session id -> company ids that will attend
        self.by: dict[int, str] = {}  # session id -> who organised it
        self.taken: dict[int, list] = {}  # company index -> [decisions so far, workshop keys taken]
        self.decided: dict[int, set] = {}  # session id -> company ids registered by the monthly decisions
        self.enrolled: dict[int, object] = {}  # company id -> the company a process enrols (`offer`)
        self.counts = {"sesiones": 0, "inscripciones": 0, "asistencias": 0, "sin_cupo": 0}

    def first_month(self, index, now) -> datetime:
        """When a company that just entered first decides (within its first month)."""
        self.taken[index] = [0, set()]
        return now + timedelta(days=self._rng(index, "inicio").uniform(0, 30))

    def month(self, company, now) -> datetime | None:
        """A company's monthly decision; returns when it decides next (None: no more)."""
        state = self.taken.get(company.index)
        if company.done or company.dropped or state is None:
            self.taken.pop(company.index, None)
            return None
        state[0] += 1
        rng = self._rng(company.index, state[0])
        options = [(stage, key) for stage, key in self.catalogue if key not in state[1]]
        if not options:
            self.taken.pop(company.index, None)
            return None
        p = self.cfg["asistencia_mensual"]
        if rng.random() < _clamp(p[0] + p[1] * company.potential):
            earliest = min(stage for stage, _ in options)
            key = rng.choice([k for stage, k in options if stage == earliest])
            if self._register(company, key, now, rng.random() < self.cfg["presentes"]):
                state[1].add(key)
        return now + timedelta(days=30)

    def offer(self, company, data, now) -> None:
        """A simulated executive is about to complete a task that names catalogue workshops in
        `talleres` (the Capacitación task): the company's region holds the next session of each."""
        keys = data.get("talleres") if isinstance(data, dict) else None
        known = {key for _stage, key in self.catalogue}
        if not isinstance(keys, list) or not any(isinstance(k, str) and k in known for k in keys):
            return
        day = next_session_day(now, self.cfg.get("frecuencia") == "mensual")
        for key in dict.fromkeys(k for k in keys if isinstance(k, str) and k in known):
            self._session_of(company.data["region"], key, day)
        self.enrolled[self._company_id(company)] = company

    def session(self, session_id) -> None:
        """The session starts: mark who attended (the monthly decisions were drawn when the company
        registered; a company its process enrolled turns up with probability `presentes`)."""
        present = self.turning_up.pop(session_id, set())
        decided = self.decided.pop(session_id, set())
        sheet = engine_workshops.attendance_sheet(self.sim, session_id)["rows"]
        for row in sheet:
            company_id = row["company_id"]
            if company_id in decided:
                continue
            self.counts["inscripciones"] += 1
            company = self.enrolled.get(company_id)
            if company is None or company.dropped or company.done:
                continue
            # drawn from what the run does not depend on how it is split: seed, company, workshop, day
            region, key, day = self.session_keys[session_id]
            rng = random.Random(f"taller:{self.seed}:{company.index}:{region}:{key}:{day.isoformat()}")
            if rng.random() < self.cfg["presentes"]:
                present.add(company_id)
        engine_workshops.mark_attendance(self.sim, session_id, present, by=self.by[session_id])
        self.counts["asistencias"] += len(present)

    def _session_of(self, region, key, day) -> int:
        """The session of workshop `key` in `region` on `day`, scheduled when first asked for."""
        session_id = self.sessions.get((region, key, day))
        if session_id is None:
            host, place = self.hosts(region)
            created = engine_workshops.create_session(self.sim, key, day, place, self.cfg["cupo"],
                                                      region=region, created_by=host)
            session_id = self.sessions[(region, key, day)] = created["id"]
            self.session_keys[session_id] = (region, key, day)
            self.by[session_id] = host
            self.turning_up[session_id] = set()
            self.decided[session_id] = set()
            self.counts["sesiones"] += 1
            self.push_session(day + SESSION_LENGTH / 2, session_id)
        return session_id

    def _company_id(self, company) -> int:
        with self.sim.Session() as s:
            return s.scalar(select(Case.company_id).where(Case.id == company.case_id))

    def _register(self, company, key, now, turns_up) -> bool:
        region = company.data["region"]
        day = next_session_day(now, self.cfg.get("frecuencia") == "mensual")
        session_id = self._session_of(region, key, day)
        company_id = self._company_id(company)
        try:
            engine_workshops.register(self.sim, session_id, company_id, by=self.by[session_id])
        except Conflict:  # no seats left, or already enrolled there by its process
            self.counts["sin_cupo"] += 1
            return False
        self.decided[session_id].add(company_id)
        self.counts["inscripciones"] += 1
        if turns_up:
            self.turning_up[session_id].add(company_id)
        return True

    def _rng(self, index, n) -> random.Random:
        return random.Random(f"taller:{self.seed}:{index}:{n}")

    def summary(self) -> dict:
        return dict(self.counts)
