"""Decision and form editors of the models area: the live form preview (nothing stored), and
deploy from both editors through the engine's deploy path (new version; identical is a no-op)."""

from __future__ import annotations

import json
import re

import pytest

from engine.models.validation import collect_files
from webapp import create_app

from .conftest import MODEL, PASSWORD

PREVIEW = "/modelos/formulario/vista-previa"
DEPLOY_FORM = "/modelos/formulario/desplegar"
VALIDATE_DMN = "/modelos/decision/validar"
DEPLOY_DMN = "/modelos/decision/desplegar"


def _form(engine, key="dr_cuestionario"):
    return engine.model_version("form", key)["content"]


def _dmn(engine):
    return engine.model_version("decision", "dr_nivel")["content"]


def _count(engine):
    return len(engine.models())


@pytest.fixture
def analyst(client, auth):
    auth.login("analista")
    return client


def test_preview_renders_the_task_form(analyst, engine):
    before = _count(engine)
    text = _form(engine).replace("¿Tiene sitio web en inglés?", "¿Tiene un sitio web en inglés?")
    r = analyst.post(PREVIEW, json={"json": text})
    assert r.status_code == 200 and r.json["ok"] is True
    html = r.json["html"]
    # the same macro as the task pages: a group with its radio options, named by dotted paths
    assert "¿Tiene un sitio web en inglés?" in html and 'name="respuestas.idiomas"' in html
    assert 'value="ingles"' in html and "Solo español" in html and 'class="taskform"' in html
    assert r.json["title"] == "Cuestionario de diagnóstico rápido"
    assert _count(engine) == before  # a preview stores nothing
    assert engine.model_version("form", "dr_cuestionario")["version"] == 1


def test_preview_reports_json_errors_with_line_and_column(analyst):
    r = analyst.post(PREVIEW, json={"json": '{\n  "type": "object",\n  "title": "x"\n  "properties": {}\n}'})
    problem = r.json["problems"][0]
    assert r.json["ok"] is False and (problem["line"], problem["column"]) == (4, 3)
    assert "línea 4, columna 3" in problem["text"] and "falta una coma" in problem["text"]


@pytest.mark.parametrize("schema, expected", [
    ({"type": "object", "properties": {"a": {"type": "strin"}}}, "tipo desconocido \"strin\""),
    ({"type": "object", "required": "a"}, "required: debe ser una lista"),
    ({"type": "object", "properties": {"a": {"type": "string", "minLength": -1}}}, "mayor o igual a 0"),
    ({"type": "array", "items": {"type": "string"}}, '"type": "object"'),
    ({"type": "object", "properties": {"razón social": {"type": "string"}}}, "«razón social» no es válido"),
    ({"type": "object", "properties": {"a": True}}, "debe ser un objeto JSON Schema"),
    ({"type": "object", "properties": {"a": {"type": "array"}}}, 'necesita "items"'),
    ([1, 2], "debe ser un objeto JSON Schema"),
])
def test_preview_explains_schemas_that_break_the_rules(analyst, schema, expected):
    r = analyst.post(PREVIEW, json={"json": json.dumps(schema, ensure_ascii=False, indent=2)})
    assert r.json["ok"] is False
    assert any(expected in p["text"] for p in r.json["problems"]), r.json["problems"]


def test_meta_schema_errors_point_at_the_key(analyst):
    text = '{\n  "type": "object",\n  "properties": {\n    "a": {"type": "strin"}\n  }\n}'
    problem = analyst.post(PREVIEW, json={"json": text}).json["problems"][0]
    assert problem["line"] == 4 and "properties › a › type" in problem["text"]


def test_hostile_and_huge_input_is_refused(analyst, engine):
    before = _count(engine)
    huge = json.dumps({"type": "object", "description": "x" * (600 * 1024)})
    refused = analyst.post(PREVIEW, json={"json": huge})
    assert refused.status_code == 413 and "demasiado grande (máximo 512 KB)" in refused.json["problems"][0]["text"]
    assert analyst.post(DEPLOY_FORM, json={"json": huge, "key": "x", "message": "m"}).status_code == 413
    deep = analyst.post(PREVIEW, json={"json": "[" * 100_000 + "]" * 100_000}).json
    assert deep["ok"] is False and "anida demasiados niveles" in deep["problems"][0]["text"]
    nested = {"type": "object", "properties": {}}
    node = nested
    for _ in range(12):
        node["properties"]["g"] = {"type": "object", "properties": {}}
        node = node["properties"]["g"]
    r = analyst.post(PREVIEW, json={"json": json.dumps(nested)})
    assert r.json["ok"] is False and "anida más de 8 grupos" in r.json["problems"][0]["text"]
    many = {"type": "object", "properties": {f"c{i}": {"type": "string"} for i in range(401)}}
    assert "más de 400 campos" in analyst.post(PREVIEW, json={"json": json.dumps(many)}).json["problems"][0]["text"]
    script = {"type": "object", "title": "<script>alert(1)</script>",
              "properties": {"a": {"type": "string", "title": "<img src=x onerror=alert(1)>"}}}
    html = analyst.post(PREVIEW, json={"json": json.dumps(script)}).json["html"]
    assert "<script>" not in html and "<img" not in html and "&lt;img src=x" in html
    assert analyst.post(PREVIEW, data="no json").status_code == 400
    assert analyst.post(PREVIEW, json={"json": 5}).status_code == 400
    assert _count(engine) == before


@pytest.mark.parametrize("user", ["eje.rm", None])
def test_only_analysts(client, auth, user):
    if user:
        auth.login(user)
    expected = 403 if user else 302
    for url in ("/modelos/formulario/dr_cuestionario/editar", "/modelos/formulario/nuevo",
                "/modelos/decision/dr_nivel/editar", "/modelos/decision/nueva", "/modelos/decision/nueva.dmn"):
        assert client.get(url).status_code == expected, url
    for url in (PREVIEW, DEPLOY_FORM, VALIDATE_DMN, DEPLOY_DMN):
        assert client.post(url, json={"json": "{}", "xml": "<x/>", "message": "m"}).status_code in (expected, 401), url


def test_csrf_is_required(engine):
    engine.deploy(collect_files([MODEL]))
    engine.create_user("ana", PASSWORD, "analista")
    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})  # CSRF on
    client = app.test_client()
    login_page = client.get("/ingresar").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    client.post("/ingresar", data={"username": "ana", "password": PASSWORD, "csrf_token": token})
    page = client.get("/modelos/formulario/dr_cuestionario/editar").text
    editor_token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    body = {"json": _form(engine)}
    assert client.post(PREVIEW, json=body).status_code == 400
    assert client.post(DEPLOY_DMN, json={"xml": _dmn(engine), "message": "x"}).status_code == 400
    ok = client.post(PREVIEW, json=body, headers={"X-CSRFToken": editor_token})
    assert ok.status_code == 200 and ok.json["ok"] is True


def test_editor_pages(analyst, engine):
    page = analyst.get("/modelos/formulario/dr_cuestionario/editar").text
    assert "Cuestionario de diagnóstico rápido" in page and 'id="form-json"' in page
    assert 'value="dr_cuestionario" readonly' in page and "&#34;title&#34;" in page
    page = analyst.get("/modelos/decision/dr_nivel/editar").text
    assert 'data-source="/modelos/decision/dr_nivel/v1/archivo?ver=1"' in page and "dmn-modeler.js" in page
    assert analyst.get("/modelos/decision/nada/editar").status_code == 404
    assert analyst.get("/modelos/formulario/dr_cuestionario/editar?v=7").status_code == 404
    version = analyst.get("/modelos/decision/dr_nivel/v1").text
    assert "/modelos/decision/dr_nivel/editar?v=1" in version
    assert "/modelos/formulario/dr_cuestionario/editar?v=1" in analyst.get("/modelos/form/dr_cuestionario/v1").text
    # the starting points are valid models
    starter = analyst.get("/modelos/decision/nueva.dmn").text
    assert analyst.post(VALIDATE_DMN, json={"xml": starter, "filename": "nueva_decision.dmn"}).json["ok"] is True
    new_form = analyst.get("/modelos/formulario/nuevo").text
    text = re.search(r'<textarea id="form-json"[^>]*>(.*?)</textarea>', new_form, re.S).group(1)
    text = text.replace("&#34;", '"').replace("&amp;", "&")
    assert analyst.post(PREVIEW, json={"json": text}).json["ok"] is True
    for url in ("/vendor/dmn-modeler.js", "/vendor/dmn-js-decision-table.css", "/vendor/dmn-font.css"):
        assert analyst.get(url).status_code == 200, url


def test_deploy_a_form(analyst, engine):
    text = _form(engine).replace("Solo español", "Solo castellano")
    missing = analyst.post(DEPLOY_FORM, json={"json": text, "key": "dr_cuestionario"})
    assert missing.status_code == 422 and "mensaje" in missing.json["problems"][0]["text"]
    bad_key = analyst.post(DEPLOY_FORM, json={"json": text, "key": "../etc", "message": "x"})
    assert bad_key.status_code == 422 and "identificador" in bad_key.json["problems"][0]["text"]
    broken = analyst.post(DEPLOY_FORM, json={"json": text + ",", "key": "dr_cuestionario", "message": "x"})
    assert broken.status_code == 422 and broken.json["problems"][0]["line"]
    assert engine.model_version("form", "dr_cuestionario")["version"] == 1

    r = analyst.post(DEPLOY_FORM, json={"json": text, "key": "dr_cuestionario", "message": "Castellano"})
    assert r.status_code == 200 and r.json["created"] is True and r.json["url"] == "/modelos/form/dr_cuestionario/v2"
    v2 = engine.model_version("form", "dr_cuestionario")
    assert v2["version"] == 2 and v2["author"] == "analista" and "Solo castellano" in v2["content"]
    again = analyst.post(DEPLOY_FORM, json={"json": text, "key": "dr_cuestionario", "message": "otra vez"})
    assert again.json == {"ok": True, "created": False, "url": "/modelos/form/dr_cuestionario/v2",
                          "results": [{"kind": "form", "key": "dr_cuestionario", "version": 2, "created": False}],
                          "warnings": []}
    assert "Castellano" in analyst.get("/modelos/").text
    taken = analyst.post(DEPLOY_FORM, json={"json": text, "key": "dr_cuestionario", "message": "x", "new": True})
    assert taken.status_code == 422 and "Ya existe dr_cuestionario" in taken.json["problems"][0]["text"]
    fresh = analyst.post(DEPLOY_FORM, json={"json": text, "key": "encuesta_salida", "message": "Nuevo", "new": True})
    assert fresh.json["results"][0] == {"kind": "form", "key": "encuesta_salida", "version": 1, "created": True}


def test_deploy_a_decision(analyst, engine):
    xml = _dmn(engine).replace('"alto"', '"medio"')
    checked = analyst.post(VALIDATE_DMN, json={"xml": xml, "filename": "dr_nivel.dmn"})
    assert checked.json == {"ok": True, "problems": []}
    r = analyst.post(DEPLOY_DMN, json={"xml": xml, "filename": "dr_nivel.dmn", "message": "Nivel medio"})
    assert r.status_code == 200 and r.json["created"] is True and r.json["url"] == "/modelos/decision/dr_nivel/v2"
    assert engine.model_version("decision", "dr_nivel")["version"] == 2
    again = analyst.post(DEPLOY_DMN, json={"xml": xml, "filename": "dr_nivel.dmn", "message": "x"})
    assert again.json["created"] is False and again.json["results"][0]["version"] == 2
    assert "Nivel medio" in analyst.get("/modelos/").text
    taken = analyst.post(DEPLOY_DMN, json={"xml": xml.replace('"medio"', '"x"'), "filename": "d.dmn", "message": "x",
                                           "new": True})
    assert taken.status_code == 422 and "Ya existe dr_nivel" in taken.json["problems"][0]["text"]
    assert engine.model_version("decision", "dr_nivel")["version"] == 2


@pytest.mark.parametrize("old, new, expected, element", [
    ('"alto"', 'alto"', "«alto\"» no es una expresión válida", "OutputEntry_alto"),
    ("&lt; 50", "&lt; 50 y", "regla 1 (Rule_bajo), entrada «Puntaje»", "InputEntry_bajo"),
    ('"bajo"', "__import__('os')", "no es una expresión válida", "OutputEntry_bajo"),
    ('hitPolicy="FIRST"', 'hitPolicy="PRIORITY"', "política de aciertos PRIORITY", "DecisionTable_dr_nivel"),
    ('hitPolicy="FIRST"', 'hitPolicy="COLLECT" aggregation="SUM"', "agregación SUM", "DecisionTable_dr_nivel"),
    ("<rule ", "<regla ", "regla", None),
])
def test_decision_problems_are_refused(analyst, engine, old, new, expected, element):
    xml = _dmn(engine).replace(old, new, 1)
    checked = analyst.post(VALIDATE_DMN, json={"xml": xml, "filename": "dr_nivel.dmn"}).json
    assert checked["ok"] is False and any(expected in p["text"] for p in checked["problems"]), checked
    if element:
        assert element in [p["element_id"] for p in checked["problems"]]
    r = analyst.post(DEPLOY_DMN, json={"xml": xml, "filename": "dr_nivel.dmn", "message": "x"})
    assert r.status_code == 422 and engine.model_version("decision", "dr_nivel")["version"] == 1


def test_decision_input_limits(analyst, engine):
    assert analyst.post(VALIDATE_DMN, json={"xml": "x" * (3 * 1024 * 1024)}).status_code == 413
    assert analyst.post(VALIDATE_DMN, json={"xml": "   "}).status_code == 400
    xxe = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">&x;</definitions>')
    r = analyst.post(DEPLOY_DMN, json={"xml": xxe, "filename": "x.dmn", "message": "x"})
    assert r.status_code == 422 and "root:" not in json.dumps(r.json)
    # a BPMN file sent to the decision editor is still only a .dmn file
    bpmn = engine.model_version("process", "diagnostico_rapido")["content"]
    r = analyst.post(DEPLOY_DMN, json={"xml": bpmn, "filename": "diagnostico_rapido.bpmn", "message": "x"})
    assert r.status_code == 422 and engine.model_version("process", "diagnostico_rapido")["version"] == 1
