"""The benchmark suite behind `cpe bench`: the engine measured through its public verbs on
a throwaway database, against bare in-memory SpiffWorkflow and against the durable floor (bare
SpiffWorkflow that commits its state and task rows at each wait state, tooling/bench/durable.py),
with the cost of a step on an old case (`age_slowdown`).

Every figure comes with the settings used, so runs can be compared (bench/RESULTS.md).
The pages (inbox, case page, case search) are timed through the Flask app by
tooling/bench/pages.py, which `cpe bench` passes in as `run(web=…)`: engine/ never imports Flask.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
import tempfile
import time
import tracemalloc
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, insert, select
from stdnum.cl import rut

from engine.assembly import build_engine
from engine.basics.clock import VirtualClock
from engine.cases.queries import inbox
from engine.domain import roles
from engine.models import spiff
from engine.models.validation import collect_files
from engine.programme import shipped
from engine.simulate import simulate
from engine.store import backup
from engine.store.db import analyze
from engine.store.schema import Case, CaseEvent, CaseState, Company, TaskRow, TpeHistory
from tooling.bench import durable
from tooling.demo import answers_for_level

QUICK = {"start_cases": 300, "lifecycles": 100, "inbox_cases": 10_000, "bare_lifecycles": 300, "inbox_runs": 40,
         "http_clients": 8, "http_tasks_per_client": 30, "simulation_cases": 300, "age_follow_ups": 40,
         "age_cases": 3}
FULL = {"start_cases": 2_000, "lifecycles": 500, "inbox_cases": 100_000, "bare_lifecycles": 1_000, "inbox_runs": 100,
        "http_clients": 8, "http_tasks_per_client": 100, "simulation_cases": 1_000, "age_follow_ups": 100,
        "age_cases": 5}
COMPANY = {"rut": "76.086.428-5", "razon_social": "Empresa de prueba SpA", "tipo_persona": "juridica",
           "region": "CL-RM", "rubro": "vitivinicola", "tipo_oferta": "bienes", "ventas_uf": 20000,
           "contacto_email": "bench@example.cl", "origen": "directo_prochile", "consentimiento_datos": True}
AGENDA = {"fecha_entrevista": "2026-03-05", "hora_entrevista": "10:00", "lugar_entrevista": "oficina_cpe"}


def _rate(count, seconds):
    return round(count / seconds, 1) if seconds else None


def _p95(samples):
    return round(statistics.quantiles(samples, n=20)[18], 2) if len(samples) >= 20 else round(max(samples), 2)


class Lifecycle:
    """The answers that take a case of cpe_actual to its end (a low score: rojo → derived)."""

    def __init__(self, forms):
        self.answers = {
            "tpe_bienes": {"respuestas": answers_for_level(forms["tpe_bienes"], 0.0)},
            "agendar_entrevista": AGENDA,
            "entrevista": {"respuestas": answers_for_level(forms["entrevista"], 0.0), "brechas": "Sin producto."},
            # where the model has the executive choose the institution of a rojo derivation
            "derivacion_rojo": {"institucion_derivacion": "sercotec"},
        }


BENCH_USER, BENCH_PASSWORD = "bench.eje", "bench-password"


def run(quick: bool = True, database_url: str | None = None, progress=None, web=None, http=None) -> dict:
    """Run the suite and return its figures. `web`, if given, is called after the inbox figure as
    `web(engine, runs=…, executive=…, password=…)` on the filled database and returns more figures
    (the page timings through the web app: `tooling.bench.pages.measure`, kept out of engine/).
    `http`, if given, is called last as `http(engine, url, username=…, password=…, answers=…,
    clients=…, per_client=…)` and returns the task-completion figures through gunicorn
    (`tooling.bench.http_load.measure`)."""
    settings = dict(QUICK if quick else FULL)
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{folder}/bench.sqlite3"
        engine = build_engine(url=url, clock=VirtualClock())
        engine.upgrade()
        engine.deploy(collect_files([shipped.forms_dir(), shipped.processes_dir()]), author="bench", message="bench")
        engine.create_user(BENCH_USER, BENCH_PASSWORD, roles.EJECUTIVO_CPE, region="CL-RM")
        forms = {k: f.schema for k, f in _compiled(engine).forms.items()}
        life = Lifecycle(forms)
        results = {"settings": {**settings, "quick": quick, "database": engine.db.dialect.name,
                                "python": platform.python_version(), "machine": platform.machine(),
                                "cpus": os.cpu_count(), "date": date.today().isoformat()}}

        say("started_per_s")
        begin = time.perf_counter()
        case_ids = [engine.start("cpe_actual", COMPANY, actor="bench") for _ in range(settings["start_cases"])]
        results["started_per_s"] = _rate(len(case_ids), time.perf_counter() - begin)

        say("completions_per_s")
        tasks = [engine.ready_tasks(case_id=c)[0]["id"] for c in case_ids]
        begin = time.perf_counter()
        for task_id in tasks:
            engine.complete(task_id, life.answers["tpe_bienes"], user=BENCH_USER)
        results["completions_per_s"] = _rate(len(tasks), time.perf_counter() - begin)

        say("lifecycle_per_s")
        begin = time.perf_counter()
        for _ in range(settings["lifecycles"]):
            last = _lifecycle(engine, life)
        ours = (time.perf_counter() - begin) / settings["lifecycles"]
        results["lifecycle_per_s"] = round(1 / ours, 1)

        say("bare_lifecycle_per_s")
        bare = _bare_lifecycles(engine, life, settings["bare_lifecycles"])
        results["bare_lifecycle_per_s"] = round(1 / bare, 1)
        results["overhead_ratio"] = round(ours / bare, 2)

        say("durable_lifecycle_per_s")
        results.update(_durable(engine, life, settings["lifecycles"], ours, _completions(engine, last)))

        say("age_slowdown")
        results.update(durable.age_slowdown(engine, COMPANY, durable.follow_up_answers(forms, AGENDA),
                                            settings["age_follow_ups"], cases=settings["age_cases"]))

        say("memory and size per case")
        results.update(_sizes(engine, case_ids[:200]))

        say("simulation_cases_per_s")
        results.update(_simulation(engine, settings["simulation_cases"]))

        say("inbox_p95_ms")
        _fill(engine, settings["inbox_cases"])
        with engine.Session() as s:
            results["inbox_cases"] = s.scalar(select(func.count()).select_from(Case).where(Case.status == "active"))
        samples = []
        for _ in range(settings["inbox_runs"]):
            begin = time.perf_counter()
            inbox(engine, BENCH_USER)
            samples.append((time.perf_counter() - begin) * 1000)
        results["inbox_p95_ms"] = _p95(samples)
        if web is not None:
            say("web_*_p95_ms")
            results.update(web(engine, runs=settings["inbox_runs"], executive=BENCH_USER, password=BENCH_PASSWORD))
        if http is not None:
            say("http_complete_p95_ms")
            results.update(http(engine, url, username=BENCH_USER, password=BENCH_PASSWORD,
                                answers=life.answers["tpe_bienes"], clients=settings["http_clients"],
                                per_client=settings["http_tasks_per_client"]))
        engine.db.dispose()
    return results


def _compiled(engine):
    return engine.compiled_process("cpe_actual")


def _company(index: int) -> dict:
    """The bench company with a RUT of its own: a lifecycle is a company's first case (a company with a TPE
    answered in the last 12 months would reuse it and skip the TPE task, thesis §3.4.2)."""
    body = str(77_000_000 + index)
    return {**COMPANY, "rut": f"{body}-{rut.calc_check_digit(body)}"}


_lifecycles = itertools.count(1)


def _lifecycle(engine, life):
    case_id = engine.start("cpe_actual", _company(next(_lifecycles)), actor="bench")
    while True:
        ready = engine.ready_tasks(case_id=case_id)
        if not ready:
            return case_id
        task = ready[0]
        engine.complete(task["id"], life.answers[task["form_id"]], user=BENCH_USER)


class _BareEngine(spiff.PythonScriptEngine):
    """Bare SpiffWorkflow: plain eval, service tasks answered by the pure domain rules."""

    def __init__(self, forms):
        from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

        from engine.models.sandbox import ahora, dias_habiles

        super().__init__(environment=TaskDataEnvironment({"dias_habiles": dias_habiles, "ahora": ahora}))
        self.forms = forms

    def call_service(self, task, operation_name=None, operation_params=None, **_):
        from engine.domain.derivation import derive
        from engine.domain.scoring import score_questionnaire
        from engine.domain.sizing import classify_size

        p = {k: v["value"] for k, v in operation_params.items()}
        result = {
            "verificar_tamano": lambda: classify_size(p["ventas_uf"]),
            "puntaje_formulario": lambda: score_questionnaire(self.forms[p.get("formulario")], p.get("respuestas")),
            "asignar_ejecutivo": lambda: {"ejecutivo": BENCH_USER, "carga": 1},
            "derivar": lambda: derive(p["motivo"], p["region"], date.today()),
            "registrar_sra": lambda: {"actividad_id": 1},
            "notificar": lambda: {"enviado": False},
            "tpe_guardado": lambda: {"existe": False, "vigente": False, "formulario": None, "respuestas": {},
                                     "puntaje": None, "revision": 0, "fecha": None, "vigente_hasta": None},
        }[operation_name]()
        return json.dumps(result)


def _bare_lifecycles(engine, life, count) -> float:
    compiled = _compiled(engine)
    script_engine = _BareEngine({k: f.schema for k, f in compiled.forms.items()})
    from SpiffWorkflow.bpmn import BpmnWorkflow

    begin = time.perf_counter()
    for _ in range(count):
        workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=script_engine)
        workflow.get_next_task(state=spiff.TaskState.READY).data.update(COMPANY)
        spiff.run_steps(workflow)
        while not workflow.is_completed():
            task = spiff.ready_user_tasks(workflow)[0]
            key = spiff.form_key(spiff.task_properties(task))
            task.data.update(life.answers[key])
            task.run()
            spiff.run_steps(workflow)
    return (time.perf_counter() - begin) / count


def _completions(engine, case_id) -> int:
    """The user tasks completed in a case (the bench's lifecycle: its task rows, all completed)."""
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.case_id == case_id,
                                                                         TaskRow.state == "completed"))


def _durable(engine, life, count, ours, completions) -> dict:
    """The durable floor (tooling/bench/durable.py) on the same model, answers and database as our
    lifecycle, which completed `completions` user tasks in `ours` seconds."""
    compiled = _compiled(engine)
    script_engine = _BareEngine({k: f.schema for k, f in compiled.forms.items()})
    floor = durable.DurableFloor(engine.db, script_engine, compiled)
    seconds, per_case = durable.durable_lifecycles(floor, COMPANY, life.answers, count)
    if per_case != completions:
        raise RuntimeError(f"el piso durable completó {per_case} tareas por caso y el motor {completions}")
    return {"durable_lifecycle_per_s": round(1 / seconds, 1), "durable_overhead_ratio": round(ours / seconds, 2),
            "durable_completions_per_lifecycle": per_case,
            "durable_commits_per_lifecycle": round(floor.commits / count, 1)}


def _simulation(engine, cases: int) -> dict:
    """`cpe simulate cpe_actual --cases N --seed 1` with the default assumptions, in as many
    processes as there are cores; the task durations are not taken from the history (the bench's
    own cases took no time at all)."""
    begin = time.perf_counter()
    result = simulate(engine, "cpe_actual", cases, seed=1, config={"duraciones": {"desde_historial": False}})
    seconds = time.perf_counter() - begin
    return {"simulation_s": round(seconds, 1), "simulation_cases_per_s": _rate(cases, seconds),
            "simulation_steps": sum(result["pasos"].values())}


def _sizes(engine, case_ids) -> dict:
    with engine.Session() as s:
        states = list(s.scalars(select(CaseState.workflow).where(CaseState.case_id.in_(case_ids))))
    compiled = _compiled(engine)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [compiled.restore(state) for state in states]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del held
    return {"serialized_bytes_per_case": round(statistics.mean(len(json.dumps(s)) for s in states)),
            "memory_bytes_per_case": round(used / len(states))}


FILL_REGIONS = ("CL-RM", "CL-BI", "CL-RM", "CL-VS", "CL-RM", "CL-ML", "CL-RM", "CL-AR", "CL-RM", "CL-LL")
FILL_NAMES = ("Exportadora", "Comercial", "Agrícola", "Viña", "Conservas", "Textil", "Maderas", "Pesquera",
              "Frutícola", "Servicios")
FILL_PLACES = ("del Sur", "Andina", "Austral", "del Pacífico", "Los Robles", "San Pedro", "El Valle", "Norte Grande")
FILL_SPREAD = timedelta(days=365)
FILL_BATCH = 2000


def fill_name(n: int) -> str:
    """The company name of the n-th copied case (the case search looks these up)."""
    return f"{FILL_NAMES[n % len(FILL_NAMES)]} {FILL_PLACES[n // len(FILL_NAMES) % len(FILL_PLACES)]} {n} SpA"


def _fill(engine, target: int) -> None:
    """Bring the number of open cases to `target` by copying real engine-made cases: the case
    summary, its task rows, its history and its company (one company per copy, with the case's
    TPE revisions), so the inbox, the case page and the case search read realistically sized tables.

    Half of the copies are in CL-RM (the busiest region), the rest spread over five regions; a
    third of their open tasks are assigned to bench.eje, the others are in the regional pool.
    Copies are created over the past year (`FILL_SPREAD`), and their open tasks are due in a mix:
    a fifth with no due date, a fifth overdue, the rest due within days or weeks."""
    from stdnum.cl import rut

    now = engine.now()
    with engine.transaction() as s:
        current = s.scalar(select(func.count()).select_from(Case).where(Case.status == "active"))
        if current >= target:
            return
        templates = s.scalars(select(Case).where(Case.status == "active").order_by(Case.id).limit(50)).all()
        ids = [t.id for t in templates]
        states = dict(s.execute(select(CaseState.case_id, CaseState.workflow).where(CaseState.case_id.in_(ids))).all())
        tasks, events, history = defaultdict(list), defaultdict(list), defaultdict(list)
        for task in s.scalars(select(TaskRow).where(TaskRow.case_id.in_(ids))):
            tasks[task.case_id].append(task)
        for event in s.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.id)):
            events[event.case_id].append(event)
        companies = {c.id: c for c in s.scalars(select(Company).where(
            Company.id.in_([t.company_id for t in templates if t.company_id])))}
        for row in s.scalars(select(TpeHistory).where(TpeHistory.case_id.in_(ids))):
            history[row.case_id].append(row)
        next_case = s.scalar(select(func.max(Case.id))) + 1
        next_company = (s.scalar(select(func.max(Company.id))) or 0) + 1
        step = FILL_SPREAD / (target - current)
        batch = {table: [] for table in (Company, Case, CaseState, TaskRow, CaseEvent, TpeHistory)}
        for n in range(target - current):
            template = templates[n % len(templates)]
            region = FILL_REGIONS[n % len(FILL_REGIONS)]
            shift = step * (n + 1)
            case_id, company_id = next_case + n, next_company + n
            company = companies.get(template.company_id)
            if company is not None:
                number = str(60_000_000 + n)
                fields = {"id": company_id, "rut": rut.format(number + rut.calc_check_digit(number)),
                          "razon_social": fill_name(n), "region": region}
                batch[Company].append(_copy(company, fields))
                batch[TpeHistory].extend(_copy(h, {"id": None, "company_id": company_id, "case_id": case_id,
                                                   "submitted_at": h.submitted_at - shift})
                                         for h in history[template.id])
                data = dict(template.data, rut=fields["rut"], razon_social=fields["razon_social"], region=region)
            else:
                data = template.data
            batch[Case].append(_copy(template, {
                "id": case_id, "region": region, "company_id": company_id if company is not None else None,
                "data": data, "created_at": template.created_at - shift, "updated_at": template.updated_at - shift,
                "next_timer_at": template.next_timer_at and template.next_timer_at - shift}))
            batch[CaseState].append({"case_id": case_id, "workflow": states[template.id]})
            for i, task in enumerate(tasks[template.id]):
                fields = {"id": f"bench-{case_id}-{i}", "case_id": case_id, "region": region,
                          "created_at": task.created_at - shift,
                          "completed_at": task.completed_at and task.completed_at - shift}
                if task.state == "ready":
                    fields["assignee"] = None if n % 3 else BENCH_USER
                    fields["due_at"] = _fill_due(n, now, fields["created_at"])
                batch[TaskRow].append(_copy(task, fields))
            batch[CaseEvent].extend(_copy(e, {"id": None, "case_id": case_id, "at": e.at - shift})
                                    for e in events[template.id])
            if len(batch[Case]) >= FILL_BATCH:
                _flush(s, batch)
        _flush(s, batch)
    if engine.db.dialect.name == "postgresql":  # the copies were given ids: move the sequences past them
        with engine.db.begin() as connection:
            backup.reset_sequences(connection)
    if engine.db.dialect.name == "postgresql":
        # what autovacuum does to a live database after such a load: statistics for the planner and
        # the visibility map that lets the inbox's counts read their indexes only (without it, each
        # counted entry visits the table: inbox p95 ~2-3x slower right after the fill)
        with engine.db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        analyze(engine.db)  # what `cpe db upgrade` does: statistics of the loaded tables for the planner


def _fill_due(n, now, created):
    created = spiff.as_utc(created)  # SQLite gives back naive datetimes (in UTC)
    kind = n % 5
    if kind == 0:
        return None
    if kind == 1:
        return min(created + timedelta(days=7), now - timedelta(hours=1))  # overdue
    if kind == 2:
        return now + timedelta(hours=1 + n % 60)  # due within 3 days
    return now + timedelta(days=4 + n % 40)


def _copy(row, changes: dict) -> dict:
    values = {c.name: getattr(row, c.name) for c in row.__table__.columns} | changes
    if values.get("id", 0) is None:
        del values["id"]  # autoincrement
    return values


def _flush(s, batch) -> None:
    for table, rows in batch.items():  # parents first (dict order)
        if rows:
            s.execute(insert(table), rows)
            rows.clear()
