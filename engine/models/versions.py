"""Versioned models in the database: storing a deploy, listing versions, compiling a
process version together with the exact form and decision versions it pins."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import func, select

from engine.basics.errors import BrokenModel, DeployError, NotFound, errors_of
from engine.basics.xmlsafe import parse_xml
from engine.models import parser_errors, spiff, validation
from engine.models.forms import Form, load_form
from engine.store.schema import Case, ModelVersion

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


def _checked(s, files, operators):
    """(artifacts, problems) of `files` against what is deployed: the checks, then, if they find no error,
    SpiffWorkflow builds each process exactly as deploy will (with the processes it calls and the
    decisions it uses, from these files or deployed)."""
    artifacts, problems = validation.check_files(files, latest_versions(s, "form"), latest_versions(s, "decision"),
                                             operators, latest_versions(s, "process"))
    if errors_of(problems):
        return artifacts, problems
    pending = {(a.kind, a.key): a for a in artifacts}
    for art in (a for a in artifacts if a.kind == "process"):
        bpmn, dmn, _nodes = _sources(s, art, pending)
        try:
            spiff.parse_process(art.key, bpmn, dmn)
        except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises many types; each becomes a Problem
            problems.append(parser_errors.problem(exc, art.filename, art.key, dict(bpmn + dmn)))
    return artifacts, problems


def _sources(s, root, pending):
    """The BPMN and DMN files (filename, content) that build process `root` (an Artifact of this deploy,
    or a stored row), its own first, and the artifacts and rows visited: an artifact's calls and decisions
    resolve to this deploy's (`pending`: (kind, key) -> Artifact) or else to the latest deployed, a row's to
    the versions it pins."""
    bpmn, dmn, nodes, seen = {}, {}, [], set()

    def visit(node):
        nodes.append(node)
        seen.add(node.key)
        bpmn.setdefault(node.checksum, (node.filename, node.content))
        if isinstance(node, validation.Artifact):
            decisions = [pending.get(("decision", k)) or latest_row(s, "decision", k)
                         for k in sorted({k for k, _ in node.uses_decisions})]
            called = [pending.get(("process", k)) or latest_row(s, "process", k)
                      for k in sorted({k for k, _ in node.uses_processes})]
        else:
            deps = node.dependencies or {}
            decisions = [version_row(s, "decision", k, v) for k, v in sorted(deps.get("decisions", {}).items())]
            called = [version_row(s, "process", k, v) for k, v in sorted(deps.get("processes", {}).items())]
        for decision in decisions:
            dmn.setdefault(decision.checksum, (decision.filename, decision.content))
        for process in called:
            if process.key not in seen:
                visit(process)
    visit(root)
    return list(bpmn.values()), list(dmn.values()), nodes


def check(s, files, operators):
    """The problems of `files` against what is deployed; service tasks may call `operators` (the Engine's table)."""
    return _checked(s, files, operators)[1]


def deploy(s, files, author, message, now, build, operators) -> Deployed:
    """Store a new version of every changed model; `build` compiles a process row (and must
    succeed: a process that cannot run does not deploy); service tasks may call `operators`.
    Refuses (DeployError, with every problem) exactly when `check` finds an error."""
    artifacts, problems = _checked(s, files, operators)
    if errors_of(problems):
        raise DeployError(problems)
    results = []
    for art in sorted(validation.call_order(artifacts), key=lambda a: DEPLOY_ORDER[a.kind]):
        deps = {}
        if art.kind == "process":
            deps = validation.dependencies_json(art, latest_versions(s, "form"), latest_versions(s, "decision"),
                                            latest_versions(s, "process"))
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
            raise DeployError([parser_errors.problem(exc, art.filename, art.key, dict(bpmn + dmn))]) from None
    return Deployed(results, problems)


def listing(s) -> list[dict]:
    counts = dict(s.execute(select(Case.model_version_id, func.count()).where(Case.status == "active")
                            .group_by(Case.model_version_id)).all())
    rows = s.scalars(select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.key, ModelVersion.version)).all()
    return [{"kind": r.kind, "key": r.key, "version": r.version, "name": r.name, "filename": r.filename,
             "checksum": r.checksum, "author": r.author, "message": r.message,
             "created_at": r.created_at.isoformat(), "dependencies": r.dependencies,
             "active_cases": counts.get(r.id, 0)} for r in rows]


def compile_process(s, row: ModelVersion) -> spiff.CompiledProcess:
    """The process version with the processes it calls and the decisions and forms they all use, at the
    versions each pins. A called process's tasks take their forms and lanes from its own version."""
    bpmn, dmn, rows = _sources(s, row, {})
    spec, subs = spiff.parse_process(row.key, bpmn, dmn)
    forms, lanes = {}, {}
    for each in reversed(rows):  # the process itself last: its own forms and lanes win
        forms.update({key: stored_form(s, key, v) for key, v in (each.dependencies or {}).get("forms", {}).items()})
        lanes.update(lanes_and_start_form(each.content, each.key)[0])
    compiled = spiff.CompiledProcess(row.id, row.key, spec, subs, forms)
    compiled.lanes = lanes
    compiled.start_form = lanes_and_start_form(row.content, row.key)[1]
    return compiled


def stored_form(s, key, version) -> Form:
    """A stored form version, checked again with today's rules (an older version may predate one)."""
    try:
        return Form(key, version, load_form(version_row(s, "form", key, version).content))
    except ValueError as exc:
        raise BrokenModel(f"el formulario {key} v{version} guardado no se puede usar: {exc}. Despliegue una "
                          "versión corregida del formulario y del proceso que lo usa.") from None


def lanes_and_start_form(bpmn: str, process_id: str):
    """Which lane (role) each flow node is in, and the start event's form, from the XML."""
    ns = validation.NS
    process = parse_xml(bpmn).getroot().find(f"bpmn:process[@id='{process_id}']", ns)
    lanes = {}
    for lane in process.iter(etree.QName(ns["bpmn"], "lane").text):
        for ref in lane.findall("bpmn:flowNodeRef", ns):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("id")
    listed = dict(lanes)
    for node in process.iter():  # a node inside a subprocess no lane lists: the lane of the nearest listed one
        ident = node.get("id") if isinstance(node.tag, str) else None
        if ident and ident not in listed and node.getparent() is not process:
            lane = next((listed[n.get("id")] for n in validation.containers(node.getparent(), process)
                         if n.get("id") in listed), None)
            if lane:
                lanes[ident] = lane
    start_form = None
    for start in process.findall("bpmn:startEvent", ns):
        start_form = validation.form_key_of(validation.properties(start).get("formJsonSchemaFilename")) or start_form
    return lanes, start_form
