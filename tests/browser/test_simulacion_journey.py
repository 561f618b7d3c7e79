"""An analyst compares cpe_actual with cpe_propuesto by simulation: the form, the page that waits
for the background run, and the side-by-side results with their charts."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from webapp import create_app

from ..test_simulate_history import _first_tasks
from .conftest import SHOTS, login


@pytest.fixture
def sim_server(deployed, tmp_path):
    app = create_app({"ENGINE": deployed, "SECRET_KEY": "browser-tests",
                      "SIMULATIONS_DIR": str(tmp_path / "simulaciones")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_analyst_compares_two_designs(browser, sim_server, deployed, clock, shot):
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    _first_tasks(deployed, clock, [7.0] * 20)  # the TPE took a week in 20 earlier cases
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, sim_server, "ana")
    page.goto(f"{sim_server}/modelos/")
    page.get_by_role("link", name="Simular y comparar diseños").click()
    page.wait_for_url("**/modelos/simulacion")
    page.fill("#casos", "5")
    page.click("button.primary")
    assert page.locator("#err-casos").inner_text() == "La cohorte debe tener entre 10 y 2000 empresas."
    assert page.locator("#historial").is_checked()
    shot(page, "simulation-form-laptop")
    errors.clear()  # the 422 of the refused form is expected
    page.fill("#casos", "60")
    page.fill("#semilla", "11")
    page.click("button.primary")
    page.wait_for_url("**/modelos/simulacion/*")
    if page.locator("#sim-status").count():
        shot(page, "simulation-pending-laptop")
    page.wait_for_selector("#sim-data[data-ready='1']", state="attached", timeout=300_000)
    derived = page.locator(".sim-headline li[data-metric='derivada']")
    assert "v-mejor" in derived.get_attribute("class")
    assert derived.locator(".sim-h-change").inner_text().startswith("−")
    for chart in ("resultados", "segmentos", "duracion", "carga", "pasos"):
        box = page.locator(f"#chart-{chart}").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, chart
    page.wait_for_selector(".sim-heatmap[data-ready='1'] >> nth=1")
    for side in ("a", "b"):
        heat = page.locator(f".sim-heatmap[data-map='sim-map-{side}']")
        assert heat.locator(".heat-badge[data-element='StartEvent_Interesada']").inner_text().startswith("60 casos")
    plan = ".heat-badge[data-element='Task_PlanFortalecimiento']"
    assert page.locator(f".sim-heatmap[data-map='sim-map-b'] {plan}").count() == 1
    durations = page.locator("#sim-duraciones").inner_text()
    assert "Duración de las tareas del historial de casos:" in durations and "(20 tareas)" in durations
    shot(page, "simulation-results-laptop")
    page.locator(".sim-heatmap >> nth=1").screenshot(path=str(SHOTS / "simulation-heatmap-b-laptop.png"))
    assert errors == []
    page.close()
