"""Pages and permissions through the Flask test client."""

from __future__ import annotations

import pytest

from .conftest import task_ids


def test_login_and_logout(client, auth):
    assert client.get("/").location.endswith("/ingresar")
    assert client.get("/bandeja").status_code == 302
    bad = auth.login(password="otra-clave")
    assert bad.status_code == 401 and "Usuario o contraseña incorrectos." in bad.text
    assert auth.login().location.endswith("/bandeja")
    assert "Bandeja de tareas" in client.get("/bandeja").text
    client.post("/salir")
    assert client.get("/bandeja").status_code == 302


def test_inbox_shows_only_my_region(client, auth, start, engine):
    rm, bio = start("CL-RM"), start("CL-BI", "Miel del Biobío SpA")
    auth.login("eje.bio")
    html = client.get("/bandeja").text
    assert "Miel del Biobío SpA" in html and "Conservas del Sur SpA" not in html
    [task] = engine.ready_tasks(case_id=rm)
    assert client.get(f"/tareas/{task['id']}").status_code == 403
    assert client.post(f"/tareas/{task['id']}", data={}).status_code == 403
    assert client.get(f"/casos/{rm}").status_code == 403
    assert client.get(f"/casos/{bio}").status_code == 200


def test_claim_and_release(client, auth, start, engine):
    case_id = start()
    [task] = engine.ready_tasks(case_id=case_id)
    auth.login()
    client.post(f"/tareas/{task['id']}/tomar")
    assert engine.task(task["id"])["assignee"] == "eje.rm"
    assert "Mis tareas" in client.get("/bandeja?ver=mine").text
    client.post("/salir")
    auth.login("eje2.rm")
    assert task["id"] not in task_ids(client.get("/bandeja").text)
    response = client.post(f"/tareas/{task['id']}/tomar", follow_redirects=True)
    assert "ya fue tomada por eje.rm" in response.text
    client.post("/salir")
    auth.login()
    client.post(f"/tareas/{task['id']}/liberar")
    assert engine.task(task["id"])["assignee"] is None


def test_form_renders_the_questionnaire(client, auth, start, engine):
    [task] = engine.ready_tasks(case_id=start())
    auth.login()
    html = client.get(f"/tareas/{task['id']}").text
    assert 'type="radio" name="respuestas.web" value="si"' in html
    assert 'name="respuestas.idiomas" value="varios"' in html
    assert "¿Tiene sitio web en inglés?" in html
    assert "x-points" not in html and "points" not in html


def test_empty_submission_is_refused_in_spanish(client, auth, start, engine):
    case_id = start()
    [task] = engine.ready_tasks(case_id=case_id)
    auth.login()
    response = client.post(f"/tareas/{task['id']}", data={})
    assert response.status_code == 422
    assert "Revise los campos marcados" in response.text
    assert "¿Tiene sitio web en inglés?: Este campo es obligatorio." in response.text
    assert [t["id"] for t in engine.ready_tasks(case_id=case_id)] == [task["id"]]


def test_values_are_kept_on_error(client, auth, start, engine):
    [task] = engine.ready_tasks(case_id=start())
    auth.login()
    html = client.post(f"/tareas/{task['id']}", data={"respuestas.web": "si"}).text
    assert 'value="si" checked' in html and "Idiomas de la gerencia: Este campo es obligatorio." in html


def test_valid_submission_moves_the_case_and_a_second_one_is_refused(client, auth, start, engine):
    case_id = start()
    [task] = engine.ready_tasks(case_id=case_id)
    auth.login()
    data = {"respuestas.web": "no", "respuestas.idiomas": "ninguno"}
    response = client.post(f"/tareas/{task['id']}", data=data)
    assert response.status_code == 302 and response.location.endswith(f"/casos/{case_id}")
    assert engine.case(case_id)["status"] == "completed"
    again = client.post(f"/tareas/{task['id']}", data=data, follow_redirects=True)
    assert "ya no está disponible" in again.text
    page = client.get(f"/casos/{case_id}").text
    assert "SERCOTEC" in page and "Derivaciones" in page


def test_user_text_is_escaped_everywhere(client, auth, start, engine):
    case_id = start(razon_social="<script>alert(1)</script> SpA")
    auth.login()
    for url in ("/bandeja", f"/casos/{case_id}", "/casos", f"/tareas/{engine.ready_tasks(case_id=case_id)[0]['id']}"):
        html = client.get(url).text
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


@pytest.mark.parametrize("url", ["/nada", "/casos/999999", "/tareas/no-existe"])
def test_error_pages_have_no_traceback(client, auth, url):
    auth.login()
    response = client.get(url)
    assert response.status_code == 404
    assert "Traceback" not in response.text and "La página que busca no existe." in response.text


def test_analyst_sees_cases_of_every_region_but_cannot_work_tasks(client, auth, start, engine):
    bio = start("CL-BI")
    [task] = engine.ready_tasks(case_id=bio)
    auth.login("analista")
    assert client.get(f"/casos/{bio}").status_code == 200
    assert client.get(f"/tareas/{task['id']}").status_code == 403


def test_security_headers(client):
    response = client.get("/ingresar")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_csrf_is_required(engine):
    from webapp import create_app

    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    response = app.test_client().post("/ingresar", data={"username": "x", "password": "y"})
    assert response.status_code == 400 and "El formulario expiró o no es válido" in response.text


def test_language_switch(client, auth):
    auth.login()
    client.post("/idioma/en", data={"next": "/bandeja"})
    html = client.get("/bandeja").text
    assert '<html lang="en">' in html and "Task inbox" in html
    client.post("/idioma/es_CL")
    assert "Bandeja de tareas" in client.get("/bandeja").text
