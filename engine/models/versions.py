"""Versioned models in the database: storing a deploy, listing versions, compiling a
process version together with the exact form and decision versions it pins."""

from __future__ import annotations

from lxml import etree
from sqlalchemy import func, select

from engine.basics.errors import BrokenModel, DeployError, NotFound, Problem
from engine.basics.xmlsafe import parse_xml
from engine.models import spiff, validation
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


def check(s, files, operators):
    """The problems of `files` against what is deployed; service tasks may call `operators` (the Engine's table)."""
    _, problems = validation.check_files(files, latest_versions(s, "form"), latest_versions(s, "decision"), operators)
    return problems


def deploy(s, files, author, message, now, build, operators) -> list[dict]:
    """Store a new version of every changed model; `build` compiles a process row (and must
    succeed: a process that cannot run does not deploy); service tasks may call `operators`."""
    artifacts, problems = validation.check_files(files, latest_versions(s, "form"), latest_versions(s, "decision"),
                                             operators)
    if problems:
        raise DeployError(problems)
    results = []
    for art in sorted(artifacts, key=lambda a: DEPLOY_ORDER[a.kind]):
        deps = {}
        if art.kind == "process":
            deps = validation.dependencies_json(art, latest_versions(s, "form"), latest_versions(s, "decision"))
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
        try:
            build(s, latest_row(s, "process", art.key))
        except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises many types
            raise DeployError([Problem(art.filename, getattr(exc, "line_number", None),
                                       f"process {art.key}", str(exc))]) from None
    return results


def listing(s) -> list[dict]:
    counts = dict(s.execute(select(Case.model_version_id, func.count()).where(Case.status == "active")
                            .group_by(Case.model_version_id)).all())
    rows = s.scalars(select(ModelVersion).order_by(ModelVersion.kind, ModelVersion.key, ModelVersion.version)).all()
    return [{"kind": r.kind, "key": r.key, "version": r.version, "name": r.name, "filename": r.filename,
             "checksum": r.checksum, "author": r.author, "message": r.message,
             "created_at": r.created_at.isoformat(), "dependencies": r.dependencies,
             "active_cases": counts.get(r.id, 0)} for r in rows]


def compile_process(s, row: ModelVersion) -> spiff.CompiledProcess:
    deps = row.dependencies or {}
    dmn = [(d.filename, d.content) for key, v in deps.get("decisions", {}).items()
           for d in [version_row(s, "decision", key, v)]]
    spec, subs = spiff.parse_process(row.key, row.content, row.filename, dmn)
    forms = {key: stored_form(s, key, v) for key, v in deps.get("forms", {}).items()}
    compiled = spiff.CompiledProcess(row.id, row.key, spec, subs, forms)
    compiled.lanes, compiled.start_form = lanes_and_start_form(row.content, row.key)
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
    start_form = None
    for start in process.findall("bpmn:startEvent", ns):
        start_form = validation.form_key_of(validation.properties(start).get("formJsonSchemaFilename")) or start_form
    return lanes, start_form
