"""Cases: the list for my region and the case page (data, scores, history, derivations, SRA)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request
from flask_login import current_user, login_required

from engine.queries import case_path, case_record, cases

from .access import can_work, case_or_404, engine

bp = Blueprint("cases", __name__)

HIDDEN = {"respuestas", "resultado_tpe", "resultado_entrevista", "tamano", "asignacion", "asignacion_prochile",
          "derivacion", "derivacion_programa", "derivacion_fortalecimiento", "notificacion_escalamiento"}


@bp.get("/casos")
@login_required
def index():
    page = max(1, request.args.get("pagina", 1, type=int))
    region = None if current_user.role == "analista" else current_user.region
    result = cases(engine(), region, request.args.get("q"), page=page)
    return render_template("cases/index.html", page=result, q=request.args.get("q", ""))


@bp.get("/casos/<int:case_id>")
@login_required
def detail(case_id):
    case = case_or_404(case_id)
    record = case_record(engine(), case_id)
    data = {k: v for k, v in case["data"].items()
            if k not in HIDDEN and not k.startswith("actividad_") and not isinstance(v, (dict, list))}
    scores = {
        "TPE": (case["data"].get("resultado_tpe") or {}).get("dimensiones", {}),
        "Entrevista": (case["data"].get("resultado_entrevista") or {}).get("dimensiones", {}),
    }
    tasks = [dict(t, workable=can_work(dict(t, region=case["region"]))) for t in record["tasks"]]
    return render_template("cases/detail.html", case=case, record=record, data=data, scores=scores, tasks=tasks)


@bp.get("/casos/<int:case_id>/diagrama.bpmn")
@login_required
def diagram(case_id):
    case_or_404(case_id)
    return Response(case_path(engine(), case_id)["bpmn"], mimetype="application/xml")


@bp.get("/casos/<int:case_id>/recorrido.json")
@login_required
def path(case_id):
    case_or_404(case_id)
    result = case_path(engine(), case_id)
    return jsonify({k: v for k, v in result.items() if k != "bpmn"})
