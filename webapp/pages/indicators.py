"""Indicadores: the programme's indicators with their definitions and charts (SPEC §6, thesis
§3.4.3), the process heatmap (cases and median duration per step of a process version), and the
executives' performance with the export credit (issue 16 item 9, thesis §3.4.2 block 4).

Who sees what (checked on every request): analysts see every region and may filter by one;
regional heads and executives (CPE and ProChile) see their own region only — asking for
another region is refused. Companies (role pyme) have no access. The executives' page is for
regional heads (their region) and analysts (every region).
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.accounts import users
from engine.basics.errors import NotFound
from engine.domain import roles
from engine.domain.regions import REGIONS, SHORT_NAMES
from engine.programme.credit import executive_performance
from engine.programme.dashboard import dashboard
from engine.programme.heatmap import heatmap, versions_of_processes
from engine.programme.indicators import PYMES_REGISTRADAS, SEGMENT_ORDER, parse_filters
from webapp.shared.context import current_engine
from webapp.shared.filters import RESULTS, SEGMENTS
from webapp.shared.guards import require

bp = Blueprint("indicadores", __name__, url_prefix="/indicadores")

STAGES = {"registradas": _l("Registradas"), "ingresadas": _l("Ingresadas"), **SEGMENTS,
          "exportadoras": _l("Exportadoras")}
# the companies that have not entered the programme (engine/programme/indicators.py PRE_ENTRY)
PRE_ENTRY_LABELS = {
    "micro": (_l("Derivadas por tamaño: micro"), _l("Ventas bajo 2.400 UF: derivadas a SERCOTEC antes del TPE.")),
    "grande": (_l("Derivadas por tamaño: grande"),
               _l("Ventas sobre 100.000 UF: derivadas a ProChile grandes empresas.")),
    "sin_tpe": (_l("Sin TPE aún"), _l("Caso abierto; la empresa aún no responde el TPE.")),
    "en_evaluacion": (_l("En evaluación"), _l("Respondió el TPE; falta la entrevista o la clasificación.")),
    "cerrada_sin_ingresar": (_l("Cerradas sin ingresar"),
                             _l("El caso terminó antes de la clasificación (p. ej. abandono antes del TPE).")),
}
OUTCOMES = {**RESULTS, "en_curso": _l("En curso")}


def _filters():
    """The filters of the query string; a regional user is kept to their region (403 for another)."""
    args = request.args
    region = args.get("region", "").strip() or None
    if roles.region_scope(current_user):
        if region not in (None, current_user.region):
            abort(403)
        region = current_user.region
    return parse_filters(region, args.get("desde"), args.get("hasta"), args.get("ejecutivo"), args.get("rubro"))


def pymes_registradas() -> int:
    return int(current_app.config.get("PYMES_REGISTRADAS", PYMES_REGISTRADAS))


def _choices(region):
    """Executives (of the region) and rubros for the filter form."""
    executives = users.executives(current_engine(), region)
    try:
        schema = json.loads(current_engine().model_version("form", "registro_empresa")["content"])
        rubros = [(o["const"], o.get("title", o["const"])) for o in schema["properties"]["rubro"]["oneOf"]]
    except (NotFound, KeyError, TypeError, ValueError):
        rubros = []
    return executives, rubros


def _bad_filters(template: str, exc: ValueError, **empty):
    """`template` with the filters' error and no figures (400): the filter form shows the user's choices."""
    executives, rubros = _choices(roles.region_scope(current_user))
    return render_template(template, error=str(exc), args=request.args, regions=REGIONS, executives=executives,
                           rubros=rubros, **empty), 400


@bp.get("/")
@require(roles.SEE_INDICATORS)
def index():
    try:
        filters = _filters()
    except ValueError as exc:
        return _bad_filters("indicadores/index.html", exc, result=None)
    result, series = dashboard(current_engine(), filters, pymes_registradas())  # one read of the cases for both
    executives, rubros = _choices(filters.region)
    chart_data = {
        "embudo": {"labels": [str(STAGES.get(x["etapa"], x["etapa"])) for x in series["embudo"]],
                   "keys": [x["etapa"] for x in series["embudo"]],
                   "values": [x["empresas"] for x in series["embudo"]]},
        "meses": {"labels": [x["mes"] for x in series["ingresos_por_mes"]],
                  "values": [x["empresas"] for x in series["ingresos_por_mes"]]},
        "transiciones": {"labels": [f"{SEGMENTS.get(t['desde'], t['desde']) if t['desde'] else _l('Ingreso')}"
                                    f" → {SEGMENTS.get(t['hacia'], t['hacia'])}" for t in series["transiciones"]],
                         "values": [t["empresas"] for t in series["transiciones"]]},
        "carga": {"labels": [x["ejecutivo"] for x in series["carga_ejecutivos"]["ejecutivos"]],
                  "values": [x["casos"] for x in series["carga_ejecutivos"]["ejecutivos"]],
                  "tope": series["carga_ejecutivos"]["tope"]},
        "regiones": _outcomes(series["resultados_por_region"]),
    }
    return render_template("indicadores/index.html", error=None, result=result, series=series, chart_data=chart_data,
                           filters=filters, args=request.args, regions=REGIONS, executives=executives,
                           rubros=rubros, segment_order=SEGMENT_ORDER, stages=STAGES, outcomes=OUTCOMES,
                           pre_entry=PRE_ENTRY_LABELS, see_executives=roles.may(current_user, roles.SEE_EXECUTIVES))


def _outcomes(by_region: dict) -> dict:
    keys = [k for k in OUTCOMES if any(k in v for v in by_region.values())]
    return {"labels": [SHORT_NAMES.get(r, r) for r in by_region], "datasets": [
        {"key": k, "label": str(OUTCOMES[k]), "values": [by_region[r].get(k, 0) for r in by_region]} for k in keys]}


# -- executives' performance (issue 16 item 9) -----------------------------------------------------

@bp.get("/ejecutivos")
@require(roles.SEE_EXECUTIVES)
def executives_page():
    """Per executive: companies in charge (against the cap), worked, exports credited, evolution,
    desertion (engine/programme/credit.py). A regional head sees their region only."""
    try:
        filters = _filters()
    except ValueError as exc:
        return _bad_filters("indicadores/ejecutivos.html", exc, data=None)
    executives, rubros = _choices(filters.region)
    return render_template("indicadores/ejecutivos.html", error=None,
                           data=executive_performance(current_engine(), filters), filters=filters,
                           args=request.args, regions=REGIONS, executives=executives, rubros=rubros)


# -- heatmap -------------------------------------------------------------------------------------

@bp.get("/mapa")
@require(roles.SEE_INDICATORS)
def heatmap_page():
    processes = versions_of_processes(current_engine())
    if not processes:
        return render_template("indicadores/mapa.html", processes=[], chosen=None, data=None, args=request.args)
    key, _sep, number = request.args.get("modelo", "").partition(":")
    key = key or request.args.get("proceso") or (
        "cpe_actual" if any(p["process_id"] == "cpe_actual" for p in processes) else processes[0]["process_id"])
    chosen = next((p for p in processes if p["process_id"] == key), None)
    version = int(number) if number.isdigit() else request.args.get("version", type=int)
    if chosen is None or (version is not None and version not in chosen["versions"]):
        abort(404)
    version = version or chosen["versions"][0]
    data = _heatmap(key, version)
    colour_by = "duracion" if request.args.get("color") == "duracion" else "casos"
    result = data["result"]
    rows = sorted(result["elementos"].items(), key=lambda item: (-item[1]["casos"], item[1]["nombre"]))
    return render_template("indicadores/mapa.html", processes=processes, chosen=chosen, version=version,
                           data=result, rows=rows, filters=data["filters"],
                           args=request.args, regions=REGIONS, colour_by=colour_by,
                           overlay={"elementos": result["elementos"], "en_espera": result["en_espera"]})


def _heatmap(key, version):
    try:
        filters = _filters()
    except ValueError as exc:
        abort(Response(str(exc), status=400, mimetype="text/plain"))
    return {"filters": filters, "result": heatmap(current_engine(), key, version, filters)}  # NotFound: 404


@bp.get("/mapa/<process_id>/v<int:version>/diagrama.bpmn")
@require(roles.SEE_INDICATORS)
def heatmap_diagram(process_id, version):
    content = current_engine().model_version("process", process_id, version)["content"]  # NotFound: 404
    return Response(content, mimetype="application/xml")


@bp.get("/mapa/<process_id>/v<int:version>/datos.json")
@require(roles.SEE_INDICATORS)
def heatmap_data(process_id, version):
    result = _heatmap(process_id, version)["result"]
    return jsonify({k: v for k, v in result.items() if k != "bpmn"})


# -- template helpers ------------------------------------------------------------------------------

@bp.app_template_filter("porcentaje")
def percent(value, digits=1):
    """0.2857 → "28,6 %" (Chilean decimal comma; — when there is no value)."""
    if value is None:
        return "—"
    text = f"{value * 100:.{digits}f}".replace(".", ",")
    return f"{text} %"


@bp.app_template_filter("miles")
def thousands(value):
    """206773 → "206.773"."""
    return f"{value:,}".replace(",", ".")
