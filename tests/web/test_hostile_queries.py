"""Every page and API read, asked with query values no form would send, as an analyst (who
reaches every page): never a 5xx, never a traceback. Table-driven over the app's own url_map,
so a new page is covered without being listed here."""

from __future__ import annotations

import pytest

from .conftest import task_ids

PARAMS = ["region", "pagina", "q", "version", "ver", "v", "sesion", "proceso", "objeto", "next", "modelo",
          "kind", "id", "hasta", "desde", "color", "b", "a", "actor", "estado", "segmento", "plazo", "orden",
          "tarea", "rubro", "ejecutivo", "periodo", "formato", "limit", "offset", "page", "casos", "semilla"]
HOSTILE = ["", "%00", "%ED%A0%80", "%FF%FE", "NaN", "-Infinity", "1e309", "9" * 5000, "-1", "0",
           "%27%22%3E%3Cscript%3E", "..%2F..%2Fetc%2Fpasswd", "2026-13-45", "99999-01-01", "%0D%0ASet-Cookie:x",
           "a" * 3000, "[]", "{}", "%F0%9F%98%80", "1.5", "true"]


SAMPLES = {"id": None, "process_id": "diagnostico_rapido", "key": "diagnostico_rapido", "kind": "process",
           "version": 1, "a": 1, "b": 1, "session_id": 1, "token": "x" * 43}


def _routes(app, method, case_id, task_id, skip=("static", "vendor.asset", "auth.logout")):
    """The path of every `method` route whose arguments we can fill (a real case and task)."""
    from flask import url_for

    values = dict(SAMPLES, case_id=case_id, task_id=task_id, id=case_id)
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint in skip or not all(n in values for n in rule.arguments):
            continue
        with app.test_request_context():
            try:
                yield url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
            except Exception:  # noqa: BLE001 - a converter refused our sample: skip the rule
                continue


@pytest.mark.parametrize("value", HOSTILE)
def test_no_page_fails_on_hostile_query_values(app, client, auth, start, value):
    case_id = start()
    auth.login("analista")
    task_id = (task_ids(client.get(f"/casos/{case_id}").get_data(as_text=True)) or ["0" * 36])[0]
    failures = []
    for path in _routes(app, "GET", case_id, task_id):
        query = "&".join(f"{name}={value}" for name in PARAMS)
        response = client.get(f"{path}?{query}")
        body = response.get_data()
        if response.status_code >= 500 and response.status_code != 503 or b"Traceback" in body:  # 503: portal off
            failures.append((path, response.status_code))
    assert failures == []


def test_the_sweep_reaches_the_pages(app, client, auth, start):
    """The sweep above is only as good as the pages it reaches: most of the app's GET pages."""
    case_id = start()
    auth.login("analista")
    task_id = (task_ids(client.get(f"/casos/{case_id}").get_data(as_text=True)) or ["0" * 36])[0]
    paths = list(_routes(app, "GET", case_id, task_id))
    assert {f"/casos/{case_id}", "/bandeja", "/modelos/", "/indicadores/", "/registro/", f"/api/v1/cases/{case_id}",
            f"/tareas/{task_id}"} <= set(paths)
    assert len(paths) >= 30


FIELDS = ["a", "accion", "actor", "b", "casos", "color", "comentario", "cupo", "desde", "destino", "ejecutivo",
          "en_linea", "estado", "fecha", "hasta", "historial", "hora", "horizonte_meses", "id", "llegada", "lugar",
          "mensaje", "modelo", "motivo", "next", "objeto", "orden", "password", "plazo", "presente", "proceso",
          "q", "razon_social", "region", "rubro", "rut", "segmento", "semilla", "taller", "tarea", "username",
          "valores", "ver", "version"]
POSTED = ["", "\x00", "NaN", "1e309", "9" * 5000, "-1", "2026-13-45", "a" * 3000, "\ufeff", "{\"a\": NaN}",
          "[" * 5000, "\r\n", "😀"]


@pytest.mark.parametrize("value", POSTED)
def test_no_form_fails_on_hostile_posted_values(app, client, auth, start, value):
    case_id = start()
    auth.login("analista")
    task_id = (task_ids(client.get(f"/casos/{case_id}").get_data(as_text=True)) or ["0" * 36])[0]
    failures = []
    for path in _routes(app, "POST", case_id, task_id, skip=("auth.logout",)):
        response = client.post(path, data={name: value for name in FIELDS})
        if response.status_code >= 500 and response.status_code != 503 or b"Traceback" in response.get_data():
            failures.append((path, response.status_code))
        auth.login("analista")  # a POST may have logged us out (language, login): stay an analyst
    assert failures == []


@pytest.mark.parametrize("method, path, data", [
    ("GET", "/bandeja?region=%00", None), ("GET", "/modelos/%00", None), ("GET", "/registro/?q=a%00b", None),
    ("POST", "/casos/{case_id}/comentarios", {"comentario": "hola\x00"}), ("POST", "/ingresar", {"username": "\x00"}),
    ("GET", "/api/v1/cases?estado=%00", None),
])
def test_a_nul_anywhere_is_refused_before_any_page(client, auth, start, method, path, data):
    """PostgreSQL can neither store nor compare a NUL: one guard refuses it in the address, the
    query and posted fields of every request (400 with a Spanish message, JSON for the API)."""
    case_id = start()
    auth.login("analista")
    response = client.open(path.format(case_id=case_id), method=method, data=data)
    assert response.status_code == 400
    text = response.get_json()["error"] if path.startswith("/api/") else response.get_data(as_text=True)
    assert "carácter nulo" in text
