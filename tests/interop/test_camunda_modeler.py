"""The model set drawn in Camunda Modeler (camunda_modeler/: written by hand as Camunda Modeler 5 saves it —
a collaboration with lanes named "Ventas", "Supervisor" and "Logística", camunda:formData task forms, a
DMN 1.3 decision called with camunda:decisionRef, a call activity to a process of another file) through the
engine (issue 17): it deploys once its lanes are mapped, the decision's result routes the case, every task
reaches the inbox of the mapped role of the case's region and the case ends; the same files with the
usual Camunda spellings that do not run here are refused, naming the element and the Python to write.
The browser journey over the same files is tests/browser/test_camunda_modeler_journey.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from engine.basics.errors import DeployError, Forbidden, FormError, errors_of
from engine.models.validation import collect_files

FOLDER = Path(__file__).resolve().parent / "camunda_modeler"
MAIN, CALLED, TABLE = "cotizacion_exportacion.bpmn", "coordinacion_embarque.bpmn", "riesgo_cotizacion.dmn"
LANES = {"Ventas": "ejecutivo_cpe", "Supervisor": "jefe_regional", "Logística": "ejecutivo_prochile"}
REGION = "CL-RM"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
PEOPLE = {"vero": ("ejecutivo_cpe", REGION), "jefa": ("jefe_regional", REGION),
          "pedro": ("ejecutivo_prochile", REGION), "otra": ("ejecutivo_cpe", "CL-BI"), "ana": ("analista", None)}
ROLE_OF_TASK = {"Task_Registrar": "vero", "Task_Aprobar": "jefa", "Task_Reservar": "pedro"}
START = {"region": REGION, "solicitante": "Marta Rojas", "canal": "feria"}
RESERVA = {"naviera": "msc", "contenedores": 3, "fecha_zarpe": "2027-04-02"}


def files(**changes) -> list[tuple[str, bytes]]:
    """The three files, with `changes`: file name -> [(text, replacement)] (each text must be there)."""
    found = []
    for path in sorted(FOLDER.iterdir()):
        content = path.read_text(encoding="utf-8")
        for old, new in changes.get(path.name, ()):
            assert old in content, (path.name, old)
            content = content.replace(old, new)
        found.append((path.name, content.encode("utf-8")))
    return found


def test_the_files_are_as_camunda_modeler_saves_them():
    for name, content in files():
        root = etree.fromstring(content)
        assert root.get("exporter") == "Camunda Modeler" and root.get("exporterVersion").startswith("5."), name
        if name.endswith(".dmn"):
            assert root.tag == "{https://www.omg.org/spec/DMN/20191111/MODEL/}definitions"
            assert [t.get("hitPolicy") for t in root.iter("{*}decisionTable")] == ["FIRST"]
            continue
        assert root.nsmap["camunda"] == "http://camunda.org/schema/1.0/bpmn"
        semantic = {node.get("id") for node in root.iter(f"{BPMN}participant", f"{BPMN}lane", f"{BPMN}startEvent",
                                                         f"{BPMN}userTask", f"{BPMN}businessRuleTask",
                                                         f"{BPMN}exclusiveGateway", f"{BPMN}callActivity",
                                                         f"{BPMN}endEvent", f"{BPMN}sequenceFlow")}
        drawn = {node.get("bpmnElement") for node in root.iter("{*}BPMNShape", "{*}BPMNEdge")}
        assert semantic == drawn, (name, semantic ^ drawn)  # every element has its shape or edge
        assert {ref.text for ref in root.iter(f"{BPMN}flowNodeRef")} == {
            node.get("id") for node in root.iter(f"{BPMN}startEvent", f"{BPMN}userTask", f"{BPMN}businessRuleTask",
                                                 f"{BPMN}exclusiveGateway", f"{BPMN}callActivity", f"{BPMN}endEvent")}


def test_without_a_role_for_each_lane_nothing_deploys(engine):
    problems = errors_of(engine.validate(files()))
    assert sorted(p.element for p in problems) == [
        "lane Lane_Logistica (Logística)", "lane Lane_Supervisor (Supervisor)", "lane Lane_Ventas (Ventas)"]
    assert all("no corresponde a un rol" in p.message for p in problems)
    with pytest.raises(DeployError):
        engine.deploy(files())
    assert engine.models() == []


def test_the_lanes_mapped_it_deploys_with_the_forms_generated_from_form_data(engine):
    assert engine.validate(files(), lanes=LANES) == []
    deployed = engine.deploy(files(), author="ana", message="Camunda Modeler", lanes=LANES)
    assert sorted((d["kind"], d["key"]) for d in deployed) == [
        ("decision", "riesgo_cotizacion"), ("form", "coordinacion_embarque.Task_Reservar"),
        ("form", "cotizacion_exportacion.StartEvent_Solicitud"), ("form", "cotizacion_exportacion.Task_Aprobar"),
        ("form", "cotizacion_exportacion.Task_Registrar"),
        ("process", "coordinacion_embarque"), ("process", "cotizacion_exportacion")]
    main = engine.model_version("process", "cotizacion_exportacion")
    assert main["dependencies"]["lanes"] == {"Ventas": "ejecutivo_cpe", "Supervisor": "jefe_regional"}
    assert main["dependencies"]["decisions"] == {"riesgo_cotizacion": 1}
    form = json.loads(engine.model_version("form", "cotizacion_exportacion.Task_Registrar")["content"])
    props = form["properties"]
    assert form["required"] == ["cliente", "monto"]
    assert {name: (p["type"], p.get("format")) for name, p in props.items()} == {
        "cliente": ("string", None), "producto": ("string", None), "monto": ("integer", None),
        "mercado": ("string", None), "fecha_embarque": ("string", "date"), "primera_exportacion": ("boolean", None)}
    assert props["mercado"]["oneOf"][3] == {"const": "asia", "title": "Asia"} and props["mercado"]["default"] == "latam"
    assert props["monto"]["minimum"] == 1 and props["primera_exportacion"]["default"] is False
    approve = json.loads(engine.model_version("form", "cotizacion_exportacion.Task_Aprobar")["content"])
    assert approve["properties"]["cliente"]["readOnly"] is True
    start = engine.start_form("cotizacion_exportacion")  # the start event's formData: a Camunda start form
    assert list(start["properties"]) == ["solicitante", "canal"] and start["required"] == ["solicitante"]
    assert engine.start_form("coordinacion_embarque") is None


# (answers to «Registrar la solicitud», the DMN's result, the tasks that follow in order, how it ends)
JOURNEYS = [
    ("monto grande", {"cliente": "Viña Sur", "monto": 150_000, "mercado": "europa"}, "alto",
     [("Task_Aprobar", {"aprobada": True}), ("Task_Reservar", RESERVA)], "Cotización despachada"),
    ("Asia sobre 20 000", {"cliente": "Viña Sur", "monto": 20_001, "mercado": "asia"}, "alto",
     [("Task_Aprobar", {"aprobada": True, "observaciones": "pago anticipado"}), ("Task_Reservar", RESERVA)],
     "Cotización despachada"),
    ("primera exportación", {"cliente": "Viña Sur", "monto": 30_000, "mercado": "latam", "primera_exportacion": True},
     "alto", [("Task_Aprobar", {"aprobada": False})], "Cotización rechazada"),
    ("Asia bajo el umbral", {"cliente": "Viña Sur", "monto": 20_000, "mercado": "asia"}, "bajo",
     [("Task_Reservar", RESERVA)], "Cotización despachada"),
    ("resto", {"cliente": "Viña Sur", "monto": 99_999, "mercado": "norteamerica", "primera_exportacion": False},
     "bajo", [("Task_Reservar", RESERVA)], "Cotización despachada"),
]


@pytest.fixture
def ready(engine):
    engine.deploy(files(), author="ana", message="Camunda Modeler", lanes=LANES)
    for username, (role, region) in PEOPLE.items():
        engine.create_user(username, "secreto-123", role, region=region)
    return engine


def _work(engine, case_id, bpmn_id, answers):
    """The task `bpmn_id` is the case's only one, in the inbox of its role's person of the region (and of the
    national analyst: a lane's role, not the analysts', works it), not another region's; completed by them."""
    [task] = engine.ready_tasks(case_id=case_id)
    assert task["bpmn_id"] == bpmn_id
    holders = {u for u in PEOPLE if task["id"] in {t["id"] for t in engine.ready_tasks(user=u)}}
    assert holders == {ROLE_OF_TASK[bpmn_id]}
    with pytest.raises(Forbidden):
        engine.complete(task["id"], answers, user="otra")
    engine.complete(task["id"], answers, user=ROLE_OF_TASK[bpmn_id])


@pytest.mark.parametrize("label,registro,riesgo,then,end", JOURNEYS, ids=[j[0] for j in JOURNEYS])
def test_the_decision_routes_the_case_through_the_inboxes_to_its_end(ready, label, registro, riesgo, then, end):
    case_id = ready.start("cotizacion_exportacion", START, actor="ana")
    assert ready.case(case_id)["region"] == REGION
    _work(ready, case_id, "Task_Registrar", registro)
    data = ready.case(case_id)["data"]
    assert data.get("riesgo") == riesgo, ready.case(case_id)["error"]
    # as in Camunda, a field left empty is stored as null: the table reads primera_exportacion even when unanswered
    fields = ("cliente", "producto", "monto", "mercado", "fecha_embarque", "primera_exportacion")
    assert {f: data[f] for f in fields} == {f: registro.get(f) for f in fields}
    for bpmn_id, answers in then:
        _work(ready, case_id, bpmn_id, answers)
    case = ready.case(case_id)
    assert case["status"] == "completed", case["error"]
    assert ready.ready_tasks(case_id=case_id) == []
    assert [e["name"] for e in case["history"]][-2] == end
    if then[-1][0] == "Task_Reservar":  # the called process's answers come back to the case
        assert {k: case["data"][k] for k in RESERVA} == RESERVA


def test_a_form_data_form_refuses_what_its_fields_do_not_allow(ready):
    for bad, field in (({"region": REGION}, "solicitante"), ({**START, "canal": "fax"}, "canal")):
        with pytest.raises(FormError) as refused:
            ready.start("cotizacion_exportacion", bad, actor="ana")
        assert list(refused.value.errors) == [field]
    case_id = ready.start("cotizacion_exportacion", START, actor="ana")
    [task] = ready.ready_tasks(case_id=case_id)
    for bad, field in (({"monto": 10}, "cliente"), ({"cliente": "Viña Sur", "monto": 0}, "monto"),
                       ({"cliente": "Viña Sur", "monto": 10, "mercado": "africa"}, "mercado"),
                       ({"cliente": "Viña Sur", "monto": 10, "fecha_embarque": "15/03/2027"}, "fecha_embarque")):
        with pytest.raises(FormError) as refused:
            ready.complete(task["id"], bad, user="vero")
        assert list(refused.value.errors) == [field], (bad, refused.value.errors)
    assert ready.ready_tasks(case_id=case_id)[0]["id"] == task["id"]


# -- the same files with Camunda's own spellings that do not run here: refused, saying what to write ----------

REFUSED = [
    ("condición en JUEL", {MAIN: [('riesgo == "alto"</bpmn', '${riesgo == "alto"}</bpmn')]},
     "sequenceFlow Flow_3alto (alto)", 'la condición está en JUEL (el lenguaje de expresiones de Camunda); aquí '
                                      'las expresiones se escriben en Python: escriba «riesgo == "alto"»'),
    ("condición con true de FEEL/JUEL", {MAIN: [(">aprobada</bpmn", ">aprobada == true</bpmn")]},
     "sequenceFlow Flow_6aprobada (sí)", "escriba «aprobada == True»"),
    ("celda DMN con true de FEEL", {TABLE: [("<text>True</text>", "<text>true</text>")]},
     "inputEntry UnaryTests_2primera", "true, false y null son valores de FEEL (el lenguaje de DMN de Camunda); "
                                       "aquí las celdas se escriben en Python: escriba «True»"),
    ("decisión por expresión", {MAIN: [('camunda:decisionRef="riesgo_cotizacion"',
                                        'camunda:decisionRef="${decision}"')]},
     "businessRuleTask Task_Evaluar", "está en JUEL"),
    ("decisión que no está", {MAIN: [('camunda:decisionRef="riesgo_cotizacion"',
                                      'camunda:decisionRef="riesgo_credito"')]},
     "businessRuleTask Task_Evaluar", "riesgo_credito"),
    ("proceso llamado que no está", {MAIN: [('calledElement="coordinacion_embarque"',
                                            'calledElement="coordinacion_transporte"')]},
     "callActivity Call_Embarque", "coordinacion_transporte"),
    ("campo de formulario de tipo propio", {CALLED: [('id="contenedores" label="Contenedores de 40 pies" type="long"',
                                                     'id="contenedores" label="Contenedores de 40 pies" '
                                                     'type="double"')]},
     "userTask Task_Reservar", "el campo «contenedores» tiene el tipo «double», que no se admite"),
]


@pytest.mark.parametrize("label,changes,element,says", REFUSED, ids=[r[0] for r in REFUSED])
def test_camunda_spellings_that_do_not_run_here_are_refused_naming_what_to_write(engine, label, changes, element,
                                                                                 says):
    changed = files(**changes)
    found = errors_of(engine.validate(changed, lanes=LANES))
    assert any(element in p.element and says in p.message for p in found), [str(p) for p in found]
    with pytest.raises(DeployError) as info:
        engine.deploy(changed, lanes=LANES)
    assert [str(p) for p in errors_of(info.value.problems)] == [str(p) for p in found]
    assert engine.models() == []


def test_collect_files_reads_the_folder_as_the_cli_does(engine):
    assert [name for name, _ in collect_files([FOLDER])] == [name for name, _ in files()]
