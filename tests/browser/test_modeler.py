"""An analyst edits a task name in the browser modeler, validates, deploys, and sees version 2
in the list and in the comparison view; the saved file keeps the SpiffWorkflow extensions."""

from __future__ import annotations

from engine.models.diff import compare_xml

from .conftest import login


def test_edit_in_the_modeler_and_deploy(browser, live_server, deployed, shot):
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    original = deployed.model_version("process", "cpe_actual")["content"]
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "ana")

    page.goto(f"{live_server}/modelos/cpe_actual/editar")
    page.wait_for_selector("#modeler-app[data-ready='1']")
    page.evaluate("document.getElementById('modeler-app').bpmnModeler.get('canvas').zoom('fit-viewport')")
    page.click(".djs-element[data-element-id='Task_Asesoria']", force=True)
    name = page.locator("#modeler-panel input[data-prop='name']")
    assert name.input_value() == "Asesoría"
    assert page.locator("#modeler-panel select").first.input_value() == "asesoria"  # its form, from the catalogue
    name.fill("Asesoría técnica")
    name.dispatch_event("change")
    page.click(".djs-element[data-element-id='Service_SraTPE']", force=True)  # operator and its parameters
    assert page.locator("#modeler-panel select").first.input_value() == "registrar_sra"
    assert page.locator("#modeler-panel input[data-param='tipo']").input_value() == '"tpe"'
    limit = page.locator("#modeler-panel input[data-property='tiempo_limite']")
    limit.fill("PT10H")  # a time limit past 5 minutes: validation names the element and the property
    limit.dispatch_event("change")
    page.click("#btn-validate")
    page.wait_for_selector("#modeler-app[data-validated='problems']")
    assert "Service_SraTPE" in page.locator("#modeler-result").inner_text()
    assert "tiempo_limite" in page.locator("#modeler-result").inner_text()
    limit.fill("")  # cleared: the property goes away again
    limit.dispatch_event("change")
    page.evaluate("document.getElementById('modeler-app').removeAttribute('data-validated')")
    page.click("#btn-validate")
    page.wait_for_selector("#modeler-app[data-validated]")
    assert page.locator("#modeler-app").get_attribute("data-validated") == "ok"
    page.click(".djs-element[data-element-id='Task_Asesoria']", force=True)
    shot(page, "modeler-laptop")
    page.fill("#deploy-message", "Nombre más claro para la asesoría")
    page.click("#btn-deploy")
    page.wait_for_selector("#modeler-app[data-deployed='1']")
    assert page.get_by_text("cpe_actual v2 — nueva versión").is_visible()

    version = deployed.model_version("process", "cpe_actual")
    assert version["version"] == 2 and version["author"] == "ana"
    # only the renamed task changed: every operator, form, decision, timer and condition survived the editor
    renamed = {"id": "Task_Asesoria", "type": "userTask", "name": "Asesoría técnica"}
    assert compare_xml(original, version["content"]) == {"added": [], "removed": [], "changed": [renamed]}

    page.goto(f"{live_server}/modelos/")
    assert page.get_by_text("Nombre más claro para la asesoría").is_visible()
    page.goto(f"{live_server}/modelos/process/cpe_actual/comparar?a=1&b=2")
    page.wait_for_selector(".model-diagram[data-ready='1'] >> nth=1")
    assert page.locator(".djs-element.cpe-changed[data-element-id='Task_Asesoria']").count() == 2
    assert errors == []
    page.close()
