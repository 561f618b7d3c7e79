"""Simulación: analysts compare two process designs (process + version) on the same synthetic
cohort. The run happens in a background process (shared/simulation_jobs → simulate/compare_designs); the
results page polls until it is done and then shows both designs side by side."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.domain import roles
from engine.programme.heatmap import level
from engine.simulate import DEFAULTS
from engine.simulate.compare_designs import DONE, RUNNING
from engine.simulate.history import MIN_TASKS
from webapp.shared import simulation_jobs
from webapp.shared.context import current_engine
from webapp.shared.guards import require

bp = Blueprint("simulacion", __name__, url_prefix="/modelos/simulacion")

CASES = (10, 2000)
SEED_MAX = 2_147_483_647
HORIZON = (3, 60)
# (field, label, minimum, maximum, default) — percentages shown to people, fractions to the engine
PERCENTS = [
    ("cuota_exportadora", _l("Empresas que ya exportan (%)"), 0, 100, DEFAULTS["cohorte"]["cuota_exportadora"]),
    ("abandono_por_tarea", _l("Abandono por tarea (%)"), 0, 50, DEFAULTS["personas"]["abandono_por_tarea"]),
    ("mejora_por_tarea", _l("Mejora de la empresa por tarea (%)"), 0, 20, DEFAULTS["personas"]["mejora_por_tarea"]),
]
LABELS = {
    "exportadora": _l("Exportadoras"), "derivada": _l("Derivadas"), "desercion": _l("Deserción"),
    "abandono": _l("Abandono"), "activa": _l("Activas al horizonte"), "error": _l("Con error"),
    "sin_resultado": _l("Sin resultado"), "exportaron": _l("Exportaron"),
    "ingresadas": _l("Ingresadas (clasificadas)"), "micro": _l("Derivadas por tamaño: micro"),
    "grande": _l("Derivadas por tamaño: grande"), "sin_tpe": _l("Sin TPE aún"),
    "en_evaluacion": _l("En evaluación (TPE sin clasificar)"), "cerrada_sin_ingresar": _l("Cerradas sin ingresar"),
    "evolucionaron": _l("Subieron de segmento"), "eficacia": _l("Eficacia"), "evolucion": _l("Evolución"),
    "mediana": _l("Duración mediana (días)"), "p90": _l("Duración p90 (días)"),
    "permanencia_media": _l("Permanencia media (días)"), "tareas_asignadas": _l("Tareas asignadas a ejecutivos"),
    "tareas_en_pool": _l("Tareas del pool regional"), "tareas_por_ejecutivo_media": _l("Tareas por ejecutivo (media)"),
    "tareas_por_ejecutivo_max": _l("Tareas por ejecutivo (máx.)"),
    "casos_por_ejecutivo_max": _l("Casos por ejecutivo (máx.)"),
    "rojo": _l("Rojo"), "amarillo": _l("Amarillo"), "verde": _l("Verde"), "rojo_oscuro": _l("Rojo oscuro"),
    "sin_segmento": _l("Sin segmento"),
    "inscripciones": _l("Inscripciones en talleres"), "asistencias": _l("Asistencias a talleres"),
    "asistencia": _l("Asistencia a talleres (asistentes / inscritos)"),
}
GROUPS = {"resultados": _l("Resultados"), "indicadores": _l("Indicadores"), "duracion_dias": _l("Duración"),
          "carga_ejecutivos": _l("Carga de los ejecutivos"), "talleres": _l("Talleres")}
HEADLINE = [("resultados", "derivada"), ("resultados", "exportadora"), ("resultados", "desercion"),
            ("resultados", "activa"),
            ("indicadores", "eficacia"), ("duracion_dias", "permanencia_media"),
            ("carga_ejecutivos", "tareas_asignadas")]


def designs() -> list[dict]:
    """Every deployed process version, newest version first within each process."""
    rows = [r for r in current_engine().models() if r["kind"] == "process"]
    rows.sort(key=lambda r: (r["key"], -r["version"]))
    return [{"value": f"{r['key']}:{r['version']}", "proceso": r["key"], "version": r["version"],
             "nombre": r["name"] or r["key"]} for r in rows]


def _number(text, integer):
    text = (text or "").strip().replace(" ", "")
    if not integer:
        text = text.replace(",", ".")
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return None


def validate(form, choices: list[dict]) -> tuple[dict, dict]:
    """The run's settings from the posted form, and a Spanish message per wrong field."""
    values, errors = {}, {}
    by_value = {c["value"]: c for c in choices}
    for side in ("a", "b"):
        chosen = by_value.get(form.get(f"diseno_{side}", ""))
        if chosen is None:
            errors[f"diseno_{side}"] = _("Elija un proceso y una versión desplegados.")
        else:
            values[side] = {"proceso": chosen["proceso"], "version": chosen["version"]}
    if "a" in values and values.get("a") == values.get("b"):
        errors["diseno_b"] = _("Elija un diseño distinto del diseño A.")
    ranges = [("casos", *CASES, _("La cohorte debe tener entre %(min)s y %(max)s empresas.", min=CASES[0],
                                    max=CASES[1])),
              ("semilla", 0, SEED_MAX, _("La semilla debe ser un número entero entre 0 y %(max)s.", max=SEED_MAX)),
              ("horizonte_meses", *HORIZON, _("El horizonte debe estar entre %(min)s y %(max)s meses.",
                                              min=HORIZON[0], max=HORIZON[1]))]
    for name, low, high, message in ranges:
        number = _number(form.get(name), integer=True)
        if number is None or not low <= number <= high:
            errors[name] = message
        else:
            values[name] = number
    for name, _label, low, high, _default in PERCENTS:
        number = _number(form.get(name), integer=False)
        if number is None or number != number or not low <= number <= high:
            errors[name] = _("Escriba un porcentaje entre %(min)s y %(max)s.", min=low, max=high)
        else:
            values[name] = round(number / 100, 6)
    values["historial"] = form.get("historial") == "1"
    return values, errors


def _defaults(choices):
    keys = {c["proceso"] for c in choices}
    latest = {}
    for c in choices:
        latest.setdefault(c["proceso"], c["value"])
    a = latest.get("cpe_actual") or (choices[0]["value"] if choices else "")
    b = latest.get("cpe_propuesto") if "cpe_propuesto" in keys else next(
        (c["value"] for c in choices if c["value"] != a), "")
    form = {"diseno_a": a, "diseno_b": b, "casos": "200", "semilla": "1", "horizonte_meses": "24", "historial": "1"}
    for name, _label, _low, _high, default in PERCENTS:
        form[name] = f"{default * 100:g}".replace(".", ",")
    return form


@bp.route("", methods=["GET", "POST"])
@require(roles.MANAGE_MODELS)
def index():
    choices = designs()
    form, errors = _defaults(choices), {}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in form}
        values, errors = validate(request.form, choices)
        if not errors and simulation_jobs.running() >= simulation_jobs.max_running():
            errors["_"] = _("Ya hay %(n)s simulaciones en curso; espere a que terminen.",
                            n=simulation_jobs.max_running())
        if not errors:
            run_id = simulation_jobs.start(current_engine(), values, current_user.username)
            flash(_("Simulación iniciada. Esta página se actualiza sola cuando termina."), "info")
            return redirect(url_for(".show", run_id=run_id))
    return render_template("simulacion/index.html", choices=choices, form=form, errors=errors, percents=PERCENTS,
                           runs=simulation_jobs.recent(), cases=CASES, horizon=HORIZON, seed_max=SEED_MAX,
                           min_history=MIN_TASKS), \
        (422 if errors else 200)


def _status_or_404(run_id):
    state = simulation_jobs.status(run_id)
    if state is None:
        abort(404)
    return state


@bp.get("/<run_id>/estado.json")
@require(roles.MANAGE_MODELS)
def state(run_id):
    state = _status_or_404(run_id)
    return jsonify({k: state.get(k) for k in ("estado", "etapa", "error", "segundos")})


@bp.get("/<run_id>")
@require(roles.MANAGE_MODELS)
def show(run_id):
    state = _status_or_404(run_id)
    data = simulation_jobs.result(run_id) if state["estado"] == DONE else None
    if data is None:
        return render_template("simulacion/pending.html", state=state, running=state["estado"] == RUNNING)
    return render_template("simulacion/result.html", state=state, r=data, labels=LABELS, groups=GROUPS,
                           headline=_headline(data), charts=_charts(data), steps=_steps(data),
                           table=_table(data), maps=_maps(data))


def _label(key):
    return str(LABELS.get(key, key.replace("_", " ").capitalize()))


def _headline(data):
    rows = {(d["grupo"], d["clave"]): d for d in data["diferencias"]}
    return [rows[k] for k in HEADLINE if k in rows]


def _maps(data):
    """Each design's heatmap overlay, coloured on one scale for both (so the colours compare)."""
    maps = {side: data[side].get("mapa") for side in ("a", "b")}
    if not all(maps.values()):
        return None  # a result written before the heatmap was part of the run
    stats = [e for m in maps.values() for e in m["elementos"].values()]
    most = max((e["casos"] for e in stats), default=0)
    slowest = max((e["mediana_s"] or 0 for e in stats), default=0)
    return {side: {"en_espera": m["en_espera"],
                   "elementos": {k: {**e, "nivel_casos": level(e["casos"], most),
                                     "nivel_duracion": level(e["mediana_s"], slowest)}
                                 for k, e in m["elementos"].items()}}
            for side, m in maps.items()}


def _table(data):
    """The differences grouped (results, indicators, durations, workload), in METRICS order."""
    groups = {}
    for row in data["diferencias"]:
        groups.setdefault(row["grupo"], []).append(row)
    return list(groups.items())


def _steps(data):
    """Per-step load: how many times each element completed in A and in B, busiest first."""
    a, b = data["a"]["pasos"], data["b"]["pasos"]
    names = {**data["b"].get("nombres_pasos", {}), **data["a"].get("nombres_pasos", {})}
    rows = [{"id": k, "nombre": names.get(k) or k, "a": a.get(k, 0), "b": b.get(k, 0)} for k in set(a) | set(b)]
    return sorted(rows, key=lambda r: (-max(r["a"], r["b"]), r["nombre"]))


def _pair(group, data, keys=None):
    a, b = data["a"][group], data["b"][group]
    keys = keys or [k for k in dict.fromkeys([*a, *b]) if a.get(k) or b.get(k)]
    return {"labels": [_label(k) for k in keys], "a": [a.get(k, 0) for k in keys], "b": [b.get(k, 0) for k in keys]}


def _charts(data):
    """What simulation.js draws (labels already translated)."""
    name = {s: f"{data[s]['nombre']} v{data[s]['version']}" for s in ("a", "b")}
    steps = _steps(data)[:25]
    loads = {s: sorted(data[s]["carga_ejecutivos"]["tareas_por_ejecutivo"].values(), reverse=True) for s in "ab"}
    width = max(len(loads["a"]), len(loads["b"]))
    return {
        "series": {"a": name["a"], "b": name["b"]},
        "resultados": _pair("resultados", data),
        "segmentos": _pair("segmentos", data),
        "duracion": _pair("duracion_dias", data, ["mediana", "p90", "permanencia_media"]),
        "carga": {"labels": [str(i + 1) for i in range(width)], "a": loads["a"], "b": loads["b"]},
        "pasos": {"labels": [s["nombre"] for s in steps], "a": [s["a"] for s in steps], "b": [s["b"] for s in steps]},
        "texts": {"casos": _("casos"), "tareas": _("tareas"), "dias": _("días"),
                  "ejecutivo": _("ejecutivos, de más a menos cargado")},
    }


@bp.app_template_filter("sim_cambio")
def change_text(row):
    """'−35 %' for counts and days, '+4,2 pp' for ratios, '—' when there is nothing to compare."""
    if row.get("cambio") is None:
        return "—" if row.get("a") != row.get("b") or row.get("a") is None else "0 %"
    value = row["cambio"] * 100
    digits = 1 if abs(value) < 10 else 0
    text = f"{abs(value):.{digits}f}".replace(".", ",")
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{text} {'pp' if row['tipo'] == 'ratio' else '%'}"


@bp.app_template_filter("sim_valor")
def value_text(value, kind="count"):
    if value is None:
        return "—"
    if kind == "ratio":
        return f"{value * 100:.1f} %".replace(".", ",")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return f"{value:,}".replace(",", ".")
