"""Draft saving on the task form (the questionnaire of the small model stands in for the TPE)."""

from __future__ import annotations

import pytest

from engine.cases.drafts import MAX_CHARS, load_draft, save_draft

DRAFT = {"respuestas.web": "si", "accion": "borrador"}


@pytest.fixture
def task_id(start, engine):
    [task] = engine.ready_tasks(case_id=start())
    return task["id"]


def test_the_form_has_a_save_draft_button_beside_complete(client, auth, task_id):
    auth.login()
    html = client.get(f"/tareas/{task_id}").text
    actions = html[html.index('class="formactions"'):]
    assert actions.index("Completar tarea") < actions.index(
        '<button type="submit" name="accion" value="borrador">Guardar borrador</button>')
    assert "Se restauró su borrador" not in html


def test_save_a_draft_reload_and_complete(client, auth, task_id, engine, clock):
    auth.login()
    saved = client.post(f"/tareas/{task_id}", data=DRAFT)
    assert saved.status_code == 200
    assert "Borrador guardado a las" in saved.text and "flash-success" in saved.text
    assert 'name="respuestas.web" value="si" checked' in saved.text
    assert "Revise los campos marcados" not in saved.text and "obligatorio" not in saved.text  # not validated
    assert engine.task(task_id)["state"] == "ready"
    assert load_draft(engine, task_id, "eje.rm")["data"] == {"respuestas": {"web": "si"}}

    clock.advance(hours=2)
    page = client.get(f"/tareas/{task_id}")
    assert page.status_code == 200
    assert "Se restauró su borrador del " in page.text and "flash-info" in page.text
    assert 'name="respuestas.web" value="si" checked' in page.text
    assert 'name="respuestas.idiomas" value="varios" checked' not in page.text

    done = client.post(f"/tareas/{task_id}", data={"respuestas.web": "si", "respuestas.idiomas": "ninguno"})
    assert done.status_code == 302
    assert engine.task(task_id)["state"] == "completed"
    assert load_draft(engine, task_id, "eje.rm") is None


def test_the_time_of_the_draft_is_shown_in_chile(client, auth, task_id, clock):
    auth.login()
    saved = client.post(f"/tareas/{task_id}", data=DRAFT)
    assert "Borrador guardado a las 06:00." in saved.text  # 09:00 UTC on 2 March 2026 (UTC-3)
    page = client.get(f"/tareas/{task_id}").text
    assert "Se restauró su borrador del 02-03-2026 06:00." in page


def test_saving_again_replaces_the_draft(client, auth, task_id, engine):
    auth.login()
    client.post(f"/tareas/{task_id}", data=DRAFT)
    client.post(f"/tareas/{task_id}", data={"respuestas.idiomas": "varios", "accion": "borrador"})
    html = client.get(f"/tareas/{task_id}").text
    assert 'name="respuestas.idiomas" value="varios" checked' in html
    assert 'name="respuestas.web" value="si" checked' not in html


def test_a_draft_is_personal(client, auth, task_id, engine):
    auth.login()
    client.post(f"/tareas/{task_id}", data=DRAFT)
    client.post("/salir")
    auth.login("eje2.rm")
    html = client.get(f"/tareas/{task_id}").text
    assert "Se restauró su borrador" not in html and "checked" not in html


def test_the_company_draft_is_not_shown_to_the_executive(client, auth, task_id, engine):
    save_draft(engine, task_id, "pyme", {"respuestas": {"web": "no"}})
    auth.login()
    html = client.get(f"/tareas/{task_id}").text
    assert "Se restauró su borrador" not in html and "checked" not in html


def test_a_refused_completion_shows_what_was_posted_and_keeps_the_draft(client, auth, task_id, engine):
    auth.login()
    client.post(f"/tareas/{task_id}", data=DRAFT)
    refused = client.post(f"/tareas/{task_id}", data={"respuestas.idiomas": "ingles"})
    assert refused.status_code == 422 and "Se restauró su borrador" not in refused.text
    assert 'value="ingles" checked' in refused.text and 'value="si" checked' not in refused.text
    assert load_draft(engine, task_id, "eje.rm")["data"] == {"respuestas": {"web": "si"}}


def test_who_may_not_work_the_task_cannot_save_a_draft(client, auth, task_id, engine):
    for username in ("eje.bio", "analista"):
        auth.login(username)
        assert client.post(f"/tareas/{task_id}", data=DRAFT).status_code == 403
        client.post("/salir")
    assert load_draft(engine, task_id, "eje.bio") is None and load_draft(engine, task_id, "analista") is None


def test_a_draft_of_a_completed_task_is_refused(client, auth, task_id, engine):
    engine.complete(task_id, {"respuestas": {"web": "no", "idiomas": "ninguno"}})
    auth.login()
    response = client.post(f"/tareas/{task_id}", data=DRAFT, follow_redirects=True)
    assert "ya no está disponible" in response.text
    assert load_draft(engine, task_id, "eje.rm") is None


def test_a_too_large_draft_is_refused(client, auth, task_id, engine, app):
    auth.login()
    # a lines field would carry it; the small model has none, so post an oversized option value
    response = client.post(f"/tareas/{task_id}", data={"respuestas.web": "x" * MAX_CHARS, "accion": "borrador"})
    assert response.status_code == 422
    assert "No se guardó el borrador: El borrador es demasiado grande" in response.text
    assert load_draft(engine, task_id, "eje.rm") is None


@pytest.fixture
def call_task_id(task_id, engine, clock):
    """The follow-up call of the small model: a checkbox and a free-text note."""
    engine.complete(task_id, {"respuestas": {"web": "si", "idiomas": "varios"}})
    clock.advance(days=5)
    engine.fire_due_timers()
    [task] = engine.ready_tasks(case_id=engine.task(task_id)["case_id"])
    assert task["bpmn_id"] == "Task_Llamada"
    return task["id"]


def test_a_draft_with_text_and_a_checkbox(client, auth, call_task_id, engine):
    auth.login()
    note = 'Contesta "Ana" <script>alert(1)</script>\nsegunda línea'
    client.post(f"/tareas/{call_task_id}", data={"contactada__present": "1", "contactada": "1", "nota": note,
                                                 "accion": "borrador"})
    assert load_draft(engine, call_task_id, "eje.rm")["data"] == {"contactada": True, "nota": note}
    html = client.get(f"/tareas/{call_task_id}").text
    assert 'name="contactada" value="1" checked' in html
    assert ">Contesta &#34;Ana&#34; &lt;script&gt;alert(1)&lt;/script&gt;\nsegunda línea</textarea>" in html
    assert "<script>alert(1)</script>" not in html
    client.post(f"/tareas/{call_task_id}", data={"contactada__present": "1", "accion": "borrador"})
    assert load_draft(engine, call_task_id, "eje.rm")["data"] == {"contactada": False}  # unchecked is saved too
