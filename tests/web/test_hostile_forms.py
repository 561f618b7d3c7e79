"""Hostile forms through the web (issue "Hostile input", classes 5 and 6): the models upload,
the form editor's preview and its deploy refuse each form of the catalogue of
tests/test_form_hostile.py with a message naming the field (never a 500), and a hostile form
that is somehow already stored gives a Spanish error page (422), not a 500."""

from __future__ import annotations

import html
import io
import json

import pytest
from sqlalchemy import update

from engine.accounts import apitokens
from engine.models import spiff
from engine.store.schema import ModelVersion

from ..test_form_hostile import CATALOGUE, _nest, _text, loopback  # noqa: F401 - loopback is a fixture

PREVIEW = "/modelos/formulario/vista-previa"
DEPLOY_FORM = "/modelos/formulario/desplegar"


@pytest.fixture
def analyst(client, auth):
    auth.login("analista")
    return client


def _count(engine):
    return len(engine.models())


@pytest.mark.parametrize("label, form, fragments", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_upload_and_editor_refuse_hostile_forms(analyst, engine, loopback, label, form, fragments):  # noqa: F811
    url, hits = loopback
    text = _text(form, url)
    before = _count(engine)
    upload = analyst.post("/modelos/desplegar", data={"archivos": [(io.BytesIO(text.encode()), "hostil.json")],
                                                      "mensaje": "hostil"}, content_type="multipart/form-data")
    assert upload.status_code == 422 and "No se desplegó nada" in upload.text
    page = html.unescape(upload.text)
    assert all(f in page for f in fragments), page[-3000:]
    preview = analyst.post(PREVIEW, json={"json": text})
    assert preview.status_code == 200 and preview.json["ok"] is False
    problems = " ".join(p["text"] for p in preview.json["problems"])
    assert all(f in problems for f in fragments), problems
    deployed = analyst.post(DEPLOY_FORM, json={"json": text, "key": "hostil", "message": "m", "new": True})
    assert deployed.status_code == 422 and deployed.json["ok"] is False
    assert all(f in " ".join(p["text"] for p in deployed.json["problems"]) for f in fragments)
    assert _count(engine) == before and hits == []


def test_a_hostile_form_already_stored_gives_an_error_page_not_a_500(client, auth, engine, start):
    case_id = start()
    [task] = engine.ready_tasks(case_id=case_id)
    auth.login("eje.rm")
    hostile = json.dumps({"type": "object", "properties": {"a": _nest("not", 300)}})
    with engine.transaction() as s:  # an older version stored before the rules existed
        s.execute(update(ModelVersion).where(ModelVersion.kind == "form", ModelVersion.key == "dr_cuestionario")
                  .values(content=hostile))
    engine.specs = spiff.SpecCache()  # a new process: nothing compiled yet
    page = client.get(f"/tareas/{task['id']}")
    assert page.status_code == 422, page.status_code
    text = html.unescape(page.text)
    assert "dr_cuestionario" in text and "anidamiento de más de 32 niveles" in text
    posted = client.post(f"/tareas/{task['id']}", data={"x": "1"})
    assert posted.status_code == 422
    inbox = client.get("/bandeja")
    assert inbox.status_code in (200, 422)
    token = apitokens.create_token(engine, "eje.rm", name="pruebas")[1]
    api = client.get(f"/api/v1/tasks/{task['id']}", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 422 and "anidamiento de más de 32 niveles" in api.json["error"]


def test_a_form_at_the_nesting_limit_still_deploys_and_shows(analyst, engine):
    """32 levels of allOf (the most expensive for the meta-schema check) with a pattern at the
    bottom: previewed, deployed and validated inside a web request, without running out of stack."""
    deepest = {"type": "object", "properties": {"a": _nest("allOf", 31)}}
    deepest["properties"]["a"]["type"] = "string"
    text = json.dumps(deepest)
    preview = analyst.post(PREVIEW, json={"json": text})
    assert preview.status_code == 200 and preview.json["ok"] is True, preview.json
    deployed = analyst.post(DEPLOY_FORM, json={"json": text, "key": "profundo", "message": "límite", "new": True})
    assert deployed.status_code == 200 and deployed.json["created"] is True
    deeper = {"type": "object", "properties": {"a": _nest("allOf", 32)}}
    refused = analyst.post(PREVIEW, json={"json": json.dumps(deeper)}).json
    assert refused["ok"] is False and "anidamiento de más de 32 niveles" in refused["problems"][0]["text"]
