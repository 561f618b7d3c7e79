"""Versioned models in the database: storing a deploy, listing versions, compiling a
process version together with the exact form and decision versions it pins."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import func, select

from engine.basics.errors import BrokenModel, DeployError, NotFound, Problem, errors_of
from engine.basics.xmlsafe import parse_xml
from engine.models import foreign_forms, lane_roles, parser_errors, spiff, validation
from engine.models.forms import Form, load_form
from engine.store.schema import Case, ModelVersion, User

KIND_NAMES = {"process": "proceso", "decision": "decisión", "form": "formulario"}
DEPLOY_ORDER = {"form": 0, "decision": 1, "process": 2}


def latest_versions(s, kind) -> dict:
    rows = s.execute(select(ModelVersion.key, func.max(ModelVersion.version))
                     .where(ModelVersion.kind == kind).group_by(ModelVersion.key)).all()
    return dict(rows)


def latest_row(s, kind, key) -> ModelVersion | None:
    return s.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.key == key)
                    .order_by(ModelVersion.version.desc()).limit(1))


def version_row(s, kind, key, version=None) -> ModelVersion:
    row = latest_row(s, kind, key) if version is None else s.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.key == key,
                                   ModelVersion.version == version))
    if row is None:
        raise NotFound(f"no existe el {KIND_NAMES[kind]} '{key}'" + (f" versión {version}" if version else ""))
    return row


class Deployed(list):
    """What a deploy did (one dict per model), with the warnings it passed over."""

    def __init__(self, results, warnings):
        super().__init__(results)
        self.warnings = warnings


def _lane_mapping(s, given) -> validation.LaneMapping:
    """The mapping `given` for this upload, and the one each process's latest version pins."""
    def remembered(key):
        row = latest_row(s, "process", key)
        return (row.dependencies or {}).get("lanes") if row is not None else None
    return validation.LaneMapping(dict(given or {}), remembered)


def _checked(s, files, operators, lanes=None):
    try:
        lanes = lane_roles.check_mapping(lanes or {})
    except ValueError as exc:  # a mapping that cannot be used: refused before reading the files
        return [], [Problem("asignación de carriles", None, "carril", str(exc))]
    return _checked_files(s, files, operators, lanes)


def _checked_files(s, files, operators, lanes):
    """(artifacts, problems) of `files` against what is deployed: the checks, then, if they find no error,
    SpiffWorkflow builds each process exactly as deploy will (with the processes it calls and the
    decisions it uses, from these files or deployed). The processes that read the same files share one
    parser, so each file is read once, not once per process it holds."""
    artifacts, problems = validation.check_files(files, latest_versions(s, "form"), latest_versions(s, "decision"),
                                             operators, latest_versions(s, "process"), _lane_mapping(s, lanes))
    problems.extend(_assignee_warnings(s, artifacts))
    if errors_of(problems):
        return artifacts, problems
    pending = {(a.kind, a.key): a for a in artifacts}
    groups: dict = {}  # (BPMN checksums, DMN checksums) -> (bpmn, dmn, [artifacts])
    lookups = _Lookups(s)
    for art in (a for a in artifacts if a.kind == "process"):
        bpmn, dmn, _nodes = _sources(s, art, pending, lookups)
        group = groups.setdefault((tuple(c for c, _ in bpmn), tuple(c for c, _ in dmn)),
                                  ([f for _, f in bpmn], [f for _, f in dmn], []))
        group[2].append(art)
    for bpmn, dmn, members in groups.values():
        try:
            parser = spiff.parser_for(bpmn, dmn)
        except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises many types; each becomes a Problem
            problems.extend(parser_errors.problem(exc, art.filename, art.key, dict(bpmn + dmn)) for art in members)
            continue
        for art in members:
            try:
                spiff.specs_of(parser, art.key)
            except Exception as exc:  # noqa: BLE001
                problems.append(parser_errors.problem(exc, art.filename, art.key, dict(bpmn + dmn)))
    return artifacts, problems


def existing_users(s, names) -> list[str]:
    """The usernames of `names` that are users (active), in the order given."""
    found = set(s.scalars(select(User.username).where(User.username.in_(list(names)), User.active.is_(True))))
    return [name for name in names if name in found]


def _assignee_warnings(s, artifacts) -> list[Problem]:
    """A user task that names in camunda:assignee/candidateUsers only people who are not users: it will
    stay offered to its role (lane_roles.assignment)."""
    found = []
    for art in artifacts:
        for node, names in art.assignees.values():
            if not existing_users(s, names):
                shown = ", ".join(f"«{lane_roles.shown(n)}»" for n in names[:5])
                found.append(Problem(art.filename, node.sourceline, validation.describe(node),
                                     f"camunda:assignee/candidateUsers nombra a {shown}, y no hay un usuario con ese "
                                     "nombre de usuario: la tarea queda en la bandeja del rol de su carril (si el "
                                     "usuario se crea después, las tareas que se abran desde entonces le llegarán)",
                                     "warning"))
    return found


class _Lookups:
    """The stored rows and the process ids of each file one check reads, each asked for once."""

    def __init__(self, s):
        self.s, self.rows, self.ids = s, {}, {}

    def row(self, kind, key, version=None):
        if (kind, key, version) not in self.rows:
            self.rows[(kind, key, version)] = (latest_row(self.s, kind, key) if version is None
                                               else version_row(self.s, kind, key, version))
        return self.rows[(kind, key, version)]

    def processes_in(self, checksum, content) -> set:
        if checksum not in self.ids:
            root = parse_xml(content).getroot()
            self.ids[checksum] = {p.get("id") for p in root.findall("bpmn:process", validation.NS)}
        return self.ids[checksum]


def _sources(s, root, pending, lookups=None):
    """The BPMN and DMN files that build process `root` (an Artifact of this deploy, or a stored row),
    as lists of (checksum, (filename, content)), its own first, and the artifacts and rows visited: an
    artifact's calls and decisions resolve to this deploy's (`pending`: (kind, key) -> Artifact) or else
    to the latest deployed, a row's to the versions it pins. A called process that a file already taken
    defines (the file being deployed defines it anew, say) comes from that file: an older file that
    defines it, or any other process already taken, is left out (two definitions of a process cannot be
    built together). Walked with a stack: a long chain of calls does not exhaust Python's recursion limit."""
    lookups = lookups or _Lookups(s)
    bpmn, dmn, nodes, seen, defined = {}, {}, [], set(), set()

    def enter(node):
        """The node's dependencies to walk next, or None if its file is left out."""
        if node.checksum not in bpmn:
            ids = lookups.processes_in(node.checksum, node.content)
            if nodes and ids & defined:
                return None
            defined.update(ids)
            bpmn[node.checksum] = (node.filename, node.content)
        nodes.append(node)
        if isinstance(node, validation.Artifact):
            decisions = [pending.get(("decision", k)) or lookups.row("decision", k)
                         for k in sorted({k for k, _ in node.uses_decisions})]
            called = [pending.get(("process", k)) or lookups.row("process", k)
                      for k in sorted({k for k, _ in node.uses_processes})]
        else:
            deps = node.dependencies or {}
            decisions = [lookups.row("decision", k, v) for k, v in sorted(deps.get("decisions", {}).items())]
            called = [lookups.row("process", k, v) for k, v in sorted(deps.get("processes", {}).items())]
        for decision in decisions:
            dmn.setdefault(decision.checksum, (decision.filename, decision.content))
        return iter(called)

    seen.add(root.key)
    stack = [enter(root)]
    while stack:
        process = next(stack[-1], None)
        if process is None:
            stack.pop()
        elif process.key not in seen:
            seen.add(process.key)
            following = enter(process)
            if following is not None:
                stack.append(following)
    return list(bpmn.items()), list(dmn.items()), nodes


def check(s, files, operators, lanes=None):
    """The problems of `files` against what is deployed; service tasks may call `operators` (the Engine's table);
    `lanes`: the lane -> role mapping given for this upload (engine/models/lane_roles.py)."""
    return _checked(s, files, operators, lanes)[1]


def lane_suggestions(s, files, lanes=None) -> list[dict]:
    """The lanes of the processes in `files` that are not named after a role, each with the role it maps to
    now (given, remembered or read from candidateGroups) or None: what the deploy form asks about."""
    try:
        lanes = lane_roles.check_mapping(lanes or {})
    except ValueError:  # the check tells why (`check`): the form asks about every lane again
        lanes = {}
    mapping, out, seen = _lane_mapping(s, lanes), [], set()
    for _filename, raw in files:
        try:
            root = parse_xml(raw).getroot()
        except Exception:  # noqa: BLE001 - a file that is not XML has no lanes; validation names its problem
            continue
        for process in root.findall("bpmn:process", validation.NS)[:validation.MAX_PROCESSES]:
            for item in lane_roles.suggestions(process, mapping.given, mapping.memory(process.get("id"))):
                if (item["lane"], item["role"]) not in seen:
                    seen.add((item["lane"], item["role"]))
                    out.append(item)
                    if len(out) >= lane_roles.MAX_PAIRS:  # as many as a mapping may hold
                        return out
    return out


def deploy(s, files, author, message, now, build, operators, lanes=None) -> Deployed:
    """Store a new version of every changed model; `build` compiles a process row (and must
    succeed: a process that cannot run does not deploy); service tasks may call `operators`.
    `lanes`: the lane -> role mapping given (a process version pins the mapping of its lanes that
    are not named after a role, so the next version remembers it).
    Refuses (DeployError, with every problem) exactly when `check` finds an error."""
    artifacts, problems = _checked(s, files, operators, lanes)
    if errors_of(problems):
        raise DeployError(problems)
    results = []
    for art in sorted(validation.call_order(artifacts), key=lambda a: DEPLOY_ORDER[a.kind]):
        deps = {}
        if art.kind == "process":
            deps = validation.dependencies_json(art, latest_versions(s, "form"), latest_versions(s, "decision"),
                                            latest_versions(s, "process"))
            if art.lanes:  # only then: a version whose lanes are roles keeps its dependencies
                deps["lanes"] = dict(sorted(art.lanes.items()))
        current = latest_row(s, art.kind, art.key)
        if current is not None and current.checksum == art.checksum and (current.dependencies or {}) == deps:
            results.append({"kind": art.kind, "key": art.key, "version": current.version, "created": False})
            continue
        version = (current.version + 1) if current else 1
        s.add(ModelVersion(kind=art.kind, key=art.key, version=version, name=art.name, filename=art.filename,
                           checksum=art.checksum, content=art.content, dependencies=deps, author=author,
                           message=message, created_at=now))
        s.flush()
        results.append({"kind": art.kind, "key": art.key, "version": version, "created": True})
    for art in (a for a in artifacts if a.kind == "process"):
        row = latest_row(s, "process", art.key)
        try:
            build(s, row)
        except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises many types
            bpmn, dmn, _nodes = _sources(s, row, {})
            sources = dict(f for _, f in bpmn + dmn)
            raise DeployError([parser_errors.problem(exc, art.filename, art.key, sources)]) from None
    return Deployed(results, problems)


def listing(s) -> list[dict]:
    counts = dict(s.execute(select(Case.model_version_id, func.count()).where(Case.status == "active")
                            .group_by(Case.model_version_id)).all())
    rows = s.scalars(select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.key, ModelVersion.version)).all()
    return [{"kind": r.kind, "key": r.key, "version": r.version, "name": r.name, "filename": r.filename,
             "checksum": r.checksum, "author": r.author, "message": r.message,
             "created_at": r.created_at.isoformat(), "dependencies": r.dependencies,
             "active_cases": counts.get(r.id, 0)} for r in rows]


def newest(rows, kinds=("process", "decision", "form")) -> list[dict]:
    """The newest version of each model of `kinds` among `rows` (a `listing`, in version order), in
    the listing's order of models (pure)."""
    found = {}
    for row in rows:
        if row["kind"] in kinds:
            found[(row["kind"], row["key"])] = row  # in version order: the last one wins
    return list(found.values())


def compile_process(s, row: ModelVersion) -> spiff.CompiledProcess:
    """The process version with the processes it calls and the decisions and forms they all use, at the
    versions each pins. A called process's tasks take their forms and lanes from its own version."""
    bpmn, dmn, rows = _sources(s, row, {})
    spec, subs = spiff.parse_process(row.key, [f for _, f in bpmn], [f for _, f in dmn])
    forms, lanes, task_forms, assignees = {}, {}, {}, {}
    # a called process of the same file as its caller has no row here: its lanes and forms come from that file,
    # with the lane mapping its caller pins (validation._inherit_same_file_calls)
    same_file = {row.key, *subs} - {each.key for each in rows}
    for each in reversed(rows):  # the process itself last: its own forms and lanes win
        forms.update({key: stored_form(s, key, v) for key, v in (each.dependencies or {}).get("forms", {}).items()})
        mapping = (each.dependencies or {}).get("lanes")
        found = lanes_and_start_form(each.content, each.key, mapping)
        lanes[each.key], task_forms[each.key] = found[0], found[2]
        assignees[each.key] = task_assignments(each.content, each.key)
        for key in sorted(same_file & _process_ids(each.content)):
            found = lanes_and_start_form(each.content, key, mapping)
            lanes[key], task_forms[key] = found[0], found[2]
            assignees[key] = task_assignments(each.content, key)
            same_file.discard(key)
    if any(foreign_forms.CONFIRM_FORM_KEY in f.values() for f in task_forms.values()):  # built in, for every version
        forms[foreign_forms.CONFIRM_FORM_KEY] = Form(foreign_forms.CONFIRM_FORM_KEY, 1, foreign_forms.CONFIRM_FORM)
    compiled = spiff.CompiledProcess(row.id, row.key, spec, subs, forms)
    compiled.lanes, compiled.task_forms, compiled.assignees = lanes, task_forms, assignees
    own = lanes_and_start_form(row.content, row.key, (row.dependencies or {}).get("lanes"))
    compiled.start_form, compiled.start_role = own[1], own[3]
    return compiled


def task_assignments(bpmn: str, process_id: str) -> dict:
    """user task id -> lane_roles.Assignment, for the user tasks of the process that name a person in
    camunda:assignee/candidateUsers (and have no asignadoA property, which comes first)."""
    process = parse_xml(bpmn).getroot().find(f"bpmn:process[@id='{process_id}']", validation.NS)
    found = {}
    for task in process.iter(etree.QName(validation.NS["bpmn"], "userTask").text):
        named = lane_roles.assignment(task)
        if (named.users or named.expression) and not validation.properties(task).get("asignadoA"):
            found[task.get("id")] = named
    return found


def _process_ids(bpmn: str) -> set:
    return {p.get("id") for p in parse_xml(bpmn).getroot().findall("bpmn:process", validation.NS)}


def stored_form(s, key, version) -> Form:
    """A stored form version, checked again with today's rules (an older version may predate one)."""
    try:
        return Form(key, version, load_form(version_row(s, "form", key, version).content))
    except ValueError as exc:
        raise BrokenModel(f"el formulario {key} v{version} guardado no se puede usar: {exc}. Despliegue una "
                          "versión corregida del formulario y del proceso que lo usa.") from None


def lanes_and_start_form(bpmn: str, process_id: str, mapping=None):
    """The role of each flow node, the start event's form, the form of each user task
    (validation.task_form_key) and the role of the start event's lane (who starts a case by hand:
    engine.domain.roles.may_start), from the XML: the role of its lane (`mapping`: the lane -> role mapping the
    version pins), a user task's candidateGroups before it, and DEFAULT_ROLE for a user task in no lane
    (engine/models/lane_roles.py)."""
    ns = validation.NS
    process = parse_xml(bpmn).getroot().find(f"bpmn:process[@id='{process_id}']", ns)
    lanes, tasks = {}, lane_roles.user_tasks(process)
    for lane in process.iter(etree.QName(ns["bpmn"], "lane").text):
        role = lane_roles.lane_role(lane, process, None, mapping, tasks)[0] or lane.get("id")
        for ref in lane.findall("bpmn:flowNodeRef", ns):
            if ref.text:
                lanes[ref.text.strip()] = role
    listed = dict(lanes)
    for node in process.iter():  # a node inside a subprocess no lane lists: the lane of the nearest listed one
        ident = node.get("id") if isinstance(node.tag, str) else None
        if ident and ident not in listed and node.getparent() is not process:
            lane = next((listed[n.get("id")] for n in validation.containers(node.getparent(), process)
                         if n.get("id") in listed), None)
            if lane:
                lanes[ident] = lane
    # the tasks a person completes: user and manual tasks, and a task with no type (SpiffWorkflow waits on it too)
    people = ("userTask", "manualTask", "task")
    for task in process.iter(*(etree.QName(ns["bpmn"], kind).text for kind in people)):
        role = lane_roles.candidate_role(task, None, mapping) or lanes.get(task.get("id")) or lane_roles.DEFAULT_ROLE
        lanes[task.get("id")] = role
    start_form = start_role = None
    for start in process.findall("bpmn:startEvent", ns):
        form = validation.start_form_key(start, process_id)
        if form or start_role is None:
            start_role = lanes.get(start.get("id"))
        start_form = form or start_form
    return lanes, start_form, validation.user_task_forms(process), start_role
