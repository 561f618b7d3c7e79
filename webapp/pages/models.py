"""Modelos: the analysts' area — deployed processes, decisions and forms with their versions,
download, comparison of two versions on the diagrams, deploy by upload, and migration of
running cases to another version (with a preview)."""

from __future__ import annotations

import base64
import binascii
import re

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.basics.errors import Conflict, DeployError, NotFound, errors_of
from engine.domain import roles
from engine.models import versions
from engine.models.rules import rules_of
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure
from webapp.shared.guards import require
from webapp.shared.model_uploads import MAX_XML, problems_payload

bp = Blueprint("models", __name__, url_prefix="/modelos")
KINDS = ("process", "decision", "form")
MIMETYPES = {"process": "application/xml", "decision": "application/xml", "form": "application/json"}
MAX_UPLOAD_FILES = 20


def _version_or_404(kind, key, version):
    if kind not in KINDS:
        abort(404)
    return current_engine().model_version(kind, key, version)  # NotFound: 404


@bp.get("/")
@require(roles.MANAGE_MODELS)
def index():
    grouped = {}
    for row in current_engine().models():
        grouped.setdefault((row["kind"], row["key"]), []).append(row)
    models = [{"kind": kind, "key": key, "name": rows[-1]["name"], "versions": list(reversed(rows)),
               "active_cases": sum(r["active_cases"] for r in rows)} for (kind, key), rows in grouped.items()]
    return render_template("models/index.html", models=models)


@bp.get("/<kind>/<key>/v<int:version>")
@require(roles.MANAGE_MODELS)
def version(kind, key, version):
    row = _version_or_404(kind, key, version)
    history = [r for r in current_engine().models() if r["kind"] == kind and r["key"] == key]
    current = next(r for r in history if r["version"] == version)
    return render_template("models/version.html", row=row, history=list(reversed(history)), current=current,
                           preview=None, rules=rules_of(kind, row["content"]))


@bp.get("/reglas")
@require(roles.MANAGE_MODELS)
def rules():
    """Every marked rule of the newest version of each deployed process and decision, with its source."""
    groups = []
    for listed in versions.newest(current_engine().models(), kinds=("process", "decision")):
        kind, key = listed["kind"], listed["key"]
        found = rules_of(kind, current_engine().model_version(kind, key, listed["version"])["content"])
        if found:
            groups.append({"kind": kind, "key": key, "name": listed["name"], "version": listed["version"],
                           "rules": found})
    return render_template("models/rules.html", groups=groups)


@bp.get("/<kind>/<key>/v<int:version>/archivo")
@require(roles.MANAGE_MODELS)
def download(kind, key, version):
    row = _version_or_404(kind, key, version)
    response = Response(row["content"], mimetype=MIMETYPES[kind])
    if request.args.get("ver") != "1":
        name = row["filename"] if kind != "form" or row["filename"].endswith(".json") else f"{key}.json"
        response.headers["Content-Disposition"] = f'attachment; filename="v{version}-{name}"'
    return response


@bp.get("/<kind>/<key>/comparar")
@require(roles.MANAGE_MODELS)
def compare(kind, key):
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if kind not in KINDS or not a or not b:
        abort(404)
    result = current_engine().compare(kind, key, a, b)  # NotFound: 404
    numbers = [r["version"] for r in current_engine().models() if r["kind"] == kind and r["key"] == key]
    return render_template("models/compare.html", result=result, versions=numbers, kind=kind, key=key)


@bp.route("/<key>/v<int:version>/migrar", methods=["POST"])
@require(roles.MANAGE_MODELS)
def migrate(key, version):
    row = _version_or_404("process", key, version)
    target = request.form.get("destino", type=int)
    apply = request.form.get("accion") == "migrar"
    if not target:
        flash(_("Elija la versión de destino."), "error")
        return redirect(url_for(".version", kind="process", key=key, version=version))
    with back_on_failure(url_for(".version", kind="process", key=key, version=version), NotFound, Conflict):
        results = current_engine().migrate_version(key, version, target, dry_run=not apply, actor=current_user.username)
    if apply:
        moved = sum(1 for r in results if r["migrated"])
        flash(_("%(moved)s de %(total)s casos migrados a la versión %(target)s.", moved=moved, total=len(results),
                target=target), "success" if moved == len(results) else "error")
    history = [r for r in current_engine().models() if r["kind"] == "process" and r["key"] == key]
    current = next(r for r in history if r["version"] == version)
    return render_template("models/version.html", row=row, history=list(reversed(history)), current=current,
                           preview={"target": target, "applied": apply, "results": results},
                           rules=rules_of("process", row["content"]))


def _posted_files() -> list[tuple[str, bytes]]:
    """The uploaded files, or else the ones a refused deploy carried along (while the analyst maps lanes)."""
    uploads = [f for f in request.files.getlist("archivos") if f and f.filename]
    if uploads:
        return [(f.filename.rsplit("/", 1)[-1], f.read()) for f in uploads]
    names, contents = request.form.getlist("pendiente_nombre"), request.form.getlist("pendiente_contenido")
    files = []
    for name, content in list(zip(names, contents, strict=False))[:MAX_UPLOAD_FILES + 1]:
        try:  # byte for byte what was uploaded (base64: a browser rewrites line ends in text fields)
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            continue  # not what this page sent: the file is dropped and the form asks for files again
        files.append((re.sub(r"[^\w.-]", "_", name)[:120], raw))
    return files


def _posted_lanes() -> dict:
    """The form's "Carril «X» → rol" choices as {lane: role} (an empty choice: not given)."""
    names, chosen = request.form.getlist("carril_nombre"), request.form.getlist("carril_rol")
    return {name: role for name, role in zip(names, chosen, strict=False) if role}


CARRY_FIELD = 480_000  # base64 characters of one carried file: under Flask's 500 kB limit of a form field
CARRY_TOTAL = 1_800_000  # all of them: under MAX_CONTENT_LENGTH (2 MB) with the rest of the form


def _carried(files) -> list[tuple[str, str]]:
    """The files to carry along in the form, base64-encoded (exact bytes); none if they are too large to
    post back (the analyst chooses them again)."""
    encoded = [(name, base64.b64encode(content).decode("ascii")) for name, content in files]
    if any(len(text) > CARRY_FIELD for _, text in encoded) or sum(len(t) for _, t in encoded) > CARRY_TOTAL:
        return []
    return encoded


@bp.route("/desplegar", methods=["GET", "POST"])
@require(roles.MANAGE_MODELS)
def deploy():
    """Upload and deploy. Lanes not named after a role are asked about ("Carril «X» → rol"), prefilled with the
    role they map to now (given, remembered from the previous version, or read from candidateGroups); the
    files of a refused deploy are carried in the form so the analyst need not choose them again."""
    problems, results, warnings, lanes, carried = [], None, [], [], []
    if request.method == "POST":
        files = _posted_files()
        message = request.form.get("mensaje", "").strip()[:2000]
        given = _posted_lanes()
        if not files:
            problems = [_("Elija al menos un archivo .bpmn, .dmn o .json.")]
        elif len(files) > MAX_UPLOAD_FILES:
            problems = [_("Demasiados archivos (máximo %(max)s).", max=MAX_UPLOAD_FILES)]
        elif not message:
            problems = [_("Escriba un mensaje que explique el cambio.")]
        else:
            try:
                results = current_engine().deploy(files, author=current_user.username, message=message,
                                                  lanes=given)
                warnings = [str(w) for w in results.warnings]
            except DeployError as exc:
                problems = [str(p) for p in exc.problems]
            except ValueError as exc:
                problems = [str(exc)]
        if files and len(files) <= MAX_UPLOAD_FILES:
            lanes = current_engine().lane_suggestions(files, given)
            carried = _carried(files) if problems and lanes else []
    return (render_template("models/deploy.html", problems=problems, results=results, warnings=warnings,
                            lanes=lanes, carried=carried),
            422 if problems else 200)


@bp.get("/catalogo.json")
@require(roles.MANAGE_MODELS)
def catalog():
    """What the modeler's pickers offer: operators, forms, decisions, roles."""
    return jsonify(current_engine().catalog())


@bp.get("/<key>/editar")
@require(roles.MANAGE_MODELS)
def edit(key):
    row = _version_or_404("process", key, None)
    return render_template("models/edit.html", key=key, row=row,
                           source=url_for(".download", kind="process", key=key, version=row["version"], ver=1))


@bp.get("/nuevo")
@require(roles.MANAGE_MODELS)
def new():
    return render_template("models/edit.html", key=None, row=None, source="")


def _posted_xml():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("xml"), str) or not body["xml"].strip():
        abort(400)
    if len(body["xml"].encode("utf-8")) > MAX_XML:
        abort(413)
    name = re.sub(r"[^\w.-]", "_", str(body.get("filename") or "proceso.bpmn"))[:120]
    if not name.endswith(".bpmn"):
        name += ".bpmn"
    return body, [(name, body["xml"].encode("utf-8"))]




@bp.post("/validar")
@require(roles.MANAGE_MODELS)
def validate_xml():
    """Validate the diagram being edited (nothing is stored); `lanes` in the body: {lane: role} as for deploy."""
    _body, files = _posted_xml()
    try:
        problems = current_engine().validate(files, lanes=_body.get("lanes"))
    except ValueError as exc:
        return jsonify({"ok": False, "problems": [{"text": str(exc), "element_id": None}]})
    return jsonify({"ok": not errors_of(problems), "problems": problems_payload(problems)})


@bp.post("/desplegar-xml")
@require(roles.MANAGE_MODELS)
def deploy_xml():
    """Deploy the diagram being edited as a new version (identical content: no new version)."""
    body, files = _posted_xml()
    message = str(body.get("message") or "").strip()[:2000]
    if not message:
        return jsonify({"ok": False, "problems": [{"text": _("Escriba un mensaje que explique el cambio."),
                                                  "element_id": None}]}), 422
    try:
        results = current_engine().deploy(files, author=current_user.username, message=message,
                                          lanes=body.get("lanes"))
    except DeployError as exc:
        return jsonify({"ok": False, "problems": problems_payload(exc.problems),
                        "lanes": current_engine().lane_suggestions(files, body.get("lanes"))}), 422
    except ValueError as exc:
        return jsonify({"ok": False, "problems": [{"text": str(exc), "element_id": None}]}), 422
    process = next((r for r in results if r["kind"] == "process"), None)
    return jsonify({"ok": True, "results": results, "warnings": problems_payload(results.warnings),
                    "url": url_for(".version", kind="process", key=process["key"], version=process["version"])
                    if process else None})
