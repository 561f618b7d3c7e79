"""Modelos › Simulación: analysts compare two process designs on the same synthetic cohort; the
run is a background OS process writing under the instance folder, the page polls until done."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.models.validation import collect_files
from engine.simulate.compare_designs import DONE, FAILED, RUNNING, STATUS, write_json
from engine.store.schema import Case
from webapp import create_app
from webapp.shared import simulation_jobs

from ..test_simulate_history import _first_tasks
from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent.parent
VALID = {"diseno_a": "cpe_actual:1", "diseno_b": "cpe_propuesto:1", "casos": "40", "semilla": "11",
         "horizonte_meses": "24", "cuota_exportadora": "1,8", "abandono_por_tarea": "2", "mejora_por_tarea": "3"}


@pytest.fixture
def sim_app(engine, tmp_path):
    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="inicial")
    engine.create_user("analista", PASSWORD, "analista")
    engine.create_user("eje.rm", PASSWORD, "ejecutivo_cpe", region="CL-RM")
    return create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test",
                       "SIMULATIONS_DIR": str(tmp_path / "simulaciones")})


@pytest.fixture
def analyst(sim_app):
    client = sim_app.test_client()
    client.post("/ingresar", data={"username": "analista", "password": PASSWORD})
    return client


def _runs(tmp_path):
    folder = tmp_path / "simulaciones"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _fake_run(app, run_id, estado, pid=None, creada="2026-01-01T00:00:00+00:00"):
    """A run folder as the worker leaves it (for the status and cleanup rules, without simulating)."""
    with app.app_context():
        folder = simulation_jobs.folder() / run_id
    folder.mkdir(parents=True)
    write_json(folder / STATUS, {"estado": estado, "pid": pid, "creada": creada, "autor": "analista",
                                 "parametros": {"casos": 10, "semilla": 1, "horizonte_meses": 24},
                                 "a": {"proceso": "cpe_actual", "version": 1, "nombre": "A"},
                                 "b": {"proceso": "cpe_propuesto", "version": 1, "nombre": "B"}})
    return folder


def test_only_analysts(sim_app, tmp_path):
    client = sim_app.test_client()
    assert client.get("/modelos/simulacion").status_code == 302  # to the login page
    client.post("/ingresar", data={"username": "eje.rm", "password": PASSWORD})
    _fake_run(sim_app, "A" * 22, DONE)
    assert client.get("/modelos/simulacion").status_code == 403
    assert client.post("/modelos/simulacion", data=VALID).status_code == 403
    assert client.get("/modelos/simulacion/" + "A" * 22).status_code == 403
    assert client.get("/modelos/simulacion/" + "A" * 22 + "/estado.json").status_code == 403
    assert _runs(tmp_path) == ["A" * 22]


def test_form_offers_the_deployed_versions_and_is_linked_from_models(analyst):
    assert "/modelos/simulacion" in analyst.get("/modelos/").get_data(as_text=True)
    html = analyst.get("/modelos/simulacion").get_data(as_text=True)
    assert 'value="cpe_actual:1" selected' in html and 'value="cpe_propuesto:1" selected' in html
    assert "<script>" not in html  # CSP: no inline scripts


@pytest.mark.parametrize("field,value,message", [
    ("casos", "5", "La cohorte debe tener entre 10 y 2000 empresas."),
    ("casos", "2001", "La cohorte debe tener entre 10 y 2000 empresas."),
    ("casos", "muchas", "La cohorte debe tener entre 10 y 2000 empresas."),
    ("semilla", "-1", "La semilla debe ser un número entero entre 0 y 2147483647."),
    ("semilla", "1.5", "La semilla debe ser un número entero entre 0 y 2147483647."),
    ("horizonte_meses", "0", "El horizonte debe estar entre 3 y 60 meses."),
    ("cuota_exportadora", "150", "Escriba un porcentaje entre 0 y 100."),
    ("abandono_por_tarea", "nan", "Escriba un porcentaje entre 0 y 50."),
    ("mejora_por_tarea", "", "Escriba un porcentaje entre 0 y 20."),
    ("diseno_a", "cpe_actual:9", "Elija un proceso y una versión desplegados."),
    ("diseno_b", "cpe_actual:1", "Elija un diseño distinto del diseño A."),
])
def test_bad_input_gets_a_spanish_message_and_starts_nothing(analyst, tmp_path, field, value, message):
    response = analyst.post("/modelos/simulacion", data={**VALID, field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and f'id="err-{field}"' in html
    assert _runs(tmp_path) == []


def test_unknown_or_malformed_ids_are_not_found(analyst):
    assert analyst.get("/modelos/simulacion/" + "b" * 22).status_code == 404
    assert analyst.get("/modelos/simulacion/..%2F..%2Fsecret_key").status_code == 404
    assert analyst.get("/modelos/simulacion/corto/estado.json").status_code == 404


def test_a_run_whose_process_died_is_shown_failed(sim_app, analyst):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _fake_run(sim_app, "D" * 22, RUNNING, pid=dead.pid)
    assert analyst.get("/modelos/simulacion/" + "D" * 22 + "/estado.json").get_json()["estado"] == FAILED
    assert "La simulación falló." in analyst.get("/modelos/simulacion/" + "D" * 22).get_data(as_text=True)


def test_runs_at_once_are_capped_and_old_runs_are_cleaned(sim_app, analyst, tmp_path):
    for n in range(2):
        _fake_run(sim_app, f"R{n}".ljust(22, "x"), RUNNING, pid=os.getpid())
    response = analyst.post("/modelos/simulacion", data=VALID)
    assert response.status_code == 422 and "Ya hay 2 simulaciones en curso" in response.get_data(as_text=True)
    for n in range(4):
        _fake_run(sim_app, f"F{n}".ljust(22, "x"), DONE, creada=f"2026-01-0{n + 1}T00:00:00+00:00")
    sim_app.config["SIMULATIONS_KEEP"] = 2
    with sim_app.app_context():
        simulation_jobs.cleanup()
    # running runs stay; of the finished ones, the newest two
    assert _runs(tmp_path) == sorted(["R0".ljust(22, "x"), "R1".ljust(22, "x"), "F2".ljust(22, "x"),
                                      "F3".ljust(22, "x")])


def _wait(client, run_id, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/modelos/simulacion/{run_id}/estado.json").get_json()
        if state["estado"] != RUNNING:
            return state
        time.sleep(1)
    raise AssertionError("la simulación no terminó a tiempo")


def test_compare_actual_and_proposed_in_the_background(sim_app, analyst, engine, tmp_path):
    response = analyst.post("/modelos/simulacion", data=VALID)
    assert response.status_code == 302
    run_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", run_id) and _runs(tmp_path) == [run_id]
    pending = analyst.get(f"/modelos/simulacion/{run_id}").get_data(as_text=True)
    assert 'id="sim-status"' in pending or "chart-resultados" in pending
    state = _wait(analyst, run_id)
    log = (tmp_path / "simulaciones" / run_id / "registro.txt").read_text(errors="replace")
    assert state["estado"] == DONE, (state, log)

    result = json.loads((tmp_path / "simulaciones" / run_id / "resultado.json").read_text())
    a, b = result["a"], result["b"]
    assert (a["proceso"], a["version"], b["proceso"], b["version"]) == ("cpe_actual", 1, "cpe_propuesto", 1)
    assert a["casos"] == b["casos"] == 40 and a["semilla"] == b["semilla"] == 11
    assert a["segmentos_iniciales"] == b["segmentos_iniciales"]  # the same cohort
    assert b["resultados"]["derivada"] < a["resultados"]["derivada"]  # as in tests/test_simulate.py
    assert b["duracion_dias"]["permanencia_media"] > a["duracion_dias"]["permanencia_media"]
    derived = next(d for d in result["diferencias"] if d["clave"] == "derivada")
    assert derived["cambio"] < 0 and derived["valoracion"] == "mejor"

    html = analyst.get(f"/modelos/simulacion/{run_id}").get_data(as_text=True)
    assert "cpe_actual" in html or a["nombre"] in html
    assert f"{a['nombre']} v1" in html and f"{b['nombre']} v1" in html
    chip = re.search(r'<li class="v-(\w+)" data-metric="derivada">.*?sim-h-change">([^<]+)<', html, re.S)
    assert chip and chip.group(1) == "mejor" and chip.group(2).startswith("−")
    data = json.loads(re.search(r'<script type="application/json" id="sim-data">(.*?)</script>', html, re.S).group(1))
    assert data["pasos"]["labels"] and len(data["pasos"]["a"]) == len(data["pasos"]["labels"])
    assert "/vendor/chart.js" in html
    for side, result_side in (("a", a), ("b", b)):  # the heatmap overlay of each simulated run
        overlay = json.loads(re.search(rf'id="sim-map-{side}">(.*?)</script>', html, re.S).group(1))
        assert overlay["elementos"]["StartEvent_Interesada"]["casos"] == 40
        assert max(e["nivel_casos"] for e in overlay["elementos"].values()) >= 1
        assert set(result_side["pasos"]) <= set(overlay["elementos"])
    assert b["mapa"]["elementos"]["Task_PlanFortalecimiento"]["casos"] > 0
    assert "Task_PlanFortalecimiento" not in a["mapa"]["elementos"]
    assert analyst.get("/vendor/chart.js").status_code == 200
    listing = analyst.get("/modelos/simulacion").get_data(as_text=True)
    assert f"/modelos/simulacion/{run_id}" in listing and "Terminada" in listing
    with engine.Session() as s:  # the configured database was only read
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_task_durations_from_the_case_history(sim_app, analyst, engine, clock, tmp_path):
    """With the box ticked (the default), the web request reads the history of both designs (the
    worker never reads the configured database) and the result page says which tasks took it."""
    assert 'name="historial" value="1" checked' in analyst.get("/modelos/simulacion").get_data(as_text=True)
    _first_tasks(engine, clock, [7.0 * (n % 4 + 1) for n in range(20)])
    small = {**VALID, "casos": "10", "horizonte_meses": "3"}
    with_history = analyst.post("/modelos/simulacion", data={**small, "historial": "1"})
    without = analyst.post("/modelos/simulacion", data=small)  # an unticked box is not sent
    assert with_history.status_code == without.status_code == 302
    runs = {}
    for name, response in (("con", with_history), ("sin", without)):
        run_id = response.headers["Location"].rsplit("/", 1)[-1]
        request = json.loads((tmp_path / "simulaciones" / run_id / "solicitud.json").read_text())
        runs[name] = (run_id, request["configuracion"]["duraciones"])
        assert _wait(analyst, run_id)["estado"] == DONE
    durations = runs["con"][1]
    assert durations["desde_historial"] is True and durations["historial"] == {"Task_TPE_Bienes": 20}
    low, mode, high = durations["tareas"]["Task_TPE_Bienes"]
    assert low == 5.0 and high == 20.0 and low <= mode <= high  # 7 to 28 calendar days = 5 to 20 working
    assert runs["sin"][1] == {"tareas": {}, "desde_historial": False}
    page = analyst.get(f"/modelos/simulacion/{runs['con'][0]}").get_data(as_text=True)
    line = re.search(r'id="sim-duraciones">(.*?)</p>', page, re.S).group(1)
    assert "Duración de las tareas del historial de casos:" in line and "(20 tareas)" in line
    plain = analyst.get(f"/modelos/simulacion/{runs['sin'][0]}").get_data(as_text=True)
    assert "Duración de las tareas por omisión (sin historial)." in plain
