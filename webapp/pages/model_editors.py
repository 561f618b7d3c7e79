"""Editors of decisions (dmn-js decision tables) and forms (JSON with a live preview) in the
analysts' models area. Both deploy through the engine's deploy path, like an uploaded file:
the same validation, a new version only when the content changed."""

from __future__ import annotations

import json
import re

from flask import Blueprint, abort, jsonify, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.basics.errors import DeployError, errors_of
from engine.domain import roles
from engine.models.forms import MAX_FORM_BYTES
from engine.models.validation import check_files
from webapp.shared import formrender
from webapp.shared.context import current_engine
from webapp.shared.form_checks import form_problems
from webapp.shared.guards import require
from webapp.shared.model_uploads import MAX_XML, problems_payload

bp = Blueprint("model_editors", __name__, url_prefix="/modelos")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
NEW_DECISION = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" \
xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" \
id="Definitions_nueva_decision" name="{name}" namespace="http://cpe.prochile.cl/dmn">
  <decision id="nueva_decision" name="{name}">
    <decisionTable id="DecisionTable_nueva_decision" hitPolicy="FIRST">
      <input id="Input_1" label="{input}">
        <inputExpression id="InputExpression_1" typeRef="number"><text>puntaje_final</text></inputExpression>
      </input>
      <output id="Output_1" label="{output}" name="resultado" typeRef="string" />
      <rule id="Rule_1">
        <inputEntry id="InputEntry_1"><text>&gt;= 50</text></inputEntry>
        <outputEntry id="OutputEntry_1"><text>"si"</text></outputEntry>
      </rule>
      <rule id="Rule_2">
        <inputEntry id="InputEntry_2"><text>-</text></inputEntry>
        <outputEntry id="OutputEntry_2"><text>"no"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_nueva_decision">
      <dmndi:DMNShape id="DMNShape_nueva_decision" dmnElementRef="nueva_decision">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
"""


def _source(kind, key):
    return current_engine().model_version(kind, key, request.args.get("v", type=int))  # NotFound: 404


def _refuse_size(limit):
    abort(make_response(jsonify({"ok": False, "problems": [{"text": _(
        "El contenido es demasiado grande (máximo %(kb)s KB).", kb=limit // 1024)}]}), 413))


def _body(field, limit):
    """The posted JSON body with its text field, refused (413, with a message) beyond `limit`."""
    if (request.content_length or 0) > 2 * limit + 4096:  # the JSON escaping of the text, at most
        _refuse_size(limit)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get(field), str):
        abort(400)
    if len(body[field].encode("utf-8")) > limit:
        _refuse_size(limit)
    return body


def _taken(kind, keys) -> list[str]:
    existing = {r["key"] for r in current_engine().models() if r["kind"] == kind}
    return sorted(set(keys) & existing)


def _deploy(files, message, kind, new=False):
    message = str(message or "").strip()[:2000]
    if not message:
        return jsonify({"ok": False, "problems": [{"text": _("Escriba un mensaje que explique el cambio.")}]}), 422
    if new:  # started from "new": never a silent new version of someone else's model
        artifacts, _found = check_files(files, operators=current_engine().operator_table)
        taken = _taken(kind, [a.key for a in artifacts if a.kind == kind])
        if taken:
            return jsonify({"ok": False, "problems": [{"text": _(
                "Ya existe %(key)s: elija otro identificador, o abra ese modelo desde su versión para editarlo.",
                key=", ".join(taken))}]}), 422
    try:
        results = current_engine().deploy(files, author=current_user.username, message=message)
    except DeployError as exc:
        return jsonify({"ok": False, "problems": problems_payload(exc.problems)}), 422
    except ValueError as exc:
        return jsonify({"ok": False, "problems": [{"text": str(exc)}]}), 422
    mine = next((r for r in results if r["kind"] == kind), None)
    return jsonify({"ok": True, "results": results, "warnings": problems_payload(results.warnings),
                    "created": bool(mine and mine["created"]),
                    "url": url_for("models.version", kind=kind, key=mine["key"], version=mine["version"])
                    if mine else None})


# -- decisions ------------------------------------------------------------------------------
@bp.get("/decision/<key>/editar")
@require(roles.MANAGE_MODELS)
def edit_decision(key):
    row = _source("decision", key)
    return render_template("models/edit_decision.html", row=row, key=key, filename=row["filename"],
                           source=url_for("models.download", kind="decision", key=key, version=row["version"], ver=1))


@bp.get("/decision/nueva")
@require(roles.MANAGE_MODELS)
def new_decision():
    return render_template("models/edit_decision.html", row=None, key=None, filename="",
                           source=url_for(".new_decision_source"))


@bp.get("/decision/nueva.dmn")
@require(roles.MANAGE_MODELS)
def new_decision_source():
    xml = NEW_DECISION.format(name=_("Nueva decisión"), input=_("Puntaje final"), output=_("Resultado"))
    return xml, 200, {"Content-Type": "application/xml; charset=utf-8"}


def _dmn_files(body):
    name = re.sub(r"[^\w.-]", "_", str(body.get("filename") or "decision.dmn"))[:120]
    if not name.endswith(".dmn"):
        name += ".dmn"
    if not body["xml"].strip():
        abort(400)
    return [(name, body["xml"].encode("utf-8"))]


@bp.post("/decision/validar")
@require(roles.MANAGE_MODELS)
def validate_decision():
    """Validate the decision table being edited (nothing is stored)."""
    files = _dmn_files(_body("xml", MAX_XML))
    try:
        problems = current_engine().validate(files)
    except ValueError as exc:
        return jsonify({"ok": False, "problems": [{"text": str(exc)}]})
    return jsonify({"ok": not errors_of(problems), "problems": problems_payload(problems)})


@bp.post("/decision/desplegar")
@require(roles.MANAGE_MODELS)
def deploy_decision():
    body = _body("xml", MAX_XML)
    return _deploy(_dmn_files(body), body.get("message"), "decision", new=body.get("new") is True)


# -- forms ----------------------------------------------------------------------------------
NEW_FORM = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "", "description": "", "type": "object", "additionalProperties": False, "required": ["nombre"],
    "properties": {"nombre": {"type": "string", "title": "", "maxLength": 200}},
}


@bp.get("/formulario/<key>/editar")
@require(roles.MANAGE_MODELS)
def edit_form(key):
    row = _source("form", key)
    return render_template("models/edit_form.html", row=row, key=key, content=row["content"])


@bp.get("/formulario/nuevo")
@require(roles.MANAGE_MODELS)
def new_form():
    starter = dict(NEW_FORM, title=_("Nuevo formulario"), description=_("Explique para qué sirve el formulario."))
    starter["properties"] = {"nombre": dict(NEW_FORM["properties"]["nombre"], title=_("Nombre"))}
    return render_template("models/edit_form.html", row=None, key=None,
                           content=json.dumps(starter, ensure_ascii=False, indent=2) + "\n")


@bp.post("/formulario/vista-previa")
@require(roles.MANAGE_MODELS)
def preview_form():
    """The form as a task page shows it, or what is wrong with it. Nothing is stored."""
    body = _body("json", MAX_FORM_BYTES)
    schema, problems = form_problems(body["json"])
    if problems:  # a normal answer while typing, not a failed request
        return jsonify({"ok": False, "problems": problems})
    html = render_template("models/_form_preview.html", schema=schema, fields=formrender.fields(schema))
    return jsonify({"ok": True, "html": html, "title": schema.get("title") or ""})


@bp.post("/formulario/desplegar")
@require(roles.MANAGE_MODELS)
def deploy_form():
    body = _body("json", MAX_FORM_BYTES)
    key = str(body.get("key") or "").strip()
    if not KEY.match(key):
        return jsonify({"ok": False, "problems": [{"text": _(
            "El identificador del formulario debe empezar con una letra minúscula y tener solo minúsculas sin "
            "tildes, números y _ (p. ej. entrevista_v2).")}]}), 422
    _schema, problems = form_problems(body["json"])
    if problems:
        return jsonify({"ok": False, "problems": problems}), 422
    return _deploy([(f"{key}.json", body["json"].encode("utf-8"))], body.get("message"), "form",
                   new=body.get("new") is True)
