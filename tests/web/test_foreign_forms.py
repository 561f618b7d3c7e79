"""The task page of forms from other modelers (Camunda formData, SpiffArena JSON + UI schema) and of a
task with no form (confirmation): each is in the inbox, renders, refuses bad values in Spanish with
nothing changed, and completes."""

from __future__ import annotations

import re
from pathlib import Path

from engine.models.validation import collect_files

from .conftest import task_ids

MODELS = Path(__file__).resolve().parent.parent / "models" / "interop_forms"
CASE = {"rut": "76086428-5", "razon_social": "Viña <b>Sur</b> SpA", "region": "CL-RM"}


def open_task(engine, client, auth, model, process_id):
    engine.deploy(collect_files([model]))
    case_id = engine.start(process_id, CASE)
    [task] = engine.ready_tasks(case_id=case_id)
    auth.login()
    assert task["id"] in task_ids(client.get("/bandeja").text)
    page = client.get(f"/tareas/{task['id']}")
    assert page.status_code == 200
    return case_id, task, page.text


def refused(client, engine, case_id, task, data, message):
    response = client.post(f"/tareas/{task['id']}", data=data)
    assert response.status_code == 422 and "Revise los campos marcados" in response.text
    assert message in response.text
    assert [t["id"] for t in engine.ready_tasks(case_id=case_id)] == [task["id"]]
    return response.text


def completed(client, engine, case_id, task, data):
    response = client.post(f"/tareas/{task['id']}", data=data)
    assert response.status_code == 302 and response.location.endswith(f"/casos/{case_id}")
    case = engine.case(case_id)
    assert case["status"] == "completed"
    return case["data"]


def test_camunda_form_data_task(engine, client, auth):
    case_id, task, html = open_task(engine, client, auth, MODELS / "camunda_formdata.bpmn", "solicitud_camunda")
    assert '<label for="f-producto">Producto <span class="req"' in html
    assert 'name="producto" type="text" value="Vino" maxlength="40"' in html  # defaultValue, maxlength
    assert 'name="cajas" type="number" value="" step="1" min="1" max="500"' in html
    assert 'name="fecha_envio" type="date"' in html
    assert 'type="radio" name="mercado" value="pe"' in html and "Perú" in html
    assert 'type="checkbox" id="f-urgente" name="urgente"' in html
    readonly = re.search(r'<input id="f-razon_social" type="text" readonly value="([^"]*)">', html)
    assert readonly and readonly.group(1) == "Viña &lt;b&gt;Sur&lt;/b&gt; SpA"  # the case's value, escaped
    assert 'name="razon_social"' not in html
    page = refused(client, engine, case_id, task, {"producto": "Vino", "cajas": "900"},
                   "Cajas: Debe ser menor o igual a 500.")
    assert 'value="900"' in page  # kept as typed
    refused(client, engine, case_id, task, {"producto": "Vino", "cajas": "3", "fecha_envio": "24/12/2026"},
            "Fecha de envío: Fecha no válida (AAAA-MM-DD).")
    refused(client, engine, case_id, task, {"cajas": "3"}, "Producto: Este campo es obligatorio.")
    data = completed(client, engine, case_id, task, {"producto": "Vino", "cajas": "3", "mercado": "cn",
                                                     "urgente__present": "1", "razon_social": "Otra SpA"})
    assert data["cajas"] == 3 and data["mercado"] == "cn" and data["urgente"] is False
    assert data["razon_social"] == "Viña <b>Sur</b> SpA"  # a read-only field is never sent


def test_spiffarena_form_with_its_ui_schema(engine, client, auth):
    case_id, task, html = open_task(engine, client, auth, MODELS / "spiffarena", "datos_envio")
    order = [html.index(f'id="f-{name}"') for name in ("bultos", "destinatario", "notas", "transporte",
                                                         "fecha_salida")]
    assert order == sorted(order)  # ui:order, then the others in their order
    assert '<textarea id="f-notas" name="notas" rows="4" maxlength="500"' in html
    assert "Indicaciones para el transportista" in html
    assert 'type="radio" name="transporte" value="maritimo"' in html and "Marítimo" in html
    assert 'name="fecha_salida" type="date"' in html
    assert 'placeholder="p. ej. Ana Pérez"' in html and "Nombre y apellido" in html
    assert '<input type="hidden" name="codigo_interno" value="X-1">' in html
    refused(client, engine, case_id, task, {"destinatario": "Ana", "bultos": "0", "codigo_interno": "X-1"},
            "Bultos: Debe ser mayor o igual a 1.")
    refused(client, engine, case_id, task, {"destinatario": "Ana", "bultos": "2", "transporte": "tren"},
            "Transporte: Seleccione una de las opciones.")
    data = completed(client, engine, case_id, task, {"destinatario": "Ana", "bultos": "2", "transporte": "aereo",
                                                     "notas": "Frágil", "codigo_interno": "X-1"})
    assert data["bultos"] == 2 and data["codigo_interno"] == "X-1" and data["notas"] == "Frágil"


def test_task_without_form_is_confirmed(engine, client, auth):
    case_id, task, html = open_task(engine, client, auth, MODELS / "sin_formulario.bpmn", "aprobacion_simple")
    assert '<textarea id="f-comentario" name="comentario"' in html
    assert '<button class="primary" type="submit">Confirmar</button>' in html
    assert "Completar tarea" not in html
    refused(client, engine, case_id, task, {"comentario": "x" * 2001},
            "Comentario (opcional): Debe tener como máximo 2000 caracteres.")
    assert "comentario" not in completed(client, engine, case_id, task, {"comentario": " "})


def test_confirmation_with_a_comment(engine, client, auth):
    case_id, task, _html = open_task(engine, client, auth, MODELS / "sin_formulario.bpmn", "aprobacion_simple")
    assert completed(client, engine, case_id, task, {"comentario": "<i>ok</i>"})["comentario"] == "<i>ok</i>"
    page = client.get(f"/casos/{case_id}").text
    assert "<i>ok</i>" not in page


def test_form_data_labels_with_html_are_escaped(engine, client, auth):
    model = (MODELS / "camunda_formdata.bpmn").read_text(encoding="utf-8")
    model = model.replace('label="Producto"', 'label="&lt;img src=x onerror=alert(1)&gt;Producto"')
    model = model.replace('name="Perú"', 'name="&lt;script&gt;alert(2)&lt;/script&gt;"')
    engine.deploy([("camunda_formdata.bpmn", model.encode())])
    [task] = engine.ready_tasks(case_id=engine.start("solicitud_camunda", CASE))
    auth.login()
    html = client.get(f"/tareas/{task['id']}").text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;Producto" in html
    assert "<script>alert(2)" not in html and "&lt;script&gt;alert(2)&lt;/script&gt;" in html
