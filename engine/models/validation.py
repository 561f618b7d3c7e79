"""Validation before deploy: XML safety, XSD, then semantics (storing versions is engine/models/versions.py).

Every problem names the file, the line and the element (id and name), so an analyst can
find it in the modeler. Nothing is stored unless the whole set of files is valid.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from engine.basics.errors import Problem
from engine.basics.xmlsafe import XmlError, parse_xml
from engine.domain import roles
from engine.models import dmn_validation, lane_roles, sandbox, spiff
from engine.models.forms import load_form
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


def _bpmn_validator():
    global _BPMN_VALIDATOR
    if _BPMN_VALIDATOR is None:
        _BPMN_VALIDATOR = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD}).validator
    return _BPMN_VALIDATOR


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
    lanes: dict = field(default_factory=dict)  # lane name -> role mapped by the analyst (engine/models/lane_roles.py)


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


def _xsd_problems(filename, tree, validator) -> list[Problem]:
    if validator.validate(tree):
        return []
    return [Problem(filename, e.line, "xsd", e.message) for e in list(validator.error_log)[:20]]


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


def check_bpmn(filename: str, tree, operators=None, lanes: LaneMapping | None = None
               ) -> tuple[list[Artifact], list[Problem]]:
    """Semantic checks of one BPMN file; returns its processes and the problems found. Service tasks
    may call the operators of `operators` (operator id -> engine.operators.dispatch.Operator; None: none).
    A lane must map to a role (engine/models/lane_roles.py; `lanes`: the mapping given and remembered)."""
    operators = operators or {}
    lanes_given = lanes or LaneMapping()
    problems: list[Problem] = []
    root = tree.getroot()
    artifacts = []

    def problem(node, message, severity="error"):
        problems.append(Problem(filename, node.sourceline, _describe(node), message, severity))

    def check_code(node, source, mode, what):
        if source is None or not source.strip():
            problem(node, f"{what} vacío")
            return
        reason = sandbox.check(source, mode)
        if reason:
            problem(node, f"código no permitido en {what}: {reason}")

    processes = root.findall("bpmn:process", NS)
    in_file = {p.get("id") for p in processes}
    executable = [p for p in processes if p.get("isExecutable", "true") != "false"]
    if not executable:
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
            key = form_key_of(props.get("formJsonSchemaFilename"))
            if not key:
                problem(node, "la tarea de usuario no tiene formulario (formJsonSchemaFilename)")
            else:
                art.uses_forms.add((key, node))
            if (lanes and not any(n.get("id") in in_lane for n in containers(node, process))
                    and not lane_roles.candidate_role(node, lanes_given.given, remembered)):
                problem(node, "la tarea de usuario no está en un carril (rol) ni indica candidateGroups")
            if props.get("asignadoA"):
                check_code(node, props["asignadoA"], "eval", "la expresión asignadoA")
            if props.get("plazo"):
                check_code(node, props["plazo"], "eval", "la expresión plazo")
        for node in process.iter(f"{{{NS['bpmn']}}}startEvent"):
            key = form_key_of(properties(node).get("formJsonSchemaFilename"))
            if key:
                art.uses_forms.add((key, node))
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
            check_code(node, script.text if script is not None else None, "exec", "el script")
        for node in process.iter(f"{{{NS['bpmn']}}}callActivity"):
            called = (node.get("calledElement") or "").strip()
            if not called:
                problem(node, "la actividad de llamada no indica el proceso que llama (calledElement)")
            elif called not in in_file:
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
            decision = _extension(node, "calledDecisionId")
            if decision is None or not (decision.text or "").strip():
                problem(node, "la tarea de regla de negocio no indica la decisión (calledDecisionId)")
            else:
                art.uses_decisions.add((decision.text.strip(), node))
        flows = {f.get("id"): f for f in process.iter(f"{{{NS['bpmn']}}}sequenceFlow")}
        for flow in flows.values():
            condition = flow.find("bpmn:conditionExpression", NS)
            if condition is not None:
                check_code(flow, condition.text, "eval", "la condición")
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
        for timer in process.iter(f"{{{NS['bpmn']}}}timerEventDefinition"):
            for kind in ("timeDate", "timeDuration", "timeCycle"):
                expr = timer.find(f"bpmn:{kind}", NS)
                if expr is not None:
                    check_code(timer.getparent(), expr.text, "eval", "la expresión del temporizador")
        artifacts.append(art)
    _inherit_same_file_calls(artifacts, same_file)
    return artifacts, problems


def _inherit_same_file_calls(artifacts, same_file):
    """A process that calls a process of its own file runs what that one uses: its forms, decisions and
    the processes of other files it calls (at any depth) become the caller's too, so validate builds the
    caller with them and deploy pins their versions."""
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
    link throw events of its name; subprocesses, transactions included, are checked on their own)."""
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
    if not starts:  # an event subprocess or a malformed scope: nothing to say here
        return []
    reached, queue = set(starts), list(starts)
    while queue:
        current = queue.pop()
        for nxt in targets.get(current, []) + boundaries.get(current, []):
            if nxt in nodes and nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    result = [n for i, n in nodes.items() if i not in reached]
    for tag in SUBPROCESS_TAGS:
        for sub in scope.findall(f"bpmn:{tag}", NS):
            if sub.get("triggeredByEvent") != "true":
                result.extend(unreachable(sub))
    return result


def check_dmn(filename: str, tree) -> tuple[list[Artifact], list[Problem]]:
    root = tree.getroot()
    namespace = etree.QName(root).namespace
    schema = DMN_SCHEMAS.get(namespace)
    problems = []
    if schema:
        problems = _xsd_problems(filename, tree, BpmnValidator(schema).validator)
    else:
        problems.append(Problem(filename, root.sourceline, "definitions", f"versión de DMN no soportada: {namespace}"))
    ns = {"dmn": namespace}
    artifacts = []
    for decision in root.findall("dmn:decision", ns):
        artifacts.append(Artifact("decision", decision.get("id"), decision.get("name") or decision.get("id"),
                                  filename, "", ""))
        for expr in decision.iter(f"{{{namespace}}}inputExpression"):
            text = expr.find("dmn:text", ns)
            if text is not None and text.text:
                reason = sandbox.check(text.text, "eval")
                if reason:
                    problems.append(Problem(filename, expr.sourceline, _describe(decision),
                                            f"código no permitido en la expresión de entrada: {reason}"))
        for node, message in dmn_validation.table_problems(decision, ns):
            problems.append(Problem(filename, node.sourceline, _describe(node), message))
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
    artifacts: list[Artifact] = []
    problems: list[Problem] = []
    process_count = 0
    for filename, raw in files:
        ext = os.path.splitext(filename)[1].lower()
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            problems.append(Problem(filename, None, "archivo", "no está codificado en UTF-8"))
            continue
        if ext == ".json":
            try:
                schema = load_form(text)
            except ValueError as exc:
                problems.append(Problem(filename, None, f"formulario {Path(filename).stem}", str(exc)))
                continue
            key = Path(filename).stem
            artifacts.append(Artifact("form", key, schema.get("title", key), filename, text, checksum(text)))
            continue
        if ext not in (".bpmn", ".dmn"):
            problems.append(Problem(filename, None, "archivo", "tipo de archivo no soportado (.bpmn, .dmn, .json)"))
            continue
        try:
            tree = parse_xml(raw)
        except XmlError as exc:
            problems.append(Problem(filename, exc.line, "xml", str(exc)))
            continue
        too_many = _over_cap(filename, ext, tree, process_count)
        if ext == ".bpmn":
            process_count += len(tree.getroot().findall("bpmn:process", NS))
        if too_many:
            problems.append(too_many)
            continue
        if ext == ".bpmn":
            xsd = _xsd_problems(filename, tree, _bpmn_validator())
            if xsd:
                problems.extend(xsd)
                continue
            found, file_problems = check_bpmn(filename, tree, operators, lanes)
        else:
            found, file_problems = check_dmn(filename, tree)
        problems.extend(file_problems)
        for art in found:
            art.content, art.checksum = text, checksum(text)
        artifacts.extend(found)

    keys = {}
    for art in artifacts:
        if (art.kind, art.key) in keys:
            problems.append(Problem(art.filename, None, f"{art.kind} {art.key}",
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
