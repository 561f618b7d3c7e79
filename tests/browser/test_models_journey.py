"""An analyst compares two versions of cpe_actual on the diagrams and previews a migration."""

from __future__ import annotations

from pathlib import Path

from engine.models.validation import collect_files

from .. import profiles as P
from ..driver import Driver
from .conftest import login

ROOT = Path(__file__).resolve().parents[2]


def test_analyst_compares_versions_and_migrates(browser, live_server, deployed, clock, shot, tmp_path):
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    driver = Driver(deployed, clock, "cpe_actual")
    case_id = driver.start()
    driver.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    text = (ROOT / "processes" / "cpe_actual.bpmn").read_text()
    (tmp_path / "cpe_actual.bpmn").write_text(text.replace('name="Asesoría"', 'name="Asesoría técnica"'))
    deployed.deploy(collect_files([tmp_path]), author="ana", message="Nombre de la asesoría")

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "ana")
    page.goto(f"{live_server}/modelos/")
    assert page.get_by_text("Nombre de la asesoría").is_visible()
    shot(page, "models-index-laptop")
    page.goto(f"{live_server}/modelos/process/cpe_actual/comparar?a=1&b=2")
    page.wait_for_selector(".model-diagram[data-ready='1'] >> nth=1")
    assert page.locator(".djs-element.cpe-changed[data-element-id='Task_Asesoria']").count() == 2
    shot(page, "models-compare-laptop")
    page.goto(f"{live_server}/modelos/process/cpe_actual/v1")
    page.click("button[value='revisar']")
    assert page.locator("table.migration").get_by_text("se puede migrar").is_visible()
    page.click("button[value='migrar']")
    assert page.locator("table.migration").get_by_text("migrado a v2").is_visible()
    shot(page, "models-migrate-laptop")
    assert deployed.case(case_id)["version"] == 2
    assert errors == []
    page.close()
