"""Cases: the list for my region and the case page (data, scores, history, derivations, SRA, comments)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.comments import MAX_LENGTH as COMMENT_MAX_LENGTH
from engine.comments import add_comment, comments
from engine.queries import case_path, case_record, cases

from .access import can_work, case_or_404, engine
from .auditlog import record_access

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
    record_access("view", "case", case_id, {"pagina": "caso"})
    return render_template("cases/detail.html", case=case, record=record, data=data, scores=scores, tasks=tasks,
                           comments=comments(engine(), case_id), comment_max_length=COMMENT_MAX_LENGTH)


@bp.post("/casos/<int:case_id>/comentarios")
@login_required
def comment(case_id):
    """A note between executives; whoever may see the case may comment on it."""
    case_or_404(case_id)
    try:
        added = add_comment(engine(), case_id, current_user.username, request.form.get("comentario", ""))
    except ValueError as exc:
        flash(_("No se publicó el comentario: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".detail", case_id=case_id))  # the message is at the top of the page
    flash(_("Comentario publicado."), "success")
    return redirect(url_for(".detail", case_id=case_id, _anchor=f"comentario-{added['id']}"))


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
