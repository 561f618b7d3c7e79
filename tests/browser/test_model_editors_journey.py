"""An analyst edits a rule's output in the dmn-js decision table and deploys version 2; then edits a
field title in the form editor, sees the live preview change, and deploys version 2."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import login

# dmn-js renders its bpmn.io logo with inline styles, which the CSP blocks (editors.css styles it
# instead), and its bundle carries Inferno's development notice; nothing else may reach the console
KNOWN_NOISE = ("Applying inline style violates", "development build of Inferno")


def _console(page):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error"
            and not any(k in m.text for k in KNOWN_NOISE) else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def test_edit_a_decision_table_and_deploy(browser, live_server, deployed, shot):
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors = _console(page)
    login(page, live_server, "ana")
    page.goto(f"{live_server}/modelos/decision/segmento_cpe/v1")
    page.click("text=Editar la tabla de decisión")
    page.wait_for_selector("#dmn-app[data-ready='1']")
    assert page.locator("#decision-id").input_value() == "segmento_cpe"

    cell = page.locator("td[data-element-id='OutputEntry_rojo'] [contenteditable]")
    assert cell.inner_text().strip() == '"rojo"'
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("rojo plan")  # without quotes: not an expression
    page.click("#btn-validate")
    page.wait_for_selector("#dmn-app[data-validated='problems']")
    assert "regla 2 (Rule_rojo), salida «Segmento»" in page.inner_text("#editor-result")
    assert page.locator("td.cpe-problem-cell[data-element-id='OutputEntry_rojo']").count() == 1
    shot(page, "decision-editor-problems")

    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type('"rojo_plan"')
    page.click("#btn-validate")
    page.wait_for_selector("#dmn-app[data-validated='ok']")
    assert page.locator(".cpe-problem-cell").count() == 0
    shot(page, "decision-editor")
    page.fill("#deploy-message", "Rojo pasa a plan de fortalecimiento")
    page.click("#btn-deploy")
    page.wait_for_selector("#dmn-app[data-deployed='created']")
    assert page.get_by_text("segmento_cpe v2 — nueva versión").is_visible()

    version = deployed.model_version("decision", "segmento_cpe")
    assert version["version"] == 2 and version["author"] == "ana" and '"rojo_plan"' in version["content"]
    assert '"rojo"' not in version["content"] and 'hitPolicy="FIRST"' in version["content"]
    page.click("#btn-deploy")  # the same table again: no new version
    page.wait_for_selector("#dmn-app[data-deployed='unchanged']")
    assert deployed.model_version("decision", "segmento_cpe")["version"] == 2

    page.goto(f"{live_server}/modelos/")
    row = page.locator("tr", has=page.locator("code", has_text=re.compile("^segmento_cpe$")))
    assert "v2" in row.inner_text() and "Rojo pasa a plan de fortalecimiento" in row.inner_text()

    page.click("text=Nueva decisión")  # a new decision from the starting table
    page.wait_for_selector("#dmn-app[data-ready='1']")
    page.fill("#decision-id", "nivel_prueba")
    page.locator("#decision-id").dispatch_event("change")
    page.fill("#decision-name", "Nivel de prueba")
    page.locator("#decision-name").dispatch_event("change")
    assert page.locator(".decision-table-name").inner_text().strip() == "Nivel de prueba"
    page.fill("#deploy-message", "Primera versión")
    page.click("#btn-deploy")
    page.wait_for_selector("#dmn-app[data-deployed='created']")
    created = deployed.model_version("decision", "nivel_prueba")
    assert (created["version"], created["name"], created["filename"]) == (1, "Nivel de prueba", "nivel_prueba.dmn")
    assert errors == []
    page.close()


def test_edit_a_form_with_live_preview_and_deploy(browser, live_server, deployed, shot):
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    errors = _console(page)
    login(page, live_server, "ana")
    page.goto(f"{live_server}/modelos/form/entrevista/v1")
    page.click("text=Editar el formulario")
    page.wait_for_selector("#form-editor[data-preview-state='ok']")
    preview = page.locator("#form-preview")
    assert "Compromiso de la gerencia con exportar" in preview.inner_text()

    area = page.locator("#form-json")
    original = area.input_value()
    area.fill(original.replace('"title": "Compromiso de la gerencia con exportar"', '"title": "Compromiso de la '
                                                                                  'gerencia con la exportación"'))
    expect(preview).to_contain_text("Compromiso de la gerencia con la exportación")
    assert page.locator("#form-editor").get_attribute("data-preview-state") == "ok"

    broken = area.input_value().replace('"additionalProperties": false,', '"additionalProperties": false,,', 1)
    area.fill(broken)
    page.wait_for_selector("#form-editor[data-preview-state='invalid']")
    problems = page.inner_text("#form-problems")
    assert "JSON mal formado en la línea 7" in problems
    assert "con la exportación" in preview.inner_text()  # the last good preview stays, dimmed
    shot(page, "form-editor-problems")
    page.click("#form-problems .linklike")
    assert page.inner_text("#form-cursor").startswith("Línea 7")
    area.fill(broken.replace(",,", ",", 1))
    page.wait_for_selector("#form-editor[data-preview-state='ok']")
    assert page.inner_text("#form-problems") == ""
    shot(page, "form-editor")

    page.fill("#deploy-message", "Pregunta más clara")
    page.click("#btn-deploy")
    page.wait_for_selector("#form-editor[data-deployed='created']")
    assert page.get_by_text("entrevista v2 — nueva versión").is_visible()
    version = deployed.model_version("form", "entrevista")
    assert version["version"] == 2 and "con la exportación" in version["content"] and version["author"] == "ana"

    page.goto(f"{live_server}/modelos/")
    row = page.locator("tr", has=page.locator("code", has_text=re.compile("^entrevista$")))
    assert "v2" in row.inner_text() and "Pregunta más clara" in row.inner_text()
    assert errors == []
    page.close()
