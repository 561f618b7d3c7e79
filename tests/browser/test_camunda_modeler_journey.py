"""A model set drawn in Camunda Modeler (tests/interop/camunda_modeler/: lanes named "Ventas", "Supervisor"
and "Logística", camunda:formData task forms, a DMN decision called with camunda:decisionRef, a call activity
to a process of another file) goes from the upload on the models page to the last task in an inbox (issue 17):
the deploy asks the role of each lane, the analyst starts a case choosing its region, and the people of the
mapped roles find each task in their inbox, fill the forms generated from formData, the decision sends the
case to the supervisor, the called process's task follows and the case ends completed."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from .conftest import login

MODELS = Path(__file__).resolve().parents[1] / "interop" / "camunda_modeler"
FILES = [str(MODELS / name) for name in ("cotizacion_exportacion.bpmn", "coordinacion_embarque.bpmn",
                                         "riesgo_cotizacion.dmn")]
LANES = {"Ventas": "ejecutivo_cpe", "Supervisor": "jefe_regional", "Logística": "ejecutivo_prochile"}
PEOPLE = {"vero": "ejecutivo_cpe", "jefa": "jefe_regional", "pedro": "ejecutivo_prochile"}


def _logout(page):
    page.locator("form[action$='/salir'] button").click()
    page.wait_for_url("**/ingresar*")


def _open_task(page, base, user, name):
    """`user` signs in and finds the task `name` in their inbox; returns the task page."""
    login(page, base, user)
    link = page.locator("td a", has_text=name)
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url("**/tareas/*")
    expect(page.locator("h1")).to_have_text(name)


def _complete(page, case_id):
    """Completes the open task: the case page follows, saying so."""
    name = page.locator("h1").inner_text()
    page.get_by_role("button", name="Completar tarea").click()
    page.wait_for_url(f"**/casos/{case_id}")
    expect(page.locator(".flash-success")).to_contain_text(f"Tarea «{name}» completada.")


def test_a_camunda_modeler_diagram_runs_from_upload_to_the_last_task(browser, live_server, deployed, shot):
    deployed.create_user("ana", "secreto-123", "analista", full_name="Ana Analista")
    for username, role in PEOPLE.items():
        deployed.create_user(username, "secreto-123", role, region="CL-RM")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)  # the refused deploy: 422

    # -- the analyst uploads the three files; the deploy asks the role of each lane --------------------------
    login(page, live_server, "ana")
    page.goto(f"{live_server}/modelos/")
    page.get_by_role("link", name="Desplegar una versión").click()
    page.set_input_files("#archivos", FILES)
    page.fill("#mensaje", "Cotizaciones dibujadas en Camunda Modeler")
    page.click("button.primary")
    expect(page.locator(".flash-error")).to_contain_text("No se desplegó nada")
    expect(page.locator(".flash-error")).to_contain_text("el carril «Ventas» no corresponde a un rol")
    assert deployed.models() and not [m for m in deployed.models() if m["key"] == "cotizacion_exportacion"]
    for lane, role in LANES.items():
        page.get_by_label(f"Carril «{lane}» → rol").select_option(role)
    shot(page, "camunda-deploy-lanes")
    page.click("button.primary")  # the files travel with the form
    result = page.locator(".flash-success").first
    expect(result).to_contain_text("cotizacion_exportacion v1 — nueva versión")
    expect(result).to_contain_text("coordinacion_embarque v1 — nueva versión")
    expect(result).to_contain_text("riesgo_cotizacion v1 — nueva versión")
    expect(page.locator(".flash-success", has_text="Carriles asignados")).to_contain_text(
        "Carril «Supervisor» → Jefe(a) regional")
    shot(page, "camunda-deployed")
    assert deployed.model_version("process", "cotizacion_exportacion")["dependencies"]["lanes"] == {
        "Ventas": "ejecutivo_cpe", "Supervisor": "jefe_regional"}

    # -- the analyst starts a case: the start event's formData, and the region the page adds ---------------
    page.goto(f"{live_server}/casos/nuevo")
    page.get_by_role("link", name="Cotización de exportación").click()
    form = page.locator("form.taskform")
    expect(form.get_by_label("Canal de la solicitud")).to_have_value("correo")  # six options: a list
    form.get_by_label("Quién solicita").fill("Marta Rojas")
    form.get_by_label("Canal de la solicitud").select_option(label="Feria internacional")
    form.get_by_label("Región del caso").select_option("CL-RM")
    shot(page, "camunda-start")
    page.get_by_role("button", name="Iniciar el caso").click()
    page.wait_for_url(re.compile(r".*/casos/\d+$"))
    case_id = int(page.url.rsplit("/", 1)[1])
    started = deployed.case(case_id)
    assert started["region"] == "CL-RM" and (started["data"]["solicitante"], started["data"]["canal"]) == (
        "Marta Rojas", "feria")
    _logout(page)

    # -- Ventas (CPE executives of the region) registers the request: every formData field type ------------
    _open_task(page, live_server, "vero", "Registrar la solicitud")
    form = page.locator("form.taskform")
    expect(form.get_by_label("Producto")).to_have_value("Vino embotellado")  # the field's defaultValue
    expect(form.get_by_label("América Latina")).to_be_checked()  # four options: radio buttons
    assert form.get_by_label("Fecha estimada de embarque").get_attribute("type") == "date"
    assert form.get_by_label("¿Es su primera exportación?").get_attribute("type") == "checkbox"
    shot(page, "camunda-task-registrar")
    form.get_by_label("Cliente").fill("Viña Los Andes SpA")
    form.get_by_label("Monto (USD)").fill("45000")
    form.get_by_label("Asia").check()
    form.get_by_label("Fecha estimada de embarque").fill("2027-03-15")
    _complete(page, case_id)
    data = deployed.case(case_id)["data"]
    assert (data["monto"], data["mercado"], data["primera_exportacion"]) == (45000, "asia", False)
    assert data["riesgo"] == "alto"  # the DMN's second rule: over 20 000 USD to Asia
    page.goto(f"{live_server}/bandeja")
    expect(page.locator("td a", has_text="Aprobar la cotización")).to_have_count(0)  # not the seller's
    _logout(page)

    # -- the decision sent the case to Supervisor (regional heads): camunda:candidateGroups="Supervisor" ---
    _open_task(page, live_server, "jefa", "Aprobar la cotización")
    form = page.locator("form.taskform")
    expect(form.get_by_label("Cliente")).to_have_value("Viña Los Andes SpA")  # readonly: the case's value
    expect(form.get_by_label("Cliente")).not_to_be_editable()
    shot(page, "camunda-task-aprobar")
    form.get_by_label("¿Aprueba la cotización?").check()
    form.get_by_label("Observaciones").fill("Pago anticipado del 30 %.")
    _complete(page, case_id)
    _logout(page)

    # -- the called process (another file): its task reaches Logística (ProChile executives) ---------------
    _open_task(page, live_server, "pedro", "Reservar el espacio en la naviera")
    form = page.locator("form.taskform")
    expect(form.get_by_label("Contenedores de 40 pies")).to_have_value("1")
    shot(page, "camunda-task-reservar")
    form.get_by_label("Hapag-Lloyd").check()
    form.get_by_label("Contenedores de 40 pies").fill("2")
    form.get_by_label("Fecha de zarpe").fill("2027-03-20")
    form.get_by_label("Seguro de carga contratado").check()
    _complete(page, case_id)
    page.goto(f"{live_server}/bandeja")
    expect(page.locator("td a", has_text="Reservar el espacio en la naviera")).to_have_count(0)

    # -- the case ended; its page says so -------------------------------------------------------------------
    page.goto(f"{live_server}/casos/{case_id}")
    expect(page.locator(".status.st-completed")).to_be_visible()
    shot(page, "camunda-case-completed")
    case = deployed.case(case_id)
    assert case["status"] == "completed" and deployed.ready_tasks(case_id=case_id) == []
    assert (case["data"]["aprobada"], case["data"]["naviera"], case["data"]["contenedores"]) == (True, "hapag", 2)
    assert case["data"]["fecha_zarpe"] == "2027-03-20" and case["data"]["seguro_contratado"] is True
    done_by = {e["name"]: e["actor"] for e in case["history"] if e["kind"] == "task_completed"}
    assert done_by == {"Registrar la solicitud": "vero", "Aprobar la cotización": "jefa",
                       "Reservar el espacio en la naviera": "pedro"}
    assert errors == ["Failed to load resource: the server responded with a status of 422 (UNPROCESSABLE ENTITY)"]
    page.close()
