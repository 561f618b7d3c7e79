"""Validation before deploy: XML safety, XSD, then semantics (storing versions is engine/models/versions.py).

Every problem names the file, the line and the element (id and name), so an analyst can
find it in the modeler. Nothing is stored unless the whole set of files is valid.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from engine.basics.errors import Problem
from engine.basics.xmlsafe import XmlError, parse_xml
from engine.domain import roles
from engine.models import (
    dmn_validation,
    expression_languages,
    foreign_forms,
    lane_roles,
    parser_errors,
    sandbox,
    spiff,
    xsd_messages,
)
from engine.models.forms import MAX_FORM_BYTES, json_depth_problem, load_form
from engine.models.retry_policy import retry_policy
from engine.operators import deadline

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
MAX_FILES = 200
# What one upload may hold: building each process reads its files, so the work grows with these
# (the shipped models hold 1 process a BPMN file and 1 decision a DMN file).
MAX_PROCESSES = 200  # in all the BPMN files of one upload
MAX_DECISIONS = 200  # in one DMN file
MAX_ID, MAX_NAME = 120, 300  # an element's id and name as the history and inbox store them (engine/store/schema.py)
RESERVED_IDS = {"Start", "End", "Root"}  # names SpiffWorkflow gives its own internal task specs
_BPMN_VALIDATOR = None


def _bpmn_validator() -> BpmnValidator:
    global _BPMN_VALIDATOR
    if _BPMN_VALIDATOR is None:
        _BPMN_VALIDATOR = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
    return _BPMN_VALIDATOR


def _bpmn_xsd_problems(filename, tree) -> list[Problem]:
    """The XSD check of a BPMN file as SpiffWorkflow's own validator makes it: first its `preprocess`
    (bpmn-js and SpiffArena save a correlation property's retrieval expression as a
    `formalExpression`, which the BPMN schema does not allow there; SpiffWorkflow reads it as the
    `messagePath` the schema expects), applied to a copy: what is stored and built is the file as
    uploaded (SpiffWorkflow's parser reads the expression under either tag). The copy keeps the
    source lines, so a problem still points into the uploaded file."""
    validator = _bpmn_validator()
    if tree.getroot().find(".//bpmn:correlationPropertyRetrievalExpression", NS) is not None:
        tree = deepcopy(tree)
        validator.preprocess(tree)
    return _xsd_problems(filename, tree, validator.validator)


@dataclass
class Artifact:
    kind: str  # process | decision | form
    key: str
    name: str
    filename: str
    content: str
    checksum: str
    uses_forms: set = field(default_factory=set)
    uses_decisions: set = field(default_factory=set)
    uses_processes: set = field(default_factory=set)  # (process id, callActivity node) of other files
    calls: set = field(default_factory=set)  # the ids of the processes it calls, in any file
    ui_schemas: set = field(default_factory=set)  # (form key, UI schema filename, userTask node): SpiffArena
    lanes: dict = field(default_factory=dict)  # lane name -> role mapped by the analyst (engine/models/lane_roles.py)
    assignees: dict = field(default_factory=dict)  # user task id -> (node, camunda:assignee/candidateUsers names)


@dataclass
class LaneMapping:
    """The lane -> role mapping a check or deploy is given (`given`, for every process of the upload) and
    the one each process's latest deployed version pins (`remembered(process id)`)."""

    given: dict = field(default_factory=dict)
    remembered: object = None

    def memory(self, key) -> dict:
        return (self.remembered(key) if self.remembered else None) or {}


def checksum(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def collect_files(paths) -> list[tuple[str, bytes]]:
    """Read .bpmn, .dmn and .json files from files and folders (folders non-recursively)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in (".bpmn", ".dmn", ".json")))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"no existe: {raw}")
    if len(found) > MAX_FILES:
        raise ValueError(f"demasiados archivos (máximo {MAX_FILES})")
    return [(p.name, p.read_bytes()) for p in found]


def _describe(node) -> str:
    tag = etree.QName(node).localname
    ident, name = node.get("id", ""), node.get("name")
    return f"{tag} {ident}" + (f" ({lane_roles.shown(name, 120)})" if name else "")  # hostile names: cut, escaped


def _xsd_problems(filename, tree, validator, schema="BPMN 2.0") -> list[Problem]:
    """The schema errors of a file, in Spanish (engine/models/xsd_messages.py), each naming the element
    it concerns and its line."""
    if validator.validate(tree):
        return []
    problems = []
    for entry in list(validator.error_log)[:20]:
        node = _xsd_node(tree, entry)
        context = {}
        if node is not None and node.get("id") and "'xs:ID'" in entry.message:
            context["same_id_line"] = next((other.sourceline for other in tree.getroot().iter()
                                            if other is not node and isinstance(other.tag, str)
                                            and other.get("id") == node.get("id")), None)
        if node is not None:
            element = _describe_located(node)
        else:
            tag = xsd_messages.element_tag(entry.message)
            element = lane_roles.shown(xsd_messages.tag_name(tag), 120) if tag else "definitions"
        problems.append(Problem(filename, entry.line, element, xsd_messages.describe(entry.message, schema, context)))
    return problems


describe = _describe  # for engine/models/versions.py


def _describe_located(node) -> str:
    """`_describe`, and for an element without id (`bpmn:incoming` …) the nearest one around it that has one."""
    if node.get("id"):
        return _describe(node)
    around = next((a for a in node.iterancestors() if a.get("id")), None)
    tag = etree.QName(node).localname
    return f"{tag} en {_describe(around)}" if around is not None else tag


def _xsd_node(tree, entry):
    """The element an lxml schema error is about: by the path libxml2 gives, checked against the error's
    line and tag; else the element of that tag on that line."""
    tag = xsd_messages.element_tag(entry.message)
    namespaces = {k: v for k, v in (tree.getroot().nsmap or {}).items() if k}
    try:
        found = tree.xpath(entry.path, namespaces=namespaces) if entry.path else []
    except (etree.XPathError, TypeError, ValueError):
        found = []
    for node in found if isinstance(found, list) else []:
        if isinstance(node, etree._Element) and node.sourceline == entry.line and (tag is None or node.tag == tag):
            return node
    for node in tree.getroot().iter(tag) if tag else ():
        if node.sourceline == entry.line:
            return node
    return None


def _extension(node, tag):
    return node.find(f"bpmn:extensionElements/spiffworkflow:{tag}", NS)


def properties(node) -> dict:
    props = {}
    for prop in node.findall("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        props[prop.get("name")] = prop.get("value")
    return props


def form_key_of(filename: str | None) -> str | None:
    if not filename:
        return None
    return filename[:-5] if filename.endswith(".json") else filename


def task_form_key(node, process_id: str) -> str:
    """The form a user task shows: its own (`formJsonSchemaFilename`), the one generated from its
    camunda:formData, or else the built-in confirmation form (engine/models/foreign_forms.py)."""
    key = form_key_of(properties(node).get("formJsonSchemaFilename"))
    if key:
        return key
    if foreign_forms.camunda_form_data(node) is not None:
        return foreign_forms.generated_key(process_id, node.get("id") or "")
    return foreign_forms.CONFIRM_FORM_KEY


def start_form_key(node, process_id: str) -> str | None:
    """The form a start event asks for: its own (`formJsonSchemaFilename`), the one generated from its
    camunda:formData (a Camunda start form), or None."""
    key = form_key_of(properties(node).get("formJsonSchemaFilename"))
    if key:
        return key
    if foreign_forms.camunda_form_data(node) is not None:
        return foreign_forms.generated_key(process_id, node.get("id") or "")
    return None


def user_task_forms(process) -> dict:
    """The form of each user task of a process element (subprocesses included): task id -> form key."""
    return {n.get("id"): task_form_key(n, process.get("id")) for n in process.iter(f"{{{NS['bpmn']}}}userTask")}


def _generated_form(filename, node, process_id, problem) -> Artifact | None:
    """The form generated from the camunda:formData of a user task or a start event (None, with the
    problems told, if it cannot be generated)."""
    title = node.get("name") or node.get("id") or ""
    try:
        schema, warnings = foreign_forms.formdata_schema(node, title[:MAX_NAME])
        text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
        load_form(text)  # the rules of every form
    except ValueError as exc:
        problem(node, f"camunda:formData: {exc}")
        return None
    for warning in warnings:
        problem(node, f"camunda:formData: {warning}", "warning")
    key = foreign_forms.generated_key(process_id, node.get("id") or "")
    return Artifact("form", key, title or key, filename, text, checksum(text))


def check_bpmn(filename: str, tree, operators=None, lanes: LaneMapping | None = None
               ) -> tuple[list[Artifact], list[Problem]]:
    """Semantic checks of one BPMN file; returns its processes (and the forms generated from its
    camunda:formData) and the problems found. Service tasks may call the operators of `operators`
    (operator id -> engine.operators.dispatch.Operator; None: none). A lane must map to a role
    (engine/models/lane_roles.py; `lanes`: the mapping given and remembered)."""
    operators = operators or {}
    lanes_given = lanes or LaneMapping()
    problems: list[Problem] = []
    root = tree.getroot()
    artifacts = []

    def problem(node, message, severity="error"):
        problems.append(Problem(filename, node.sourceline, _describe(node), message, severity))

    def check_code(node, source, mode, what, timer=None, condition=False, language=None):
        if source is None or not source.strip():
            problem(node, f"{what} vacío")
            return
        other = expression_languages.foreign(source, what, timer, condition) if mode == "eval" else None
        if other:
            problem(node, other)
            return
        reason = sandbox.unavailable_names(source, mode) or sandbox.check(source, mode)
        if reason and language:
            problem(node, f"{what} está en {language} (scriptFormat); aquí los scripts se escriben en Python: "
                          f"escriba su equivalente en Python ({reason})")
        elif reason:
            problem(node, f"código no permitido en {what}: {reason}")
        elif timer:
            reason = timer_value_problem(source, timer)
            if reason:
                problem(node, f"{what}: {reason}")

    for message in root.iter(f"{{{NS['bpmn']}}}message"):
        payload = _extension(message, "messagePayload")
        if payload is not None:
            check_code(message, payload.text, "eval", "la carga del mensaje (messagePayload)")
    for expression in root.iter(f"{{{NS['bpmn']}}}correlationPropertyRetrievalExpression"):
        for child in expression:
            if isinstance(child.tag, str):
                check_code(expression.getparent(), child.text, "eval", "la expresión de correlación")
    generated = []
    processes = root.findall("bpmn:process", NS)
    in_file = {p.get("id") for p in processes}
    executable = [p for p in processes if p.get("isExecutable", "true") != "false"]
    nameless = [p for p in executable if not (p.get("id") or "").strip()]  # the schema lets them out
    for process in nameless:
        problems.append(Problem(filename, process.sourceline, "process",
                                "el proceso no tiene id: póngale uno (es con el que se inician sus casos)"))
        executable.remove(process)
    if not executable and not nameless:
        problems.append(Problem(filename, root.sourceline, "definitions", "no hay un proceso ejecutable"))
    same_file: dict[str, set] = {}  # process id -> the processes of this file it calls
    for process in executable:
        art = Artifact("process", process.get("id"), process.get("name") or process.get("id"), filename, "", "")
        for node in process.iter():
            if node.get("id") in RESERVED_IDS or (node.get("id") or "").endswith(".EndJoin"):
                problem(node, f"el id '{node.get('id')}' está reservado por el motor; use otro")
            if len(node.get("id") or "") > MAX_ID:  # the history and inbox columns hold this much
                problem(node, f"el id tiene más de {MAX_ID} caracteres; acórtelo")
            if len(node.get("name") or "") > MAX_NAME:
                problem(node, f"el nombre tiene más de {MAX_NAME} caracteres; acórtelo")
        lanes = process.findall(".//bpmn:lane", NS)
        in_lane = set()
        remembered = lanes_given.memory(art.key)
        for lane in lane_roles.unmapped(process, lanes_given.given, remembered):
            problem(lane, f"el carril «{lane_roles.shown(lane_roles.label(lane))}» no corresponde a un rol: "
                          "asígnele uno al desplegar (formulario de despliegue, o cpe deploy --lane "
                          f"\"Carril=rol\"); roles: {', '.join(roles.ROLES)}")
        art.lanes = lane_roles.pinned(process, lanes_given.given, remembered)
        for lane in lanes:
            in_lane.update(ref.text.strip() for ref in lane.findall("bpmn:flowNodeRef", NS) if ref.text)
        for node in process.iter(f"{{{NS['bpmn']}}}userTask"):  # inside a subprocess: the lane of the subprocess
            props = properties(node)
            key = task_form_key(node, art.key)
            if props.get("formJsonSchemaFilename"):
                art.uses_forms.add((key, node))
                if props.get("formUiSchemaFilename"):
                    art.ui_schemas.add((key, props["formUiSchemaFilename"], node))
                if foreign_forms.camunda_form_data(node) is not None:
                    problem(node, "la tarea tiene formJsonSchemaFilename y camunda:formData: se usa el primero",
                            "warning")
            elif key != foreign_forms.CONFIRM_FORM_KEY:
                form = _generated_form(filename, node, art.key, problem)
                if form is not None:
                    generated.append(form)
                    art.uses_forms.add((key, node))
            elif foreign_forms.camunda_form_key(node):
                problem(node, "el formulario externo de la tarea (camunda:formKey) no se puede mostrar aquí: la "
                              "tarea pedirá solo confirmar, con un comentario opcional", "warning")
            if (lanes and not any(n.get("id") in in_lane for n in containers(node, process))
                    and not lane_roles.candidate_role(node, lanes_given.given, remembered)):
                problem(node, "la tarea de usuario no está en un carril (rol) ni indica candidateGroups")
            named = lane_roles.assignment(node)
            for text in named.unread:
                problem(node, f"camunda:assignee/candidateUsers: «{lane_roles.shown(text)}» no es un nombre de "
                              "usuario ni ${variable}: aquí no se lee; "
                              "la tarea queda en la bandeja del rol de su carril; para darla a una persona escriba "
                              "su nombre de usuario, o ${variable} con la variable del caso que lo tiene", "warning")
            if props.get("asignadoA"):
                check_code(node, props["asignadoA"], "eval", "la expresión asignadoA")
                if named.users or named.expression:
                    problem(node, "la tarea tiene asignadoA y camunda:assignee/candidateUsers: se usa asignadoA",
                            "warning")
            elif named.expression:
                check_code(node, named.expression, "eval", "camunda:assignee")
            elif named.users:
                art.assignees[node.get("id")] = (node, named.users)
            if props.get("plazo"):
                check_code(node, props["plazo"], "eval", "la expresión plazo")
        for node in process.iter(f"{{{NS['bpmn']}}}startEvent"):
            key = form_key_of(properties(node).get("formJsonSchemaFilename"))
            if key:
                art.uses_forms.add((key, node))
            elif foreign_forms.camunda_form_data(node) is not None:
                if node.getparent() is not process:
                    problem(node, "camunda:formData en el inicio de un subproceso no se muestra: nadie inicia el "
                                  "subproceso a mano; se ignora", "warning")
                    continue
                form = _generated_form(filename, node, art.key, problem)
                if form is not None:
                    generated.append(form)
                    art.uses_forms.add((form.key, node))
        for node in process.iter(f"{{{NS['bpmn']}}}serviceTask"):
            for check in (retry_policy, deadline.limit_seconds):
                try:
                    check(properties(node))
                except ValueError as exc:
                    problem(node, str(exc))
            operator = _extension(node, "serviceTaskOperator")
            if operator is None:
                problem(node, "la tarea de servicio no indica un operador (serviceTaskOperator)")
                continue
            op = operators.get(operator.get("id"))
            if op is None:
                problem(node, f"operador desconocido '{operator.get('id')}'; disponibles: {', '.join(operators)}")
                continue
            given = {}
            for param in operator.findall("spiffworkflow:parameters/spiffworkflow:parameter", NS):
                given[param.get("id")] = param.get("value")
            for name in sorted(set(given) - set(op.params)):
                problem(node, f"el operador {op.id} no tiene el parámetro '{name}'")
            for name in op.params:
                if name not in given and name not in op.optional:
                    problem(node, f"falta el parámetro '{name}' del operador {op.id}")
            for name, value in given.items():
                check_code(node, value, "eval", f"el parámetro '{name}'")
        for node in process.iter(f"{{{NS['bpmn']}}}scriptTask"):
            script = node.find("bpmn:script", NS)
            language = (node.get("scriptFormat") or "").strip()
            check_code(node, script.text if script is not None else None, "exec", "el script",
                       language=language if language and "python" not in language.lower() else None)
        for node in process.iter(f"{{{NS['bpmn']}}}callActivity"):
            called = (node.get("calledElement") or "").strip()
            if not called:
                problem(node, "la actividad de llamada no indica el proceso que llama (calledElement)")
                continue
            art.calls.add(called)
            if called not in in_file:
                art.uses_processes.add((called, node))
            else:
                same_file.setdefault(art.key, set()).add(called)
        for tag in SUBPROCESS_TAGS[:2]:  # SpiffWorkflow builds these as a workflow of their own
            for node in process.iter(f"{{{NS['bpmn']}}}{tag}"):
                starts = node.findall("bpmn:startEvent", NS)
                if len(starts) != 1:
                    problem(node, f"el subproceso debe tener exactamente un evento de inicio (tiene {len(starts)}): "
                                  + ("agregue uno al comienzo del subproceso" if not starts else
                                     "deje uno solo y una los demás caminos a él"))
                if not node.findall("bpmn:endEvent", NS):
                    problem(node, "el subproceso no tiene un evento de fin: agregue uno al final de su camino")
        for node in process.iter(f"{{{NS['bpmn']}}}businessRuleTask"):
            decision = spiff.called_decision(node)
            if decision is None:
                problem(node, "la tarea de regla de negocio no indica la decisión (calledDecisionId)")
            elif "${" in decision or "#{" in decision:
                problem(node, f"la decisión «{decision}» está en JUEL (una expresión de Camunda); aquí se indica "
                              "el id de la decisión, sin expresión (calledDecisionId o camunda:decisionRef)")
            else:
                art.uses_decisions.add((decision, node))
            if node.get(f"{spiff.CAMUNDA}resultVariable"):
                problem(node, f"camunda:resultVariable «{node.get(f'{spiff.CAMUNDA}resultVariable')}» no se usa "
                              "aquí: los resultados de la decisión quedan en los datos del caso con los nombres de "
                              "sus salidas", "warning")
        flows = {f.get("id"): f for f in process.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
        for flow in flows.values():
            condition = flow.find("bpmn:conditionExpression", NS)
            if condition is not None:
                check_code(flow, condition.text, "eval", "la condición", condition=True)
        for tag in ("exclusiveGateway", "inclusiveGateway"):
            for gateway in process.iter(f"{{{NS['bpmn']}}}{tag}"):
                # the flows whose source is the gateway (what the engine reads; not every modeler writes <outgoing>)
                outgoing = [f for f in flows.values() if f.get("sourceRef") == gateway.get("id")]
                if len(outgoing) < 2:
                    continue
                default = gateway.get("default")
                if tag == "exclusiveGateway" and not default:
                    problem(gateway, "la compuerta no tiene un flujo por defecto: si ninguna condición se cumple, "
                                     "el caso se detiene con un error", "warning")
                seen_conditions = {}
                for flow in outgoing:
                    condition = flow.find("bpmn:conditionExpression", NS)
                    if flow.get("id") != default and condition is None:
                        problem(flow, "flujo de salida de una compuerta sin condición ni marcado por defecto")
                    if condition is not None and (condition.text or "").strip():
                        text = " ".join(condition.text.split())
                        if text in seen_conditions:
                            problem(flow, f"la condición «{text}» repite la del flujo {seen_conditions[text]}: "
                                          "las dos salidas se superponen")
                        seen_conditions.setdefault(text, flow.get("id"))
        for scope in (process, *(n for tag in SUBPROCESS_TAGS for n in process.iter(f"{{{NS['bpmn']}}}{tag}"))):
            names = {spiff.link_name(n) for n in scope.findall("bpmn:intermediateCatchEvent", NS)} - {None}
            for node in scope.findall("bpmn:intermediateThrowEvent", NS):
                name = spiff.link_name(node)
                if name and name not in names:
                    problem(node, f"el evento de enlace «{name}» no tiene un evento de enlace de captura con el "
                                  "mismo nombre en este proceso o subproceso")
        for node in unreachable(process):
            problem(node, "el elemento no es alcanzable desde ningún evento de inicio")
        for node in waitless_cycles(process):
            problem(node, f"el ciclo que pasa por «{node.get('name') or node.get('id')}» no espera una tarea de "
                          "usuario, un mensaje ni un temporizador: si sus condiciones no lo dejan salir, el caso "
                          f"da vueltas sin detenerse y queda en error (tras {spiff.MAX_ENGINE_STEPS} pasos como "
                          "máximo)", "warning")
        for timer in process.iter(f"{{{NS['bpmn']}}}timerEventDefinition"):
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                expr = timer.find(f"bpmn:{kind}", NS)
                if expr is not None:
                    check_code(timer.getparent(), expr.text, "eval", "la expresión del temporizador", timer=kind)
        artifacts.append(art)
    _inherit_same_file_calls(artifacts, same_file)
    return artifacts + generated, problems


_DATE_CALLS = {"dias_habiles", "ahora"}
_DATE_ATTRS = {"now", "utcnow", "today", "fromisoformat"}


def _from_datetime(node) -> bool:
    """`datetime`, or `datetime.datetime` (SpiffWorkflow's examples offer the module)."""
    if isinstance(node, ast.Attribute) and node.attr == "datetime":
        node = node.value
    return isinstance(node, ast.Name) and node.id == "datetime"


def _gives(tree) -> str | None:
    """What a timer expression evidently gives: "fecha" (a date-time: dias_habiles(), ahora(),
    datetime.now() …), "duración" (timedelta(...) without a date), or None (cannot tell)."""
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    dated = any(isinstance(node, ast.Attribute) and node.attr in _DATE_ATTRS and _from_datetime(node.value)
                for node in ast.walk(tree))
    if dated or calls & _DATE_CALLS:
        return "fecha"
    if "timedelta" in calls:
        return "duración"
    return None


_TIMER_EXAMPLES = {
    "timeDuration": "una duración ISO 8601 como \"PT30S\" o \"P5D\", o timedelta(days=5)",
    "timeDate": "una fecha y hora ISO 8601 como \"2026-03-02T09:00:00\", o dias_habiles(5)",
    "timeCycle": "un intervalo repetido ISO 8601 como \"R3/PT1H\" (3 veces, cada hora)",
}


def timer_value_problem(source: str, kind: str) -> str | None:
    """A Spanish reason when a timer expression (code that compiles) evidently gives what its
    kind cannot take: a text that is not ISO 8601 of that kind, a date for a duration, a duration
    for a date; None when it is fine or cannot be told before the case runs."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    body, wanted = tree.body, _TIMER_EXAMPLES[kind]
    if isinstance(body, ast.Constant):
        value = body.value
        if not isinstance(value, str):
            return f"da {value!r}, que no es un texto; {kind} necesita {wanted}"
        try:
            if kind == "timeDuration":
                ok = value.strip().upper().startswith("P") and bool(TimerEventDefinition.parse_iso_duration(value))
            elif kind == "timeDate":
                ok = isinstance(TimerEventDefinition.parse_time_or_duration(value), datetime)
            else:
                TimerEventDefinition.parse_iso_recurring_interval(value)
                ok = True
        except Exception:  # noqa: BLE001 - SpiffWorkflow's parsers raise plain exceptions on bad text
            ok = False
        return None if ok else f"«{value[:80]}» no es válido para {kind}: se necesita {wanted}"
    gives = _gives(tree)
    if gives == "duración" and kind == "timeDate":
        return ("da una duración, y timeDate necesita una fecha: use un temporizador de duración (timeDuration) "
                "o escriba la fecha, por ejemplo «(datetime.now() + timedelta(days=5)).isoformat()»")
    if gives == "fecha" and kind == "timeDuration":
        return ("da una fecha, y timeDuration necesita una duración: use un temporizador de fecha (timeDate) "
                "o escriba la duración, por ejemplo «timedelta(days=5)» o «\"P5D\"»")
    if gives is not None and kind == "timeCycle":
        return f"da una {gives}, y timeCycle necesita {wanted}"
    return None


def _inherit_same_file_calls(artifacts, same_file):
    """A process that calls a process of its own file runs what that one uses: its forms, decisions, the
    processes of other files it calls (at any depth) and the mapping of its lanes become the caller's too,
    so validate builds the caller with them and deploy pins their versions (and the callee's lanes)."""
    by_key = {a.key: a for a in artifacts}
    for art in artifacts:
        reached, stack = {art.key}, list(same_file.get(art.key, ()))
        while stack:
            key = stack.pop()
            if key in reached or key not in by_key:
                continue
            reached.add(key)
            callee = by_key[key]
            art.uses_forms |= callee.uses_forms
            art.uses_decisions |= callee.uses_decisions
            art.uses_processes |= callee.uses_processes
            art.lanes = {**callee.lanes, **art.lanes}  # its lanes run with the mapping the caller pins
            stack.extend(same_file.get(key, ()))


SUBPROCESS_TAGS = ("subProcess", "transaction", "adHocSubProcess")
FLOW_NODE_TAGS = ("task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask",
                  "receiveTask", "callActivity", *SUBPROCESS_TAGS, "exclusiveGateway", "inclusiveGateway",
                  "parallelGateway", "eventBasedGateway", "complexGateway", "intermediateCatchEvent",
                  "intermediateThrowEvent", "endEvent", "startEvent", "boundaryEvent")


def containers(node, process):
    """The node and the subprocesses around it, up to the process."""
    while node is not None and node is not process:
        yield node
        node = node.getparent()


def unreachable(scope) -> list:
    """Flow nodes of a process or subprocess that no path from a start event reaches (boundary
    events count as reached with the activity they are attached to, a link catch event with the
    link throw events of its name, an event subprocess and a compensation handler by their triggers;
    subprocesses, transactions and event subprocesses included, are checked on their own)."""
    nodes = {n.get("id"): n for tag in FLOW_NODE_TAGS for n in scope.findall(f"bpmn:{tag}", NS)}
    targets: dict[str, list[str]] = {}
    for flow in scope.findall("bpmn:sequenceFlow", NS):
        targets.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    catches: dict[str, str] = {}  # the first catch event of each link name, as spiff.join_links joins them
    for node in scope.findall("bpmn:intermediateCatchEvent", NS):
        if spiff.link_name(node):
            catches.setdefault(spiff.link_name(node), node.get("id"))
    for node in scope.findall("bpmn:intermediateThrowEvent", NS):
        if spiff.link_name(node) in catches:
            targets.setdefault(node.get("id"), []).append(catches[spiff.link_name(node)])
    boundaries: dict[str, list[str]] = {}
    for node in nodes.values():
        if etree.QName(node).localname == "boundaryEvent":
            boundaries.setdefault(node.get("attachedToRef"), []).append(node.get("id"))
    starts = [i for i, n in nodes.items() if etree.QName(n).localname == "startEvent"]
    if not starts:  # a malformed scope: nothing to say here
        return []
    # an event subprocess starts when its start event's trigger comes, a compensation handler when its
    # activity is compensated: neither has (nor may have) an incoming sequence flow
    started = [i for i, n in nodes.items()
               if n.get("triggeredByEvent") == "true" or n.get("isForCompensation") == "true"]
    reached, queue = set(starts + started), list(starts + started)
    while queue:
        current = queue.pop()
        for nxt in targets.get(current, []) + boundaries.get(current, []):
            if nxt in nodes and nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    result = [n for i, n in nodes.items() if i not in reached]
    for tag in SUBPROCESS_TAGS:
        for sub in scope.findall(f"bpmn:{tag}", NS):
            result.extend(unreachable(sub))
    return result


# What a path stops at until someone or something acts (a subprocess or a called process may hold one:
# counted as waiting, so a loop through one is not warned about).
WAIT_TAGS = ("userTask", "manualTask", "receiveTask", "callActivity", *SUBPROCESS_TAGS, "eventBasedGateway")


def _waits(node) -> bool:
    tag = etree.QName(node).localname
    return tag in WAIT_TAGS or (tag == "intermediateCatchEvent" and not spiff.link_name(node))


def waitless_cycles(scope) -> list:
    """One node (a gateway where there is one) of each cycle of flows of the process or subprocess
    that passes through no wait state (user or manual task, receive task, catch event other than a
    link, event-based gateway, subprocess or call activity): such a loop runs until the step budget
    of engine.models.spiff stops it. Strongly connected components, found with Kosaraju's two
    walks, both with stacks (no recursion)."""
    nodes = {n.get("id"): n for tag in FLOW_NODE_TAGS for n in scope.findall(f"bpmn:{tag}", NS)}
    loose = {i for i, n in nodes.items() if not _waits(n)}
    targets: dict[str, list[str]] = {i: [] for i in loose}
    catches = {}
    for node in scope.findall("bpmn:intermediateCatchEvent", NS):
        if spiff.link_name(node):
            catches.setdefault(spiff.link_name(node), node.get("id"))
    edges = [(f.get("sourceRef"), f.get("targetRef")) for f in scope.findall("bpmn:sequenceFlow", NS)]
    edges += [(n.get("id"), catches.get(spiff.link_name(n))) for n in scope.findall("bpmn:intermediateThrowEvent", NS)
              if spiff.link_name(n)]
    edges += [(n.get("attachedToRef"), n.get("id")) for n in nodes.values()
              if etree.QName(n).localname == "boundaryEvent"]
    for source, target in edges:
        if source in loose and target in loose:
            targets[source].append(target)
    sources: dict[str, list[str]] = {i: [] for i in loose}
    for source, nexts in targets.items():
        for target in nexts:
            sources[target].append(source)
    order, seen = [], set()
    for start in loose:
        if start in seen:
            continue
        seen.add(start)
        stack = [(start, iter(targets[start]))]
        while stack:
            current, pending = stack[-1]
            nxt = next(pending, None)
            if nxt is None:
                order.append(current)
                stack.pop()
            elif nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, iter(targets[nxt])))
    found, assigned = [], set()
    for start in reversed(order):
        if start in assigned:
            continue
        component, stack = [], [start]
        assigned.add(start)
        while stack:
            current = stack.pop()
            component.append(current)
            for prev in sources[current]:
                if prev not in assigned:
                    assigned.add(prev)
                    stack.append(prev)
        if len(component) > 1 or start in targets[start]:
            members = [nodes[i] for i in component]
            members.sort(key=lambda n: (not etree.QName(n).localname.endswith("Gateway"), n.sourceline or 0))
            found.append(members[0])
    for tag in SUBPROCESS_TAGS:
        for sub in scope.findall(f"bpmn:{tag}", NS):
            found.extend(waitless_cycles(sub))
    return found


def check_dmn(filename: str, tree) -> tuple[list[Artifact], list[Problem]]:
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    schema = DMN_SCHEMAS.get(namespace)
    problems = []
    if schema:
        problems = _xsd_problems(filename, tree, BpmnValidator(schema).validator, "DMN")
    else:
        problems.append(Problem(filename, root.sourceline, "definitions", f"versión de DMN no soportada: {namespace}"))
    ns = {"dmn": namespace}
    artifacts = []
    for decision in root.findall("dmn:decision", ns):
        if not (decision.get("id") or "").strip():  # the schema lets it out
            problems.append(Problem(filename, decision.sourceline, "decision",
                                    "la decisión no tiene id: póngale uno (es con el que la llaman los procesos)"))
            continue
        artifacts.append(Artifact("decision", decision.get("id"), decision.get("name") or decision.get("id"),
                                  filename, "", ""))
        for expr in decision.iter(f"{{{namespace}}}inputExpression"):
            text = expr.find("dmn:text", ns)
            if text is not None and text.text:
                what = "la expresión de entrada"
                other = expression_languages.foreign(text.text, what)
                reason = None if other else sandbox.unavailable_names(text.text) or sandbox.check(text.text, "eval")
                if other or reason:
                    problems.append(Problem(filename, expr.sourceline, _describe(decision),
                                            other or f"código no permitido en {what}: {reason}"))
        for node, message in dmn_validation.table_problems(decision, ns):
            problems.append(Problem(filename, node.sourceline, _describe(node), message))
        for node, message in dmn_validation.table_warnings(decision, ns):
            problems.append(Problem(filename, node.sourceline, _describe(node), message, "warning"))
    if not artifacts:
        problems.append(Problem(filename, root.sourceline, "definitions", "el DMN no contiene decisiones"))
    return artifacts, problems


def _over_cap(filename, ext, tree, processes_before) -> Problem | None:
    """The problem of a file that takes the upload over what it may hold (checked before anything
    else of the file: the checks of an oversized upload would take too long)."""
    root = tree.getroot()
    if ext == ".bpmn":
        total = processes_before + len(root.findall("bpmn:process", NS))
        if total > MAX_PROCESSES:
            return Problem(filename, root.sourceline, "definitions",
                           f"con este archivo la carga tiene {total} procesos y el máximo es {MAX_PROCESSES}: "
                           "despliegue los procesos en varias cargas (un proceso puede llamar a otro ya desplegado)")
        return None
    decisions = [c for c in root if isinstance(c.tag, str) and etree.QName(c).localname == "decision"]
    if len(decisions) > MAX_DECISIONS:
        return Problem(filename, root.sourceline, "definitions",
                       f"el archivo tiene {len(decisions)} decisiones y el máximo es {MAX_DECISIONS} por archivo: "
                       "repártalas en varios archivos DMN")
    return None


def check_files(files: list[tuple[str, bytes]], known_forms=(), known_decisions=(), operators=None,
                known_processes=(), lanes: LaneMapping | None = None):
    """Validate a set of files; returns (artifacts, problems). Nothing is written. `operators` is the
    table service tasks may call (the Engine's `operator_table`); without it every service task is refused.
    `known_*`: what is already deployed (a call activity may call a deployed process)."""
    slots: list[tuple[list, list]] = []  # per file, in their order: (artifacts, problems)
    json_files = []  # (slot, filename, text): read once every diagram is (they say which are UI schemas)
    process_count = 0
    for filename, raw in files:
        found, file_problems = [], []
        slots.append((found, file_problems))
        ext = os.path.splitext(filename)[1].lower()
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            file_problems.append(Problem(filename, None, "archivo", "no está codificado en UTF-8"))
            continue
        if ext == ".json":
            json_files.append((len(slots) - 1, filename, text))
            continue
        if ext not in (".bpmn", ".dmn"):
            file_problems.append(Problem(filename, None, "archivo",
                                         "tipo de archivo no soportado (.bpmn, .dmn, .json)"))
            continue
        try:
            tree = parse_xml(raw)
        except XmlError as exc:
            file_problems.append(Problem(filename, exc.line, "xml", str(exc)))
            continue
        too_many = _over_cap(filename, ext, tree, process_count)
        if ext == ".bpmn":
            process_count += len(tree.getroot().findall("bpmn:process", NS))
        if too_many:
            file_problems.append(too_many)
            continue
        if ext == ".bpmn":
            xsd = _bpmn_xsd_problems(filename, tree)
            if xsd:
                file_problems.extend(xsd)
                continue
            arts, more = check_bpmn(filename, tree, operators, lanes)
        else:
            arts, more = check_dmn(filename, tree)
        file_problems.extend(more)
        for art in arts:
            if art.kind != "form":  # a generated form has its own content
                art.content, art.checksum = text, checksum(text)
        found.extend(arts)
    _check_json_files(slots, json_files)
    artifacts = [a for found, _ in slots for a in found]
    problems = [p for _, found in slots for p in found]

    keys = {}
    for art in artifacts:
        if (art.kind, art.key) in keys:
            line = parser_errors.process_line(art.content, art.key) if art.kind != "form" else None
            problems.append(Problem(art.filename, line, f"{art.kind} {art.key}",
                                    f"definido también en {keys[(art.kind, art.key)]}"))
        keys[(art.kind, art.key)] = art.filename
    forms = {a.key for a in artifacts if a.kind == "form"} | set(known_forms)
    decisions = {a.key for a in artifacts if a.kind == "decision"} | set(known_decisions)
    processes = {a.key for a in artifacts if a.kind == "process"} | set(known_processes)
    for art in artifacts:
        references = [(key, node, forms, "formulario desconocido") for key, node in art.uses_forms]
        references += [(key, node, decisions, "decisión desconocida") for key, node in art.uses_decisions]
        for key, node, known, message in sorted(references, key=lambda r: (r[3], r[0])):
            if key not in known:
                problems.append(Problem(art.filename, node.sourceline, _describe(node), f"{message} '{key}'"))
        for key, node in sorted(art.uses_processes, key=lambda r: r[0]):
            if key not in processes:
                problems.append(Problem(art.filename, node.sourceline, _describe(node),
                                        f"llama al proceso '{key}', que no está en estos archivos ni desplegado: "
                                        "súbalo junto a este archivo o despliéguelo antes"))
    problems.extend(_call_cycles(artifacts))
    unique = {}  # a process that calls one of its own file repeats that one's problems: each is told once
    for each in problems:
        unique.setdefault((str(each), each.severity), each)
    return artifacts, list(unique.values())


def _check_json_files(slots, json_files) -> None:
    """The JSON files of an upload: forms (SpiffArena's adapted), SpiffArena UI schemas (merged into the
    form of the tasks that name them) and SpiffArena metadata (ignored). Fills each file's slot."""
    referenced: dict[str, list] = {}  # UI schema file name -> [(form key, userTask node, BPMN file)]
    for found, _ in slots:
        for art in found:
            for key, ui, node in sorted(art.ui_schemas, key=lambda r: (r[0], r[1])):
                referenced.setdefault(Path(ui).name, []).append((key, node, art.filename))
    ui_docs, forms = {}, {}
    uploaded = {Path(filename).stem for _, filename, _ in json_files}
    for index, filename, text in json_files:
        found, out = slots[index]
        name, stem = Path(filename).name, Path(filename).stem
        if name in referenced:
            try:
                if len(text) > foreign_forms.MAX_UI_BYTES:
                    raise foreign_forms.ForeignFormError("el esquema de interfaz supera el tamaño máximo (256 KB)")
                doc = foreign_forms.read_json(text, "el esquema de interfaz")
                if not isinstance(doc, dict):
                    raise foreign_forms.ForeignFormError("el esquema de interfaz debe ser un objeto JSON")
            except foreign_forms.ForeignFormError as exc:
                out.append(Problem(filename, None, f"esquema de interfaz {stem}", str(exc)))
                continue
            ui_docs[name] = (filename, doc)
            continue
        form, file_problems = _json_form(filename, text)
        out.extend(file_problems)
        if form is not None:
            found.append(form)
            forms.setdefault(form.key, form)
    for ui, users in sorted(referenced.items()):
        for key, node, bpmn in users:
            others = sorted({u for u, us in referenced.items() if u != ui and any(k == key for k, _, _ in us)})
            if others:
                _add_problem(slots, bpmn, Problem(bpmn, node.sourceline, _describe(node),
                                                   f"el formulario «{key}» se usa con más de un esquema de interfaz "
                                                   f"({', '.join([ui, *others])}): use uno solo"))
            elif ui not in ui_docs:
                _add_problem(slots, bpmn, Problem(bpmn, node.sourceline, _describe(node),
                                                   f"no se encontró el esquema de interfaz «{ui}» entre los archivos: "
                                                   "el formulario se muestra con el orden y los controles "
                                                   "predeterminados", "warning"))
            elif key not in forms and key not in uploaded:  # an uploaded form that failed was told already
                _add_problem(slots, bpmn, Problem(bpmn, node.sourceline, _describe(node),
                                                  f"el esquema de interfaz «{ui}» solo se aplica si se despliega "
                                                  f"junto con el formulario «{key}.json»", "warning"))
        ui_file, doc = ui_docs.get(ui, (None, None))
        keys = {k for k, _, _ in users if k in forms}
        if ui_file is None or len(keys) != 1 or any(len({u for u, us in referenced.items()
                                                         if any(k == key for k, _, _ in us)}) > 1 for key in keys):
            continue
        form = forms[keys.pop()]
        try:
            merged, warnings = foreign_forms.merge_ui_schema(json.loads(form.content), doc)
            text = json.dumps(merged, ensure_ascii=False, indent=2) + "\n"
            load_form(text)
        except ValueError as exc:
            _add_problem(slots, ui_file, Problem(ui_file, None, f"esquema de interfaz {Path(ui_file).stem}",
                                                  str(exc)))
            continue
        form.content, form.checksum = text, checksum(text)
        for warning in warnings:
            _add_problem(slots, ui_file, Problem(ui_file, None, f"esquema de interfaz {Path(ui_file).stem}",
                                                  warning, "warning"))


def _add_problem(slots, filename, problem) -> None:
    """Add `problem` to the slot of the file it names (each file's problems stay together)."""
    for found, out in slots:
        if any(a.filename == filename for a in found) or any(p.file == filename for p in out):
            out.append(problem)
            return
    slots[-1][1].append(problem)


def _json_form(filename, text) -> tuple[Artifact | None, list[Problem]]:
    """A form file: our JSON Schema as it is, a SpiffArena one adapted (foreign_forms.adapt_schema, told
    as warnings); SpiffArena metadata and UI schemas no task names are ignored (a warning)."""
    name, key = Path(filename).name, Path(filename).stem
    where = f"formulario {key}"
    doc = None
    if len(text) <= MAX_FORM_BYTES and not json_depth_problem(text):
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None  # load_form says why
    if isinstance(doc, dict) and "properties" not in doc and (
            name in foreign_forms.SPIFFARENA_METADATA or foreign_forms.UI_NAME.search(name)
            or foreign_forms.looks_like_ui_schema(doc)):
        what = ("metadatos de un modelo de SpiffArena" if name in foreign_forms.SPIFFARENA_METADATA else
                "esquema de interfaz (UI schema) que ninguna tarea de estos archivos nombra en formUiSchemaFilename")
        return None, [Problem(filename, None, "archivo", f"{what}: se ignora", "warning")]
    problems = []
    if isinstance(doc, dict):
        try:
            adapted, changes = foreign_forms.adapt_schema(doc)
        except foreign_forms.ForeignFormError as exc:
            return None, [Problem(filename, None, where, str(exc))]
        if changes:
            text = json.dumps(adapted, ensure_ascii=False, indent=2) + "\n"
            problems = [Problem(filename, None, where, f"adaptado: {c}", "warning") for c in changes]
    if key == foreign_forms.CONFIRM_FORM_KEY:
        return None, [Problem(filename, None, where, "el nombre está reservado para el formulario de confirmación")]
    try:
        schema = load_form(text)
    except ValueError as exc:
        return None, [Problem(filename, None, where, str(exc))]
    return Artifact("form", key, schema.get("title", key), filename, text, checksum(text)), problems


def _call_cycles(artifacts) -> list[Problem]:
    """Processes of different files that call each other in a circle: each pins the other's version, so
    they cannot be deployed (put them in one file, where a call needs no pin). Walked with a stack: a
    long chain of calls does not exhaust Python's recursion limit."""
    calls = {a.key: a for a in artifacts if a.kind == "process"}
    problems, state = [], {}

    def calls_of(key):
        return iter(sorted(calls[key].uses_processes, key=lambda r: r[0]))

    for start in sorted(calls):
        if start in state:
            continue
        state[start] = "open"
        path, stack = [start], [calls_of(start)]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = "done"
                stack.pop()
                continue
            called, node = step
            if state.get(called) == "open":
                circle = " → ".join([*path[path.index(called):], called])
                problems.append(Problem(calls[path[-1]].filename, node.sourceline, _describe(node),
                                        f"llamada circular entre archivos ({circle}): ponga esos procesos en un "
                                        "mismo archivo"))
            elif called in calls and called not in state:
                state[called] = "open"
                path.append(called)
                stack.append(calls_of(called))
    return problems


def call_order(artifacts) -> list:
    """The artifacts with every called process before the processes that call it (so each caller pins
    the version this deploy stores). Walked with a stack, as `_call_cycles`."""
    calls = {a.key: a for a in artifacts if a.kind == "process"}
    ordered, seen = [], set()

    def called_of(key):
        return iter(sorted(calls[key].uses_processes, key=lambda r: r[0]))

    for art in artifacts:
        if art.kind != "process" or art.key in seen:
            continue
        seen.add(art.key)
        path, stack = [art.key], [called_of(art.key)]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                ordered.append(calls[path.pop()])
                stack.pop()
            elif step[0] in calls and step[0] not in seen:
                seen.add(step[0])
                path.append(step[0])
                stack.append(called_of(step[0]))
    return [a for a in artifacts if a.kind != "process"] + ordered


def dependencies_json(art: Artifact, form_versions: dict, decision_versions: dict,
                      process_versions: dict | None = None) -> dict:
    deps = {
        "forms": {k: form_versions[k] for k in sorted({k for k, _ in art.uses_forms})},
        "decisions": {k: decision_versions[k] for k in sorted({k for k, _ in art.uses_decisions})},
    }
    if art.uses_processes:  # only then: a version stored before calls were pinned keeps its dependencies
        deps["processes"] = {k: process_versions[k] for k in sorted({k for k, _ in art.uses_processes})}
    return deps


def dependency_checksum(content_checksum: str, deps: dict) -> str:
    return checksum(content_checksum + json.dumps(deps, sort_keys=True))
