"""Two process designs simulated on the same synthetic cohort, and what differs between them.

A comparison runs outside the web request, as its own OS process:

    python -m engine.simulate.compare_designs FOLDER

FOLDER holds `solicitud.json` (written by whoever starts the run): the two designs with the exact
model files they pin (so the worker never reads the configured database and needs no credentials),
the cohort size, the seed, the configuration overrides and the workshop catalogue (`talleres`,
for designs that ask `verificar_capacitacion`). The worker writes `estado.json`
(en_curso → terminada | fallida) and, when done, `resultado.json`. Both designs run with the same
seed and the same configuration, so they see the same companies arriving on the same days; each
design's run keeps its throwaway database until engine/programme/heatmap.py has read the per-element counts
and median durations from it (the overlay of the results page).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from engine.assembly import build_engine
from engine.basics.xmlsafe import XmlError, parse_xml
from engine.programme.heatmap import heatmap
from engine.programme.indicators import PRE_ENTRY
from engine.simulate import RESULTS, simulate
from engine.simulate import workshop_attendance as simulated_workshops

REQUEST, STATUS, RESULT = "solicitud.json", "estado.json", "resultado.json"
RUNNING, DONE, FAILED = "en_curso", "terminada", "fallida"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

# What the comparison highlights: (group, key, kind, better). kind "count": relative change (%);
# "ratio": change in percentage points; "days": relative change. better: "menos", "mas" or None
# (a longer programme is expected of a design that keeps companies longer: neither good nor bad).
METRICS = [
    *[("resultados", key, "count", {"exportadora": "mas", "derivada": "menos", "desercion": "menos",
                                    "abandono": "menos", "error": "menos"}.get(key)) for key in RESULTS],
    ("indicadores", "ingresadas", "count", "mas"),
    *[("indicadores", key, "count", None) for key in PRE_ENTRY],
    ("indicadores", "exportaron", "count", "mas"),
    ("indicadores", "evolucionaron", "count", "mas"),
    ("indicadores", "eficacia", "ratio", "mas"),
    ("indicadores", "evolucion", "ratio", "mas"),
    ("indicadores", "desercion", "ratio", "menos"),
    ("duracion_dias", "mediana", "days", None),
    ("duracion_dias", "p90", "days", None),
    ("duracion_dias", "permanencia_media", "days", None),
    ("carga_ejecutivos", "tareas_asignadas", "count", None),
    ("carga_ejecutivos", "tareas_en_pool", "count", None),
    ("carga_ejecutivos", "tareas_por_ejecutivo_media", "count", None),
    ("carga_ejecutivos", "tareas_por_ejecutivo_max", "count", None),
    ("carga_ejecutivos", "casos_por_ejecutivo_max", "count", None),
    # only when a design asks verificar_capacitacion (otherwise None: not simulated, no row)
    ("talleres", "inscripciones", "count", None),
    ("talleres", "asistencias", "count", "mas"),
    ("talleres", "asistencia", "ratio", "mas"),
]


def differences(a: dict, b: dict) -> list[dict]:
    """B against A for every metric of `METRICS` present in both results.

    `cambio` is relative ((b − a) / a) for counts and days, and in points (b − a) for ratios;
    None when A is 0 or a value is missing. `valoracion` is "mejor", "peor" or "igual" for
    metrics with a preferred direction, None for the others.
    """
    rows = []
    for group, key, kind, better in METRICS:
        va, vb = (a.get(group) or {}).get(key), (b.get(group) or {}).get(key)
        if va is None and vb is None:
            continue
        if va is None or vb is None:
            change = None
        elif kind == "ratio":
            change = round(vb - va, 4)
        else:
            change = round((vb - va) / va, 4) if va else None
        verdict = None
        if better and va is not None and vb is not None:
            verdict = "igual" if vb == va else "mejor" if (vb > va) == (better == "mas") else "peor"
        rows.append({"grupo": group, "clave": key, "tipo": kind, "a": va, "b": vb, "cambio": change,
                     "valoracion": verdict})
    return rows


def step_names(bpmn: str) -> dict[str, str]:
    """Element id → name of the flow nodes of a BPMN file (for labelling the per-step load)."""
    try:
        root = parse_xml(bpmn).getroot()
    except XmlError:
        return {}
    names = {}
    for node in root.iter(f"{{{BPMN_NS}}}*"):
        if node.get("id") and node.get("name"):
            names[node.get("id")] = " ".join(node.get("name").split())
    return names


def _design(spec: dict, cases: int, seed, horizon: int, config: dict, catalogue: list) -> dict:
    """One design: simulated on a throwaway database (a temporary file, kept until the heatmap of
    the run has been read from it), from a throwaway source holding exactly its pinned files and
    the workshop catalogue of the configured database (`catalogue`; empty: the shipped one)."""
    files = [(f["filename"], f["content"].encode("utf-8")) for f in spec["archivos"]]
    with tempfile.TemporaryDirectory(prefix="cpe-simcompare-") as folder:
        url = f"sqlite:///{folder}/simulacion.sqlite3"
        source = build_engine(url="sqlite://")
        try:
            source.upgrade()
            source.deploy(files, author="simulacion", message="diseño a comparar", lanes=spec.get("carriles"))
            simulated_workshops.seed_catalogue(source, catalogue)
            result = simulate(source, spec["proceso"], cases, seed=seed, horizon_months=horizon, config=config,
                              database_url=url)
        finally:
            source.db.dispose()
        run = build_engine(url=url)
        try:
            stats = heatmap(run, spec["proceso"])
        finally:
            run.db.dispose()
    process_file = next(f for f in spec["archivos"] if f["filename"].endswith(".bpmn"))
    result["version"] = spec["version"]  # the throwaway source numbers its only version 1
    result["nombre"] = spec.get("nombre") or spec["proceso"]
    result["nombres_pasos"] = step_names(process_file["content"])
    result["mapa"] = {"elementos": stats["elementos"], "en_espera": stats["en_espera"]}
    return result


def run(request: dict, status=lambda **_: None) -> dict:
    """Simulate design A and design B with the same cohort (side by side in two processes when
    `procesos` allows it); returns the comparison document."""
    began = time.monotonic()
    parallel = min(int(request.get("procesos") or 2), os.cpu_count() or 1) > 1
    common = (request["casos"], request["semilla"], request["horizonte_meses"], request.get("configuracion") or {},
              request.get("talleres") or [])
    status(etapa="simulando")
    if parallel:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_design, request[side], *common) for side in ("a", "b")]
            a, b = (f.result() for f in futures)
    else:
        a, b = (_design(request[side], *common) for side in ("a", "b"))
    return {"a": a, "b": b, "diferencias": differences(a, b), "segundos": round(time.monotonic() - began, 1),
            "terminada": datetime.now(UTC).isoformat()}


def write_json(path: Path, data) -> None:
    """Write atomically: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_folder(folder: Path) -> int:
    folder = Path(folder)
    request = read_json(folder / REQUEST)
    state = {**(read_json(folder / STATUS) or {}), "estado": RUNNING, "pid": os.getpid(),
             "iniciada": datetime.now(UTC).isoformat()}

    def status(**changes):
        state.update(changes)
        write_json(folder / STATUS, state)

    try:
        os.nice(10)  # a background run yields the CPU to the web requests of the same host
    except OSError:
        pass
    if request is None:
        status(estado=FAILED, error="la solicitud de simulación no existe o no es JSON válido")
        return 1
    status()
    try:
        result = run(request, status)
    except Exception as exc:  # the page must say the run failed, whatever the cause
        traceback.print_exc()
        status(estado=FAILED, error=str(exc)[:500] or exc.__class__.__name__)
        return 1
    write_json(folder / RESULT, result)
    status(estado=DONE, etapa=None, terminada=result["terminada"], segundos=result["segundos"])
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("uso: python -m engine.simulate.compare_designs CARPETA", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_folder(Path(sys.argv[1])))
