"""Comments on the case page through the Flask test client."""

from __future__ import annotations

import re

import pytest

from engine.cases.comments import comments
from webapp import create_app

from .conftest import PASSWORD


def _post(client, case_id, body, **kwargs):
    return client.post(f"/casos/{case_id}/comentarios", data={"comentario": body}, **kwargs)


def test_the_case_page_has_an_empty_comments_card(client, auth, start):
    case_id = start()
    auth.login()
    html = client.get(f"/casos/{case_id}").text
    assert 'id="comentarios"' in html and "Aún no hay comentarios en este caso." in html
    assert f'action="/casos/{case_id}/comentarios"' in html and 'name="comentario"' in html
    assert 'maxlength="4000"' in html


def test_add_a_comment(client, auth, start, engine):
    case_id = start()
    auth.login()
    response = _post(client, case_id, "  Llamé a la empresa:\nenvía la ficha el lunes.  ")
    [comment] = comments(engine, case_id)
    assert response.status_code == 302
    assert response.location.endswith(f"/casos/{case_id}#comentario-{comment['id']}")
    assert comment["author"] == "eje.rm" and comment["body"] == "Llamé a la empresa:\nenvía la ficha el lunes."
    html = client.get(f"/casos/{case_id}").text
    assert "Comentario publicado." in html
    assert f'id="comentario-{comment["id"]}"' in html and "Eje RM" in html
    # line breaks kept as typed inside the body (shown with white-space: pre-wrap)
    assert '<div class="comment-body">Llamé a la empresa:\nenvía la ficha el lunes.</div>' in html
    assert re.search(r'<span class="muted small nowrap">· \d\d-\d\d-\d{4} \d\d:\d\d</span>', html)
    assert f'<a href="#comentario-{comment["id"]}">Comentario</a>' in html  # in the history
    assert "Aún no hay comentarios" not in html


def test_colleagues_of_the_region_and_analysts_see_and_add_comments(client, auth, start, engine):
    case_id = start()
    auth.login()
    _post(client, case_id, "Primero")
    client.post("/salir")
    auth.login("eje2.rm")
    assert "Primero" in client.get(f"/casos/{case_id}").text
    _post(client, case_id, "Segundo")
    client.post("/salir")
    auth.login("analista")
    _post(client, case_id, "Tercero")
    html = client.get(f"/casos/{case_id}").text
    assert html.index("Primero") < html.index("Segundo") < html.index("Tercero")
    assert [(c["author"], c["body"]) for c in comments(engine, case_id)] == [
        ("eje.rm", "Primero"), ("eje2.rm", "Segundo"), ("analista", "Tercero")]


@pytest.mark.parametrize("body,message", [
    ("", "Escriba el comentario antes de enviarlo."),
    ("  \r\n\t ", "Escriba el comentario antes de enviarlo."),
    ("x" * 4001, "El comentario no puede superar los 4000 caracteres (tiene 4001)."),
])
def test_invalid_comments_are_refused_and_change_nothing(client, auth, start, engine, body, message):
    case_id = start()
    auth.login()
    history = len(engine.case(case_id)["history"])
    response = _post(client, case_id, body)
    assert response.status_code == 302 and response.location.endswith(f"/casos/{case_id}")
    html = client.get(f"/casos/{case_id}").text
    assert f"No se publicó el comentario: {message}" in html and "flash-error" in html
    assert comments(engine, case_id) == [] and len(engine.case(case_id)["history"]) == history


def test_a_missing_field_is_refused(client, auth, start, engine):
    case_id = start()
    auth.login()
    client.post(f"/casos/{case_id}/comentarios", data={})
    assert comments(engine, case_id) == []


def test_another_regions_executive_can_neither_read_nor_comment(client, auth, start, engine):
    case_id = start("CL-RM")
    auth.login()
    _post(client, case_id, "Solo para la RM")
    client.post("/salir")
    auth.login("eje.bio")
    assert client.get(f"/casos/{case_id}").status_code == 403
    response = _post(client, case_id, "Intruso")
    assert response.status_code == 403 and "Intruso" not in response.text
    assert [c["body"] for c in comments(engine, case_id)] == ["Solo para la RM"]


def test_unknown_case_and_anonymous_visitor(client, auth, start, engine):
    case_id = start()
    assert _post(client, case_id, "Sin sesión").location.startswith("/ingresar")
    auth.login()
    assert _post(client, 999999, "Nada").status_code == 404
    assert client.get(f"/casos/{case_id}/comentarios").status_code == 405
    assert comments(engine, case_id) == []


def test_script_stays_text(client, auth, start, engine):
    case_id = start()
    auth.login()
    _post(client, case_id, "<script>alert(1)</script>\n<b>negrita</b>")
    html = client.get(f"/casos/{case_id}").text
    assert "<script>alert(1)</script>" not in html and "<b>negrita</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\n&lt;b&gt;negrita&lt;/b&gt;" in html
    assert comments(engine, case_id)[0]["body"] == "<script>alert(1)</script>\n<b>negrita</b>"


def test_the_form_carries_a_csrf_token_and_needs_it(app, engine, start):
    case_id = start()  # `app` deployed the model and created the users
    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})  # CSRF on, as in production
    client = app.test_client()

    def token(html):
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    login_page = client.get("/ingresar").text
    client.post("/ingresar", data={"username": "eje.rm", "password": PASSWORD, "csrf_token": token(login_page)})
    html = client.get(f"/casos/{case_id}").text
    form = html[html.index('id="comentarios"'):]
    assert 'name="csrf_token"' in form
    refused = client.post(f"/casos/{case_id}/comentarios", data={"comentario": "Sin token"})
    assert refused.status_code == 400 and comments(engine, case_id) == []
    accepted = client.post(f"/casos/{case_id}/comentarios", data={"comentario": "Con token", "csrf_token": token(form)})
    assert accepted.status_code == 302 and [c["body"] for c in comments(engine, case_id)] == ["Con token"]
