"""An engine error that no page catches answers with its status and the Spanish error page, not
a 500 (webapp/shared/error_responses.py): NotFound and Forbidden with the generic texts that
abort() gives (their own text may name what the user may not see), a conflict and a broken
model with their message. The API answers the same errors with its JSON body."""

from __future__ import annotations

import html

import pytest

from engine.accounts import apitokens
from engine.basics.errors import BrokenModel, Conflict, DeployError, Forbidden, FormError, NotFound, Problem
from webapp.pages import cases as cases_page

SECRET = "caso 99 de la región CL-BI"


@pytest.mark.parametrize(("exc", "status", "shown"), [
    (NotFound(f"no existe el {SECRET}"), 404, "La página que busca no existe."),
    (Forbidden(f"no puede ver el {SECRET}"), 403, "No tiene permiso para ver esta página."),
    (Conflict("El caso fue modificado por otra persona al mismo tiempo; recargue la página."), 409,
     "El caso fue modificado por otra persona al mismo tiempo; recargue la página."),
    (BrokenModel("el formulario f v2 guardado no se puede usar: despliegue una versión válida"), 422,
     "el formulario f v2 guardado no se puede usar: despliegue una versión válida"),
], ids=["not-found", "forbidden", "conflict", "broken-model"])
def test_an_engine_error_no_page_caught_gives_its_status_and_page(client, auth, start, monkeypatch, exc, status,
                                                                   shown):
    case_id = start()
    auth.login("eje.rm")

    def fail(*_args, **_kwargs):
        raise exc

    monkeypatch.setattr(cases_page, "case_record", fail)  # the case page does not catch it
    response = client.get(f"/casos/{case_id}")
    assert response.status_code == status
    text = html.unescape(response.get_data(as_text=True))
    assert f"Error {status}" in text and shown in text
    assert SECRET not in text and "Traceback" not in text


def test_a_case_that_does_not_exist_gives_the_404_page(client, auth):
    auth.login("eje.rm")
    response = client.get("/casos/999999")
    assert response.status_code == 404
    assert "La página que busca no existe." in html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize(("exc", "status", "body"), [
    (NotFound("no existe el proceso x"), 404, {"error": "No existe el proceso x"}),
    (Forbidden("no puede ver modelos"), 403, {"error": "No puede ver modelos"}),
    (Conflict("cambió mientras tanto"), 409, {"error": "Cambió mientras tanto"}),
    (BrokenModel("el formulario f v2 guardado no se puede usar"), 422,
     {"error": "El formulario f v2 guardado no se puede usar"}),
    (FormError({"rut": "RUT inválido"}), 422, {"error": "Revise los campos marcados.",
                                               "errors": {"rut": "RUT inválido"}}),
    (DeployError([Problem("a.bpmn", 3, "task T", "sin nombre")]), 422, {"error": "A.bpmn:3: task T: sin nombre"}),
], ids=["not-found", "forbidden", "conflict", "broken-model", "form", "deploy"])
def test_the_api_answers_each_engine_error_with_its_json_body(client, engine, monkeypatch, exc, status, body):
    token = apitokens.create_token(engine, "analista", name="pruebas")[1]

    def fail(*_args, **_kwargs):
        raise exc

    monkeypatch.setattr(engine, "models", fail)
    response = client.get("/api/v1/processes", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
    assert response.json == body
