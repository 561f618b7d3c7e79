"""Public models of other tools (issue 17): each one either runs here (validate gives what deploy gives, a
case starts, its user tasks reach somebody's inbox and can be completed until the case ends or waits on a
timer or a message) or is refused with a Spanish message that names the element and says why.

The models are copies, unchanged, of files of public repositories (tests/interop/SOURCES.md: repository,
path, commit, licence, checksum). They are not kept in this repository: they live in the corpus folder,
`CPE_INTEROP_CORPUS` or the first `shared/interop/` found beside the checkout or above it, laid out as
`<origin>/<path in the origin repository>`; without it the tests that need the files are skipped (the table
and the README are still checked against each other).

A refused model that SpiffWorkflow 3.2.0 builds is refused on purpose only when SpiffWorkflow would fail on
it later anyway, when it runs (an operator we do not have, code our sandbox does not allow, an expression
in another language); any other such refusal is a bug of ours, marked xfail(strict) with what it needs."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from engine.basics.errors import DeployError, errors_of
from engine.models.validation import collect_files
from engine.simulate.people import answer

ROOT = Path(__file__).resolve().parents[2]
SOURCES = Path(__file__).resolve().parent / "SOURCES.md"
README = ROOT / "README.md"
REGION = "CL-RM"
PASSWORD = "clave-segura-123"
ROLES = ("analista", "ejecutivo_cpe", "ejecutivo_prochile", "jefe_regional")
# why a model SpiffWorkflow builds may still be refused: it would fail when it runs
BY_DESIGN = {
    "operador": "llama a un operador que este motor no tiene",
    "entorno": "usa código o funciones que el entorno restringido no permite",
    "lenguaje": "escribe una expresión en otro lenguaje (JUEL/FEEL)",
}
# each origin's licence texts, kept beside its files in the corpus folder
LICENCES = {"spiff-example-cli": ("COPYING",), "spiffworkflow": ("COPYING",),
            "camunda-bpm-examples": ("LICENSE", "NOTICE"), "bpmn-miwg": ("LICENSE.txt",),
            "sample-process-models": ("LICENSE",)}
ENGLISH = ("Traceback", "Error(", "Exception", "object has no attribute", "is not a valid", "Element '{",
           "required but missing", "not found", "NoneType", "KeyError")


def corpus_root() -> Path | None:
    given = os.environ.get("CPE_INTEROP_CORPUS")
    if given:
        return Path(given)
    for folder in (ROOT, *ROOT.parents):
        if (folder / "shared" / "interop").is_dir():
            return folder / "shared" / "interop"
    return None


CORPUS = corpus_root()
needs_corpus = pytest.mark.skipif(CORPUS is None,
                                  reason="sin la carpeta del corpus (CPE_INTEROP_CORPUS o shared/interop/)")


@dataclass(frozen=True)
class Model:
    name: str
    origin: str
    files: tuple[str, ...]  # paths inside the origin folder (a folder stands for the files in it)
    outcome: str  # "runs" | "refused"
    process: str | None = None  # the process a case starts (runs)
    lanes: dict = field(default_factory=dict)  # lane name -> role, as at deploy
    start: dict = field(default_factory=dict)  # start data besides the region
    answers: dict = field(default_factory=dict)  # task bpmn id -> answers (else drawn from its form)
    ends: str = "completed"  # or "active": waiting only on timers/messages
    element: str = ""  # refused: the element the message names
    says: str = ""  # refused: a fragment of the message
    spiff_builds: bool | None = None  # refused: does SpiffWorkflow 3.2.0 build it?
    because: str = ""  # refused though SpiffWorkflow builds it: a key of BY_DESIGN
    bug: str = ""  # xfail(strict): what we would need to run it

    @property
    def summary(self) -> str:
        if self.bug:
            return "falla nuestra: " + self.bug
        if self.outcome == "runs":
            return "corre" + ("" if self.ends == "completed" else " (queda esperando temporizador o mensaje)")
        return "rechazado: " + self.says


SEC = "bpmn/tutorial"  # spiff-example-cli
SW = "tests/SpiffWorkflow"
SPM = "misc/category_number_one"
CUST = {"Customer": "ejecutivo_cpe", "Employee": "analista", "Manager": "jefe_regional"}
DMNS = (f"{SEC}/product_prices.dmn", f"{SEC}/shipping_costs.dmn", f"{SEC}/forms")
CAM = ("bpmn/camunda/call_activity.bpmn", "bpmn/camunda/product_prices.dmn", "bpmn/camunda/shipping_costs.dmn")
# corpus files that another test reads (tests/test_interop_messages.py: SpiffArena's messages between cases)
ELSEWHERE = tuple(f"sample-process-models/{SPM}/{folder}/{name}.bpmn" for folder, name in (
    ("message-sender", "message_sender"), ("message-receiver-one", "message_receiver_one"),
    ("message-receiver-two", "message_receiver_two")))

MODELS = [
    # -- spiff-example-cli: the tutorial of SpiffWorkflow's documentation -----------------------
    Model("tutorial: tipos de tarea", "spiff-example-cli", (f"{SEC}/task_types.bpmn", *DMNS), "runs",
          "order_product"),
    Model("tutorial: compuertas", "spiff-example-cli", (f"{SEC}/gateway_types.bpmn", *DMNS), "runs",
          "order_product"),
    Model("tutorial: carriles", "spiff-example-cli", (f"{SEC}/lanes.bpmn", *DMNS), "runs", "order_product",
          lanes=CUST),
    Model("tutorial: actividad de llamada", "spiff-example-cli",
          (f"{SEC}/top_level.bpmn", f"{SEC}/call_activity.bpmn", *DMNS), "runs", "order_product", lanes=CUST),
    Model("tutorial: transacción", "spiff-example-cli",
          (f"{SEC}/transaction.bpmn", f"{SEC}/call_activity.bpmn", *DMNS), "runs", "order_product", lanes=CUST),
    Model("tutorial: señales", "spiff-example-cli",
          (f"{SEC}/signal_event.bpmn", f"{SEC}/call_activity.bpmn", *DMNS), "runs", "order_product", lanes=CUST),
    Model("tutorial: eventos", "spiff-example-cli", (f"{SEC}/events.bpmn", f"{SEC}/call_activity.bpmn", *DMNS),
          "runs", "order_product", lanes=CUST),
    Model("tutorial: tarea de servicio en hilo", "spiff-example-cli", (f"{SEC}/threaded_service_task.bpmn",),
          "refused", element="any_task", says="operador desconocido 'wait'", spiff_builds=True, because="operador"),
    Model("tutorial: script peligroso", "spiff-example-cli", (f"{SEC}/dangerous.bpmn", f"{SEC}/forms"),
          "refused", element="end_it", says="la función 'kill' no existe aquí", spiff_builds=True, because="entorno"),
    Model("tutorial: inicio por temporizador", "spiff-example-cli", (f"{SEC}/timer_start.bpmn",),
          "refused", element="sequenceFlow Flow_032rj36", says="falta el atributo obligatorio «sourceRef»",
          spiff_builds=False),
    Model("tutorial Camunda: tipos de tarea", "spiff-example-cli",
          ("bpmn/camunda/task_types.bpmn", "bpmn/camunda/product_prices.dmn"), "runs", "order_product"),
    Model("tutorial Camunda: multiinstancia", "spiff-example-cli", ("bpmn/camunda/multiinstance.bpmn", *CAM),
          "refused", lanes={**CUST, "QA": "ejecutivo_prochile"}, element="definitions",
          says="no hay un proceso ejecutable", spiff_builds=False),
    Model("tutorial Camunda: eventos", "spiff-example-cli", ("bpmn/camunda/events.bpmn", *CAM), "refused",
          lanes={**CUST, "QA": "ejecutivo_prochile"}, element="definitions", says="no hay un proceso ejecutable",
          spiff_builds=False),
    Model("tutorial Camunda: script con funciones propias", "spiff-example-cli",
          ("bpmn/camunda/top_level_script.bpmn", "bpmn/camunda/call_activity_script.bpmn",
           "bpmn/camunda/product_prices.dmn", "bpmn/camunda/shipping_costs.dmn"), "refused", lanes=CUST,
          element="Activity_0jnqqws", says="la función 'lookup_shipping_cost' no existe aquí", spiff_builds=False),
    # -- SpiffWorkflow's own test data -------------------------------------------------------------
    Model("SpiffWorkflow: pedido en paralelo", "spiffworkflow", (f"{SW}/bpmn/data/ParallelOrder.bpmn",),
          "runs", "ParallelOrder"),
    Model("SpiffWorkflow: evento de borde", "spiffworkflow", (f"{SW}/bpmn/data/boundary.bpmn",), "runs",
          "boundary_event", answers={"Activity_Pester_Dad": {"answer": "Yes"}}),
    Model("SpiffWorkflow: temporizador en una tarea", "spiffworkflow",
          (f"{SW}/bpmn/data/boundary_timer_on_task.bpmn",), "runs", "test_timer"),
    Model("SpiffWorkflow: colaboración", "spiffworkflow", (f"{SW}/bpmn/data/collaboration.bpmn",), "runs",
          "process_buddy", ends="active"),
    Model("SpiffWorkflow: evento condicional", "spiffworkflow", (f"{SW}/bpmn/data/conditional_event.bpmn",),
          "runs", "intermediate", answers={"task_a": {"task_a_done": True}}),
    Model("SpiffWorkflow: compuerta de eventos", "spiffworkflow", (f"{SW}/bpmn/data/event-gateway.bpmn",),
          "runs", "Process_0pvx19v", ends="active"),
    Model("SpiffWorkflow: compuerta inclusiva", "spiffworkflow", (f"{SW}/bpmn/data/inclusive_gateway.bpmn",),
          "runs", "main", start={"v": 0, "u": 1, "w": 1}),
    Model("SpiffWorkflow: multiinstancia paralela", "spiffworkflow",
          (f"{SW}/bpmn/data/parallel_multiinstance_loop_input.bpmn",), "runs", "main",
          start={"input_data": [1, 2, 3]}, answers={"any_task": {"output_item": 2}}),
    Model("SpiffWorkflow: ciclo estándar", "spiffworkflow", (f"{SW}/bpmn/data/standard_loop.bpmn",), "runs",
          "main", start={"done": False}, answers={"any_task": {"done": True}}),
    Model("SpiffWorkflow: temporizador", "spiffworkflow", (f"{SW}/bpmn/data/timer.bpmn",), "runs", "timer",
          ends="active"),
    Model("SpiffWorkflow: aprobaciones con carriles", "spiffworkflow", (f"{SW}/bpmn/data/Approvals.bpmn",),
          "runs", "Approvals", lanes={"Test": "analista", "Supervisor": "jefe_regional", "Manager": "jefe_regional",
                                      "Operator": "ejecutivo_cpe"}),
    Model("SpiffWorkflow: carriles", "spiffworkflow", (f"{SW}/bpmn/data/lanes.bpmn",), "runs", "lanes",
          lanes={"A": "analista", "B": "ejecutivo_cpe", "C": "jefe_regional"}),
    Model("SpiffWorkflow: mensaje en el borde (Camunda)", "spiffworkflow",
          (f"{SW}/camunda/data/MessageBoundary.bpmn",), "runs", "Process_1kjyavs", lanes={"Boss": "jefe_regional"},
          answers={"Activity_Interrupt": {"interrupt_task": "Yes"}}),
    Model("SpiffWorkflow: compuerta y decisión (Camunda)", "spiffworkflow",
          (f"{SW}/camunda/data/ExclusiveGatewayIfElseAndDecision.bpmn",
           f"{SW}/camunda/data/dmn/test_integer_decision.dmn"), "runs", "Process_1", start={"x": 3}),
    Model("SpiffWorkflow: regla de negocio (Spiff)", "spiffworkflow",
          (f"{SW}/spiff/data/business_rule_task.bpmn", f"{SW}/spiff/data/dmn/business_rules.dmn"), "runs",
          "Process_bd2e724"),
    Model("SpiffWorkflow: pre y post script (Spiff)", "spiffworkflow",
          (f"{SW}/spiff/data/prescript_postscript.bpmn",), "runs", "Process_1", start={"a": 1, "b": 2}),
    Model("SpiffWorkflow: multiinstancia (Spiff)", "spiffworkflow", (f"{SW}/spiff/data/spiff_multiinstance.bpmn",),
          "runs", "Process_1", start={"input_data": [1, 2, 3]}, answers={"any_task": {"output_item": 2}}),
    Model("SpiffWorkflow: subproceso de evento", "spiffworkflow", (f"{SW}/bpmn/data/event-subprocess.bpmn",),
          "runs", "main"),
    Model("SpiffWorkflow: actividades de llamada anidadas", "spiffworkflow",
          (f"{SW}/bpmn/data/call_activity_nested/call_activity_nested.bpmn",
           f"{SW}/bpmn/data/call_activity_nested/call_activity_level_2.bpmn",
           f"{SW}/bpmn/data/call_activity_nested/call_activity_level_2b.bpmn",
           f"{SW}/bpmn/data/call_activity_nested/call_activity_level_3.bpmn",
           f"{SW}/bpmn/data/call_activity_nested/level2c.dmn"), "refused", element="Level2",
          says="definido también en call_activity_level_2.bpmn", spiff_builds=False),
    Model("SpiffWorkflow: tareas de servicio (Spiff)", "spiffworkflow", (f"{SW}/spiff/data/service_task.bpmn",),
          "refused", element="Activity-1inxqgx", says="operador desconocido 'bamboohr/GetPayRate'", spiff_builds=True,
          because="operador"),
    Model("SpiffWorkflow: script que define funciones", "spiffworkflow", (f"{SW}/bpmn/data/ScriptTest.bpmn",),
          "refused", element="Activity_0kky4xd", says="no se permite definir funciones", spiff_builds=True,
          because="entorno"),
    Model("SpiffWorkflow: almacén de datos", "spiffworkflow", (f"{SW}/bpmn/data/data_store.bpmn",),
          "refused", element="JustDataStoreRef", says="no puede construir este elemento", spiff_builds=False),
    # -- camunda-bpm-examples ------------------------------------------------------------------------
    Model("Camunda: aprobación de factura (Camunda Forms)", "camunda-bpm-examples",
          ("usertask/task-camunda-forms/src/main/resources/invoiceApproval.bpmn",), "runs", "camundaFormsQuickstart"),
    Model("Camunda: aprobación de préstamo (formulario incrustado)", "camunda-bpm-examples",
          ("usertask/task-form-embedded/src/main/resources/loanApproval.bpmn",), "runs", "embeddedFormsQuickstart"),
    Model("Camunda: inicio por mensaje", "camunda-bpm-examples",
          ("startevent/message-start/src/main/resources/message_start_process.bpmn",), "runs",
          "Message_Start_Process", ends="active"),
    Model("Camunda: tarea de servicio Java", "camunda-bpm-examples",
          ("servicetask/service-invocation-synchronous/src/main/resources/synchronousServiceInvocation.bpmn",),
          "refused", element="ServiceTask_1", says="no indica un operador", spiff_builds=True, because="operador"),
    Model("Camunda: variables JSON y condiciones JUEL", "camunda-bpm-examples",
          ("usertask/task-form-embedded-json-variables/src/main/resources/process.bpmn",), "refused",
          element="SequenceFlow_4", says="la condición está en JUEL", spiff_builds=True, because="lenguaje"),
    Model("Camunda: script XSLT", "camunda-bpm-examples",
          ("scripttask/xslt-scripttask/src/main/resources/xslt-example.bpmn",), "refused", element="ScriptTask_1",
          says="el script vacío", spiff_builds=True, because="lenguaje"),
    # -- BPMN MIWG test suite (reference models: diagrams, no executable process) -----------------------
    *[Model(f"MIWG {case}", "bpmn-miwg", (f"Reference/{case}.bpmn",), "refused", element="definitions",
            says="no hay un proceso ejecutable", spiff_builds=False)
      for case in ("A.1.0", "A.2.0", "A.3.0", "A.4.0", "B.1.0")],
    Model("MIWG C.1.0", "bpmn-miwg", ("Reference/C.1.0.bpmn",), "refused", element="invoiceApproved",
          lanes={"Approver": "jefe_regional", "Team Assistant": "analista", "Accountant": "ejecutivo_cpe"},
          says="la condición está en JUEL", spiff_builds=True, because="lenguaje"),
    # -- sample-process-models (SpiffArena) ---------------------------------------------------------
    Model("SpiffArena: tarea manual con temporizador", "sample-process-models",
          (f"{SPM}/manual-task-with-timer/manual_task_with_timer.bpmn",), "runs", "Process_ppiuwh1"),
    Model("SpiffArena: formularios JSON", "sample-process-models", (f"{SPM}/process-model-with-form",), "runs",
          "test_form"),
    Model("SpiffArena: decisiones booleanas", "sample-process-models", (f"{SPM}/dmn-boolean-test",), "runs",
          "Proccess_xy8tu6y"),
    Model("SpiffArena: carriles", "sample-process-models", (f"{SPM}/lanes/lanes.bpmn",), "runs", "Proccess_yhito9d",
          lanes={"Process Initiator": "analista", "group1": "jefe_regional"}),
    Model("SpiffArena: script con get_env", "sample-process-models", (f"{SPM}/script-task/script-task.bpmn",),
          "refused", element="Activity_06mbkcn", says="get_env", spiff_builds=True, because="entorno"),
    Model("SpiffArena: conectores de servicio", "sample-process-models", (f"{SPM}/service-tasks/service_tasks.bpmn",),
          "refused", element="service_task_one", says="operador desconocido 'xero/CreateInvoice'", spiff_builds=True,
          because="operador"),
    Model("SpiffArena: aprobaciones múltiples", "sample-process-models",
          (f"{SPM}/multiple-approvals/multi-approvals-1.bpmn",), "refused", element="dataObject is_approval",
          says="el id «is_approval» se repite (ya lo tiene otro elemento, en la línea 306)", spiff_builds=False),
]


def paths(model: Model) -> list[Path]:
    return [CORPUS / model.origin / f for f in model.files]


def model_params(outcome):
    for m in MODELS:
        if m.outcome != outcome:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=m.bug)] if m.bug else []
        yield pytest.param(m, id=m.name, marks=marks)


# -- SpiffWorkflow 3.2.0 on its own -----------------------------------------------------------------

def spiff_builds(model: Model) -> bool:
    """Whether SpiffWorkflow's own parser, of Camunda's dialect or of Spiff's, builds the model's processes
    (each executable one, with the processes and decisions it calls)."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.spiff.parser import SpiffBpmnParser

    files = [p for path in paths(model) for p in ([path] if path.is_file() else sorted(path.rglob("*")))]
    bpmn = [str(p) for p in files if p.suffix == ".bpmn"]
    dmn = [str(p) for p in files if p.suffix == ".dmn"]
    for dialect in (SpiffBpmnParser, CamundaParser):
        parser = dialect(validator=BpmnValidator())
        try:
            parser.add_bpmn_files(bpmn)
            parser.add_dmn_files(dmn)
            ids = parser.get_process_ids()
            for pid in ids:
                parser.get_spec(pid)
                parser.get_subprocess_specs(pid)
        except Exception:  # noqa: BLE001, S112 - any failure of the parser means this dialect does not build it
            continue
        if ids:
            return True
    return False


# -- the table -----------------------------------------------------------------------------------------

def test_the_corpus_has_at_least_thirty_models_of_every_origin():
    files = {(m.origin, f) for m in MODELS for f in m.files}
    assert len(MODELS) >= 30 and len(files) >= 30
    assert {m.origin for m in MODELS} == {"spiff-example-cli", "spiffworkflow", "camunda-bpm-examples",
                                          "bpmn-miwg", "sample-process-models"}
    for m in MODELS:
        assert m.outcome in ("runs", "refused")
        assert (m.process is not None) == (m.outcome == "runs")
        assert (m.outcome == "refused") == bool(m.says)
        assert not m.because or m.because in BY_DESIGN
        assert m.outcome == "refused" or (m.spiff_builds is None and not m.because)
        assert not m.because or m.spiff_builds  # refused on purpose though SpiffWorkflow builds it


def readme_table() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Modelos de otras herramientas (corpus)", 1)[1].split("\n#", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| modelo")]


def table_lines() -> list[str]:
    return [f"| {m.name} | {m.origin} | {m.summary} |" for m in MODELS]


def counts() -> str:
    runs = sum(m.outcome == "runs" and not m.bug for m in MODELS)
    refused = sum(m.outcome == "refused" and not m.bug for m in MODELS)
    bugs = sum(bool(m.bug) for m in MODELS)
    return f"Hoy: {runs} corren, {refused} se rechazan como se espera,\n{bugs} son fallas nuestras."


def test_the_readme_table_is_the_test_table():
    assert readme_table() == table_lines()
    assert counts() in README.read_text(encoding="utf-8")


def sources() -> dict[str, dict]:
    rows = {}
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("archivo", "---"):
            rows[cells[0]] = dict(zip(("repo", "path", "commit", "licence", "sha256"), cells[1:], strict=True))
    return rows


def corpus_files(model: Model) -> list[Path]:
    return [f for path in paths(model) for f in ([path] if path.is_file() else sorted(path.rglob("*"))) if f.is_file()]


@needs_corpus
def test_the_corpus_is_the_table_plus_licences_each_file_an_unchanged_copy_listed_in_sources():
    listed = sources()
    wanted = {str(f.relative_to(CORPUS)) for m in MODELS for f in corpus_files(m)}
    wanted |= {f"{origin}/{name}" for origin, names in LICENCES.items() for name in names} | set(ELSEWHERE)
    present = {str(f.relative_to(CORPUS)) for f in CORPUS.rglob("*") if f.is_file()}
    assert present == wanted == set(listed)
    for key in sorted(present):
        assert hashlib.sha256((CORPUS / key).read_bytes()).hexdigest() == listed[key]["sha256"], key
        origin = key.split("/", 1)[0]
        assert listed[key]["licence"] and listed[key]["path"] == key.split("/", 1)[1]
        assert all(row["commit"] == listed[key]["commit"] for k, row in listed.items() if k.startswith(origin + "/"))


# -- models that run -----------------------------------------------------------------------------------

def _deploy(engine, model):
    files = collect_files(paths(model))
    found = [str(p) for p in engine.validate(files, lanes=model.lanes or None)]
    assert errors_of(engine.validate(files, lanes=model.lanes or None)) == [], found
    deployed = engine.deploy(files, author="corpus", message=model.name, lanes=model.lanes or None)
    assert sorted(map(str, deployed.warnings)) == sorted(found)


def _users(engine):
    for role in ROLES:
        engine.create_user(role, PASSWORD, role, region=REGION)
    return ROLES


@needs_corpus
@pytest.mark.parametrize("model", list(model_params("runs")))
def test_runs(engine, model):
    _deploy(engine, model)
    users = _users(engine)
    rng = random.Random(model.name)
    case_id = engine.start(model.process, {"region": REGION, **model.start}, actor="corpus")
    for _ in range(60):
        ready = engine.ready_tasks(case_id=case_id)
        if not ready or engine.case(case_id)["status"] != "active":
            break
        task = ready[0]
        takers = [u for u in users if task["id"] in {t["id"] for t in engine.ready_tasks(user=u)}]
        assert takers, f"la tarea {task['bpmn_id']} (carril {task['lane']}) no está en ninguna bandeja"
        data = model.answers.get(task["bpmn_id"]) or answer(task["form"] or {}, {}, rng, engine.now(), optional=1.0)
        engine.complete(task["id"], data, user=takers[0])
    case = engine.case(case_id)
    assert case["status"] == model.ends, case["error"]
    assert engine.ready_tasks(case_id=case_id) == []


# -- models that are refused ---------------------------------------------------------------------------

@needs_corpus
@pytest.mark.parametrize("model", list(model_params("refused")))
def test_refused(engine, model):
    files = collect_files(paths(model))
    found = errors_of(engine.validate(files, lanes=model.lanes or None))
    with pytest.raises(DeployError) as info:
        engine.deploy(files, author="corpus", message=model.name, lanes=model.lanes or None)
    assert [str(p) for p in errors_of(info.value.problems)] == [str(p) for p in found]
    assert engine.models() == []
    for p in found:
        assert p.element and p.message, str(p)
        assert not any(phrase in p.message for phrase in ENGLISH), str(p)
    assert any(model.says in p.message and model.element in p.element for p in found), [str(p) for p in found]
    builds = spiff_builds(model)
    assert builds == model.spiff_builds
    if builds:
        assert model.because in BY_DESIGN, "SpiffWorkflow lo construye: rechazarlo es una falla nuestra"
