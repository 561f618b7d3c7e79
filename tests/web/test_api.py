"""The JSON API under /api/v1: token authentication, the CLI's verbs, role-and-region rules,
JSON errors (never HTML, never a redirect) and an OpenAPI document that matches the routes."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from sqlalchemy import update

from engine.accounts import apitokens
from engine.store.schema import User

API = "/api/v1"
ANSWERS = {"respuestas": {"web": "no", "idiomas": "ninguno"}}
START = {"rut": "76.086.428-5", "razon_social": "Vinos del Valle SpA", "region": "CL-RM", "ventas_uf": 9000}


@pytest.fixture
def api(app, engine):
    """A client that speaks JSON with a token: api.get(path, user="eje.rm")."""
    client = app.test_client()
    tokens = {}

    class Api:
        spec = client.get(f"{API}/openapi.json").get_json()

        def token(self, username):
            if username not in tokens:
                tokens[username] = apitokens.create_token(engine, username, name="pruebas")[1]
            return tokens[username]

        def call(self, method, path, user="eje.rm", body=None, raw=None, token=None, headers=None):
            sent = dict(headers or {})
            if token is not None or user is not None:
                sent["Authorization"] = f"Bearer {token if token is not None else self.token(user)}"
            kwargs = {"data": raw} if raw is not None else ({"json": body} if body is not None else {})
            response = client.open(f"{API}{path}", method=method, headers=sent, **kwargs)
            assert response.content_type == "application/json", response.text[:200]
            assert "<html" not in response.text.lower()
            assert response.status_code not in (301, 302, 303, 307, 308)
            return response

        def get(self, path, **kwargs):
            return self.call("GET", path, **kwargs)

        def post(self, path, body=None, **kwargs):
            return self.call("POST", path, body=body, **kwargs)

        def documented(self, response, method, path):
            """Check the answer against the OpenAPI document's schema for this operation and status."""
            operation = self.spec["paths"][path][method.lower()]
            declared = operation["responses"][str(response.status_code)]
            if "$ref" in declared:
                declared = self.spec["components"]["responses"][declared["$ref"].rsplit("/", 1)[1]]
            schema = dict(declared["content"]["application/json"]["schema"], components=self.spec["components"])
            errors = [e.message for e in Draft202012Validator(schema).iter_errors(response.get_json())]
            assert not errors, errors
            return response.get_json()

    return Api()


def _ready(engine, case_id):
    [task] = engine.ready_tasks(case_id=case_id)
    return task


# -- happy paths -----------------------------------------------------------------------------
def test_processes(api):
    response = api.get("/processes")
    assert response.status_code == 200
    body = api.documented(response, "get", "/processes")
    assert [(m["kind"], m["key"], m["version"]) for m in body["items"]] == [("process", "diagnostico_rapido", 1)]
    every = api.get("/processes?kind=all").get_json()["items"]
    assert {m["key"] for m in every} >= {"diagnostico_rapido", "dr_nivel", "dr_cuestionario", "dr_registro"}
    forms = api.get("/processes?kind=form").get_json()["items"]
    assert forms and {m["kind"] for m in forms} == {"form"}


def test_start_a_case_and_read_it(api, engine):
    response = api.post("/cases", {"process_id": "diagnostico_rapido", "data": START})
    assert response.status_code == 201
    case = api.documented(response, "post", "/cases")
    assert response.headers["Location"] == f"{API}/cases/{case['id']}"
    assert case["process_id"] == "diagnostico_rapido" and case["version"] == 1 and case["status"] == "active"
    assert case["data"]["rut"] == "76.086.428-5" and case["region"] == "CL-RM"
    assert case["history"][0]["kind"] == "case_started" and case["history"][0]["actor"] == "eje.rm"
    again = api.get(f"/cases/{case['id']}")
    assert again.status_code == 200
    assert api.documented(again, "get", "/cases/{case_id}") == engine.case(case["id"])


def test_start_with_an_explicit_version_as_analyst_in_any_region(api):
    data = dict(START, region="CL-BI")
    response = api.post("/cases", {"process_id": "diagnostico_rapido", "data": data, "version": 1}, user="analista")
    assert response.status_code == 201 and response.get_json()["region"] == "CL-BI"
    missing = api.post("/cases", {"process_id": "diagnostico_rapido", "data": data, "version": 7}, user="analista")
    assert missing.status_code == 404
    assert missing.get_json()["error"] == "No existe el proceso 'diagnostico_rapido' versión 7"


def test_case_list_is_paginated_and_limited_to_my_region(api, start, engine):
    rm = [start("CL-RM", f"Empresa {n} SpA") for n in range(3)]
    bio = start("CL-BI", "Miel del Biobío SpA")
    response = api.get("/cases?per_page=2")
    assert response.status_code == 200
    page = api.documented(response, "get", "/cases")
    assert [c["id"] for c in page["items"]] == [rm[2], rm[1]]
    assert (page["total"], page["page"], page["per_page"], page["pages"]) == (3, 1, 2, 2)
    assert page["items"][0]["created_at"].endswith("+00:00")
    second = api.get("/cases?per_page=2&page=2").get_json()
    assert [c["id"] for c in second["items"]] == [rm[0]]
    other = engine.start("diagnostico_rapido", dict(START, rut="11.111.111-1", razon_social="Quesos Andinos Ltda"))
    assert [c["id"] for c in api.get("/cases?q=quesos").get_json()["items"]] == [other]
    assert [c["id"] for c in api.get("/cases?q=11.111").get_json()["items"]] == [other]
    assert [c["id"] for c in api.get("/cases", user="eje.bio").get_json()["items"]] == [bio]
    assert api.get("/cases?region=CL-BI").status_code == 403
    everything = api.get("/cases", user="analista").get_json()
    assert everything["total"] == 5
    assert [c["id"] for c in api.get("/cases?region=CL-BI", user="analista").get_json()["items"]] == [bio]


def test_tasks_offered_to_me(api, start, engine):
    rm, other = start("CL-RM"), start("CL-RM", "Otra SpA")
    start("CL-BI", "Miel del Biobío SpA")
    response = api.get("/tasks")
    assert response.status_code == 200
    tasks = api.documented(response, "get", "/tasks")["items"]
    assert sorted(t["case_id"] for t in tasks) == [rm, other]
    assert tasks[0]["form"]["title"] == "Cuestionario de diagnóstico rápido"
    [only] = api.get(f"/tasks?case_id={rm}").get_json()["items"]
    assert only["id"] == _ready(engine, rm)["id"]
    assert [t["region"] for t in api.get("/tasks", user="eje.bio").get_json()["items"]] == ["CL-BI"]
    one = api.get(f"/tasks/{only['id']}")
    assert one.status_code == 200
    assert api.documented(one, "get", "/tasks/{task_id}") == engine.task(only["id"])


def test_complete_a_task(api, start, engine):
    case_id = start()
    task = _ready(engine, case_id)
    response = api.post(f"/tasks/{task['id']}/complete", ANSWERS)
    assert response.status_code == 200
    body = api.documented(response, "post", "/tasks/{task_id}/complete")
    assert body == {"task_id": task["id"], "case_id": case_id, "status": "completed"}
    case = engine.case(case_id)
    assert case["status"] == "completed" and case["data"]["respuestas"] == ANSWERS["respuestas"]
    completed = [e for e in case["history"] if e["kind"] == "task_completed"]
    assert [e["actor"] for e in completed] == ["eje.rm"]


def test_claim_and_release(api, start, engine):
    task = _ready(engine, start())
    claimed = api.post(f"/tasks/{task['id']}/claim")
    assert claimed.status_code == 200
    assert api.documented(claimed, "post", "/tasks/{task_id}/claim")["assignee"] == "eje.rm"
    assert engine.task(task["id"])["assignee"] == "eje.rm"
    taken = api.post(f"/tasks/{task['id']}/claim", user="eje2.rm")
    assert taken.status_code == 409 and taken.get_json()["error"] == "La tarea ya fue tomada por eje.rm."
    not_mine = api.post(f"/tasks/{task['id']}/release", user="eje2.rm")
    assert not_mine.status_code == 403
    released = api.post(f"/tasks/{task['id']}/release")
    assert released.status_code == 200
    assert api.documented(released, "post", "/tasks/{task_id}/release")["assignee"] is None
    assert engine.task(task["id"])["assignee"] is None


# -- authentication ------------------------------------------------------------------------------
def _expire(engine, clock):
    token = apitokens.create_token(engine, "eje.rm", days=1)[1]
    clock.advance(days=1, seconds=1)
    return token


def _revoke(engine, clock):
    token_id, token = apitokens.create_token(engine, "eje.rm")
    apitokens.revoke(engine, token_id, "eje.rm")
    return token


def _deactivated(engine, clock):
    token = apitokens.create_token(engine, "eje.rm")[1]
    with engine.transaction() as s:
        s.execute(update(User).where(User.username == "eje.rm").values(active=False))
    return token


BAD_TOKENS = [
    ("no header", None, None, None),
    ("other scheme", None, "Basic ZWplLnJtOnNlY3JldG8tMTIz", None),
    ("empty bearer", None, "Bearer ", None),
    ("unknown token", lambda eng, clock: "cpe_" + "x" * 43, None, "invalid_token"),
    ("not a cpe token", lambda eng, clock: "abc", None, "invalid_token"),
    ("expired", _expire, None, "invalid_token"),
    ("revoked", _revoke, None, "invalid_token"),
    ("user deactivated", _deactivated, None, "invalid_token"),
]


@pytest.mark.parametrize("what,make,header,error", BAD_TOKENS, ids=[b[0] for b in BAD_TOKENS])
@pytest.mark.parametrize("method,path", [("GET", "/cases"), ("POST", "/cases"), ("GET", "/tasks")])
def test_401_without_a_valid_token(api, engine, clock, what, make, header, error, method, path):
    headers = {"Authorization": header} if header else {}
    token = make(engine, clock) if make else None
    response = api.call(method, path, user=None, token=token, headers=headers,
                        body={"process_id": "diagnostico_rapido", "data": START} if method == "POST" else None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (f'error="{error}"' in response.headers["WWW-Authenticate"]) == bool(error)
    assert response.get_json()["error"].startswith("Falta el token" if error is None else "El token no es válido")
    assert engine.models() and not engine.ready_tasks()


def test_a_session_cookie_is_not_enough(app, engine):
    client = app.test_client()
    client.post("/ingresar", data={"username": "eje.rm", "password": "secreto-123"})
    assert client.get("/bandeja").status_code == 200
    response = client.get(f"{API}/cases")
    assert response.status_code == 401 and response.content_type == "application/json"


def test_token_use_is_recorded(api, engine):
    api.get("/cases")
    [token] = apitokens.list_tokens(engine, "eje.rm")
    assert token["last_used_at"] is not None and token["state"] == "active"


# -- permissions -------------------------------------------------------------------------------------
def test_403_for_another_regions_case_and_task(api, start, engine):
    rm = start("CL-RM")
    task = _ready(engine, rm)
    checks = [
        api.get(f"/cases/{rm}", user="eje.bio"),
        api.get(f"/tasks/{task['id']}", user="eje.bio"),
        api.post(f"/tasks/{task['id']}/complete", ANSWERS, user="eje.bio"),
        api.post(f"/tasks/{task['id']}/claim", user="eje.bio"),
        api.post(f"/tasks/{task['id']}/release", user="eje.bio"),
        api.post("/cases", {"process_id": "diagnostico_rapido", "data": START}, user="eje.bio"),
    ]
    assert [r.status_code for r in checks] == [403] * len(checks)
    assert all(r.get_json()["error"] for r in checks)
    assert checks[0].get_json()["error"] == "No tiene permiso para ver casos de otra región."
    assert checks[-1].get_json()["error"] == "Solo puede iniciar casos de su región (CL-BI)."
    assert api.get(f"/tasks?case_id={rm}", user="eje.bio").get_json()["items"] == []
    assert engine.task(task["id"])["state"] == "ready" and engine.task(task["id"])["assignee"] is None
    assert engine.case(rm)["status"] == "active"


def test_analyst_sees_every_case_but_cannot_work_tasks(api, start, engine):
    bio = start("CL-BI")
    task = _ready(engine, bio)
    assert api.get(f"/cases/{bio}", user="analista").status_code == 200
    assert api.get(f"/tasks/{task['id']}", user="analista").status_code == 200
    response = api.post(f"/tasks/{task['id']}/complete", ANSWERS, user="analista")
    assert response.status_code == 403
    assert response.get_json()["error"] == "No tiene permiso para completar esta tarea."
    assert engine.task(task["id"])["state"] == "ready"


def test_roles_that_cannot_start_cases(api, engine):
    engine.create_user("prochile.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    response = api.post("/cases", {"process_id": "diagnostico_rapido", "data": START}, user="prochile.rm")
    assert response.status_code == 403 and response.get_json()["error"] == "Su rol no puede iniciar casos."
    assert api.get("/cases", user="analista").get_json()["total"] == 0


def test_a_process_started_in_the_heads_lane_is_the_heads_to_start(api, engine):
    """The redistribution of a portfolio (issue 16 item 8) starts in the regional head's lane: an
    executive may not start it through the API either."""
    from pathlib import Path

    from engine.models.validation import collect_files

    root = Path(__file__).resolve().parents[2]
    engine.deploy(collect_files([root / "forms", root / "processes"]), author="test", message="inicial")
    engine.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM")
    body = {"process_id": "redistribuir_cartera", "data": {"region": "CL-RM", "motivo_redistribucion": "salida"}}
    refused = api.post("/cases", body, user="eje.rm")
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "Su rol no puede iniciar casos de este proceso."
    assert api.get("/cases", user="analista").get_json()["total"] == 0
    started = api.post("/cases", body, user="jefe.rm")
    assert started.status_code == 201 and started.get_json()["process_id"] == "redistribuir_cartera"


# -- errors --------------------------------------------------------------------------------------------
def test_422_with_field_errors_and_the_task_stays_ready(api, start, engine):
    case_id = start()
    task = _ready(engine, case_id)
    response = api.post(f"/tasks/{task['id']}/complete", {"respuestas": {"web": "tal vez"}})
    assert response.status_code == 422
    body = api.documented(response, "post", "/tasks/{task_id}/complete")
    assert body["error"] == "Revise los campos marcados."
    assert body["errors"] == {
        "respuestas.idiomas": "Respuestas › Idiomas de la gerencia: Este campo es obligatorio.",
        "respuestas.web": "Respuestas › ¿Tiene sitio web en inglés?: Seleccione una de las opciones.",
    }
    assert _ready(engine, case_id)["id"] == task["id"]
    assert engine.case(case_id)["status"] == "active"


def test_422_on_invalid_start_data(api):
    response = api.post("/cases", {"process_id": "diagnostico_rapido", "data": dict(START, rut="76.086.428-4")})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"rut": "RUT: RUT inválido: revise el dígito verificador."}
    assert api.get("/cases").get_json()["total"] == 0


@pytest.mark.parametrize("body,errors", [
    ({}, {"process_id"}),
    ({"process_id": "", "data": {}}, {"process_id"}),
    ({"process_id": "diagnostico_rapido", "data": [1]}, {"data"}),
    ({"process_id": "diagnostico_rapido", "data": START, "version": "1"}, {"version"}),
    ({"process_id": "diagnostico_rapido", "data": START, "version": 0}, {"version"}),
    ({"process_id": "diagnostico_rapido", "data": START, "datos": {}}, {"datos"}),
])
def test_422_on_a_start_body_with_wrong_fields(api, body, errors):
    response = api.post("/cases", body)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == errors
    assert api.get("/cases").get_json()["total"] == 0


def test_409_on_a_second_completion(api, start, engine):
    case_id = start()
    task = _ready(engine, case_id)
    assert api.post(f"/tasks/{task['id']}/complete", ANSWERS).status_code == 200
    again = api.post(f"/tasks/{task['id']}/complete", ANSWERS)
    assert again.status_code == 409
    assert api.documented(again, "post", "/tasks/{task_id}/complete")["error"] == (
        "La tarea «Responder cuestionario» ya no está disponible: fue completada por eje.rm o cancelada.")
    assert [e["kind"] for e in engine.case(case_id)["history"]].count("task_completed") == 1


@pytest.mark.parametrize("raw,message", [
    (b'{"respuestas": ', "El cuerpo no es JSON válido."),
    (b"\xff\xfe", "El cuerpo no es JSON válido."),
    (b"[1, 2]", "El cuerpo debe ser un objeto JSON."),
    (b'"texto"', "El cuerpo debe ser un objeto JSON."),
    (b"[" * 100000 + b"]" * 100000, "El cuerpo no es JSON válido."),
    (b'{"respuestas": {"web": "no\\u0000"}}', "El texto no puede contener el carácter nulo (\\u0000)."),
])
def test_400_on_malformed_json(api, start, engine, raw, message):
    case_id = start()
    task = _ready(engine, case_id)
    for path in (f"/tasks/{task['id']}/complete", "/cases"):
        response = api.call("POST", path, raw=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, path
        assert api.documented(response, "post", "/cases" if path == "/cases" else "/tasks/{task_id}/complete") \
            == {"error": message}
    assert _ready(engine, case_id)["id"] == task["id"]


@pytest.mark.parametrize("query,field", [
    ("page=0", "page"), ("page=abc", "page"), ("per_page=101", "per_page"), ("page=99999999999999999999", "page"),
])
def test_400_on_bad_paging(api, query, field):
    response = api.get(f"/cases?{query}")
    assert response.status_code == 400 and set(response.get_json()["errors"]) == {field}


def test_400_on_bad_filters(api):
    assert set(api.get("/tasks?case_id=uno").get_json()["errors"]) == {"case_id"}
    assert set(api.get("/processes?kind=otra").get_json()["errors"]) == {"kind"}
    assert api.get("/cases?q=a%00b").status_code == 400


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/cases/999999", 404),
    ("GET", "/cases/99999999999999999999", 404),
    ("GET", "/tasks/no-existe", 404),
    ("GET", "/tasks/00000000-0000-0000-0000-000000000000", 404),
    ("POST", "/tasks/00000000-0000-0000-0000-000000000000/complete", 404),
    ("POST", "/tasks/00000000-0000-0000-0000-000000000000/claim", 404),
    ("GET", "/nada", 404),
    ("GET", "", 404),
    ("DELETE", "/cases", 405),
    ("GET", "/tasks/00000000-0000-0000-0000-000000000000/complete", 405),
])
def test_unknown_things_answer_json(api, method, path, status):
    response = api.call(method, path)
    assert response.status_code == status
    assert response.get_json()["error"] in ("El recurso no existe.", "Método no permitido.") or \
        response.get_json()["error"].startswith("No existe")
    if status == 405:
        assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]


def test_413_on_a_body_over_the_limit(api, start, engine):
    task = _ready(engine, start())
    big = b'{"nota": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = api.call("POST", f"/tasks/{task['id']}/complete", raw=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.get_json() == {"error": "El envío es demasiado grande."}
    assert engine.task(task["id"])["state"] == "ready"


def test_answers_are_utf8_json(api, start):
    start()
    response = api.get("/tasks")
    assert response.mimetype == "application/json"
    assert "¿Tiene sitio web en inglés?" in response.get_data(as_text=True)


def test_unknown_paths_without_a_token_are_json_too(app):
    response = app.test_client().get(f"{API}/nada")
    assert response.status_code == 404 and response.get_json() == {"error": "El recurso no existe."}


def test_start_of_an_unknown_process(api):
    response = api.post("/cases", {"process_id": "nada", "data": START})
    assert response.status_code == 404 and response.get_json() == {"error": "No existe el proceso 'nada'"}


def test_csrf_does_not_apply_to_the_api(engine):
    from webapp import create_app

    app = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "test"})
    assert app.config.get("WTF_CSRF_ENABLED", True)
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    from engine.models.validation import collect_files

    from .conftest import MODEL

    engine.deploy(collect_files([MODEL]))
    token = apitokens.create_token(engine, "eje.rm")[1]
    response = app.test_client().post(f"{API}/cases", json={"process_id": "diagnostico_rapido", "data": START},
                                      headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201
    assert app.test_client().post("/tareas/x/tomar").status_code == 400  # the pages keep their CSRF check


# -- the OpenAPI document ------------------------------------------------------------------------------
def _flask_operations(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API):])
        found |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def _documented_operations(spec) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return {(path, m) for path, item in spec["paths"].items() for m in item if m in methods}


def test_openapi_document_matches_the_routes(app):
    response = app.test_client().get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    spec = response.get_json()
    validate_openapi(spec)
    assert spec["openapi"].startswith("3.1") and spec["servers"] == [{"url": API}]
    flask_ops, documented = _flask_operations(app), _documented_operations(spec)
    assert len(flask_ops) == 10
    assert flask_ops == documented, {"missing in OpenAPI": flask_ops - documented,
                                     "not in Flask": documented - flask_ops}


def test_openapi_document_describes_security_bodies_and_errors(app):
    spec = app.test_client().get(f"{API}/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "cpe_…",
        "description": "Token personal creado con `cpe tokens create`."}
    assert spec["security"] == [{"bearerAuth": []}]
    for path, method in _documented_operations(spec):
        operation = spec["paths"][path][method]
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (path, method)
        if path == "/openapi.json":
            assert operation["security"] == []
            continue
        assert "401" in responses, (path, method)
        if path.startswith(("/cases/", "/tasks/")):
            assert {"403", "404"} <= set(responses), (path, method)
    for path in ("/cases", "/tasks/{task_id}/complete"):
        assert spec["paths"][path]["post"]["requestBody"]["required"] is True
        assert {"400", "422"} <= set(spec["paths"][path]["post"]["responses"])
    assert "409" in spec["paths"]["/tasks/{task_id}/complete"]["post"]["responses"]
    assert "WWW-Authenticate" in spec["components"]["responses"]["Unauthorized"]["headers"]


def test_openapi_drift_is_detected(app):
    """The drift check above fails when a route is added without documenting it."""
    spec = json.loads(json.dumps(app.test_client().get(f"{API}/openapi.json").get_json()))
    del spec["paths"]["/tasks/{task_id}/release"]
    assert _flask_operations(app) - _documented_operations(spec) == {("/tasks/{task_id}/release", "post")}
