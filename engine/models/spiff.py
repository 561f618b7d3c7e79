"""The SpiffWorkflow wrapper: spec cache, sandboxed script engine, service dispatch and
serialization.

Specs are parsed once per deployed version and kept in memory; a case's serialized state
leaves the spec out (the version id says which spec it runs), which keeps each stored
step small and avoids re-converting the spec on every transaction.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from contextvars import ContextVar
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskIterator, TaskState

from engine.basics.clock import as_utc
from engine.basics.xmlsafe import parse_xml
from engine.models import dmn_validation
from engine.models.sandbox import RestrictedEnvironment
from engine.operators import deadline, dispatch

_service_context: ContextVar = ContextVar("cpe_service_context", default=None)
_restore_spec: ContextVar = ContextVar("cpe_restore_spec", default=None)


class CaseScriptEngine(PythonScriptEngine):
    """Runs expressions in the sandbox and sends service tasks to the operator table of the case's context."""

    def __init__(self):
        super().__init__(environment=RestrictedEnvironment())

    def call_service(self, task, operation_name=None, operation_params=None, **kwargs):
        ctx = _service_context.get()
        if ctx is None:
            raise dispatch.ServiceError(operation_name, "no hay un contexto de caso activo")
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        try:
            timeout = deadline.limit_seconds(task_properties(task))
        except ValueError:  # deploy refuses bad values; an older version with one gets the default
            timeout = deadline.DEFAULT_SECONDS
        try:
            # dispatch.call checked the result with engine.basics.case_values (plain JSON, or a ServiceError)
            result = dispatch.call(ctx.operators, ctx, operation_name, params, timeout=timeout)
            return json.dumps(result, allow_nan=False)
        except dispatch.ServiceError as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc


SCRIPT_ENGINE = CaseScriptEngine()


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        spec, subprocess_specs = _restore_spec.get()
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _SpeclessWorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


@dataclass
class CompiledProcess:
    """A parsed process version: what it takes to build and run its workflows."""

    version_id: int
    process_id: str
    spec: object
    subprocess_specs: dict
    forms: dict = field(default_factory=dict)  # form id -> engine.models.forms.Form
    # process id (this one and each it calls) -> flow node id -> role; -> user task id -> form id
    # (validation.task_form_key). Per process: ids are unique in a diagram, not across a call.
    lanes: dict = field(default_factory=dict)
    task_forms: dict = field(default_factory=dict)
    # process id -> user task id -> lane_roles.Assignment (camunda:assignee / candidateUsers)
    assignees: dict = field(default_factory=dict)
    start_form: str | None = None
    start_role: str | None = None  # the role of the start event's lane (None: in no lane)

    def new_workflow(self) -> BpmnWorkflow:
        return BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=SCRIPT_ENGINE)

    def _task_specs(self):
        for spec in (self.spec, *self.subprocess_specs.values()):
            yield from spec.task_specs.values()

    def human_tasks(self) -> set[str]:
        """The ids of the tasks people do (user and manual tasks; subprocesses included)."""
        return {task.bpmn_id for task in self._task_specs() if getattr(task, "manual", False) and task.bpmn_id}

    def operators(self) -> set[str]:
        """The service operators its service tasks call (subprocesses included)."""
        return {name for task in self._task_specs() if (name := getattr(task, "operation_name", None))}

    def restore(self, state: dict) -> BpmnWorkflow:
        token = _restore_spec.set((self.spec, self.subprocess_specs))
        try:
            workflow = SERIALIZER.from_dict(json.loads(json.dumps(state)))
        finally:
            _restore_spec.reset(token)
        workflow.script_engine = SCRIPT_ENGINE
        return workflow


def dump(workflow: BpmnWorkflow) -> dict:
    return SERIALIZER.to_dict(workflow)


def replace_variable(state: dict, name: str, old, new) -> int:
    """In a stored workflow (`dump`), the case variable `name` becomes `new` wherever it is `old`:
    the workflow's and each subprocess's data, and each task's, full (the root task) or as the
    change it made to its parent's (SpiffWorkflow's serializer stores a task's data as a delta).
    So every task, open or yet to come, reads `new`. Changes `state` in place; returns how many
    places changed (0: the variable never held `old`)."""
    changed = 0

    def swap(values) -> None:
        nonlocal changed
        if isinstance(values, dict) and name in values and values[name] == old:
            values[name] = new
            changed += 1

    def walk(workflow: dict) -> None:
        swap(workflow.get("data"))
        for task in (workflow.get("tasks") or {}).values():
            swap(task.get("data"))
            swap((task.get("delta") or {}).get("updates"))
        for sub in (workflow.get("subprocesses") or {}).values():
            walk(sub)

    walk(state)
    return changed


def parse_process(process_id: str, bpmn_files: list[tuple[str, str]], dmn_files: list[tuple[str, str]]):
    """The spec of `process_id` and of the subprocesses and called processes it runs, from the BPMN
    files (its own first, then those of the processes it calls) and the DMN files its decisions are in."""
    return specs_of(parser_for(bpmn_files, dmn_files), process_id)


def parser_for(bpmn_files: list[tuple[str, str]], dmn_files: list[tuple[str, str]]) -> SpiffBpmnParser:
    """One parser holding the BPMN files and the DMN files (each file read once): every process it
    holds can then be built from it (`specs_of`) without reading the files again."""
    parser = SpiffBpmnParser()
    for filename, bpmn in bpmn_files:
        parser.add_bpmn_xml(camunda_decisions(join_links(parse_xml(bpmn).getroot())), filename=filename)
    for dmn_name, dmn_content in dmn_files:
        for decision in one_decision_each(labelled_inputs(without_annotations(parse_xml(dmn_content).getroot()))):
            parser.add_dmn_xml(decision, filename=dmn_name)
    return parser


def specs_of(parser: SpiffBpmnParser, process_id: str):
    """The spec of `process_id` and of the subprocesses and called processes it runs (at any depth), in
    the order SpiffWorkflow's own `get_subprocess_specs` gives them, walked with a stack (a long chain of
    calls does not exhaust Python's recursion limit)."""
    spec = parser.get_spec(process_id)
    used: dict = {}
    stack = [iter(spec.task_specs.values())]
    while stack:
        task_spec = next(stack[-1], None)
        if task_spec is None:
            stack.pop()
        elif isinstance(task_spec, SubWorkflowTaskMixin) and task_spec.spec not in used:
            sub = used[task_spec.spec] = parser.get_spec(task_spec.spec, required=True)
            if sub is not None:
                stack.append(iter(sub.task_specs.values()))
    return spec, used


BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def link_name(event) -> str | None:
    definition = event.find(f"{BPMN}linkEventDefinition")
    return (definition.get("name") or definition.get("id")) if definition is not None else None


def join_links(root):
    """The diagram with each link throw event joined to the link catch event of its name (in the same
    process or subprocess) by a sequence flow: SpiffWorkflow 3.2 reads link events as plain events, so
    without the flow the path would end at the throw event."""
    for scope in root.iter(f"{BPMN}process", f"{BPMN}subProcess", f"{BPMN}transaction", f"{BPMN}adHocSubProcess"):
        catches = {}
        for event in scope.findall(f"{BPMN}intermediateCatchEvent"):
            if link_name(event):
                catches.setdefault(link_name(event), event.get("id"))
        for event in scope.findall(f"{BPMN}intermediateThrowEvent"):
            target = catches.get(link_name(event)) if link_name(event) else None
            if target:
                scope.append(scope.makeelement(f"{BPMN}sequenceFlow", {
                    "id": f"{event.get('id')}__link", "sourceRef": event.get("id"), "targetRef": target}))
    return root


CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


def called_decision(node) -> str | None:
    """The decision a business rule task calls: spiffworkflow:calledDecisionId, or Camunda Modeler's
    camunda:decisionRef attribute (the same thing, drawn in Camunda)."""
    found = node.find(f"{BPMN}extensionElements/{SPIFF}calledDecisionId")
    if found is not None and (found.text or "").strip():
        return found.text.strip()
    return (node.get(f"{CAMUNDA}decisionRef") or "").strip() or None


def camunda_decisions(root):
    """The diagram with each business rule task drawn in Camunda (camunda:decisionRef) given the
    spiffworkflow:calledDecisionId SpiffWorkflow's parser reads, so it needs no other parser."""
    for node in root.iter(f"{BPMN}businessRuleTask"):
        decision = called_decision(node)
        if decision is None or node.find(f"{BPMN}extensionElements/{SPIFF}calledDecisionId") is not None:
            continue
        extensions = node.find(f"{BPMN}extensionElements")
        if extensions is None:
            extensions = node.makeelement(f"{BPMN}extensionElements", {})
            node.insert(0, extensions)
        called = extensions.makeelement(f"{SPIFF}calledDecisionId", {})
        called.text = decision
        extensions.append(called)
    return root


def without_annotations(root):
    """The DMN document without its rule annotations (DMN 1.3 `annotation` columns and their
    `annotationEntry` cells, which Camunda Modeler and others write): comments for readers with no
    effect on a decision, that SpiffWorkflow's parser refuses ("Unknown type in decision table")."""
    for node in list(root.iter("{*}annotation", "{*}annotationEntry")):
        if etree.QName(node.getparent()).localname in ("decisionTable", "rule"):
            node.getparent().remove(node)
    return root


def labelled_inputs(root):
    """The DMN document with each input that has no input expression but is labelled with a variable
    name (dmn_validation.label_variable) given that name as its expression: what SpiffWorkflow reads for
    it anyway (the case variable of that name), now evaluated like any other expression."""
    for column in root.iter("{*}input"):
        if etree.QName(column.getparent()).localname != "decisionTable":
            continue
        name = dmn_validation.label_variable(column)
        expression = column.find("{*}inputExpression")
        if name is None or expression is None or (expression.findtext("{*}text") or "").strip():
            continue
        text = expression.find("{*}text")
        if text is None:
            text = etree.SubElement(expression, etree.QName(etree.QName(expression).namespace, "text"))
        text.text = name
    return root


def one_decision_each(root) -> list:
    """A DMN document as one document per decision: SpiffWorkflow's DMN parser reads only the first
    decision of a document (and fails on a second), so each decision gets a document of its own: the
    root's tag, attributes and namespaces and that one decision (copied alone: the cost grows with the
    document, not with its square)."""
    decisions = [child for child in root if isinstance(child.tag, str) and child.tag.endswith("}decision")]
    if len(decisions) < 2:
        return [root]
    parts = []
    for decision in decisions:
        part = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap)
        part.append(deepcopy(decision))
        parts.append(part)
    return parts


class SpecCache:
    """Compiled processes by version id; parsing happens once per version and process."""

    def __init__(self):
        self._items: dict[int, CompiledProcess] = {}
        self._lock = threading.Lock()

    def get(self, version_id: int, build) -> CompiledProcess:
        item = self._items.get(version_id)
        if item is None:
            with self._lock:
                item = self._items.get(version_id)
                if item is None:
                    item = self._items[version_id] = build()
        return item


class WorkflowCache:
    """Deserialized workflows of recently moved cases, so the next step of a case skips
    deserializing it. An entry is only good for the exact stored state it was saved as:
    (case id, lock_version, updated_at, version id). Every committed change of a case bumps its
    lock_version (optimistic locking), in this process or any other, so a stale entry never
    matches. A transaction takes its entry out (`take`) and puts the workflow back only after
    its commit (`put`): a rolled-back step, whose workflow object was already mutated, is
    simply forgotten.

    Bounded twice, least recently used entries first: by entries (`size`) and by the tasks the
    entries hold together (`tasks`; None: no such bound). A workflow's memory grows with its task
    tree, each task with its own copy of the case data (~4 kB a task measured on cpe_actual,
    some 8 times its JSON), and a case that loops through follow-ups keeps adding tasks, so a
    bound on entries alone lets the memory grow as the cases age."""

    def __init__(self, size: int = 256, tasks: int | None = None):
        self.size, self.tasks = size, tasks
        self._items: OrderedDict = OrderedDict()  # case id -> (stamp, workflow, task count)
        self._held = 0  # tasks of the entries
        self._lock = threading.Lock()

    @staticmethod
    def _stamp(lock_version, updated_at, version_id):
        return lock_version, as_utc(updated_at), version_id

    def take(self, case_id, lock_version, updated_at, version_id):
        with self._lock:
            item = self._items.pop(case_id, None)
            if item is not None:
                self._held -= item[2]
        if item is None or item[0] != self._stamp(lock_version, updated_at, version_id):
            return None
        return item[1]

    def put(self, case_id, lock_version, updated_at, version_id, workflow) -> None:
        if self.size <= 0:
            return
        weight = task_count(workflow)
        if self.tasks is not None and weight > self.tasks:
            return
        with self._lock:
            old = self._items.pop(case_id, None)
            self._held += weight - (old[2] if old is not None else 0)
            self._items[case_id] = (self._stamp(lock_version, updated_at, version_id), workflow, weight)
            while len(self._items) > self.size or (self.tasks is not None and self._held > self.tasks):
                self._held -= self._items.popitem(last=False)[1][2]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._held = 0

    @property
    def held_tasks(self) -> int:
        return self._held

    def __len__(self):
        return len(self._items)


# -- keeping a case's workflow as small as what is still open (issue 20) ------------------------------

# Tasks a step may still act on: unfinished ones (predicted, waiting, ready, started) and failed ones
# (engine/cases/recovery.py retries or skips them).
LIVE = TaskState.NOT_FINISHED_MASK | TaskState.ERROR
# Completed levels kept above the common ancestor of the live tasks: a few passes of a short loop, so a
# step that looks at the parents of what it runs (a join tracing its inputs, the step budget naming a
# loop, an error naming its task) finds them as before.
PRUNE_MARGIN = 25


def _ancestry(task) -> list:
    chain = []
    while task is not None:
        chain.append(task)
        task = task.parent
    return chain  # the task, its parent, ..., the root


def _prune_tree(workflow) -> set:
    """Cut the completed history off `workflow`'s own task tree (not its subprocesses'): the tree
    is re-rooted PRUNE_MARGIN levels above the lowest common ancestor of its live tasks and of its
    last completed task, and every task outside that subtree is dropped. Returns the dropped ids."""
    keep = [t for t in TaskIterator(workflow.task_tree, state=LIVE)]
    if workflow.last_task is not None and workflow.last_task.id in workflow.tasks:
        keep.append(workflow.last_task)
    if not keep:
        return set()  # a completed workflow is not stepped again: kept whole
    chains = [_ancestry(t)[::-1] for t in keep]  # each from the root down
    common = None
    for level in zip(*chains, strict=False):  # as deep as the shortest chain
        if any(t is not level[0] for t in level):
            break
        common = level[0]
    if common is None:
        return set()
    above = _ancestry(common)
    root = above[min(PRUNE_MARGIN, len(above) - 1)]
    if root is workflow.task_tree:
        return set()
    kept, stack = set(), [root]
    while stack:
        task = stack.pop()
        kept.add(task.id)
        stack.extend(task.children)
    dropped = set(workflow.tasks) - kept
    for task_id in dropped:
        del workflow.tasks[task_id]
    root.parent = None
    workflow.task_tree = root
    return dropped


def prune(workflow: BpmnWorkflow) -> int:
    """Drop the completed history from a case's workflow before it is stored, so that what a step
    walks, serializes and deserializes is the size of what is still open, not of the case's age
    (a case going round the quarterly follow-up loop of cpe_actual gained ~6 tasks a quarter, and
    its steps their cost with them). The history itself is in the database already: each
    completed user task in `tasks`, each step in `case_events`.

    The top workflow and each active subprocess are pruned (`_prune_tree`); the subprocesses of
    dropped tasks go with them. A workflow stored before this existed is loaded whole and pruned at
    its next step: no migration. Returns how many tasks were dropped."""
    dropped = _prune_tree(workflow)
    for sub in list(workflow.get_active_subprocesses()):
        dropped |= _prune_tree(sub)
    gone = [task_id for task_id in workflow.subprocesses if task_id in dropped]
    while gone:  # a subprocess is keyed by the task that runs it; nested ones by a task of theirs
        for task_id in gone:
            dropped |= set(workflow.subprocesses.pop(task_id).tasks)
        gone = [task_id for task_id in workflow.subprocesses if task_id in dropped]
    return len(dropped)


def task_count(workflow) -> int:
    """The tasks of a workflow and of its subprocesses (what its memory grows with)."""
    return len(workflow.tasks) + sum(len(sub.tasks) for sub in workflow.subprocesses.values())


# -- reading a workflow --------------------------------------------------------------

def ready_user_tasks(workflow: BpmnWorkflow):
    return [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]


@dataclass
class OpenTasks:
    """The ready user tasks and the waiting tasks of a workflow, from one walk of its task tree
    (in the tree's order, as `get_tasks` gives them)."""

    ready: list
    waiting: list
    automatic_ready: bool = False  # a ready task that is not a user task: the engine has work left


def open_tasks(workflow: BpmnWorkflow) -> OpenTasks:
    found = OpenTasks([], [])
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.state == TaskState.WAITING:
            found.waiting.append(task)
        elif task.task_spec.manual:
            found.ready.append(task)
        else:
            found.automatic_ready = True
    return found


def task_properties(task) -> dict:
    return (getattr(task.task_spec, "extensions", None) or {}).get("properties", {}) or {}


def task_process(compiled: CompiledProcess, task) -> str:
    """The process whose diagram holds `task`: the case's own or one it calls (an embedded subprocess's
    task belongs to the process around it)."""
    workflow = task.workflow
    while workflow.spec.name not in compiled.lanes:
        parent_id = getattr(workflow, "parent_task_id", None)
        if parent_id is None:
            return compiled.process_id
        workflow = workflow.top_workflow.get_task_from_id(parent_id).workflow
    return workflow.spec.name


def task_lane(compiled: CompiledProcess, task) -> str | None:
    """The role a human task is offered to (versions.lanes_and_start_form)."""
    return compiled.lanes.get(task_process(compiled, task), {}).get(task.task_spec.bpmn_id)


def task_assignment(compiled: CompiledProcess, task):
    """The person a ready user task names in camunda:assignee/candidateUsers (lane_roles.Assignment), or None."""
    return compiled.assignees.get(task_process(compiled, task), {}).get(task.task_spec.bpmn_id)


def task_form_key(compiled: CompiledProcess, task) -> str | None:
    """The form of a ready human task: a user task's as the diagram gives it (its own, generated from
    camunda:formData, or the confirmation form); another (a manual task) only by its own property."""
    forms = compiled.task_forms.get(task_process(compiled, task), {})
    return forms.get(task.task_spec.bpmn_id) or form_key(task_properties(task))


def form_key(properties: dict) -> str | None:
    filename = properties.get("formJsonSchemaFilename")
    if not filename:
        return None
    return filename[:-5] if filename.endswith(".json") else filename


def lane_of(task) -> str | None:
    return getattr(task.task_spec, "lane", None)


def _timer_due(task) -> datetime | None:
    """When a waiting timer event task fires (None if it is not a timer or not armed)."""
    if task.state != TaskState.WAITING:
        return None
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        value = value.get("next") if value.get("cycles") else None
    if not isinstance(value, str):
        return None
    try:
        return TimerEventDefinition.get_datetime(value)
    except ValueError:
        try:
            moment = TimerEventDefinition.parse_time_or_duration(value)
        except Exception:  # noqa: BLE001 - an unreadable value is not a due time
            return None
        return moment if isinstance(moment, datetime) else None


def next_timer(workflow: BpmnWorkflow) -> datetime | None:
    """Earliest due time of the timers the workflow is waiting on (None if none)."""
    return next_timer_of(workflow.get_tasks(state=TaskState.WAITING))


def next_timer_of(waiting_tasks) -> datetime | None:
    """Earliest due time among `waiting_tasks` (OpenTasks.waiting) that are armed timers."""
    due = [d for d in map(_timer_due, waiting_tasks) if d is not None]
    return min(due) if due else None


def task_due(task, now: datetime) -> datetime | None:
    """The due date of a ready user task, read from the diagram.

    The task's `plazo` property (an expression giving an ISO 8601 duration such as "P10D"
    or `dias_habiles(5)`, or a date-time) wins; otherwise the earliest timer attached to the
    task as a boundary event (e.g. "5 días hábiles sin agendar" escalates) is its deadline.
    """
    expression = task_properties(task).get("plazo")
    if expression:
        try:
            value = task.workflow.script_engine.evaluate(task, expression)
            return _moment(value, now)
        except Exception:  # noqa: BLE001 - checked at deploy; a bad value only means "no due date"
            return None
    siblings = task.parent.children if task.parent is not None else []
    due = [d for d in (_timer_due(t) for t in siblings if t is not task) if d is not None]
    return min(due) if due else None


def _moment(value, now: datetime) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.upper().startswith("P"):
        return now + TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(value), now)
    return TimerEventDefinition.get_datetime(value)


def run_steps(workflow: BpmnWorkflow, did_complete_task=None) -> None:
    """Advance until only user tasks or timers that are not due remain."""
    settle(workflow, did_complete_task)


# A loop that goes back through script, service or rule tasks only (no user task, message or timer
# to wait on) never lets a step end. Two budgets stop it and put the case in error instead:
MAX_ENGINE_STEPS = 2000  # automatic tasks one settle may complete (the shipped models need a few dozen)
# SpiffWorkflow 3.2 walks the task tree to at most 1000 levels (TaskIterator's max_depth, subprocesses
# counting from the task that runs them): below that, tasks are invisible, so a workflow whose ready
# task is deeper reports itself completed. Each pass of a loop adds its tasks below the previous ones.
MAX_TASK_DEPTH = 900


class EngineStepLimit(RuntimeError):
    """A settle went over a budget: the case goes to error with this (Spanish) message, naming the
    element the steps went around (`task`, as SpiffWorkflow's own exceptions carry it)."""

    def __init__(self, message: str, task):
        super().__init__(message)
        self.task = task


def tree_depth(task) -> int:
    """How deep SpiffWorkflow's task iterator must go to reach `task` (subprocesses included)."""
    depth = 0
    while task is not None:
        depth += task.depth + 1
        parent_id = getattr(task.workflow, "parent_task_id", None)
        task = task.workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None
    return depth


class _StepBudget:
    """The did_complete_task callback of one settle: counts the automatic tasks completed and the
    depth they reach, and raises EngineStepLimit past MAX_ENGINE_STEPS or MAX_TASK_DEPTH."""

    def __init__(self, then=None):
        self.then, self.steps = then, 0

    def __call__(self, task):
        if self.then is not None:
            self.then(task)
        self.steps += 1
        if self.steps > MAX_ENGINE_STEPS:
            raise self._loop(f"más de {MAX_ENGINE_STEPS}", task)
        if tree_depth(task) > MAX_TASK_DEPTH:
            if self.steps > MAX_TASK_DEPTH // 4:  # this settle went deep: a loop without waiting
                raise self._loop(str(self.steps), task)
            raise EngineStepLimit(  # a case that went around a loop with waits many times, over several steps
                f"El caso encadenó más de {MAX_TASK_DEPTH} pasos, lo más que el motor puede seguir en un caso; "
                f"revise el ciclo en «{_label(task)}» (cada vuelta agrega pasos al caso) o termine el caso e "
                "inicie otro", task)

    def _loop(self, steps: str, last) -> EngineStepLimit:
        task = self._loop_task(last)
        return EngineStepLimit(f"El caso dio {steps} pasos sin esperar una tarea de usuario, un mensaje ni un "
                               f"temporizador; revise el ciclo en «{_label(task)}»: cada vuelta debe esperar algo "
                               "o tener una salida que se cumpla", task)

    @staticmethod
    def _loop_task(last):
        """The element the loop turns back at: the tasks from the last one completed up its parents to
        the previous run of the same element are one pass of the loop; a gateway among them if any,
        else the last task."""
        name, task, one_pass = last.task_spec.name, last.parent, [last]
        while task is not None and task.task_spec.name != name and len(one_pass) < MAX_TASK_DEPTH:
            one_pass.append(task)
            task = task.parent
        if task is None:  # no earlier run of it above: not a loop of its parents (many tasks side by side)
            return last
        gateways = [t for t in one_pass if "Gateway" in type(t.task_spec).__name__]
        return gateways[0] if gateways else last


def _label(task) -> str:
    spec = task.task_spec
    return getattr(spec, "bpmn_name", None) or getattr(spec, "bpmn_id", None) or spec.name


def settle(workflow: BpmnWorkflow, did_complete_task=None) -> OpenTasks:
    """`run_steps`, returning what is left open: the walk that checks that the engine is done
    also gives the ready user tasks and the waiting timers (no second and third walk). Raises
    EngineStepLimit when the steps go over MAX_ENGINE_STEPS or MAX_TASK_DEPTH."""
    budget = _StepBudget(did_complete_task)
    for _ in range(1000):  # a pass that completes nothing leaves nothing ready; this only bounds the odd case
        workflow.do_engine_steps(did_complete_task=budget)
        found = open_tasks(workflow)
        if not found.automatic_ready:
            return found
    raise RuntimeError("el proceso no se detiene: revise bucles sin tareas de usuario ni temporizadores")


def json_safe(value):
    """Case data as plain JSON (dates become ISO strings)."""
    return json.loads(json.dumps(value, default=str))


def service_context(ctx):
    return _ContextSetter(ctx)


class _ContextSetter:
    def __init__(self, ctx):
        self.ctx = ctx

    def __enter__(self):
        self.token = _service_context.set(self.ctx)
        return self.ctx

    def __exit__(self, *exc):
        _service_context.reset(self.token)
        return False
