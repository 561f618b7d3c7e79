"""The benchmark suite behind `cpe bench`: the engine measured through its public verbs on
a throwaway database, against bare in-memory SpiffWorkflow as the floor.

Every figure comes with the settings used, so runs can be compared (bench/RESULTS.md).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

from sqlalchemy import func, insert, select

from . import runtime
from .clock import VirtualClock
from .core import Engine
from .demo import answers_for_level
from .deploy import collect_files
from .queries import inbox
from .schema import Case, TaskRow

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"start_cases": 300, "lifecycles": 100, "inbox_cases": 10_000, "bare_lifecycles": 300, "inbox_runs": 40}
FULL = {"start_cases": 2_000, "lifecycles": 500, "inbox_cases": 100_000, "bare_lifecycles": 1_000, "inbox_runs": 100}
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
        }


def run(quick: bool = True, database_url: str | None = None, progress=None) -> dict:
    settings = dict(QUICK if quick else FULL)
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite:///{folder}/bench.sqlite3"
        engine = Engine(url=url, clock=VirtualClock())
        engine.upgrade()
        engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="bench", message="bench")
        engine.create_user("bench.eje", "bench-password", "ejecutivo_cpe", region="CL-RM")
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
            engine.complete(task_id, life.answers["tpe_bienes"], user="bench.eje")
        results["completions_per_s"] = _rate(len(tasks), time.perf_counter() - begin)

        say("lifecycle_per_s")
        begin = time.perf_counter()
        for _ in range(settings["lifecycles"]):
            _lifecycle(engine, life)
        ours = (time.perf_counter() - begin) / settings["lifecycles"]
        results["lifecycle_per_s"] = round(1 / ours, 1)

        say("bare_lifecycle_per_s")
        bare = _bare_lifecycles(engine, life, settings["bare_lifecycles"])
        results["bare_lifecycle_per_s"] = round(1 / bare, 1)
        results["overhead_ratio"] = round(ours / bare, 2)

        say("memory and size per case")
        results.update(_sizes(engine, case_ids[:200]))

        say("inbox_p95_ms")
        _fill(engine, settings["inbox_cases"])
        with engine.Session() as s:
            results["inbox_cases"] = s.scalar(select(func.count()).select_from(Case).where(Case.status == "active"))
        samples = []
        for _ in range(settings["inbox_runs"]):
            begin = time.perf_counter()
            inbox(engine, "bench.eje")
            samples.append((time.perf_counter() - begin) * 1000)
        results["inbox_p95_ms"] = _p95(samples)
        results["http_completion_p95_ms"] = None
        results["http_completions_per_s"] = None
        results["http_note"] = "sin medir: requiere el servidor web con gunicorn (issue 7)"
        engine.db.dispose()
    return results


def _compiled(engine):
    with engine.Session() as s:
        from .versions import latest_row

        return engine._build(s, latest_row(s, "process", "cpe_actual"))


def _lifecycle(engine, life):
    case_id = engine.start("cpe_actual", COMPANY, actor="bench")
    while True:
        ready = engine.ready_tasks(case_id=case_id)
        if not ready:
            return case_id
        task = ready[0]
        engine.complete(task["id"], life.answers[task["form_id"]], user="bench.eje")


class _BareEngine(runtime.PythonScriptEngine):
    """Bare SpiffWorkflow: plain eval, service tasks answered by the pure domain rules."""

    def __init__(self, forms):
        from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

        from .sandbox import ahora, dias_habiles

        super().__init__(environment=TaskDataEnvironment({"dias_habiles": dias_habiles, "ahora": ahora}))
        self.forms = forms

    def call_service(self, task, operation_name=None, operation_params=None, **_):
        from .services.derivation import derive
        from .services.scoring import score_questionnaire
        from .services.sizing import classify_size

        p = {k: v["value"] for k, v in operation_params.items()}
        result = {
            "verificar_tamano": lambda: classify_size(p["ventas_uf"]),
            "puntaje_formulario": lambda: score_questionnaire(self.forms[p.get("formulario")], p.get("respuestas")),
            "asignar_ejecutivo": lambda: {"ejecutivo": "bench.eje", "carga": 1},
            "derivar": lambda: derive(p["motivo"], p["region"], date.today()),
            "registrar_sra": lambda: {"actividad_id": 1},
            "notificar": lambda: {"enviado": False},
        }[operation_name]()
        return json.dumps(result)


def _bare_lifecycles(engine, life, count) -> float:
    compiled = _compiled(engine)
    script_engine = _BareEngine({k: f.schema for k, f in compiled.forms.items()})
    from SpiffWorkflow.bpmn import BpmnWorkflow

    begin = time.perf_counter()
    for _ in range(count):
        workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=script_engine)
        workflow.get_next_task(state=runtime.TaskState.READY).data.update(COMPANY)
        runtime.run_steps(workflow)
        while not workflow.is_completed():
            task = runtime.ready_user_tasks(workflow)[0]
            key = runtime.form_key(runtime.task_properties(task))
            task.data.update(life.answers[key])
            task.run()
            runtime.run_steps(workflow)
    return (time.perf_counter() - begin) / count


def _sizes(engine, case_ids) -> dict:
    with engine.Session() as s:
        states = [c.workflow for c in s.scalars(select(Case).where(Case.id.in_(case_ids)))]
    compiled = _compiled(engine)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    held = [compiled.restore(state) for state in states]
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del held
    return {"serialized_bytes_per_case": round(statistics.mean(len(json.dumps(s)) for s in states)),
            "memory_bytes_per_case": round(used / len(states))}


def _fill(engine, target: int) -> None:
    """Bring the number of open cases to `target` by copying the rows of real engine-made cases
    (case summary and task index): the inbox reads only those tables."""
    with engine.transaction() as s:
        current = s.scalar(select(func.count()).select_from(Case).where(Case.status == "active"))
        templates = s.scalars(select(Case).where(Case.status == "active").limit(50)).all()
        tasks = {t.case_id: t for t in s.scalars(select(TaskRow).where(TaskRow.state == "ready"))}
        next_id = s.scalar(select(func.max(Case.id))) + 1
        cases, rows = [], []
        regions = ["CL-RM", "CL-BI", "CL-VS", "CL-ML", "CL-AR", "CL-LL"]
        while current + len(cases) < target:
            template = templates[len(cases) % len(templates)]
            task = tasks.get(template.id)
            region = regions[len(cases) % len(regions)]
            cases.append({c.name: getattr(template, c.name) for c in Case.__table__.columns} |
                         {"id": next_id, "region": region})
            if task is not None:
                rows.append({c.name: getattr(task, c.name) for c in TaskRow.__table__.columns} |
                            {"id": f"bench-{next_id}", "case_id": next_id, "region": region,
                             "assignee": None if len(cases) % 3 else "bench.eje"})
            next_id += 1
            if len(cases) >= 5000:
                s.execute(insert(Case), cases)
                s.execute(insert(TaskRow), rows)
                current, cases, rows = current + len(cases), [], []
        if cases:
            s.execute(insert(Case), cases)
            s.execute(insert(TaskRow), rows)
