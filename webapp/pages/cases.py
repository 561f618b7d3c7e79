"""Cases: the list for my region and the case page (data, scores, history, derivations, SRA, comments)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.basics.errors import EngineError, FormError, ValueRefused
from engine.cases.comments import MAX_LENGTH as COMMENT_MAX_LENGTH
from engine.cases.comments import add_comment, comments
from engine.cases.queries import case_path, case_record, cases
from engine.domain import roles
from engine.domain.regions import REGIONS, is_region
from engine.models import versions
from webapp.shared import formrender, strictjson
from webapp.shared.access_record import record_access
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure, field_errors
from webapp.shared.guards import can_work, case_or_404, require

bp = Blueprint("cases", __name__)

HIDDEN = {"respuestas", "resultado_tpe", "resultado_entrevista", "tamano", "asignacion", "asignacion_prochile",
          "derivacion", "derivacion_programa", "derivacion_fortalecimiento", "notificacion_escalamiento"}


@bp.get("/casos")
@login_required
def index():
    page = max(1, request.args.get("pagina", 1, type=int))
    region = roles.region_scope(current_user)
    result = cases(current_engine(), region, request.args.get("q"), page=page)
    return render_template("cases/index.html", page=result, q=request.args.get("q", ""))


def _startable() -> list[dict]:
    """The newest version of each deployed process the user may start, by name: an analyst any; a regional
    user those whose start form asks for the case's region (a case of their region; not, say, the monthly
    benefit extraction, which is national) and whose start event is in a lane they may start
    (roles.may_start: the company's, or their own role's — the regional head's redistribution of a
    portfolio is not an executive's)."""
    rows = versions.newest(current_engine().models(), kinds=("process",))
    if roles.region_scope(current_user) is not None:
        rows = [row for row in rows if _asks_region(row["key"])
                and roles.may_start(current_user, current_engine().start_role(row["key"]))]
    return sorted(rows, key=lambda r: (r["name"] or r["key"]).lower())


def _asks_region(process_id) -> bool:
    return "region" in (current_engine().start_form(process_id) or {}).get("properties", {})


def _start_schema(process_id) -> tuple[dict, bool]:
    """(the form that starts a case of the process, whether the page added the region to it). A start form
    that does not ask for the region (a Camunda start form, or none: a process drawn elsewhere, or started by
    a timer) gets it first, optional: the case's region decides whose inboxes its tasks reach; without one
    the case is national (its tasks reach only the analysts without a region). Not added to a form that
    refuses other fields (`"additionalProperties": false`)."""
    schema = current_engine().start_form(process_id) or {"type": "object", "properties": {}}
    props = schema.get("properties") or {}
    if "region" in props or schema.get("additionalProperties") is False:
        return schema, False
    region = {"type": "string", "title": _("Región del caso"), "x-widget": "select",
              "x-help": _("Sus tareas se ofrecen al personal de esta región y a los analistas nacionales; sin "
                          "región, solo a los analistas nacionales."),
              "oneOf": [{"const": code, "title": name} for code, name in REGIONS.items()]}
    schema = dict(schema, properties={"region": region, **props})
    if isinstance(schema.get("x-order"), list):
        schema["x-order"] = ["region", *schema["x-order"]]
    return schema, True


@bp.get("/casos/nuevo")
@require(roles.START_CASES)
def new():
    """Start a case by hand: a walk-in, phone or derived company (SPEC §1 step 1), or any deployed process."""
    return render_template("cases/new.html", processes=_startable())


@bp.route("/casos/nuevo/<process_id>", methods=["GET", "POST"])
@require(roles.START_CASES)
def start(process_id):
    row = next((r for r in _startable() if r["key"] == process_id), None)
    if row is None:
        abort(404)
    name = row["name"] or row["key"]
    schema, region_added = _start_schema(process_id)
    region = roles.region_scope(current_user)
    has_region = "region" in schema.get("properties", {})
    values, errors, status, open_case = {}, {}, 200, None

    if request.method == "POST":
        values = formrender.parse(schema, request.form)
        if region is not None:
            if values.get("region") != region:
                errors = {"region": _("Solo puede iniciar casos de su región.")}
        elif region_added and "region" in values and not is_region(values["region"]):
            errors = {"region": _("Elija una región de la lista.")}
        open_case = values.get("rut") and current_engine().open_case_of(values.get("rut"), process_id)
        if open_case:
            errors = {"rut": _("Esta empresa ya tiene un caso en curso de este proceso (#%(id)s): continúe en él.",
                               id=open_case)}
        if errors:
            status = 422
        else:
            try:
                case_id = current_engine().start(process_id, values, actor=current_user.username)
            except (FormError, ValueRefused) as exc:
                errors, status = field_errors(exc), 422
            else:
                flash(_("Caso #%(id)s iniciado: «%(name)s».", id=case_id, name=name), "success")
                return redirect(url_for(".detail", case_id=case_id))
    elif region is not None and has_region:
        values = {"region": region}
    return render_template("cases/start.html", process_id=process_id, name=name, schema=schema, errors=errors,
                           fields=formrender.fields(schema, values, errors, defaults=request.method == "GET"),
                           open_case=open_case), status


@bp.get("/casos/<int:case_id>")
@login_required
def detail(case_id):
    case = case_or_404(case_id)
    record = case_record(current_engine(), case_id)
    data = {k: v for k, v in case["data"].items()
            if k not in HIDDEN and not k.startswith("actividad_") and not isinstance(v, (dict, list))}
    scores = {"TPE": _dimensions(case["data"].get("resultado_tpe")),
              "Entrevista": _dimensions(case["data"].get("resultado_entrevista"))}
    tasks = [dict(t, workable=can_work(dict(t, region=case["region"]))) for t in record["tasks"]]
    record_access("view", "case", case_id, {"pagina": "caso"})
    return render_template("cases/detail.html", case=case, record=record, data=data, scores=scores, tasks=tasks,
                           comments=comments(current_engine(), case_id), comment_max_length=COMMENT_MAX_LENGTH)


def _dimensions(result) -> dict:
    """The numeric scores by dimension of an operator's result (whatever an older version stored:
    a missing, non-numeric or repaired value — NaN shown as None — is left out, not drawn)."""
    dims = result.get("dimensiones") if isinstance(result, dict) else None
    if not isinstance(dims, dict):
        return {}
    return {k: v for k, v in dims.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


@bp.post("/casos/<int:case_id>/comentarios")
@login_required
def comment(case_id):
    """A note between executives; whoever may see the case may comment on it."""
    case_or_404(case_id)
    try:
        added = add_comment(current_engine(), case_id, current_user.username, request.form.get("comentario", ""))
    except ValueError as exc:
        flash(_("No se publicó el comentario: %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".detail", case_id=case_id))  # the message is at the top of the page
    flash(_("Comentario publicado."), "success")
    return redirect(url_for(".detail", case_id=case_id, _anchor=f"comentario-{added['id']}"))


@bp.post("/casos/<int:case_id>/reintentar")
@require(roles.REPAIR_CASES)
def retry(case_id):
    """An analyst runs the failed step again (after fixing its cause)."""
    case_or_404(case_id)
    with back_on_failure(url_for(".detail", case_id=case_id), EngineError,
                         prefix=_("No se reintentó el paso: %(reason)s")):
        result = current_engine().retry(case_id, actor=current_user.username)
    if result["status"] == "error":
        flash(_("El paso se reintentó y volvió a fallar; el motivo está arriba."), "error")
    else:
        flash(_("El paso se reintentó y el caso siguió su curso."), "success")
    return redirect(url_for(".detail", case_id=case_id))


@bp.post("/casos/<int:case_id>/omitir")
@require(roles.REPAIR_CASES)
def skip(case_id):
    """An analyst completes the failed step without running it, with the values it would have
    produced (JSON) and a reason; both go to the case's history."""
    case_or_404(case_id)
    text = request.form.get("valores", "").strip()
    back, prefix = url_for(".detail", case_id=case_id), _("No se omitió el paso: %(reason)s")
    try:
        with back_on_failure(back, ValueRefused, prefix=prefix):  # NaN, Infinity, a repeated key, …
            values = strictjson.loads(text) if text else {}
    except ValueError:
        flash(_("No se omitió el paso: los valores no son JSON válido."), "error")
        return redirect(back)
    with back_on_failure(back, EngineError, prefix=prefix):
        current_engine().skip(case_id, current_user.username, values=values, reason=request.form.get("motivo", ""))
    flash(_("Se omitió el paso y el caso siguió su curso."), "success")
    return redirect(url_for(".detail", case_id=case_id))


@bp.get("/casos/<int:case_id>/diagrama.bpmn")
@login_required
def diagram(case_id):
    case_or_404(case_id)
    return Response(case_path(current_engine(), case_id)["bpmn"], mimetype="application/xml")


@bp.get("/casos/<int:case_id>/recorrido.json")
@login_required
def path(case_id):
    case_or_404(case_id)
    result = case_path(current_engine(), case_id)
    return jsonify({k: v for k, v in result.items() if k != "bpmn"})
